"""retrieval: chunks, qa pairs, vector sync outbox; llm_calls.cached

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 04:33:18.530396
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vector_sync",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vector_sync")),
    )
    with op.batch_alter_table("vector_sync", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vector_sync_source_id"), ["source_id"], unique=False)

    op.create_table(
        "chunks",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("start_line", sa.Integer(), nullable=False),
        sa.Column("end_line", sa.Integer(), nullable=False),
        sa.Column("token_count", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_chunks_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_chunks_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chunks")),
    )
    with op.batch_alter_table("chunks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chunks_document_id"), ["document_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_chunks_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "qa_pairs",
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=True),
        sa.Column("question_id", sa.Uuid(), nullable=True),
        sa.Column("chunk_id", sa.Uuid(), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("embed_model", sa.String(length=100), nullable=False),
        sa.Column("query_vec", sa.LargeBinary(), nullable=True),
        sa.Column("answer_vec", sa.LargeBinary(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chunk_id"], ["chunks.id"], name=op.f("fk_qa_pairs_chunk_id_chunks"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_qa_pairs_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_qa_pairs_owner_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questions.id"],
            name=op.f("fk_qa_pairs_question_id_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_pairs")),
    )
    with op.batch_alter_table("qa_pairs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qa_pairs_chunk_id"), ["chunk_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_qa_pairs_document_id"), ["document_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_qa_pairs_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_qa_pairs_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_qa_pairs_question_id"), ["question_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_qa_pairs_source_id"), ["source_id"], unique=False)

    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("index_status", sa.String(length=16), server_default="none", nullable=False)
        )
        batch_op.add_column(sa.Column("index_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("chunk_count", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("pair_count", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("index_done", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("index_generation", sa.Integer(), server_default="0", nullable=False))

    with op.batch_alter_table("llm_calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cached", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("llm_calls", schema=None) as batch_op:
        batch_op.drop_column("cached")

    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("index_generation")
        batch_op.drop_column("index_done")
        batch_op.drop_column("pair_count")
        batch_op.drop_column("chunk_count")
        batch_op.drop_column("index_error")
        batch_op.drop_column("index_status")

    with op.batch_alter_table("qa_pairs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_pairs_source_id"))
        batch_op.drop_index(batch_op.f("ix_qa_pairs_question_id"))
        batch_op.drop_index(batch_op.f("ix_qa_pairs_owner_id"))
        batch_op.drop_index(batch_op.f("ix_qa_pairs_kind"))
        batch_op.drop_index(batch_op.f("ix_qa_pairs_document_id"))
        batch_op.drop_index(batch_op.f("ix_qa_pairs_chunk_id"))

    op.drop_table("qa_pairs")
    with op.batch_alter_table("chunks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chunks_owner_id"))
        batch_op.drop_index(batch_op.f("ix_chunks_document_id"))

    op.drop_table("chunks")
    with op.batch_alter_table("vector_sync", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vector_sync_source_id"))

    op.drop_table("vector_sync")
