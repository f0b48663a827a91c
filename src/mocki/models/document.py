"""Uploaded resumes and job descriptions with their extracted text, sealed under a per-document key,
and the one-time data keys handed to the browser for encrypted uploads (documents/sealing.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text, Uuid, false
from sqlalchemy.orm import Mapped, deferred, mapped_column

from mocki.models.base import Base, IdMixin, TimestampMixin, UTCDateTime


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
    # The document's AES-256 data key, wrapped by the key-encryption key (sealing.pack_wrapped),
    # and the key version that wrapped it (what `mocki keys rotate` looks for).
    data_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    key_version: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    # The browser encrypted the upload under a key from POST /documents/upload-keys.
    encrypted_upload: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Sealed under data_key (never plaintext). The upload is kept until extraction succeeds, so a
    # failed task can be retried.
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, nullable=True))
    text_sealed: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, nullable=True))
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


class UploadKey(IdMixin, Base):
    """A data key issued to the browser for one encrypted upload; stored only wrapped."""

    __tablename__ = "upload_keys"

    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    data_key: Mapped[bytes] = mapped_column(LargeBinary)
    key_version: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
