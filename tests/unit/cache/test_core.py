"""The read-through logic on its in-process level alone (no Redis): negative caching, jitter,
single flight, the switch, and invalidation racing a load."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from mocki.cache import codec
from mocki.cache.core import Family, TwoLevelCache
from mocki.settings import CacheSettings

FAMILY = Family("thing")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingLoader:
    def __init__(self, value: object, delay_s: float = 0.0) -> None:
        self.value, self.delay_s, self.calls = value, delay_s, 0

    async def __call__(self) -> object:
        self.calls += 1
        await asyncio.sleep(self.delay_s)
        return self.value


def make(clock: Clock | None = None, **overrides: object) -> TwoLevelCache:
    settings = CacheSettings.model_validate({"jitter": 0.0, **overrides})
    return TwoLevelCache(settings, None, clock=clock or Clock())


async def test_second_read_is_served_from_memory() -> None:
    cache, load = make(), CountingLoader({"name": "Ada"})
    assert await cache.get_or_load(FAMILY, "1", load) == {"name": "Ada"}
    assert await cache.get_or_load(FAMILY, "1", load) == {"name": "Ada"}
    assert load.calls == 1


async def test_missing_rows_are_cached_for_the_negative_ttl() -> None:
    clock = Clock()
    cache, load = make(clock, negative_ttl_s=5, ttl_s=300, l1_ttl_s=300), CountingLoader(None)
    assert await cache.get_or_load(FAMILY, "gone", load) is None
    assert await cache.get_or_load(FAMILY, "gone", load) is None
    assert load.calls == 1
    clock.now += 6
    assert await cache.get_or_load(FAMILY, "gone", load) is None
    assert load.calls == 2


async def test_entries_expire_after_their_ttl() -> None:
    clock = Clock()
    cache, load = make(clock, ttl_s=300, l1_ttl_s=10), CountingLoader(1)
    await cache.get_or_load(FAMILY, "k", load)
    clock.now += 9
    await cache.get_or_load(FAMILY, "k", load)
    assert load.calls == 1
    clock.now += 2
    await cache.get_or_load(FAMILY, "k", load)
    assert load.calls == 2


@pytest.mark.parametrize(("draw", "expected"), [(0.0, 90.0), (0.5, 100.0), (1.0, 110.0)])
def test_jitter_spreads_a_ttl_within_its_bounds(draw: float, expected: float) -> None:
    cache = TwoLevelCache(CacheSettings(jitter=0.1), None, rng=lambda: draw)
    assert cache.jittered(100) == pytest.approx(expected)


def test_jitter_with_the_real_random_source_stays_in_bounds_and_varies() -> None:
    cache = TwoLevelCache(CacheSettings(jitter=0.2), None)
    ttls = [cache.jittered(100) for _ in range(2000)]
    assert all(80 <= t <= 120 for t in ttls)
    assert max(ttls) - min(ttls) > 20  # spread, not one value


async def test_hundred_concurrent_misses_load_once() -> None:
    cache, load = make(), CountingLoader([1, 2, 3], delay_s=0.05)
    results = await asyncio.gather(*(cache.get_or_load(FAMILY, "hot", load) for _ in range(100)))
    assert load.calls == 1
    assert all(r == [1, 2, 3] for r in results)


async def test_waiters_load_for_themselves_when_the_first_loader_fails() -> None:
    cache = make()
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.02)
        if calls == 1:
            raise RuntimeError("database went away")
        return "ok"

    results = await asyncio.gather(
        *(cache.get_or_load(FAMILY, "k", flaky) for _ in range(5)), return_exceptions=True
    )
    assert isinstance(results[0], RuntimeError)
    assert results[1:] == ["ok"] * 4


async def test_switch_off_always_loads() -> None:
    cache, load = make(enabled=False), CountingLoader(7)
    for _ in range(3):
        assert await cache.get_or_load(FAMILY, "k", load) == 7
    assert load.calls == 3


async def test_invalidate_drops_the_entry() -> None:
    cache, load = make(), CountingLoader("v1")
    await cache.get_or_load(FAMILY, "k", load)
    await cache.invalidate([(FAMILY.name, "k")])
    load.value = "v2"
    assert await cache.get_or_load(FAMILY, "k", load) == "v2"


async def test_a_load_overtaken_by_an_invalidation_is_not_kept() -> None:
    cache = make()
    started = asyncio.Event()

    async def slow_old_value() -> str:
        started.set()
        await asyncio.sleep(0.05)
        return "old"

    reader = asyncio.create_task(cache.get_or_load(FAMILY, "k", slow_old_value))
    await started.wait()
    await cache.invalidate([(FAMILY.name, "k")])  # the write committed while the reader loaded
    assert await reader == "old"  # that reader's own answer, but not cached
    assert await cache.get_or_load(FAMILY, "k", CountingLoader("new")) == "new"


def test_codec_round_trips_uuids_and_datetimes_compactly() -> None:
    value = {"id": uuid.uuid4(), "at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "n": [1, None, "x"]}
    blob = codec.encode(value)
    assert codec.decode(blob) == value
    assert len(blob) < 80
