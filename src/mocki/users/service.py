"""Creating and looking up users; other domains reach users only through here."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mocki.auth.passwords import check_policy, hash_password
from mocki.cache import families, invalidate_on_commit
from mocki.cache.reads import read_through
from mocki.core.errors import Conflict, Invalid, NotFound
from mocki.models import User
from mocki.users import repository


async def create_user(
    session: AsyncSession, email: str, password: str, name: str = "", role: str = "user"
) -> User:
    email = email.strip().lower()
    check_policy(password, email)
    if await repository.by_email(session, email):
        raise Conflict("An account with this email already exists.", code="email_taken")
    user = User(email=email, name=name.strip(), password_hash=hash_password(password), role=role)
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent registration won the race
        raise Conflict("An account with this email already exists.", code="email_taken") from exc
    return user


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await repository.get(session, user_id)
    if user is None or not user.is_active:
        raise NotFound("User not found.")
    return user


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    return await repository.by_email(session, email.strip().lower())


async def search_users(
    session: AsyncSession, *, text: str = "", tier: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[Sequence[User], int]:
    return await repository.search(session, text=text.strip(), tier=tier, limit=limit, offset=offset)


async def set_tier(session: AsyncSession, user_id: uuid.UUID, tier: str, allowed: Collection[str]) -> User:
    """Give an account a tier (it decides rate limits and the task lane of the user's work)."""
    if tier not in allowed:
        raise Invalid(f"Unknown tier {tier!r}: choose one of {', '.join(allowed)}.", code="unknown_tier")
    user = await repository.get(session, user_id)
    if user is None:
        raise NotFound("User not found.")
    user.tier = tier
    await session.flush()
    invalidate_on_commit(session, families.USER.name, user.id)
    return user


# ------------------------------------------------------------------------------ cached reads
# The account row is read on every authenticated request, so it is served from the cache
# (mocki.cache); every write to a user invalidates it. The password hash never enters the cache.

_CACHED_COLUMNS = tuple(c.key for c in sa_inspect(User).column_attrs if c.key != "password_hash")


async def cached_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    """The account (active or not) as a detached, read-only `User`, or None if there is none."""

    async def load() -> dict[str, object] | None:
        user = await repository.get(session, user_id)
        return None if user is None else {name: getattr(user, name) for name in _CACHED_COLUMNS}

    row = await read_through(session, families.USER, user_id, load)
    return None if row is None else User(**row)
