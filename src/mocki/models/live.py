"""Human interviewers in an interview: single-use invites, who joined, and their notes and scores."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from mocki.models.base import Base, IdMixin, UTCDateTime


class InterviewInvite(IdMixin, Base):
    __tablename__ = "interview_invites"

    interview_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("interviews.id", ondelete="CASCADE"), index=True
    )
    # SHA-256 of the code: the code itself is shown once, to the owner who made it.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class InterviewParticipant(IdMixin, Base):
    """Someone other than the owner with a seat in the interview (today only `interviewer`)."""

    __tablename__ = "interview_participants"
    __table_args__ = (UniqueConstraint("interview_id", "user_id", name="uq_interview_participants_pair"),)

    interview_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("interviews.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="interviewer")
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InterviewerNote(IdMixin, Base):
    __tablename__ = "interviewer_notes"

    interview_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("interviews.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    # {name: 1..5}, names chosen by the interviewer ("communication", "system design" ...).
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
