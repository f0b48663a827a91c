"""The answer cache in front of the LLM: the same question in the same context is answered once.

An interview asks the same bank questions in the same role over and over, and the model's
answer to "suggest a follow-up to X" does not need to be written again. Lookup is exact first
(a GET on a hash of the context and the normalised last user message), then semantic: the
last user message's embedding against the answers already given in that context, so a
paraphrase reuses an answer too. The cache is an optimisation only: Redis or the embedder
failing makes a call a miss, never an error.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Literal, TypeVar

import numpy as np
import numpy.typing as npt
from prometheus_client import Counter
from redis.asyncio import Redis

from mocki.llm.base import LLM, ChatMessage, ChatStream, Completion, Usage
from mocki.settings import LLMCacheSettings

if TYPE_CHECKING:
    # Only the Protocol: the llm package must not load the embedding model's modules to import.
    from mocki.retrieval.embeddings import Embedder

log = logging.getLogger(__name__)

HitKind = Literal["exact", "semantic"]
Result = Literal["exact", "semantic", "miss"]
Vector = npt.NDArray[np.float32]
T = TypeVar("T")

DEFAULT_PREFIX = "mocki:llmcache:"
# A lookup slower than this costs about as much as the first tokens of the model call it might save.
REDIS_TIMEOUT_S = 1.0
# After Redis failed, calls go straight to the model for a while instead of each paying a timeout.
RETRY_AFTER_S = 30.0
# Embeddings computed by a missed lookup, kept until `store` needs them (never more than this).
PENDING_VECTORS = 64
_DIGEST_BYTES = 32

REQUESTS = Counter(
    "mocki_llm_cache_requests_total", "LLM calls looked up in the answer cache, by result", ["result"]
)
SAVED = Counter(
    "mocki_llm_calls_saved_total", "LLM calls answered from the answer cache instead of the model"
)
for _result in ("exact", "semantic", "miss"):
    REQUESTS.labels(result=_result)  # every series exists from the start, at 0


@dataclass(frozen=True)
class CacheKeys:
    context: str  # sha256 hex of the model, generation parameters and every message but the last user one
    exact: str  # sha256 hex of the context and the normalised last user message
    question: str  # the normalised last user message, the text that is embedded


@dataclass(frozen=True)
class CachedAnswer:
    text: str
    kind: HitKind
    similarity: float  # 1.0 for an exact hit
    entry: str  # exact key of the prompt whose answer this is (tells a benchmark which one matched)


@dataclass
class CacheStats:
    """In-process counts, for benchmarks and tests that cannot scrape Prometheus."""

    exact: int = 0
    semantic: int = 0
    miss: int = 0
    stores: int = 0
    errors: int = 0

    @property
    def lookups(self) -> int:
        return self.exact + self.semantic + self.miss

    @property
    def saved(self) -> int:
        return self.exact + self.semantic


class _RedisUnavailable(Exception):
    """Raised inside the cache only: the caller gets a miss."""


@dataclass(frozen=True)
class _Entry:
    exact: str
    vector: Vector
    text: str


def normalise(text: str) -> str:
    return " ".join(text.split())


def _last_user(messages: Sequence[ChatMessage]) -> int | None:
    for i in range(len(messages) - 1, -1, -1):
        if messages[i]["role"] == "user":
            return i
    return None


def cache_keys(
    model: str,
    messages: Sequence[ChatMessage],
    *,
    max_tokens: int | None,
    temperature: float | None,
    stop: Sequence[str] | None,
) -> CacheKeys | None:
    """None when there is no user message: nothing to call a question, so nothing is cached."""
    last = _last_user(messages)
    if last is None:
        return None
    context = {
        "model": model,
        "max_tokens": max_tokens,
        "temperature": temperature,
        "stop": list(stop) if stop else None,
        # The last user message's place is kept, its text is not: that is what varies.
        "messages": [[m["role"], None if i == last else m["content"]] for i, m in enumerate(messages)],
    }
    context_key = _sha256(json.dumps(context, ensure_ascii=False, separators=(",", ":")))
    question = normalise(messages[last]["content"])
    return CacheKeys(context_key, _sha256(f"{context_key}\n{question}"), question)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def best_match(query: Vector, entries: Vector) -> tuple[int, float]:
    """Index and cosine of the entry nearest the query (rows and query are unit vectors)."""
    scores = entries @ query
    best = int(np.argmax(scores))
    return best, float(scores[best])


def _pack(exact: str, vector: Vector, text: str) -> bytes:
    return bytes.fromhex(exact) + vector.astype("<f4").tobytes() + text.encode()


def _unpack(raw: bytes, dim: int) -> _Entry | None:
    end = _DIGEST_BYTES + 4 * dim
    if len(raw) <= end:
        return None  # written by another embedding model or truncated: not comparable
    vector = np.frombuffer(raw[_DIGEST_BYTES:end], dtype="<f4").astype(np.float32)
    return _Entry(raw[:_DIGEST_BYTES].hex(), vector, raw[end:].decode(errors="replace"))


class AnswerCache:
    """Answers by context in Redis: `x:<exact>` holds one answer, `c:<context>:<embedder>` a capped
    list of (exact key, embedding of the question, answer) for the semantic lookup. `redis` must
    return bytes (the default, `decode_responses=False`)."""

    def __init__(
        self,
        redis: Redis[bytes],
        embedder: Embedder,
        settings: LLMCacheSettings,
        model: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        on_hit: Callable[[CachedAnswer], None] | None = None,
    ) -> None:
        self.redis = redis
        self.embedder = embedder
        self.settings = settings
        self.model = model
        self.prefix = prefix
        self.on_hit = on_hit
        self.stats = CacheStats()
        # Entries of different embedding models must never be compared.
        self._embedder_tag = _sha256(embedder.model_id)[:12]
        self._pending: OrderedDict[str, Vector] = OrderedDict()
        self._redis_back_at = 0.0
        self._redis_down = False
        self._embedder_down = False

    def scoped(self, scope: str) -> AnswerCache:
        """The same cache whose answers only callers of the same scope (a user id) can get back:
        an answer may quote the documents or words of the user it was made for."""
        other = copy.copy(self)
        other.model = f"{self.model}|scope={scope}"
        # The scope in the key names too, so deleting an account finds its entries (scope_pattern).
        other.prefix = f"{self.prefix}u:{scope}:"
        return other

    def keys(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None,
        temperature: float | None,
        stop: Sequence[str] | None,
    ) -> CacheKeys | None:
        return cache_keys(self.model, messages, max_tokens=max_tokens, temperature=temperature, stop=stop)

    def exact_key(self, keys: CacheKeys) -> str:
        return f"{self.prefix}x:{keys.exact}"

    def context_key(self, keys: CacheKeys) -> str:
        return f"{self.prefix}c:{keys.context}:{self._embedder_tag}"

    async def lookup(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None,
        temperature: float | None,
        stop: Sequence[str] | None,
    ) -> CachedAnswer | None:
        keys = self.keys(messages, max_tokens=max_tokens, temperature=temperature, stop=stop)
        hit = None
        if keys is not None and self._redis_usable():
            try:
                hit = await self._find(keys)
            except _RedisUnavailable:
                hit = None
        self._count(hit.kind if hit is not None else "miss")
        if hit is not None and self.on_hit is not None:
            self.on_hit(hit)
        return hit

    async def store(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None,
        temperature: float | None,
        stop: Sequence[str] | None,
        text: str,
    ) -> bool:
        """Keep a finished answer; an empty one is not worth repeating. True when it was written."""
        keys = self.keys(messages, max_tokens=max_tokens, temperature=temperature, stop=stop)
        if keys is None or not text.strip() or not self._redis_usable():
            return False
        vector = self._pending.pop(keys.exact, None)
        if vector is None:
            vector = await self._embed(keys.question)
        ttl = self.settings.ttl_s
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(self.exact_key(keys), text, ex=ttl)
        if vector is not None:
            context_key = self.context_key(keys)
            pipe.lpush(context_key, _pack(keys.exact, vector, text))
            pipe.ltrim(context_key, 0, self.settings.max_entries_per_context - 1)
            pipe.expire(context_key, ttl)
        try:
            await self._redis_call(pipe.execute())
        except _RedisUnavailable:
            return False
        self.stats.stores += 1
        return True

    async def _find(self, keys: CacheKeys) -> CachedAnswer | None:
        raw = await self._redis_call(self.redis.get(self.exact_key(keys)))
        if raw is not None:
            return CachedAnswer(raw.decode(errors="replace"), "exact", 1.0, keys.exact)
        rows = await self._redis_call(self.redis.lrange(self.context_key(keys), 0, -1))
        entries = [e for e in (_unpack(r, self.embedder.dim) for r in rows) if e is not None]
        if not entries:
            return None
        vector = await self._embed(keys.question)
        if vector is None:
            return None
        index, similarity = best_match(vector, np.stack([e.vector for e in entries]))
        if similarity < self.settings.semantic_threshold:
            self._remember(keys.exact, vector)
            return None
        entry = entries[index]
        return CachedAnswer(entry.text, "semantic", similarity, entry.exact)

    def _remember(self, exact: str, vector: Vector) -> None:
        """The miss's answer is stored in a moment: embedding the same text twice would waste it."""
        self._pending[exact] = vector
        while len(self._pending) > PENDING_VECTORS:
            self._pending.popitem(last=False)

    async def _embed(self, question: str) -> Vector | None:
        try:
            vectors = await self.embedder.embed([question])
        except Exception as exc:  # any provider failure only costs the cache its semantic half
            self.stats.errors += 1
            if not self._embedder_down:
                log.warning("answer cache: embedding failed, exact lookups only until it works: %s", exc)
            self._embedder_down = True
            return None
        self._embedder_down = False
        return np.asarray(vectors[0], dtype=np.float32)

    def _redis_usable(self) -> bool:
        return not self._redis_down or time.monotonic() >= self._redis_back_at

    async def _redis_call(self, call: Awaitable[T]) -> T:
        """Run one Redis command; on failure log once per outage and pause the cache for a while."""
        try:
            async with asyncio.timeout(REDIS_TIMEOUT_S):
                result = await call
        except Exception as exc:  # a connection, timeout or server error must never reach the caller
            self.stats.errors += 1
            self._redis_back_at = time.monotonic() + RETRY_AFTER_S
            if not self._redis_down:
                log.warning(
                    "answer cache: Redis unavailable (%s); answering from the model for %.0f s",
                    exc or type(exc).__name__,
                    RETRY_AFTER_S,
                )
            self._redis_down = True
            raise _RedisUnavailable from exc
        if self._redis_down:
            log.info("answer cache: Redis is back")
            self._redis_down = False
        return result

    def _count(self, result: Result) -> None:
        setattr(self.stats, result, getattr(self.stats, result) + 1)
        REQUESTS.labels(result=result).inc()
        if result != "miss":
            SAVED.inc()


