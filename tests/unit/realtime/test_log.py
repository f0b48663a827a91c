"""The room log on the test Redis: numbering, resume ranges, trimming, concurrent writers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from mocki.realtime.log import RoomLog
from tests.conftest import REDIS_BASE, REDIS_DB


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client: Redis = Redis.from_url(f"{REDIS_BASE}/{REDIS_DB['postgresql']}")
    yield client
    await client.aclose()


async def test_numbers_are_per_room_and_resume_is_exclusive(redis: Redis) -> None:
    log, a, b = RoomLog(redis), uuid.uuid4(), uuid.uuid4()
    try:
        assert [await log.append(a, "transcript.final", {"text": str(n)}) for n in range(5)] == list(
            range(1, 6)
        )
        assert await log.append(b, "state", {"state": "in_progress"}) == 1
        missed = await log.since(a, 2)
        assert missed.complete and missed.last_seq == 5
        assert [(e.seq, e.event, e.data["text"]) for e in missed.events] == [
            (3, "transcript.final", "2"),
            (4, "transcript.final", "3"),
            (5, "transcript.final", "4"),
        ]
        assert missed.events[0].data == {"text": "2", "interview_id": str(a), "seq": 3}
        nothing = await log.since(a, 5)
        assert nothing.events == [] and nothing.complete
        # A client that saw more than the room holds (the room expired and restarted) must reload.
        assert (await log.since(a, 9)).complete is False
    finally:
        await log.forget(a)
        await log.forget(b)


async def test_a_trimmed_log_says_it_is_incomplete(redis: Redis) -> None:
    log, room = RoomLog(redis, max_events=3), uuid.uuid4()
    try:
        for n in range(6):
            await log.append(room, "transcript.partial", {"text": str(n)})
        trimmed = await log.since(room, 1)
        assert trimmed.complete is False and [e.seq for e in trimmed.events] == [4, 5, 6]
        assert (await log.since(room, 3)).complete is True
    finally:
        await log.forget(room)


async def test_concurrent_writers_never_share_a_number(redis: Redis) -> None:
    log, room = RoomLog(redis), uuid.uuid4()
    try:
        seqs = await asyncio.gather(*(log.append(room, "scores", {"n": n}) for n in range(80)))
        assert sorted(seqs) == list(range(1, 81))
        assert [e.seq for e in (await log.since(room, 0)).events] == list(range(1, 81))
    finally:
        await log.forget(room)
