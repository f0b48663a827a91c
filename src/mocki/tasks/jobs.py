"""Scheduled work (beat): forgetting what no redelivery can need any more, and the tracker's reminders."""

from __future__ import annotations

from mocki.core.db import make_engine, make_sessionmaker
from mocki.settings import get_settings
from mocki.tasks import deadletters
from mocki.tasks.celery_app import celery_app
from mocki.tasks.names import PRUNE, SEND_DUE_REMINDERS
from mocki.tasks.runtime import run_async, run_in_unit_of_work
from mocki.tracker import reminders


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
