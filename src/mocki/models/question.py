"""The question bank: the built-in questions and each user's own."""

from __future__ import annotations

import uuid

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from mocki.models.base import Base, IdMixin, TimestampMixin


class Question(IdMixin, TimestampMixin, Base):
    __tablename__ = "questions"
    __table_args__ = (
        # A slug names one question per owner; built-in ones (no owner) share one namespace.
        Index("uq_questions_owner_slug", "owner_id", "slug", unique=True),
        Index(
            "uq_questions_builtin_slug",
            "slug",
            unique=True,
            postgresql_where=text("owner_id IS NULL"),
            sqlite_where=text("owner_id IS NULL"),
        ),
    )

    # Null owner: part of the built-in bank, visible to everyone, editable by admins only.
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=True
    )
    # Stable key for built-in and imported questions so re-imports update instead of duplicate.
    slug: Mapped[str | None] = mapped_column(String(120), nullable=True, index=True)
    category: Mapped[str] = mapped_column(String(32), index=True)
    text: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(100), default="any")
    level: Mapped[str] = mapped_column(String(32), default="any")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    difficulty: Mapped[int] = mapped_column(Integer, default=2)
    rubric: Mapped[str] = mapped_column(Text, default="")
