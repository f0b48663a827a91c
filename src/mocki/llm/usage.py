"""Recording one LLMCall row per model call: purpose, tokens, latency, outcome, who it was for."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from mocki.core.timeutil import utcnow
from mocki.llm.base import Usage
from mocki.models import LLMCall
from mocki.observability import llm as llm_metrics


def record(
    session: AsyncSession,
    usage: Usage,
    *,
    purpose: str,
    user_id: uuid.UUID | None = None,
    interview_id: uuid.UUID | None = None,
    error: str | None = None,
) -> LLMCall:
    """Add the row to the caller's unit of work; it is written with everything else, or not at all."""
    message = error or usage.error
    row = LLMCall(
        user_id=user_id,
        interview_id=interview_id,
        purpose=purpose[:64],
        model=usage.model[:200],
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        latency_s=round(usage.latency_s, 4),
        first_token_s=None if usage.first_token_s is None else round(usage.first_token_s, 4),
        tokens_estimated=usage.estimated,
        cached=usage.cached,
        status="error" if message else "ok",
        error=message[:500] if message else None,
        created_at=utcnow(),
    )
    session.add(row)
    llm_metrics.observe(usage, row.purpose, row.status)
    return row
