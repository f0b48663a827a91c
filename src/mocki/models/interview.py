"""Interview sessions, their turns and the final report."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from mocki.models.base import Base, IdMixin, TimestampMixin, UTCDateTime


class Interview(IdMixin, TimestampMixin, Base):
    __tablename__ = "interviews"

    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    target_role: Mapped[str] = mapped_column(String(200))
    company: Mapped[str] = mapped_column(String(200), default="")
    resume_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("documents.id", ondelete="SET NULL"), nullable=True
    )
    job_description_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("documents.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(32), default="mixed")  # mixed|behavioural|technical
    length: Mapped[int] = mapped_column(Integer, default=5)  # number of main questions
    # How the interviewer sounds (friendly|neutral|tough) and the language it speaks (en|zh).
    persona: Mapped[str] = mapped_column(String(16), default="neutral", server_default="neutral")
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    # created -> active -> ended (report pending/ready)
    status: Mapped[str] = mapped_column(String(16), default="created")
    # The engine's private state: planned questions, cursor, follow-up counts.
    plan: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Who has the interviewer's seat: "ai" (the engine) or "human" (an invited interviewer took over).
    controller: Mapped[str] = mapped_column(String(8), default="ai", server_default="ai")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Turn(IdMixin, Base):
    __tablename__ = "turns"

    interview_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("interviews.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    speaker: Mapped[str] = mapped_column(String(16))  # interviewer | candidate
    text: Mapped[str] = mapped_column(Text)
    # For interviewer turns: the bank question it rests on and whether it is a follow-up.
    question_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    kind: Mapped[str] = mapped_column(String(16), default="question")  # question|follow_up|answer|closing
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Report(IdMixin, TimestampMixin, Base):
    __tablename__ = "reports"

    interview_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("interviews.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|ready|failed
    overall_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    # [{question, answer, scores:{...}, feedback, turn_seqs:[...]}]
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
