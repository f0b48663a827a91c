"""tracker: status-change notices, the weekly digest and their preferences

Revision ID: 0009
Revises: 0006 (to be re-chained onto 0008)
Create Date: 2026-11-26 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "reminder_preferences",
        sa.Column("notices_enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    op.add_column(
        "reminder_preferences",
        sa.Column("digest_enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    op.add_column(
        "reminder_preferences", sa.Column("digest_weekday", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "reminder_preferences", sa.Column("digest_hour", sa.Integer(), server_default="8", nullable=False)
    )
    op.add_column(
        "reminder_preferences",
        sa.Column("timezone", sa.String(length=64), server_default="UTC", nullable=False),
    )
    op.create_table(
        "notifications",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_notifications_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("owner_id", "kind", "key", name="uq_notifications_owner_kind_key"),
    )
    op.create_index(op.f("ix_notifications_owner_id"), "notifications", ["owner_id"])
    op.create_table(
        "status_changes",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("sync_id", sa.Uuid(), nullable=True),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notification_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_status_changes_owner_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_status_changes_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sync_id"],
            ["mail_syncs.id"],
            name=op.f("fk_status_changes_sync_id_mail_syncs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_status_changes_notification_id_notifications"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_changes")),
    )
    op.create_index(op.f("ix_status_changes_owner_id"), "status_changes", ["owner_id"])
    op.create_index(op.f("ix_status_changes_application_id"), "status_changes", ["application_id"])
    op.create_index(op.f("ix_status_changes_created_at"), "status_changes", ["created_at"])
    op.create_index("ix_status_changes_pending", "status_changes", ["notification_id", "sync_id"])


def downgrade() -> None:
    op.drop_index("ix_status_changes_pending", table_name="status_changes")
    op.drop_index(op.f("ix_status_changes_created_at"), table_name="status_changes")
    op.drop_index(op.f("ix_status_changes_application_id"), table_name="status_changes")
    op.drop_index(op.f("ix_status_changes_owner_id"), table_name="status_changes")
    op.drop_table("status_changes")
    op.drop_index(op.f("ix_notifications_owner_id"), table_name="notifications")
    op.drop_table("notifications")
    with op.batch_alter_table("reminder_preferences") as batch:
        for name in ("timezone", "digest_hour", "digest_weekday", "digest_enabled", "notices_enabled"):
            batch.drop_column(name)
