"""The answer cache on real Redis, the packaged MiniLM and the packaged tiny model's server."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from redis.asyncio import Redis

from mocki.llm.base import ChatMessage, ChatStream, Completion
from mocki.llm.cache import AnswerCache, CachedLLM
from mocki.llm.openai_compat import OpenAICompatLLM
from mocki.retrieval.embeddings import Embedder, make_embedder
from mocki.settings import LLMCacheSettings, Settings
from tests.support.processes import free_port

REDIS_URL = os.environ.get("MOCKI_TEST_REDIS", "redis://127.0.0.1:6379") + "/6"
PARAMS: dict[str, Any] = {"max_tokens": 16, "temperature": 0.0}
BACKEND = "You interview candidates for a backend engineer role. Output only one short follow-up question."
FRONTEND = "You interview candidates for a frontend engineer role. Output only one short follow-up question."
QUESTION = "What is the difference between a process and a thread?"
# Written for this test; MiniLM puts it at cosine 0.955 to QUESTION, above the 0.92 default.
PARAPHRASE = "How does a thread differ from a process?"
UNRELATED = "How would you design a rate limiter for a public API?"

pytestmark = pytest.mark.slow


def ask(question: str, system: str = BACKEND) -> list[ChatMessage]:
    return [{"role": "system", "content": system}, {"role": "user", "content": question}]


class Counting:
    """The real client, counting the calls that reached the model."""

    def __init__(self, inner: OpenAICompatLLM) -> None:
        self.inner = inner
        self.model = inner.model
        self.calls = 0

    def stream(self, messages: Sequence[ChatMessage], **params: Any) -> ChatStream:
        self.calls += 1
        return self.inner.stream(messages, **params)

    async def complete(self, messages: Sequence[ChatMessage], **params: Any) -> Completion:
        self.calls += 1
        return await self.inner.complete(messages, **params)

    async def prewarm(self, messages: Sequence[ChatMessage]) -> None:
        await self.inner.prewarm(messages)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture(scope="module")
async def embedder() -> AsyncIterator[Embedder]:
    model = make_embedder(Settings(env="test"), inline=True)
    yield model
    await model.aclose()


@pytest.fixture
async def redis() -> AsyncIterator[Redis[bytes]]:
    client: Redis[bytes] = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
async def prefix(redis: Redis[bytes]) -> AsyncIterator[str]:
    value = f"mocki:test:llmcache:{uuid.uuid4().hex[:8]}:"
    yield value
    keys = [k async for k in redis.scan_iter(match=f"{value}*")]
    if keys:
        await redis.delete(*keys)


@pytest.fixture
async def model(llm_server: str) -> AsyncIterator[Counting]:
    counting = Counting(OpenAICompatLLM(llm_server, "local", "local"))
    yield counting
    await counting.aclose()


def cached(model: Counting, redis: Redis[bytes], embedder: Embedder, prefix: str) -> CachedLLM:
    # The threshold is the test's own: these sentences are a paraphrase at about 0.93.
    cache = AnswerCache(redis, embedder, LLMCacheSettings(semantic_threshold=0.9), "tiny-test", prefix=prefix)
    return CachedLLM(model, cache)


async def test_exact_repeat_is_answered_without_a_second_model_call(
    model: Counting, redis: Redis[bytes], embedder: Embedder, prefix: str
) -> None:
    llm = cached(model, redis, embedder, prefix)
    first = llm.stream(ask(QUESTION), **PARAMS)
    text = "".join([d async for d in first])
    assert text.strip() and first.usage.cached is None and first.usage.completion_tokens > 0
    again = llm.stream(ask(f"  {QUESTION}\n"), **PARAMS)
    assert "".join([d async for d in again]) == text
    assert again.usage.cached == "exact" and again.usage.completion_tokens == 0
    assert model.calls == 1


async def test_paraphrase_in_the_same_context_is_a_semantic_hit(
    model: Counting, redis: Redis[bytes], embedder: Embedder, prefix: str
) -> None:
    llm = cached(model, redis, embedder, prefix)
    first = await llm.complete(ask(QUESTION), **PARAMS)
    hit = await llm.complete(ask(PARAPHRASE), **PARAMS)
    assert hit.usage.cached == "semantic" and hit.text == first.text
    assert model.calls == 1
    assert llm.cache.stats.semantic == 1 and llm.cache.stats.miss == 1


async def test_a_scoped_cache_never_serves_another_users_answer(
    model: Counting, redis: Redis[bytes], embedder: Embedder, prefix: str
) -> None:
    llm = cached(model, redis, embedder, prefix)
    alice, bob = llm.scoped("alice"), llm.scoped("bob")
    await alice.complete(ask(QUESTION), **PARAMS)
    assert (await alice.complete(ask(QUESTION), **PARAMS)).usage.cached == "exact"
    assert (await bob.complete(ask(QUESTION), **PARAMS)).usage.cached is None
    assert (await bob.complete(ask(PARAPHRASE), **PARAMS)).usage.cached == "semantic"  # bob's own entry
    assert model.calls == 2


async def test_other_context_and_unrelated_question_miss(
    model: Counting, redis: Redis[bytes], embedder: Embedder, prefix: str
) -> None:
    llm = cached(model, redis, embedder, prefix)
    await llm.complete(ask(QUESTION), **PARAMS)
    elsewhere = await llm.complete(ask(QUESTION, FRONTEND), **PARAMS)
    unrelated = await llm.complete(ask(UNRELATED), **PARAMS)
    assert elsewhere.usage.cached is None and unrelated.usage.cached is None
    assert model.calls == 3
    assert llm.cache.stats.miss == 3


async def test_entries_expire_after_the_configured_ttl(
    model: Counting, redis: Redis[bytes], embedder: Embedder, prefix: str
) -> None:
    llm = cached(model, redis, embedder, prefix)
    await llm.complete(ask(QUESTION), **PARAMS)
    keys = [k async for k in redis.scan_iter(match=f"{prefix}*")]
    assert len(keys) == 2  # the exact answer and the context's entry list
    ttl_s = LLMCacheSettings().ttl_s
    for key in keys:
        assert 0 < await redis.ttl(key) <= ttl_s


async def test_redis_down_still_answers_from_the_model(
    model: Counting, embedder: Embedder, prefix: str
) -> None:
    nowhere: Redis[bytes] = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")
    llm = cached(model, nowhere, embedder, prefix)
    try:
        first = await llm.complete(ask(QUESTION), **PARAMS)
        stream = llm.stream(ask(QUESTION), **PARAMS)
        streamed = "".join([d async for d in stream])
    finally:
        await nowhere.aclose()
    assert first.text.strip() and streamed.strip()
    assert first.usage.cached is None and stream.usage.cached is None
    assert model.calls == 2 and llm.cache.stats.errors >= 1
