"""tracker: mail accounts, syncs, emails, applications and their events

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 07:16:29.522649
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "applications",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("company", sa.String(length=300), nullable=False),
        sa.Column("position", sa.String(length=300), nullable=False),
        sa.Column("company_key", sa.String(length=300), nullable=False),
        sa.Column("position_key", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("extracted_status", sa.String(length=32), nullable=False),
        sa.Column("manual", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_applications_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
        sa.UniqueConstraint("owner_id", "company_key", "position_key", name="uq_applications_owner_key"),
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_applications_last_event_at"), ["last_event_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_applications_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_applications_status"), ["status"], unique=False)

    op.create_table(
        "mail_accounts",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("credentials", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("cursor", sa.JSON(), nullable=False),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_mail_accounts_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_accounts")),
    )
    with op.batch_alter_table("mail_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_accounts_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "mail_syncs",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("fetch_done", sa.Boolean(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("fetched", sa.Integer(), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("malformed", sa.Integer(), nullable=False),
        sa.Column("analysed", sa.Integer(), nullable=False),
        sa.Column("analysis_failed", sa.Integer(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["mail_accounts.id"],
            name=op.f("fk_mail_syncs_account_id_mail_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_mail_syncs_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_syncs")),
    )
    with op.batch_alter_table("mail_syncs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_syncs_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mail_syncs_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "emails",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("sync_id", sa.Uuid(), nullable=True),
        sa.Column("message_key", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=500), nullable=False),
        sa.Column("thread_key", sa.String(length=64), nullable=False),
        sa.Column("source_ref", sa.String(length=300), nullable=False),
        sa.Column("subject", sa.String(length=1000), nullable=False),
        sa.Column("sender", sa.String(length=500), nullable=False),
        sa.Column("sender_address", sa.String(length=320), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("defects", sa.JSON(), nullable=False),
        sa.Column("analysis_status", sa.String(length=16), nullable=False),
        sa.Column("analysis", sa.JSON(), nullable=True),
        sa.Column("analysed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("application_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["mail_accounts.id"],
            name=op.f("fk_emails_account_id_mail_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_emails_application_id_applications"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_emails_owner_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["sync_id"], ["mail_syncs.id"], name=op.f("fk_emails_sync_id_mail_syncs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emails")),
        sa.UniqueConstraint("owner_id", "message_key", name="uq_emails_owner_message"),
    )
    with op.batch_alter_table("emails", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_emails_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_emails_analysis_status"), ["analysis_status"], unique=False)
        batch_op.create_index(batch_op.f("ix_emails_application_id"), ["application_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_emails_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index("ix_emails_owner_thread", ["owner_id", "thread_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_emails_sent_at"), ["sent_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_emails_sync_id"), ["sync_id"], unique=False)

    op.create_table(
        "application_events",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("email_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("interview_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assessment_url", sa.String(length=2000), nullable=True),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("next_action", sa.String(length=500), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_events_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["email_id"],
            ["emails.id"],
            name=op.f("fk_application_events_email_id_emails"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_application_events_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_events")),
        sa.UniqueConstraint("email_id", name=op.f("uq_application_events_email_id")),
    )
    with op.batch_alter_table("application_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_application_events_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_application_events_occurred_at"), ["occurred_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_application_events_owner_id"), ["owner_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("application_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_events_owner_id"))
        batch_op.drop_index(batch_op.f("ix_application_events_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_application_events_application_id"))

    op.drop_table("application_events")
    with op.batch_alter_table("emails", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emails_sync_id"))
        batch_op.drop_index(batch_op.f("ix_emails_sent_at"))
        batch_op.drop_index("ix_emails_owner_thread")
        batch_op.drop_index(batch_op.f("ix_emails_owner_id"))
        batch_op.drop_index(batch_op.f("ix_emails_application_id"))
        batch_op.drop_index(batch_op.f("ix_emails_analysis_status"))
        batch_op.drop_index(batch_op.f("ix_emails_account_id"))

    op.drop_table("emails")
    with op.batch_alter_table("mail_syncs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_syncs_owner_id"))
        batch_op.drop_index(batch_op.f("ix_mail_syncs_account_id"))

    op.drop_table("mail_syncs")
    with op.batch_alter_table("mail_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_accounts_owner_id"))

    op.drop_table("mail_accounts")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_applications_status"))
        batch_op.drop_index(batch_op.f("ix_applications_owner_id"))
        batch_op.drop_index(batch_op.f("ix_applications_last_event_at"))

    op.drop_table("applications")
