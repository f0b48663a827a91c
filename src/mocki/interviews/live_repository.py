"""Queries on an interview's human interviewers: invites, participants, notes (handoff.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mocki.core.timeutil import utcnow
from mocki.models import Interview, InterviewerNote, InterviewInvite, InterviewParticipant


async def lock(session: AsyncSession, interview_id: uuid.UUID) -> Interview | None:
    """Load an interview holding its write lock, whoever asks (the caller checks their role).

    Same trick as repository.lock_owned: writing first takes the lock on both backends."""
    touched = await session.execute(
        update(Interview)
        .where(Interview.id == interview_id)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if getattr(touched, "rowcount", 0) == 0:
        return None
    stmt = select(Interview).where(Interview.id == interview_id).execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one()


async def participant(
    session: AsyncSession, interview_id: uuid.UUID, user_id: uuid.UUID
) -> InterviewParticipant | None:
    stmt = select(InterviewParticipant).where(
        InterviewParticipant.interview_id == interview_id, InterviewParticipant.user_id == user_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def participants(session: AsyncSession, interview_id: uuid.UUID) -> Sequence[InterviewParticipant]:
    stmt = (
        select(InterviewParticipant)
        .where(InterviewParticipant.interview_id == interview_id)
        .order_by(InterviewParticipant.joined_at, InterviewParticipant.id)
    )
    return (await session.execute(stmt)).scalars().all()


async def invite_by_hash(session: AsyncSession, code_hash: str) -> InterviewInvite | None:
    stmt = select(InterviewInvite).where(InterviewInvite.code_hash == code_hash)
    return (await session.execute(stmt)).scalar_one_or_none()


async def claim_invite(
    session: AsyncSession, invite_id: uuid.UUID, user_id: uuid.UUID, when: datetime
) -> bool:
    """Mark the invite used unless someone else did first (a compare-and-set on used_by)."""
    claimed = await session.execute(
        update(InterviewInvite)
        .where(InterviewInvite.id == invite_id, InterviewInvite.used_by.is_(None))
        .values(used_by=user_id, used_at=when)
        .execution_options(synchronize_session=False)
    )
    return getattr(claimed, "rowcount", 0) == 1


async def notes(session: AsyncSession, interview_id: uuid.UUID) -> Sequence[InterviewerNote]:
    stmt = (
        select(InterviewerNote)
        .where(InterviewerNote.interview_id == interview_id)
        .order_by(InterviewerNote.created_at, InterviewerNote.id)
    )
    return (await session.execute(stmt)).scalars().all()
