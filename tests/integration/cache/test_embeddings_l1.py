"""The embedding cache's in-process level (L1) in front of Redis (L2): popular texts cost neither a
model call nor a Redis round trip, the level is bounded, and its look-ups are counted per level."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import numpy as np
import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from mocki.retrieval.embeddings import CachedEmbedder, Embedder, LocalEmbedder, Vectors, cache_key
from mocki.settings import Settings

TEXTS = ["What is a hash map?", "Explain the CAP theorem.", "Tell me about a conflict you resolved."]


class Counting:
    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self.calls: list[list[str]] = []

    async def embed(self, texts: Sequence[str], *, max_tokens: int | None = None) -> Vectors:
        self.calls.append(list(texts))
        return await self.inner.embed(texts, max_tokens=max_tokens)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[Redis[bytes]]:
    client: Redis[bytes] = Redis.from_url(settings.resolved_redis_url)
    yield client
    keys = [key async for key in client.scan_iter(match="mocki:emb:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()  # type: ignore[attr-defined]


@pytest.fixture
def counting() -> Counting:
    return Counting(LocalEmbedder(inline=True))


def _requests(level: str, result: str) -> float:
    labels = {"family": "embeddings", "level": level, "result": result}
    return REGISTRY.get_sample_value("mocki_cache_requests_total", labels) or 0.0


async def test_a_repeated_text_is_served_from_memory_without_redis(
    redis: Redis[bytes], counting: Counting
) -> None:
    cached = CachedEmbedder(counting, redis, ttl_s=600, local_entries=16)
    first = await cached.embed(TEXTS)
    # Gone from Redis: only the in-process level can answer now.
    await redis.delete(*(cache_key(counting.model_id, None, t) for t in TEXTS))
    hits_before = _requests("l1", "hit")

    second = await cached.embed(TEXTS)

    assert len(counting.calls) == 1, "the second call must not reach the model"
    np.testing.assert_array_equal(first, second)
    assert cached.l1_hits == len(TEXTS)
    assert (cached.hits, cached.misses) == (len(TEXTS), len(TEXTS))
    assert _requests("l1", "hit") - hits_before == len(TEXTS)


async def test_the_level_is_bounded_and_what_it_dropped_comes_back_from_redis(
    redis: Redis[bytes], counting: Counting
) -> None:
    cached = CachedEmbedder(counting, redis, ttl_s=600, local_entries=2)
    await cached.embed(TEXTS)  # three vectors, room for two: the first one goes
    assert cached.local is not None and len(cached.local) == 2
    l2_hits = _requests("l2", "hit")

    again = await cached.embed(TEXTS[:1])

    assert len(counting.calls) == 1
    assert cached.l1_hits == 0
    assert _requests("l2", "hit") - l2_hits == 1
    np.testing.assert_allclose(again[0], (await counting.inner.embed(TEXTS[:1]))[0], atol=1e-6)
