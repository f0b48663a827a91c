"""interviews: human interviewers (invites, participants, notes) and who controls the interview

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 10:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every interview that already exists is run by the AI, as it was.
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("controller", sa.String(length=8), server_default="ai", nullable=False))
    op.create_table(
        "interview_invites",
        sa.Column("interview_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_by", sa.Uuid(), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["interview_id"],
            ["interviews.id"],
            name=op.f("fk_interview_invites_interview_id_interviews"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_interview_invites_created_by_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["used_by"], ["users.id"], name=op.f("fk_interview_invites_used_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interview_invites")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_interview_invites_code_hash")),
    )
    op.create_index(op.f("ix_interview_invites_interview_id"), "interview_invites", ["interview_id"])
    op.create_table(
        "interview_participants",
        sa.Column("interview_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["interview_id"],
            ["interviews.id"],
            name=op.f("fk_interview_participants_interview_id_interviews"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_interview_participants_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interview_participants")),
        sa.UniqueConstraint("interview_id", "user_id", name="uq_interview_participants_pair"),
    )
    op.create_index(
        op.f("ix_interview_participants_interview_id"), "interview_participants", ["interview_id"]
    )
    op.create_index(op.f("ix_interview_participants_user_id"), "interview_participants", ["user_id"])
    op.create_table(
        "interviewer_notes",
        sa.Column("interview_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["interview_id"],
            ["interviews.id"],
            name=op.f("fk_interviewer_notes_interview_id_interviews"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_interviewer_notes_author_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interviewer_notes")),
    )
    op.create_index(op.f("ix_interviewer_notes_interview_id"), "interviewer_notes", ["interview_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_interviewer_notes_interview_id"), table_name="interviewer_notes")
    op.drop_table("interviewer_notes")
    op.drop_index(op.f("ix_interview_participants_user_id"), table_name="interview_participants")
    op.drop_index(op.f("ix_interview_participants_interview_id"), table_name="interview_participants")
    op.drop_table("interview_participants")
    op.drop_index(op.f("ix_interview_invites_interview_id"), table_name="interview_invites")
    op.drop_table("interview_invites")
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.drop_column("controller")
