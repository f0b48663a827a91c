"""Job postings a user (or an admin, for everyone) imported, with their vectors, and the imports'
progress: what recommendations rank against the user's resume."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, deferred, mapped_column

from mocki.models.base import Base, IdMixin, TimestampMixin, UTCDateTime

SHARED_SCOPE = "shared"


class JobImport(IdMixin, TimestampMixin, Base):
    """One uploaded catalogue file: its rows' fate, then the embedding of the postings it added.

    queued -> embedding -> done | failed; `embedded` of `added` is the progress while it runs.
    """

    __tablename__ = "job_imports"

    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    filename: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(16), default="queued")
    rows: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    invalid: Mapped[int] = mapped_column(Integer, default=0)
    embedded: Mapped[int] = mapped_column(Integer, default=0)
    # The rows refused, by line number: [{"line", "reason"}], the first 200.
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class JobPosting(IdMixin, TimestampMixin, Base):
    """A posting of the catalogue. `scope` is its owner's id, or "shared" for an admin's import (then
    `owner_id` is null); (scope, dedupe_key) is unique, so importing a file twice adds nothing."""

    __tablename__ = "job_postings"
    __table_args__ = (UniqueConstraint("scope", "dedupe_key", name="uq_job_postings_scope_key"),)

    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    scope: Mapped[str] = mapped_column(String(40), index=True)
    import_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("job_imports.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # sha256 of the normalised url, or of company + title when the posting has no url.
    dedupe_key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    company: Mapped[str] = mapped_column(String(300))
    company_key: Mapped[str] = mapped_column(String(300), index=True)
    position_key: Mapped[str] = mapped_column(String(300), default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = deferred(mapped_column(Text, default="", nullable=False))
    url: Mapped[str] = mapped_column(String(2000), default="")
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    embed_model: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # float32 little-endian, unit length (retrieval/indexing.py's to_bytes); null until embedded.
    embedding: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, nullable=True))
    # The job-description document made from this posting for a prep interview, reused next time.
    document_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("documents.id", ondelete="SET NULL"), nullable=True
    )
