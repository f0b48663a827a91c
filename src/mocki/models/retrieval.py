"""What retrieval is built from: document chunks, query–answer pairs with their vectors, and the
outbox that tells the vector store which sources changed.

The database holds the text (sealed under its document's data key, see documents/sealing.py; bank
pairs stay plaintext) and the vectors; the vector store holds vectors and ids only and can always
be rebuilt from here.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, Uuid
from sqlalchemy.orm import Mapped, deferred, mapped_column

from mocki.core.timeutil import utcnow
from mocki.models.base import Base, IdMixin, TimestampMixin, UTCDateTime


class Chunk(IdMixin, TimestampMixin, Base):
    """A token-bounded run of whole lines of a resume or job description."""

    __tablename__ = "chunks"

    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    ordinal: Mapped[int] = mapped_column(Integer)
    # Sealed under the document's data key, bound to this chunk's id.
    text_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    # 1-based, inclusive line numbers in the document's extracted text (the provenance shown).
    start_line: Mapped[int] = mapped_column(Integer)
    end_line: Mapped[int] = mapped_column(Integer)
    token_count: Mapped[int] = mapped_column(Integer)


class QAPair(IdMixin, TimestampMixin, Base):
    """A question an interviewer could ask and the answer its source supports, both embedded.

    Bank questions are pairs already (question, rubric); resume and job-description chunks get
    theirs from the model. `source_id` is the document or question the pair came from: every
    pair of a source is replaced together.
    """

    __tablename__ = "qa_pairs"

    # Null: a pair of the built-in bank, visible to everyone.
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=True
    )
    kind: Mapped[str] = mapped_column(String(32), index=True)  # question | resume | job_description
    source_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    document_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("documents.id", ondelete="CASCADE"), index=True, nullable=True
    )
    question_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("questions.id", ondelete="CASCADE"), index=True, nullable=True
    )
    chunk_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("chunks.id", ondelete="CASCADE"), index=True, nullable=True
    )
    # Plaintext for bank pairs only; a document's pairs keep "" here and their text sealed under
    # the document's data key in the *_sealed columns.
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    question_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    answer_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # bank | model | rule: who wrote the pair (a rule writes one when the model's output is unusable).
    origin: Mapped[str] = mapped_column(String(16))
    embed_model: Mapped[str] = mapped_column(String(100))
    # float32 little-endian, unit length.
    query_vec: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    answer_vec: Mapped[bytes] = deferred(mapped_column(LargeBinary))


class VectorSync(Base):
    """Outbox: "the pairs of this source changed". The vector store's owner replays it."""

    __tablename__ = "vector_sync"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
