"""documents: sealed under a per-document data key; one-time upload keys for browser encryption

Existing rows are sealed here, in the same transaction that drops the plaintext columns: every
document gets a data key wrapped by the configured key provider (MOCKI_KEYS__*), and its upload,
text, chunks and pairs are encrypted under it (documents/sealing.py, whose format this must match,
so this data migration imports it). An empty database never touches the key provider.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "upload_keys",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("data_key", sa.LargeBinary(), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_upload_keys_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upload_keys")),
    )
    op.create_index(op.f("ix_upload_keys_owner_id"), "upload_keys", ["owner_id"])
    op.create_index(op.f("ix_upload_keys_key_version"), "upload_keys", ["key_version"])
    op.create_index(op.f("ix_upload_keys_expires_at"), "upload_keys", ["expires_at"])

    # No batch (table copy) on SQLite here: with foreign keys on, dropping the old copy of
    # `documents` or `chunks` would cascade-delete their chunks and pairs. Adding columns and
    # (SQLite 3.35+) dropping a plain column are done in place. Hence the default "0" as a string
    # (a SQL expression default would force a copy), which both backends read as false.
    op.add_column("documents", sa.Column("data_key", sa.LargeBinary(), nullable=True))
    op.add_column("documents", sa.Column("key_version", sa.Integer(), nullable=True))
    op.add_column(
        "documents", sa.Column("encrypted_upload", sa.Boolean(), server_default="0", nullable=False)
    )
    op.add_column("documents", sa.Column("text_sealed", sa.LargeBinary(), nullable=True))
    op.create_index(op.f("ix_documents_key_version"), "documents", ["key_version"])
    op.add_column("chunks", sa.Column("text_sealed", sa.LargeBinary(), nullable=True))
    op.add_column("qa_pairs", sa.Column("question_sealed", sa.LargeBinary(), nullable=True))
    op.add_column("qa_pairs", sa.Column("answer_sealed", sa.LargeBinary(), nullable=True))

    bind = op.get_bind()
    _seal_existing(bind)

    op.drop_column("documents", "text")
    op.drop_column("chunks", "text")
    if (
        bind.dialect.name != "sqlite"
    ):  # on SQLite NOT NULL needs a table copy (see above): the model guards it
        op.alter_column("chunks", "text_sealed", existing_type=sa.LargeBinary(), nullable=False)


def _seal_existing(conn: sa.Connection) -> None:
    docs = sa.table(
        "documents",
        sa.column("id", sa.Uuid()),
        sa.column("content", sa.LargeBinary()),
        sa.column("text", sa.Text()),
        sa.column("text_sealed", sa.LargeBinary()),
        sa.column("data_key", sa.LargeBinary()),
        sa.column("key_version", sa.Integer()),
    )
    chunks = sa.table(
        "chunks",
        sa.column("id", sa.Uuid()),
        sa.column("document_id", sa.Uuid()),
        sa.column("text", sa.Text()),
        sa.column("text_sealed", sa.LargeBinary()),
    )
    pairs = sa.table(
        "qa_pairs",
        sa.column("id", sa.Uuid()),
        sa.column("document_id", sa.Uuid()),
        sa.column("question", sa.Text()),
        sa.column("answer", sa.Text()),
        sa.column("question_sealed", sa.LargeBinary()),
        sa.column("answer_sealed", sa.LargeBinary()),
    )
    rows = conn.execute(sa.select(docs.c.id, docs.c.content, docs.c.text)).all()
    if not rows:
        return
    from mocki.documents import sealing  # only when there is something to seal

    for doc_id, content, text in rows:
        key, packed, version = sealing.new_data_key()
        conn.execute(
            docs.update()
            .where(docs.c.id == doc_id)
            .values(
                data_key=packed,
                key_version=version,
                content=None
                if content is None
                else sealing.seal(key, content, sealing.document_ad(doc_id, "content")),
                text_sealed=None
                if text is None
                else sealing.seal_text(key, text, sealing.document_ad(doc_id, "text")),
            )
        )
        for chunk_id, chunk_text in conn.execute(
            sa.select(chunks.c.id, chunks.c.text).where(chunks.c.document_id == doc_id)
        ).all():
            conn.execute(
                chunks.update()
                .where(chunks.c.id == chunk_id)
                .values(text_sealed=sealing.seal_text(key, chunk_text or "", sealing.chunk_ad(chunk_id)))
            )
        for pair_id, question, answer in conn.execute(
            sa.select(pairs.c.id, pairs.c.question, pairs.c.answer).where(pairs.c.document_id == doc_id)
        ).all():
            conn.execute(
                pairs.update()
                .where(pairs.c.id == pair_id)
                .values(
                    question="",
                    answer="",
                    question_sealed=sealing.seal_text(key, question, sealing.pair_ad(pair_id, "q")),
                    answer_sealed=sealing.seal_text(key, answer, sealing.pair_ad(pair_id, "a")),
                )
            )


def downgrade() -> None:
    # The plaintext is not written back: downgrading past this loses the documents' text.
    op.add_column("chunks", sa.Column("text", sa.Text(), server_default="", nullable=False))
    op.drop_column("chunks", "text_sealed")
    op.drop_column("qa_pairs", "answer_sealed")
    op.drop_column("qa_pairs", "question_sealed")
    op.drop_index(op.f("ix_documents_key_version"), table_name="documents")
    op.add_column("documents", sa.Column("text", sa.Text(), nullable=True))
    for column in ("text_sealed", "encrypted_upload", "key_version", "data_key"):
        op.drop_column("documents", column)
    op.drop_table("upload_keys")
