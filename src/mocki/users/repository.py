"""Queries on users and refresh tokens."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mocki.models import RefreshToken, User


async def get(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def by_email(session: AsyncSession, email: str) -> User | None:
    return (await session.execute(select(User).where(User.email == email.lower()))).scalar_one_or_none()


async def by_firebase_uid(session: AsyncSession, uid: str) -> User | None:
    return (await session.execute(select(User).where(User.firebase_uid == uid))).scalar_one_or_none()


async def refresh_by_hash(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    stmt = select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def revoke_family(session: AsyncSession, family_id: uuid.UUID, when: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=when)
    )


async def revoke_all(session: AsyncSession, user_id: uuid.UUID, when: datetime) -> None:
    """Every refresh token of the account: all its sign-in sessions end at their next refresh."""
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=when)
    )


async def search(
    session: AsyncSession, *, text: str, tier: str | None, limit: int, offset: int
) -> tuple[Sequence[User], int]:
    """Accounts whose email or name contains `text`, oldest first, and how many match in all."""
    where: list[ColumnElement[bool]] = []
    if text:
        pattern = f"%{text.lower()}%"
        where.append(func.lower(User.email).like(pattern) | func.lower(User.name).like(pattern))
    if tier is not None:
        where.append(User.tier == tier)
    rows = await session.scalars(
        select(User).where(*where).order_by(User.created_at, User.id).limit(limit).offset(offset)
    )
    total = await session.scalar(select(func.count()).select_from(User).where(*where))
    return rows.all(), int(total or 0)
