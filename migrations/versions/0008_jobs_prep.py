"""tracker: job catalogue (imports, postings with vectors) and prep interviews of applications

Revision ID: 0008
Revises: 0007 (for now: merges 0007 and 0009)
Create Date: 2026-11-26 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_imports",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("invalid", sa.Integer(), nullable=False),
        sa.Column("embedded", sa.Integer(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_job_imports_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_imports")),
    )
    op.create_index(op.f("ix_job_imports_owner_id"), "job_imports", ["owner_id"])
    op.create_table(
        "job_postings",
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("import_id", sa.Uuid(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("company", sa.String(length=300), nullable=False),
        sa.Column("company_key", sa.String(length=300), nullable=False),
        sa.Column("position_key", sa.String(length=300), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("embed_model", sa.String(length=100), nullable=True),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("document_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_job_postings_owner_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["job_imports.id"],
            name=op.f("fk_job_postings_import_id_job_imports"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_job_postings_document_id_documents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_postings")),
        sa.UniqueConstraint("scope", "dedupe_key", name="uq_job_postings_scope_key"),
    )
    op.create_index(op.f("ix_job_postings_owner_id"), "job_postings", ["owner_id"])
    op.create_index(op.f("ix_job_postings_scope"), "job_postings", ["scope"])
    op.create_index(op.f("ix_job_postings_import_id"), "job_postings", ["import_id"])
    op.create_index(op.f("ix_job_postings_company_key"), "job_postings", ["company_key"])
    # Batch mode: SQLite cannot add a foreign key to an existing table in place.
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("prep_interview_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_applications_prep_interview_id_interviews"),
            "interviews",
            ["prep_interview_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("todos") as batch:
        batch.add_column(sa.Column("interview_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_todos_interview_id_interviews"),
            "interviews",
            ["interview_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("todos") as batch:
        batch.drop_constraint(batch.f("fk_todos_interview_id_interviews"), type_="foreignkey")
        batch.drop_column("interview_id")
    with op.batch_alter_table("applications") as batch:
        batch.drop_constraint(batch.f("fk_applications_prep_interview_id_interviews"), type_="foreignkey")
        batch.drop_column("prep_interview_id")
    op.drop_index(op.f("ix_job_postings_company_key"), table_name="job_postings")
    op.drop_index(op.f("ix_job_postings_import_id"), table_name="job_postings")
    op.drop_index(op.f("ix_job_postings_scope"), table_name="job_postings")
    op.drop_index(op.f("ix_job_postings_owner_id"), table_name="job_postings")
    op.drop_table("job_postings")
    op.drop_index(op.f("ix_job_imports_owner_id"), table_name="job_imports")
    op.drop_table("job_imports")
