"""How the rest of the app reaches the cache: through the database session it already holds.

The api lifespan puts its cache on the sessionmaker (`attach`), so every request's session carries
it (`cache_of`). Writers call `invalidate_on_commit(session, family, ident)`: the keys are
invalidated once the unit of work has committed, never before (a reader could otherwise cache the
old row again). A worker's session has no cache; its invalidations go through a short-lived
Redis client built from the settings, and reach every api process the same way.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mocki.cache.core import TwoLevelCache
from mocki.core.db import after_commit_async

_CACHE = "mocki.cache"
_PENDING = "mocki.cache.pending"


def attach(factory: async_sessionmaker[AsyncSession], cache: TwoLevelCache) -> None:
    factory.configure(info={_CACHE: cache})


def cache_of(session: AsyncSession) -> TwoLevelCache | None:
    found = session.info.get(_CACHE)
    return found if isinstance(found, TwoLevelCache) else None


def invalidate_on_commit(session: AsyncSession, family: str, *idents: object) -> None:
    pending: set[tuple[str, str]] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = set()

        async def flush() -> None:
            await invalidate_now(session, session.info.pop(_PENDING, set()))

        after_commit_async(session, flush)
    pending.update((family, str(ident)) for ident in idents)


async def invalidate_now(session: AsyncSession, pairs: set[tuple[str, str]]) -> None:
    cache = cache_of(session)
    if cache is not None:
        await cache.invalidate(pairs)
        return
    await invalidate_from_anywhere(pairs)


async def invalidate_from_anywhere(pairs: set[tuple[str, str]]) -> None:
    """Invalidate from a process without a cache of its own (a Celery worker, a CLI command)."""
    from redis.asyncio import Redis

    from mocki.settings import get_settings

    settings = get_settings()
    redis: Redis[bytes] = Redis.from_url(settings.resolved_redis_url)
    try:
        await TwoLevelCache(settings.read_cache, redis).invalidate(pairs)
    finally:
        await redis.aclose()  # type: ignore[attr-defined]  # types-redis predates aclose
