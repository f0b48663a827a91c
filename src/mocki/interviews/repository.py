"""Queries on interviews, their turns and reports; every lookup filters by owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mocki.core.timeutil import utcnow
from mocki.models import (
    Interview,
    InterviewerNote,
    InterviewInvite,
    InterviewParticipant,
    Report,
    Turn,
)


async def get_owned(session: AsyncSession, owner_id: uuid.UUID, interview_id: uuid.UUID) -> Interview | None:
    stmt = select(Interview).where(Interview.id == interview_id, Interview.owner_id == owner_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def get(session: AsyncSession, interview_id: uuid.UUID) -> Interview | None:
    return await session.get(Interview, interview_id, populate_existing=True)


async def lock_owned(session: AsyncSession, owner_id: uuid.UUID, interview_id: uuid.UUID) -> Interview | None:
    """Load the interview holding its write lock until this transaction ends.

    Writing first takes the row lock on PostgreSQL and the database write lock on SQLite (where
    SELECT ... FOR UPDATE does nothing), so two requests on one interview run one after the
    other and the second sees what the first committed.
    """
    touched = await session.execute(
        update(Interview)
        .where(Interview.id == interview_id, Interview.owner_id == owner_id)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if getattr(touched, "rowcount", 0) == 0:
        return None
    stmt = select(Interview).where(Interview.id == interview_id).execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one()


async def list_owned(session: AsyncSession, owner_id: uuid.UUID) -> Sequence[Interview]:
    stmt = (
        select(Interview)
        .where(Interview.owner_id == owner_id)
        .order_by(Interview.created_at.desc(), Interview.id.desc())
    )
    return (await session.execute(stmt)).scalars().all()


async def turns(session: AsyncSession, interview_id: uuid.UUID) -> Sequence[Turn]:
    stmt = select(Turn).where(Turn.interview_id == interview_id).order_by(Turn.seq)
    return (await session.execute(stmt)).scalars().all()


async def last_turns(session: AsyncSession, interview_id: uuid.UUID, n: int) -> list[Turn]:
    stmt = select(Turn).where(Turn.interview_id == interview_id).order_by(Turn.seq.desc()).limit(n)
    return list(reversed((await session.execute(stmt)).scalars().all()))


async def last_interviewer_text(session: AsyncSession, interview_id: uuid.UUID) -> str:
    """What the interviewer said last, the AI or a human who took over (handoff.py)."""
    stmt = (
        select(Turn.text)
        .where(Turn.interview_id == interview_id, Turn.speaker == "interviewer")
        .order_by(Turn.seq.desc())
        .limit(1)
    )
    return str((await session.execute(stmt)).scalar_one_or_none() or "")


async def next_seq(session: AsyncSession, interview_id: uuid.UUID) -> int:
    stmt = select(func.coalesce(func.max(Turn.seq), 0)).where(Turn.interview_id == interview_id)
    return int((await session.execute(stmt)).scalar_one()) + 1


async def report_for(session: AsyncSession, interview_id: uuid.UUID) -> Report | None:
    stmt = select(Report).where(Report.interview_id == interview_id).execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def delete_interview(session: AsyncSession, interview: Interview) -> None:
    # Turns and the report go with it; stating it keeps SQLite and PostgreSQL alike.
    await session.execute(delete(Turn).where(Turn.interview_id == interview.id))
    await session.execute(delete(Report).where(Report.interview_id == interview.id))
    for live in (InterviewInvite, InterviewParticipant, InterviewerNote):
        await session.execute(delete(live).where(live.interview_id == interview.id))
    await session.delete(interview)
    await session.flush()


async def scored_interviews(
    session: AsyncSession, owner_id: uuid.UUID, limit: int
) -> Sequence[tuple[Interview, Report]]:
    """The owner's last `limit` ended interviews whose report is ready, newest first."""
    ended = func.coalesce(Interview.ended_at, Interview.created_at)
    stmt = (
        select(Interview, Report)
        .join(Report, Report.interview_id == Interview.id)
        .where(Interview.owner_id == owner_id, Interview.status == "ended", Report.status == "ready")
        .order_by(ended.desc(), Interview.id.desc())
        .limit(limit)
    )
    return [(interview, report) for interview, report in (await session.execute(stmt)).all()]


async def count_active(session: AsyncSession, since: datetime) -> int:
    """Interviews in progress that changed since `since` (the active-interviews gauge)."""
    query = select(func.count()).where(Interview.status == "active", Interview.updated_at >= since)
    return int(await session.scalar(query) or 0)
