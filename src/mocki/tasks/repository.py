"""Queries on task bookkeeping: dead letters and completed-run markers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mocki.models import DeadLetter, TaskRun


async def dead_letters(
    session: AsyncSession, *, status: str | None, limit: int, offset: int
) -> tuple[Sequence[DeadLetter], int]:
    query = select(DeadLetter)
    count = select(func.count()).select_from(DeadLetter)
    if status is not None:
        query = query.where(DeadLetter.status == status)
        count = count.where(DeadLetter.status == status)
    rows = await session.scalars(query.order_by(DeadLetter.created_at.desc()).limit(limit).offset(offset))
    return rows.all(), int(await session.scalar(count) or 0)


async def lock_dead_letter(session: AsyncSession, letter_id: uuid.UUID) -> DeadLetter | None:
    return await session.scalar(select(DeadLetter).where(DeadLetter.id == letter_id).with_for_update())


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(DeadLetter.status, func.count()).group_by(DeadLetter.status))
    return {status: int(n) for status, n in rows.all()}


async def delete_retried_before(session: AsyncSession, before: datetime) -> int:
    result = await session.execute(
        delete(DeadLetter).where(DeadLetter.status == "retried", DeadLetter.retried_at < before)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def delete_runs_before(session: AsyncSession, before: datetime) -> int:
    result = await session.execute(delete(TaskRun).where(TaskRun.finished_at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
