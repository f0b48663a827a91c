"""Scheduled work (beat): forgetting what no redelivery can need any more, and the tracker's reminders."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool

from mocki.core.db import make_engine, make_sessionmaker
from mocki.settings import get_settings
from mocki.tasks import deadletters, routing
from mocki.tasks.celery_app import celery_app
from mocki.tasks.names import (
    PRUNE,
    QUEUE_IO,
    SCHEDULE_SYNCS,
    SEND_DIGESTS,
    SEND_DUE_REMINDERS,
    SEND_NOTICES,
    SYNC_MAILBOX,
)
from mocki.tasks.runtime import run_async, run_in_unit_of_work
from mocki.tracker import digest, notices, reminders, schedule

T = TypeVar("T")


@celery_app.task(name=PRUNE, soft_time_limit=60, time_limit=90)  # type: ignore[untyped-decorator]
def prune() -> dict[str, int]:
    """Delete completed-run markers older than a week and dead letters retried a month ago."""
    numbers = get_settings().tasks
    return run_in_unit_of_work(
        lambda session: deadletters.prune(
            session, retried_days=numbers.dead_letter_days, run_days=numbers.idempotency_days
        )
    )


@celery_app.task(name=SEND_DUE_REMINDERS, soft_time_limit=50, time_limit=58)  # type: ignore[untyped-decorator]
def send_due_reminders() -> dict[str, int]:
    """Beat, every minute: follow-up todos, then deadline reminders; each reminder sent at most once."""
    settings = get_settings()

    async def main() -> dict[str, int]:
        engine = make_engine(settings.resolved_database_url)
        try:
            return await reminders.send_due_reminders(make_sessionmaker(engine), settings.tracker)
        finally:
            await engine.dispose()

    return run_async(main)


def _with_factory(body: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """Run `body` on a fresh engine in this task's event loop (NullPool: no connection outlives it)."""

    async def main() -> T:
        engine = make_engine(get_settings().resolved_database_url, poolclass=NullPool)
        try:
            return await body(make_sessionmaker(engine))
        finally:
            await engine.dispose()

    return run_async(main)


@celery_app.task(name=SEND_NOTICES, soft_time_limit=50, time_limit=58)  # type: ignore[untyped-decorator]
def send_notices() -> dict[str, int]:
    """Beat, every minute: one status-change notice per finished sync; a change is never in two."""
    return _with_factory(lambda f: notices.send_notices(f, get_settings().tracker))


@celery_app.task(name=SEND_DIGESTS, soft_time_limit=540, time_limit=590)  # type: ignore[untyped-decorator]
def send_digests() -> dict[str, int]:
    """Beat, every 15 minutes: the weekly digest of every user whose slot is open; once a week each."""
    return _with_factory(lambda f: digest.send_digests(f, get_settings().tracker))


def _send_sync(sync_id: uuid.UUID, expires: float) -> None:
    routing.send(celery_app, SYNC_MAILBOX, [str(sync_id)], expires=expires, queue=QUEUE_IO)


@celery_app.task(name=SCHEDULE_SYNCS, soft_time_limit=120, time_limit=150)  # type: ignore[untyped-decorator]
def schedule_syncs() -> dict[str, int]:
    """Beat, every `tracker.sync_every_minutes`: an incremental sync of every connected mailbox
    that is not syncing already."""
    every = get_settings().tracker.sync_every_minutes or 30.0
    return _with_factory(lambda f: schedule.schedule_syncs(f, _send_sync, every))
