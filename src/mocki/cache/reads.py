"""Read-through helpers for domain services: plain data in the cache, their own types out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from mocki.cache.core import Family
from mocki.cache.hooks import cache_of

M = TypeVar("M", bound=BaseModel)


async def read_through(
    session: AsyncSession, family: Family, ident: object, load: Callable[[], Awaitable[Any]]
) -> Any:
    """`load()`'s plain-data result (dicts, lists, str, numbers, UUIDs, datetimes, None), cached."""
    cache = cache_of(session)
    if cache is None:
        return await load()
    return await cache.get_or_load(family, str(ident), load)


async def read_model(
    session: AsyncSession, family: Family, ident: object, model: type[M], load: Callable[[], Awaitable[M]]
) -> M:
    async def plain() -> dict[str, Any]:
        return (await load()).model_dump()

    if cache_of(session) is None:
        return await load()
    return model.model_validate(await read_through(session, family, ident, plain))


async def read_models(
    session: AsyncSession,
    family: Family,
    ident: object,
    model: type[M],
    load: Callable[[], Awaitable[Sequence[M]]],
) -> list[M]:
    async def plain() -> list[dict[str, Any]]:
        return [item.model_dump() for item in await load()]

    if cache_of(session) is None:
        return list(await load())
    return [model.model_validate(item) for item in await read_through(session, family, ident, plain)]
