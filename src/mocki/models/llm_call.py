"""One row per LLM call: usage and latency, for cost and speed accounting."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from mocki.models.base import Base, IdMixin, UTCDateTime


class LLMCall(IdMixin, Base):
    __tablename__ = "llm_calls"

    user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    interview_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("interviews.id", ondelete="SET NULL"), nullable=True
    )
    purpose: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(200))
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    latency_s: Mapped[float] = mapped_column(Float, default=0.0)
    first_token_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    # The endpoint sent no usage; the counts were made client-side.
    tokens_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="ok")  # ok|error
    # exact | semantic: answered from the answer cache, no model call was made.
    cached: Mapped[str | None] = mapped_column(String(16), nullable=True)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
