"""Celery tasks of the tracker on the io queue: one sync per mailbox run, fanning out analysis tasks.

`tracker.sync_mailbox` reads the source batch by batch; after each batch commits it sends
`tracker.analyse_emails` for the batch's new emails (`tracker.analysis_batch` per task), so
analysis runs in parallel on every io worker while the sync goes on. Model calls across all of
them are capped by `tracker.llm_concurrency` (tracker/llm.py's Redis semaphore).

Both tasks are safe to run twice (they are redelivered when a worker dies): a resumed sync starts
after the last stored batch and first re-sends the analysis of its still-pending emails; an
analysis writes only emails that are still pending (tracker/pipeline.py). The orchestration is
plain async functions over a session factory, so the benchmark and tests run the same code
in-process.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from functools import lru_cache
from typing import Any, TypeVar

from celery import Celery
from celery.exceptions import SoftTimeLimitExceeded
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool

from mocki.core.db import make_engine, make_sessionmaker, session_scope
from mocki.retrieval.embeddings import Embedder, EmbeddingError, make_embedder
from mocki.settings import Settings, get_settings
from mocki.tasks import routing
from mocki.tasks.celery_app import celery_app
from mocki.tasks.names import ANALYSE_EMAILS, EMBED_JOBS, QUEUE_IO, SYNC_MAILBOX
from mocki.tasks.reliability import TRANSIENT_ERRORS
from mocki.tasks.runtime import run_async
from mocki.tracker import jobs, pipeline
from mocki.tracker.analysis import Analyzer, make_structured_llm
from mocki.tracker.crypto import CredentialsUnreadable
from mocki.tracker.gmail import GmailSource
from mocki.tracker.imap import ImapConfig, ImapSource, tls_context
from mocki.tracker.sources import MailSource, MailSourceError, UploadSource, chunks

log = logging.getLogger(__name__)
T = TypeVar("T")

# Under the broker's visibility timeout (tasks/celery_app.py), so a running sync is never handed
# to a second worker; a bigger mailbox continues in a follow-up task from the stored cursor.
SYNC_SOFT_TIME_LIMIT_S = 1700
SYNC_TIME_LIMIT_S = 1800
ANALYSE_SOFT_TIME_LIMIT_S = 900
ANALYSE_TIME_LIMIT_S = 960
SYNC_EXPIRES_S = 6 * 3600
ANALYSE_EXPIRES_S = 24 * 3600
EMBED_JOBS_SOFT_TIME_LIMIT_S = 1700
EMBED_JOBS_TIME_LIMIT_S = 1800
EMBED_JOBS_EXPIRES_S = 6 * 3600

Send = Callable[[str, list[Any]], None]


def open_source(job: pipeline.SyncJob, settings: Settings) -> MailSource:
    cfg = settings.tracker
    credentials = job.credentials or {}
    if job.kind == "upload":
        return UploadSource(
            job.filename,
            job.payload or b"",
            sync_id=str(job.sync_id),
            batch_size=cfg.fetch_batch,
            max_bytes=cfg.max_message_bytes,
        )
    if job.kind == "imap":
        return ImapSource(
            ImapConfig.from_account(job.config, job.address),
            str(credentials.get("password", "")),
            batch_size=cfg.fetch_batch,
            max_bytes=cfg.max_message_bytes,
            timeout_s=cfg.imap_timeout_s,
            ssl_context=tls_context(cfg.imap_ca_file),
        )
    if job.kind == "gmail":
        since = job.config.get("since")
        return GmailSource(
            cfg,
            credentials,
            labels=list(job.config.get("labels") or []),
            since=date.fromisoformat(since) if since else None,
            batch_size=min(cfg.fetch_batch, 500),
            max_bytes=cfg.max_message_bytes,
        )
    raise MailSourceError(f"Unknown mail source kind {job.kind!r}.")


async def _in_session(
    factory: async_sessionmaker[AsyncSession], body: Callable[[AsyncSession], Awaitable[T]]
) -> T:
    async with session_scope(factory) as session:
        return await body(session)


async def _fail(factory: async_sessionmaker[AsyncSession], sync_id: uuid.UUID, message: str) -> None:
    await _in_session(factory, lambda s: pipeline.fail_sync(s, sync_id, message, account_error=True))


def _send_analysis(send: Send, settings: Settings, sync_id: uuid.UUID, ids: list[uuid.UUID]) -> None:
    for part in chunks(ids, settings.tracker.analysis_batch):
        send(ANALYSE_EMAILS, [str(sync_id), [str(i) for i in part]])


async def sync_once(
    factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    sync_id: uuid.UUID,
    send: Send,
    *,
    source_factory: Callable[[pipeline.SyncJob, Settings], MailSource] = open_source,
) -> str:
    """Read the account's new mail into emails, batch by batch; send their analysis as each batch commits."""
    job = await _in_session(factory, lambda s: pipeline.begin_sync(s, settings, sync_id))
    if job is None:
        return "skipped"
    if job.resumed:
        pending = await _in_session(factory, lambda s: pipeline.pending_ids(s, sync_id))
        _send_analysis(send, settings, sync_id, pending)
    if job.fetch_done:
        return "analysing"
    try:
        source = source_factory(job, settings)
    except MailSourceError as exc:
        await _fail(factory, sync_id, str(exc))
        return "failed"
    try:
        for batch in source.batches(job.cursor):
            new = await _in_session(factory, lambda s, b=batch: pipeline.store_batch(s, settings, job, b))  # type: ignore[misc]
            _send_analysis(send, settings, sync_id, new)
    except MailSourceError as exc:
        await _fail(factory, sync_id, str(exc))
        return "failed"
    finally:
        source.close()
    await _in_session(factory, lambda s: pipeline.finish_fetch(s, job))
    return "fetched"


