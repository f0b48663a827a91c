"""Celery tasks of index construction: chunking on the cpu queue, model and embedding calls on io."""

from __future__ import annotations

import logging
import uuid
from functools import lru_cache

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from mocki.core.db import make_engine, make_sessionmaker, session_scope
from mocki.llm.factory import make_llm
from mocki.models import Document
from mocki.retrieval import indexing
from mocki.retrieval.embeddings import CachedEmbedder, Embedder, make_embedder
from mocki.settings import Settings, get_settings
from mocki.tasks.celery_app import celery_app
from mocki.tasks.names import BUILD_PAIRS, CHUNK_DOCUMENT, INDEX_QUESTIONS
from mocki.tasks.reliability import will_retry
from mocki.tasks.runtime import run_async, run_in_unit_of_work

log = logging.getLogger(__name__)

# About 10 s of model time per chunk with the packaged model, 120 chunks at most.
BUILD_SOFT_TIME_LIMIT_S = 1800
BUILD_TIME_LIMIT_S = 1900
FAILED_MESSAGE = "Indexing failed; re-index the document to try again."


@lru_cache(maxsize=1)
def _model_embedder() -> Embedder:
    # Loaded once per worker process, in the process: a worker may block on the model.
    return make_embedder(get_settings(), inline=True)


def _embedder(settings: Settings, redis: Redis[bytes]) -> Embedder:
    inner = _model_embedder()
    if settings.embeddings.cache_ttl_s <= 0:
        return inner
    return CachedEmbedder(inner, redis, settings.embeddings.cache_ttl_s)


async def _mark_failed(session: AsyncSession, document_id: uuid.UUID, generation: int) -> None:
    doc = await session.get(Document, document_id)
    if doc is not None and doc.index_generation == generation:
        doc.index_status, doc.index_error = "failed", FAILED_MESSAGE


@celery_app.task(  # type: ignore[untyped-decorator]  # celery ships no type hints
    name=CHUNK_DOCUMENT, soft_time_limit=60, time_limit=90
)
def chunk_document(document_id: str, generation: int) -> str:
    settings = get_settings()
    doc_id = uuid.UUID(document_id)
    go_on = run_in_unit_of_work(lambda s: indexing.chunk_document(s, settings, doc_id, generation))
    if go_on:
        indexing.send_model_pairs(celery_app, doc_id, generation)
    return "chunked" if go_on else "skipped"


async def _build(doc_id: uuid.UUID, generation: int) -> int:
    settings = get_settings()
    engine = make_engine(settings.resolved_database_url, poolclass=NullPool)
    redis: Redis[bytes] = Redis.from_url(settings.resolved_redis_url)
    embedder = _embedder(settings, redis)
    llm = make_llm(settings, redis=redis, embedder=embedder)
    try:
        return await indexing.build_pairs(
            make_sessionmaker(engine), llm, embedder, settings, doc_id, generation
        )
    finally:
        await llm.aclose()
        await redis.aclose()  # type: ignore[attr-defined]  # types-redis predates aclose
        await engine.dispose()


@celery_app.task(  # type: ignore[untyped-decorator]
    name=BUILD_PAIRS, soft_time_limit=BUILD_SOFT_TIME_LIMIT_S, time_limit=BUILD_TIME_LIMIT_S
)
def build_pairs(document_id: str, generation: int) -> int:
    doc_id = uuid.UUID(document_id)
    try:
        return run_async(lambda: _build(doc_id, generation))
    except Exception as exc:  # the user must see a failed index, not one spinning forever
        if will_retry(exc):
            raise  # a transient error: retried with backoff; the last attempt lands here
        log.exception("indexing document %s failed", document_id)
        run_in_unit_of_work(lambda s: _mark_failed(s, doc_id, generation))
        return 0


async def _index_stale(owner_id: uuid.UUID | None) -> int:
    settings = get_settings()
    engine = make_engine(settings.resolved_database_url, poolclass=NullPool)
    redis: Redis[bytes] = Redis.from_url(settings.resolved_redis_url)
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            embedder = _embedder(settings, redis)
            ids = await indexing.stale_questions(session, embedder, owner_id)
            return await indexing.index_questions(session, embedder, settings, ids)
    finally:
        await redis.aclose()  # type: ignore[attr-defined]  # types-redis predates aclose
        await engine.dispose()


@celery_app.task(name=INDEX_QUESTIONS, soft_time_limit=300, time_limit=330)  # type: ignore[untyped-decorator]
def index_questions(owner_id: str | None) -> int:
    """Embed the owner's new and edited bank questions (None: the built-in bank)."""
    return run_async(lambda: _index_stale(uuid.UUID(owner_id) if owner_id else None))
