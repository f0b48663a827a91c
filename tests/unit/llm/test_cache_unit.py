"""The answer cache's keys, threshold and stream replay, with an in-memory Redis, a fake embedder and LLM."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import numpy as np
import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from mocki.llm.base import ChatMessage, ChatStream, Completion, LLMError, Usage
from mocki.llm.cache import AnswerCache, CachedLLM, best_match, cache_keys
from mocki.llm.factory import make_llm
from mocki.settings import LLMCacheSettings, Settings

SYSTEM: ChatMessage = {"role": "system", "content": "You interview for a backend role."}
PARAMS: dict[str, Any] = {"max_tokens": 40, "temperature": 0.2, "stop": ["\n"]}


def ask(question: str, system: ChatMessage = SYSTEM) -> list[ChatMessage]:
    return [system, {"role": "user", "content": question}]


class FakeRedis:
    """Just the commands the cache uses, with expiry recorded rather than enforced."""

    def __init__(self) -> None:
        self.strings: dict[str, bytes] = {}
        self.lists: dict[str, list[bytes]] = {}
        self.ttl: dict[str, int] = {}
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise RedisConnectionError("Connection refused")

    async def get(self, key: str) -> bytes | None:
        self._check()
        return self.strings.get(key)

    async def lrange(self, key: str, start: int, end: int) -> list[bytes]:
        self._check()
        items = self.lists.get(key, [])
        return items[start:] if end == -1 else items[start : end + 1]

    def pipeline(self, transaction: bool = True) -> FakePipeline:
        return FakePipeline(self)


class FakePipeline:
    def __init__(self, redis: FakeRedis) -> None:
        self.redis = redis
        self.ops: list[tuple[str, tuple[Any, ...]]] = []

    def set(self, key: str, value: str, ex: int) -> None:
        self.ops.append(("set", (key, value, ex)))

    def lpush(self, key: str, value: bytes) -> None:
        self.ops.append(("lpush", (key, value)))

    def ltrim(self, key: str, start: int, end: int) -> None:
        self.ops.append(("ltrim", (key, start, end)))

    def expire(self, key: str, seconds: int) -> None:
        self.ops.append(("expire", (key, seconds)))

    async def execute(self) -> list[bool]:
        self.redis._check()
        r = self.redis
        for op, args in self.ops:
            if op == "set":
                r.strings[args[0]] = args[1].encode()
                r.ttl[args[0]] = args[2]
            elif op == "lpush":
                r.lists.setdefault(args[0], []).insert(0, args[1])
            elif op == "ltrim":
                r.lists[args[0]] = r.lists[args[0]][args[1] : args[2] + 1]
            else:
                r.ttl[args[0]] = args[1]
        return [True] * len(self.ops)


def unit(*values: float) -> np.ndarray[Any, Any]:
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)


class FakeEmbedder:
    """Vectors set per text by the test; every other text gets one far from all of them."""

    model_id = "fake-embedder"
    dim = 3

    def __init__(self, vectors: dict[str, np.ndarray[Any, Any]] | None = None) -> None:
        self.vectors = vectors or {}
        self.calls: list[str] = []
        self.fail = False

    async def embed(self, texts: Sequence[str], *, max_tokens: int | None = None) -> np.ndarray[Any, Any]:
        if self.fail:
            raise RuntimeError("embedding endpoint unavailable")
        self.calls.extend(texts)
        return np.stack([self.vectors.get(t, unit(0, 0, 1)) for t in texts])

    async def aclose(self) -> None:
        return None


class FakeLLM:
    """Answers with scripted texts (or raises) and counts the calls that reached the model."""

    model = "fake"

    def __init__(self, answers: list[str | Exception]) -> None:
        self.answers = answers
        self.calls = 0
        self.closed = False

    def stream(self, messages: Sequence[ChatMessage], **_: object) -> ChatStream:
        self.calls += 1
        answer = self.answers.pop(0)
        usage = Usage(model=self.model, prompt_tokens=20, completion_tokens=5, latency_s=1.0)

        async def deltas() -> AsyncIterator[str]:
            if isinstance(answer, Exception):
                usage.error = str(answer)
                raise answer
            for word in answer.split(" "):
                yield word + " "

        return ChatStream(deltas=deltas(), usage=usage)

    async def complete(self, messages: Sequence[ChatMessage], **_: object) -> Completion:
        self.calls += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return Completion(answer, Usage(model=self.model, prompt_tokens=20, completion_tokens=5))

    async def prewarm(self, messages: Sequence[ChatMessage]) -> None:
        return None

    async def aclose(self) -> None:
        self.closed = True


def make_cache(
    embedder: FakeEmbedder | None = None, *, threshold: float = 0.92, max_entries: int = 200
) -> tuple[AnswerCache, FakeRedis, FakeEmbedder]:
    redis, embedder = FakeRedis(), embedder or FakeEmbedder()
    settings = LLMCacheSettings(semantic_threshold=threshold, max_entries_per_context=max_entries, ttl_s=600)
    cache = AnswerCache(redis, embedder, settings, "model-a")  # type: ignore[arg-type]  # the in-memory fake
    return cache, redis, embedder


def keys(messages: list[ChatMessage], model: str = "m", **params: Any) -> tuple[str, str]:
    built = cache_keys(model, messages, **(PARAMS | params))
    assert built is not None
    return built.context, built.exact


def test_context_key_ignores_the_last_user_message_and_exact_key_does_not() -> None:
    ctx_a, exact_a = keys(ask("What is a mutex?"))
    ctx_b, exact_b = keys(ask("What is a semaphore?"))
    assert ctx_a == ctx_b
    assert exact_a != exact_b


def test_exact_key_normalises_whitespace_only() -> None:
    assert keys(ask("What is  a mutex?\n"))[1] == keys(ask(" What is a mutex?"))[1]
    assert keys(ask("What is a Mutex?"))[1] != keys(ask("What is a mutex?"))[1]


@pytest.mark.parametrize(
    "change",
    [
        {"messages": ask("What is a mutex?", {"role": "system", "content": "You interview for data."})},
        {"model": "other-model"},
        {"max_tokens": 41},
        {"temperature": 0.3},
        {"stop": ["Candidate:"]},
    ],
)
def test_context_key_covers_model_parameters_and_earlier_messages(change: dict[str, Any]) -> None:
    base = keys(ask("What is a mutex?"))
    messages = change.pop("messages", ask("What is a mutex?"))
    assert keys(messages, **change)[0] != base[0]


def test_earlier_turns_are_context_and_no_user_message_is_not_cacheable() -> None:
    history: list[ChatMessage] = [
        SYSTEM,
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Tell me about yourself."},
    ]
    plain = keys(ask("What is a mutex?"))[0]
    assert keys([*history, {"role": "user", "content": "What is a mutex?"}])[0] != plain
    assert cache_keys("m", [SYSTEM], **PARAMS) is None
    assert keys(ask("q"), stop=[])[0] == keys(ask("q"), stop=None)[0]


def test_best_match_picks_the_nearest_entry() -> None:
    entries = np.stack([unit(1, 0, 0), unit(1, 1, 0), unit(0, 1, 0)])
    index, score = best_match(unit(1, 0.9, 0), entries)
    assert index == 1 and score == pytest.approx(float(unit(1, 0.9, 0) @ unit(1, 1, 0)))


async def _seed(cache: AnswerCache, question: str, answer: str) -> None:
    assert await cache.lookup(ask(question), **PARAMS) is None
    assert await cache.store(ask(question), **PARAMS, text=answer)


@pytest.mark.parametrize(("margin", "hit"), [(-0.01, True), (0.0, True), (1e-6, False)])
async def test_semantic_hit_only_at_or_above_the_threshold(margin: float, hit: bool) -> None:
    stored, near = unit(1, 0, 0), unit(0.93, 0.37, 0)
    similarity = float(near @ stored)
    embedder = FakeEmbedder({"stored": stored, "asked": near})
    cache, _, _ = make_cache(embedder, threshold=similarity + margin)
    await _seed(cache, "stored", "Which lock would you pick?")
    found = await cache.lookup(ask("asked"), **PARAMS)
    if hit:
        assert found is not None and found.kind == "semantic" and found.text == "Which lock would you pick?"
        assert found.similarity == pytest.approx(similarity)
    else:
        assert found is None


async def test_semantic_lookup_stays_inside_its_context() -> None:
    cache, _, _ = make_cache(FakeEmbedder({"stored": unit(1, 0, 0), "asked": unit(1, 0, 0)}))
    await _seed(cache, "stored", "Why?")
    other: ChatMessage = {"role": "system", "content": "You interview for a data role."}
    assert await cache.lookup(ask("asked", other), **PARAMS) is None
    assert await cache.lookup(ask("asked"), **PARAMS) is not None


async def test_exact_hit_needs_no_embedding_and_a_miss_embeds_once() -> None:
    cache, _, embedder = make_cache(FakeEmbedder({"a": unit(1, 0, 0), "b": unit(0, 1, 0)}))
    await _seed(cache, "a", "Answer A")
    assert embedder.calls == ["a"]  # the first lookup found no entries: embedded only to store
    await _seed(cache, "b", "Answer B")
    assert embedder.calls == ["a", "b"]  # the lookup's vector is reused by store
    found = await cache.lookup(ask(" a "), **PARAMS)
    assert found is not None and found.kind == "exact" and found.text == "Answer A"
    assert embedder.calls == ["a", "b"]


async def test_empty_answers_are_not_stored_and_entries_are_capped_with_ttl() -> None:
    cache, redis, _ = make_cache(max_entries=2)
    assert not await cache.store(ask("q0"), **PARAMS, text="  \n")
    for n in range(3):
        assert await cache.store(ask(f"q{n}"), **PARAMS, text=f"answer {n}")
    (context_key,) = redis.lists
    assert len(redis.lists[context_key]) == 2
    assert set(redis.ttl.values()) == {600}
    assert len(redis.ttl) == 4  # three answers and the context's entry list
    assert cache.stats.stores == 3


async def test_redis_down_is_a_miss_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    cache, redis, _ = make_cache()
    redis.down = True
    llm = CachedLLM(FakeLLM(["One.", "Two."]), cache)
    with caplog.at_level(logging.WARNING, logger="mocki.llm.cache"):
        assert (await llm.complete(ask("q"), **PARAMS)).text == "One."
        assert (await llm.complete(ask("q"), **PARAMS)).text == "Two."
    assert sum("Redis unavailable" in r.message for r in caplog.records) == 1
    assert cache.stats.miss == 2 and cache.stats.errors == 1  # the second call did not even try


async def test_cache_tries_redis_again_after_the_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mocki.llm.cache.RETRY_AFTER_S", 0.0)
    cache, redis, _ = make_cache()
    redis.down = True
    assert not await cache.store(ask("q"), **PARAMS, text="Answer")
    redis.down = False
    assert await cache.store(ask("q"), **PARAMS, text="Answer")
    found = await cache.lookup(ask("q"), **PARAMS)
    assert found is not None and found.kind == "exact"


async def test_embedder_failure_keeps_exact_hits() -> None:
    cache, _, embedder = make_cache()
    embedder.fail = True
    await _seed(cache, "q", "Answer")
    found = await cache.lookup(ask("q"), **PARAMS)
    assert found is not None and found.kind == "exact"


def _metric(result: str) -> float:
    return REGISTRY.get_sample_value("mocki_llm_cache_requests_total", {"result": result}) or 0.0


async def test_stream_replays_a_cached_answer_as_deltas() -> None:
    cache, _, _ = make_cache()
    inner = FakeLLM(["Which isolation level did you choose and why?"])
    llm = CachedLLM(inner, cache)
    saved_before, exact_before = REGISTRY.get_sample_value("mocki_llm_calls_saved_total"), _metric("exact")

    first = llm.stream(ask("Explain isolation levels."), **PARAMS)
    assert "".join([d async for d in first]).strip() == "Which isolation level did you choose and why?"
    assert first.usage.cached is None and first.usage.prompt_tokens == 20

    again = llm.stream(ask("Explain  isolation levels."), **PARAMS)
    deltas = [d async for d in again]
    assert inner.calls == 1
    assert len(deltas) > 1 and "".join(deltas) == first.text
    assert again.usage.cached == "exact"
    assert again.usage.prompt_tokens == 0 and again.usage.completion_tokens == 0
    assert again.usage.latency_s > 0 and again.usage.first_token_s is not None
    assert _metric("exact") == exact_before + 1
    assert REGISTRY.get_sample_value("mocki_llm_calls_saved_total") == (saved_before or 0) + 1


async def test_failed_or_abandoned_streams_are_not_cached() -> None:
    cache, redis, _ = make_cache()
    inner = FakeLLM([LLMError("model down"), "A long answer that the client abandons.", "Fresh."])
    llm = CachedLLM(inner, cache)
    failed = llm.stream(ask("q"), **PARAMS)
    with pytest.raises(LLMError):
        async for _ in failed:
            pass
    assert failed.usage.error == "model down"

    abandoned = llm.stream(ask("q"), **PARAMS)
    async for _ in abandoned:
        break
    await abandoned.deltas.aclose()  # type: ignore[attr-defined]  # what the caller's loop exit does
    assert redis.strings == {}

    done = await llm.complete(ask("q"), **PARAMS)
    assert done.text == "Fresh." and inner.calls == 3


async def test_complete_hit_reports_the_kind_and_no_tokens() -> None:
    cache, _, _ = make_cache(FakeEmbedder({"stored": unit(1, 0, 0), "asked": unit(1, 0.1, 0)}))
    inner = FakeLLM(["Tell me more."])
    llm = CachedLLM(inner, cache)
    await llm.complete(ask("stored"), **PARAMS)
    hit = await llm.complete(ask("asked"), **PARAMS)
    assert hit.text == "Tell me more." and hit.usage.cached == "semantic"
    assert hit.usage.prompt_tokens == 0 and inner.calls == 1
    await llm.aclose()
    assert inner.closed


def test_factory_wraps_only_when_enabled_and_given_redis_and_embedder() -> None:
    settings = Settings(env="test", llm_base_url="http://127.0.0.1:9/v1")
    redis: Redis[bytes] = Redis.from_url("redis://127.0.0.1:9/0")  # never connected by the factory
    embedder = FakeEmbedder()
    assert not isinstance(make_llm(settings), CachedLLM)
    assert not isinstance(make_llm(settings, redis=redis), CachedLLM)
    assert isinstance(make_llm(settings, redis=redis, embedder=embedder), CachedLLM)
    off = settings.model_copy(update={"llm_cache": LLMCacheSettings(enabled=False)})
    assert not isinstance(make_llm(off, redis=redis, embedder=embedder), CachedLLM)
