"""Uploaded resumes and job descriptions with their extracted text."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, Uuid
from sqlalchemy.orm import Mapped, deferred, mapped_column

from mocki.models.base import Base, IdMixin, TimestampMixin


class Document(IdMixin, TimestampMixin, Base):
    __tablename__ = "documents"

    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # resume | job_description
    title: Mapped[str] = mapped_column(String(300), default="")
    filename: Mapped[str] = mapped_column(String(300), default="")
    media_type: Mapped[str] = mapped_column(String(100), default="text/plain")
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    # pending -> processing -> ready | failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    page_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The upload is kept until extraction succeeds, so a failed task can be retried.
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, nullable=True))
    text: Mapped[str | None] = deferred(mapped_column(Text, nullable=True))
    char_count: Mapped[int] = mapped_column(Integer, default=0)
    # Retrieval index: none -> queued -> indexing -> ready | failed (see mocki.retrieval.indexing).
    index_status: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    index_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pair_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Chunks the model has written pairs for so far (progress while index_status is "ready").
    index_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Bumped on every (re)index; a task working on an older generation drops its results.
    index_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
