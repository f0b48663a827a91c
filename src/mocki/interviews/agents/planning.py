"""What the specialist agents prepare when an interview is planned (one call from `prepare_start`).

The question agent trades one planned question for a deep dive into the resume; the knowledge
agents note which job description they may quote as reference material.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from mocki.interviews.agents import knowledge, questions
from mocki.interviews.engine import Plan, SourceLine
from mocki.models import Interview


async def prepare(
    session: AsyncSession, interview: Interview, plan: Plan, lines: Sequence[SourceLine]
) -> None:
    """Adjust the freshly built plan in place (before the opening move is chosen)."""
    knowledge.remember_documents(plan, interview.job_description_id)
    await questions.plan_deep_dive(session, interview, plan, lines)