async def analyse_once(
    factory: async_sessionmaker[AsyncSession],
    analyzer: Analyzer,
    sync_id: uuid.UUID | None,
    ids: list[uuid.UUID],
    *,
    celery: Celery | None = None,
) -> int:
    """Analyse the still-pending emails among `ids`: read, analyse with no connection held, write."""
    pending = await _in_session(factory, lambda s: pipeline.load_pending(s, ids))
    if not pending:
        return 0
    try:
        analyses, usages = await analyzer.analyse([p.item for p in pending])
    except TRANSIENT_ERRORS:
        raise  # retried by the task with backoff
    except Exception as exc:  # a bug or a broken model must not leave emails pending forever
        log.exception("tracker: analysing %d emails failed", len(pending))
        reason, failed_ids = repr(exc), [p.id for p in pending]
        await _in_session(factory, lambda s: pipeline.mark_failed(s, sync_id, failed_ids, reason))
        return 0
    results = [(p.id, a.as_json()) for p, a in zip(pending, analyses, strict=True)]
    owner = pending[0].owner_id
    return await _in_session(
        factory, lambda s: pipeline.save_analyses(s, sync_id, results, usages, owner, celery=celery)
    )


# ------------------------------------------------------------------------------------ Celery


@lru_cache(maxsize=1)
def _worker_embedder() -> Embedder:
    # Loaded once per worker process, in the process: an io worker may block on the model.
    return make_embedder(get_settings(), inline=True)


def _send(name: str, args: list[Any]) -> None:
    expires = SYNC_EXPIRES_S if name == SYNC_MAILBOX else ANALYSE_EXPIRES_S
    routing.send(celery_app, name, args, expires=expires, queue=QUEUE_IO)


async def _with_factory(body: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    engine = make_engine(get_settings().resolved_database_url, poolclass=NullPool)
    try:
        return await body(make_sessionmaker(engine))
    finally:
        await engine.dispose()


@celery_app.task(  # type: ignore[untyped-decorator]  # celery ships no type hints
    name=SYNC_MAILBOX, soft_time_limit=SYNC_SOFT_TIME_LIMIT_S, time_limit=SYNC_TIME_LIMIT_S
)
def sync_mailbox(sync_id: str) -> str:
    settings = get_settings()
    sid = uuid.UUID(sync_id)
    try:
        return run_async(lambda: _with_factory(lambda f: sync_once(f, settings, sid, _send)))
    except SoftTimeLimitExceeded:
        # Every stored batch is safe; the next task goes on from the stored cursor.
        _send(SYNC_MAILBOX, [sync_id])
        return "continued"
    except CredentialsUnreadable as exc:
        message = str(exc)
        run_async(lambda: _with_factory(lambda f: _fail(f, sid, message)))
        return "failed"


async def _analyse(sync_id: uuid.UUID | None, ids: list[uuid.UUID]) -> int:
    settings = get_settings()
    redis: Redis[bytes] = Redis.from_url(settings.resolved_redis_url)
    llm = make_structured_llm(settings)
    try:
        analyzer = Analyzer(settings, _worker_embedder(), llm=llm, redis=redis)
        return await _with_factory(lambda f: analyse_once(f, analyzer, sync_id, ids, celery=celery_app))
    finally:
        await llm.aclose()
        await redis.aclose()  # type: ignore[attr-defined]  # types-redis predates aclose


@celery_app.task(  # type: ignore[untyped-decorator]
    name=ANALYSE_EMAILS, soft_time_limit=ANALYSE_SOFT_TIME_LIMIT_S, time_limit=ANALYSE_TIME_LIMIT_S
)
def analyse_emails(sync_id: str | None, email_ids: list[str]) -> int:
    """Safe to run twice: only emails still pending are analysed and written."""
    return run_async(
        lambda: _analyse(uuid.UUID(sync_id) if sync_id else None, [uuid.UUID(i) for i in email_ids])
    )


@celery_app.task(  # type: ignore[untyped-decorator]
    name=EMBED_JOBS, soft_time_limit=EMBED_JOBS_SOFT_TIME_LIMIT_S, time_limit=EMBED_JOBS_TIME_LIMIT_S
)
def embed_jobs(import_id: str) -> int:
    """Safe to run twice: only postings still without a vector are embedded; a big catalogue that
    outlives the time limit continues in a follow-up task."""
    iid = uuid.UUID(import_id)
    try:
        return run_async(lambda: _with_factory(lambda f: jobs.embed_import(f, _worker_embedder(), iid)))
    except SoftTimeLimitExceeded:
        routing.send(celery_app, EMBED_JOBS, [import_id], expires=EMBED_JOBS_EXPIRES_S, queue=QUEUE_IO)
        return -1
    except EmbeddingError as exc:  # a broken model file will not mend on retry: say so on the import
        message = f"The postings could not be embedded: {exc}"
        run_async(
            lambda: _with_factory(lambda f: _in_session(f, lambda s: jobs.fail_import(s, iid, message)))
        )
        return 0
