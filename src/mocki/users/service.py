"""Creating and looking up users; other domains reach users only through here."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mocki.auth.passwords import check_policy, hash_password
from mocki.core.errors import Conflict, NotFound
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
