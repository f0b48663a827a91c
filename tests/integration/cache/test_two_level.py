"""Two cache instances (as two api processes would hold) on the real Redis, loading from real
PostgreSQL: shared L2, invalidation by pub/sub, one loader per key, no stale value put back."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from mocki import cache as cache_pkg
from mocki.cache import families
from mocki.cache.core import Family, TwoLevelCache
from mocki.core.db import make_engine, make_sessionmaker, session_scope
from mocki.models.tracker import Application
from mocki.settings import CacheSettings, Settings
from mocki.tracker import service as tracker
from mocki.tracker import timeline
from mocki.users import service as users

FAMILY = Family("it")
# The bounded wait for an invalidation to reach the other instance.
DEADLINE_S = 5.0


def cache_settings() -> CacheSettings:
    tag = uuid.uuid4().hex[:8]
    return CacheSettings(key_prefix=f"mocki:test:cache:{tag}", channel=f"mocki:test:cache:{tag}:inv")


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[Redis[bytes]]:
    client: Redis[bytes] = Redis.from_url(settings.resolved_redis_url)
    yield client
    await client.aclose()  # type: ignore[attr-defined]


@pytest.fixture
async def pair(redis: Redis[bytes]) -> AsyncIterator[tuple[TwoLevelCache, TwoLevelCache]]:
    shared = cache_settings()
    first, second = TwoLevelCache(shared, redis), TwoLevelCache(shared, redis)
    for one in (first, second):
        await one.start()
        await one.wait_subscribed()
    yield first, second
    for one in (first, second):
        await one.stop()
    keys = [k async for k in redis.scan_iter(match=f"{shared.key_prefix}:*")]
    if keys:
        await redis.delete(*keys)


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    built = make_engine(settings.resolved_database_url)
    yield built
    await built.dispose()


def counter(value: Any) -> tuple[list[int], Callable[[], Awaitable[Any]]]:
    calls: list[int] = []

    async def load() -> Any:
        calls.append(1)
        await asyncio.sleep(0.02)
        return value

    return calls, load


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    deadline = asyncio.get_running_loop().time() + DEADLINE_S
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "not seen within the bounded wait"
        await asyncio.sleep(0.01)


async def test_second_instance_reads_the_first_ones_value_from_redis(
    pair: tuple[TwoLevelCache, TwoLevelCache],
) -> None:
    first, second = pair
    calls, load = counter({"tier": "free"})
    assert await first.get_or_load(FAMILY, "u1", load) == {"tier": "free"}
    assert await second.get_or_load(FAMILY, "u1", load) == {"tier": "free"}
    assert len(calls) == 1


async def test_invalidation_reaches_the_other_instance_and_it_never_serves_the_old_value_again(
    pair: tuple[TwoLevelCache, TwoLevelCache],
) -> None:
    first, second = pair
    state = {"tier": "free"}

    async def load() -> dict[str, str]:
        return dict(state)

    assert await second.get_or_load(FAMILY, "u1", load) == {"tier": "free"}
    assert second.l1.get(second.key(FAMILY.name, "u1")) is not None  # held in its memory
    state["tier"] = "pro"  # the write commits ...
    await first.invalidate([(FAMILY.name, "u1")])  # ... and the first instance invalidates

    async def fresh() -> bool:
        return bool(await second.get_or_load(FAMILY, "u1", load) == {"tier": "pro"})

    await until(fresh)
    for _ in range(50):
        assert await second.get_or_load(FAMILY, "u1", load) == {"tier": "pro"}


async def test_a_load_that_read_before_the_write_does_not_put_the_old_value_back(
    pair: tuple[TwoLevelCache, TwoLevelCache], redis: Redis[bytes]
) -> None:
    first, second = pair
    reading = asyncio.Event()

    async def old_read() -> str:
        reading.set()
        await asyncio.sleep(0.1)  # the database answered before the write; the reply is slow
        return "old"

    reader = asyncio.create_task(second.get_or_load(FAMILY, "k", old_read))
    await reading.wait()
    await first.invalidate([(FAMILY.name, "k")])
    assert await reader == "old"
    assert await redis.get(second.key(FAMILY.name, "k")) is None
    calls, load = counter("new")
    assert await second.get_or_load(FAMILY, "k", load) == "new"
    assert await first.get_or_load(FAMILY, "k", load) == "new"
    assert len(calls) == 1


async def _new_user(factory: async_sessionmaker[AsyncSession]) -> uuid.UUID:
    async with session_scope(factory) as session:
        user = await users.create_user(
            session, f"cache-{uuid.uuid4().hex[:8]}@example.com", "correct horse battery"
        )
        return user.id


async def test_hundred_concurrent_misses_on_two_instances_make_one_database_load(
    pair: tuple[TwoLevelCache, TwoLevelCache], engine: AsyncEngine
) -> None:
    plain = make_sessionmaker(engine)
    user_id = await _new_user(plain)
    factories = [make_sessionmaker(engine), make_sessionmaker(engine)]
    for factory, one in zip(factories, pair, strict=True):
        cache_pkg.attach(factory, one)
    loads: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM users" in statement:
            loads.append(statement)

    async def lookup(i: int) -> str:
        async with factories[i % 2]() as session:
            user = await users.cached_user(session, user_id)
            assert user is not None
            return user.email

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        emails = await asyncio.gather(*(lookup(i) for i in range(100)))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert len(set(emails)) == 1
    assert len(loads) == 1
    async with plain() as session:
        await session.execute(text("DELETE FROM users WHERE id = :i"), {"i": user_id})
        await session.commit()


async def test_a_committed_tier_change_invalidates_the_other_instance(
    pair: tuple[TwoLevelCache, TwoLevelCache], engine: AsyncEngine
) -> None:
    first, second = pair
    writer, reader = make_sessionmaker(engine), make_sessionmaker(engine)
    cache_pkg.attach(writer, first)
    cache_pkg.attach(reader, second)
    user_id = await _new_user(writer)

    async def tier_seen() -> str:
        async with reader() as session:
            user = await users.cached_user(session, user_id)
            assert user is not None
            return user.tier

    assert await tier_seen() == "free"
    async with session_scope(writer) as session:
        await users.set_tier(session, user_id, "pro", ["free", "pro"])
    # The unit of work awaited the invalidation after its commit: the reader's memory is clean now
    # or as soon as the pub/sub message lands.

    async def fresh() -> bool:
        return await tier_seen() == "pro"

    await until(fresh)
    assert [await tier_seen() for _ in range(20)] == ["pro"] * 20
    async with writer() as session:
        await session.execute(text("DELETE FROM users WHERE id = :i"), {"i": user_id})
        await session.commit()
    await first.invalidate([(families.USER.name, str(user_id))])


async def _new_application(factory: async_sessionmaker[AsyncSession], owner_id: uuid.UUID) -> uuid.UUID:
    async with session_scope(factory) as session:
        app = await timeline.create_manual(session, owner_id, "Acme", "SRE", "applied", "")
        return app.id


async def test_hundred_concurrent_dashboard_misses_on_two_instances_make_one_database_load(
    pair: tuple[TwoLevelCache, TwoLevelCache], engine: AsyncEngine
) -> None:
    plain = make_sessionmaker(engine)
    user_id = await _new_user(plain)
    await _new_application(plain, user_id)
    factories = [make_sessionmaker(engine), make_sessionmaker(engine)]
    for factory, one in zip(factories, pair, strict=True):
        cache_pkg.attach(factory, one)
    loads: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM applications" in statement:
            loads.append(statement)

    async def analytics(i: int) -> bytes:
        async with factories[i % 2]() as session:
            return await tracker.analytics_json(session, user_id)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        answers = await asyncio.gather(*(analytics(i) for i in range(100)))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert len(set(answers)) == 1
    assert json.loads(answers[0])["pipeline"]["applied"] == 1
    assert len(loads) == 1
    async with plain() as session:
        await session.execute(text("DELETE FROM users WHERE id = :i"), {"i": user_id})
        await session.commit()


@pytest.mark.parametrize("writer_has_cache", [True, False], ids=["api", "worker"])
async def test_an_application_edit_invalidates_the_tracker_reads_of_the_other_instance(
    pair: tuple[TwoLevelCache, TwoLevelCache],
    engine: AsyncEngine,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    writer_has_cache: bool,
) -> None:
    """From an api process (its own cache) or a worker (no cache: a short-lived Redis client)."""
    first, second = pair
    writer, reader = make_sessionmaker(engine), make_sessionmaker(engine)
    if writer_has_cache:
        cache_pkg.attach(writer, first)
    else:
        # The worker's invalidations use the settings' cache prefix and channel: this test's pair.
        worker_settings = settings.model_copy(update={"read_cache": first.settings})
        monkeypatch.setattr("mocki.settings.get_settings", lambda: worker_settings)
    cache_pkg.attach(reader, second)
    user_id = await _new_user(writer)
    app_id = await _new_application(writer, user_id)

    async def seen() -> tuple[str, str, str]:
        async with reader() as session:
            listed = json.loads(await tracker.applications_json(session, user_id))
            board = json.loads(await tracker.board_json(session, user_id))
            stats = json.loads(await tracker.analytics_json(session, user_id))
        (one,) = listed
        (column,) = [k for k, v in board["columns"].items() if v]
        (status,) = [k for k, v in stats["pipeline"].items() if v]
        return one["company"], column, status

    assert await seen() == ("Acme", "applied", "applied")
    assert await seen() == ("Acme", "applied", "applied")  # from second's memory now
    async with session_scope(writer) as session:
        app = await session.get(Application, app_id)
        assert app is not None
        await timeline.edit(session, app, {"company": "Acme Corp", "status": "offer"}, None)

    async def fresh() -> bool:
        return await seen() == ("Acme Corp", "offer", "offer")

    await until(fresh)
    assert [await seen() for _ in range(20)] == [("Acme Corp", "offer", "offer")] * 20
    async with writer() as session:
        await session.execute(text("DELETE FROM users WHERE id = :i"), {"i": user_id})
        await session.commit()