def _pieces(text: str) -> list[str]:
    """A cached answer replayed as word-sized deltas, so stream consumers see what a model sends."""
    return [p for p in re.split(r"(?<=\s)(?=\S)", text) if p]


class CachedLLM:
    """An LLM that answers from the AnswerCache when it can and fills it when the inner model answers.

    On a miss the inner call's Usage is passed on as it is: it describes the model call that
    was made. On a hit Usage has zero tokens, `cached` set and the time the lookup took.
    """

    def __init__(self, inner: LLM, cache: AnswerCache) -> None:
        self.inner = inner
        self.cache = cache
        self.model = inner.model

    def scoped(self, scope: str) -> CachedLLM:
        return CachedLLM(self.inner, self.cache.scoped(scope))

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
    ) -> Completion:
        started = time.perf_counter()
        hit = await self.cache.lookup(messages, max_tokens=max_tokens, temperature=temperature, stop=stop)
        if hit is not None:
            elapsed = time.perf_counter() - started
            usage = Usage(model=self.model, latency_s=elapsed, first_token_s=elapsed, cached=hit.kind)
            return Completion(text=hit.text, usage=usage)
        done = await self.inner.complete(messages, max_tokens=max_tokens, temperature=temperature, stop=stop)
        if done.usage.error is None:
            await self.cache.store(
                messages, max_tokens=max_tokens, temperature=temperature, stop=stop, text=done.text
            )
        return done

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
    ) -> ChatStream:
        usage = Usage(model=self.model)

        async def deltas() -> AsyncIterator[str]:
            started = time.perf_counter()
            hit = await self.cache.lookup(messages, max_tokens=max_tokens, temperature=temperature, stop=stop)
            if hit is not None:
                usage.cached = hit.kind
                usage.first_token_s = time.perf_counter() - started
                for piece in _pieces(hit.text):
                    yield piece
                usage.latency_s = time.perf_counter() - started
                return
            inner = self.inner.stream(messages, max_tokens=max_tokens, temperature=temperature, stop=stop)
            try:
                async for delta in inner:
                    yield delta
            finally:
                _copy_usage(inner.usage, usage)
            if inner.usage.error is None:
                await self.cache.store(
                    messages, max_tokens=max_tokens, temperature=temperature, stop=stop, text=inner.text
                )

        return ChatStream(deltas=deltas(), usage=usage)

    async def prewarm(self, messages: Sequence[ChatMessage]) -> None:
        await self.inner.prewarm(messages)

    async def aclose(self) -> None:
        # Redis and the embedder are shared with the rest of the process; their owner closes them.
        await self.inner.aclose()


def _copy_usage(source: Usage, target: Usage) -> None:
    """The caller holds the outer stream's Usage object; fill it in place with the model's figures."""
    for f in fields(Usage):
        setattr(target, f.name, getattr(source, f.name))


def scoped(llm: LLM, scope: str) -> LLM:
    """`llm` with its answer cache (if it has one) limited to one user's calls."""
    return llm.scoped(scope) if isinstance(llm, CachedLLM) else llm
