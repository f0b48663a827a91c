"""The task system's own scheduled work (beat): forgetting what no redelivery can need any more."""

from __future__ import annotations

from mocki.settings import get_settings
from mocki.tasks import deadletters
from mocki.tasks.celery_app import celery_app
from mocki.tasks.names import PRUNE
from mocki.tasks.runtime import run_in_unit_of_work


@celery_app.task(name=PRUNE, soft_time_limit=60, time_limit=90)  # type: ignore[untyped-decorator]
def prune() -> dict[str, int]:
    """Delete completed-run markers older than a week and dead letters retried a month ago."""
    numbers = get_settings().tasks
    return run_in_unit_of_work(
        lambda session: deadletters.prune(
            session, retried_days=numbers.dead_letter_days, run_days=numbers.idempotency_days
        )
    )
