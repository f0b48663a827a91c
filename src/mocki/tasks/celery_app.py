"""The Celery application shared by every worker, every sender and beat."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import Celery
from celery.signals import celeryd_after_setup, task_revoked
from kombu import Queue  # type: ignore[attr-defined]

from mocki.core.logging import install_redaction
from mocki.settings import Settings, get_settings
from mocki.tasks import reliability
from mocki.tasks.beat import LOCK_KEY
from mocki.tasks.deadletters import Letter
from mocki.tasks.names import (
    BASE_QUEUES,
    PRIORITY_NORMAL,
    PRUNE,
    QUEUE_IO,
    SCHEDULE_SYNCS,
    SEND_DIGESTS,
    SEND_DUE_REMINDERS,
    SEND_NOTICES,
    TASK_QUEUES,
    base_queue,
    high_queue,
)

log = logging.getLogger(__name__)

# The longest hard time limit of any task (retrieval.build_pairs: 1900 s) plus a margin: a message
# held by a worker that vanished goes to another worker after this long, and never while its
# task may still be running somewhere.
DEFAULT_VISIBILITY_TIMEOUT_S = 2000
PRUNE_EVERY = timedelta(hours=6)
REMINDERS_EVERY = timedelta(minutes=1)
NOTICES_EVERY = timedelta(minutes=1)
DIGESTS_EVERY = timedelta(minutes=15)


def _sync_schedule(settings: Settings) -> dict[str, Any]:
    """The periodic mail sync, unless `tracker.sync_every_minutes` is 0; it expires within its interval."""
    every = settings.tracker.sync_every_minutes
    if not every:
        return {}
    expires = max(30.0, every * 60 - 10)
    return {
        SCHEDULE_SYNCS: {
            "task": SCHEDULE_SYNCS,
            "schedule": timedelta(minutes=every),
            "options": {"expires": expires},
        }
    }


def make_celery(settings: Settings | None = None) -> Celery:
    settings = settings or get_settings()
    install_redaction()  # workers log task arguments and errors: no secret may reach those lines
    tasks = settings.tasks
    visibility = tasks.visibility_timeout_s or DEFAULT_VISIBILITY_TIMEOUT_S
    transport: dict[str, Any] = {
        "visibility_timeout": visibility,
        # Look for abandoned messages every few seconds, not every 100 (kombu's default).
        "unacked_restore_interval": max(1, min(10, visibility // 4)),
        "unacked_restore_throttle": 1,
    }
    if tasks.key_prefix:
        transport["global_keyprefix"] = tasks.key_prefix
    app = Celery(
        "mocki",
        broker=settings.celery_broker_url,
        include=[
            "mocki.documents.tasks",
            "mocki.interviews.tasks",
            "mocki.retrieval.tasks",
            "mocki.tasks.jobs",
            "mocki.tracker.tasks",
        ],
        task_cls=reliability.configure(reliability.ReliableTask, tasks),
    )
    app.conf.update(
        task_queues=[Queue(q) for pool in BASE_QUEUES for q in (pool, high_queue(pool))],  # type: ignore[no-untyped-call]
        task_default_queue=QUEUE_IO,
        task_default_priority=PRIORITY_NORMAL,
        task_routes={name: {"queue": queue} for name, queue in TASK_QUEUES.items()},
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # A pool process that died is declared lost (and its task put back) after 2 s, not 10.
        worker_lost_wait=2.0,
        task_ignore_result=True,
        # Task events feed Flower and its /metrics (runtime, failures, retries per task).
        worker_send_task_events=True,
        task_send_sent_event=True,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        # Results are read from the database, never from the broker (nor cleaned up by beat).
        result_backend=None,
        result_expires=None,
        broker_transport_options=transport,
        beat_scheduler="mocki.tasks.beat:LockedScheduler",
        beat_schedule={
            PRUNE: {"task": PRUNE, "schedule": PRUNE_EVERY, "options": {"expires": 3600}},
            SEND_DUE_REMINDERS: {
                "task": SEND_DUE_REMINDERS,
                "schedule": REMINDERS_EVERY,
                "options": {"expires": 50},
            },
            SEND_NOTICES: {"task": SEND_NOTICES, "schedule": NOTICES_EVERY, "options": {"expires": 50}},
            SEND_DIGESTS: {"task": SEND_DIGESTS, "schedule": DIGESTS_EVERY, "options": {"expires": 600}},
            **_sync_schedule(settings),
        },
        # Read by tasks/routing.py and tasks/beat.py.
        mocki_lanes=tasks.lanes,
        mocki_high_tiers=tuple(tasks.high_tiers),
        mocki_redis_url=settings.resolved_redis_url,
        mocki_beat_lock_ttl_s=tasks.beat_lock_ttl_s,
        mocki_beat_lock_key=tasks.key_prefix + LOCK_KEY,
        mocki_key_prefix=tasks.key_prefix,
    )
    return app


@celeryd_after_setup.connect  # type: ignore[untyped-decorator]
def _take_high_lanes(sender: str, instance: Any, **_: Any) -> None:
    """A worker of a pool also takes that pool's high queue, listed first."""
    queues = instance.app.amqp.queues
    chosen = list(queues.consume_from or queues)
    pools = [base_queue(name) for name in chosen if base_queue(name) in BASE_QUEUES]
    ordered = list(dict.fromkeys([high_queue(pool) for pool in pools] + chosen))
    queues.select(ordered)


@task_revoked.connect  # type: ignore[untyped-decorator]
def _expired_to_dead_letter(sender: Any = None, request: Any = None, expired: bool = False, **_: Any) -> None:
    """A task that waited past its `expires` was never run: keep a record an admin can act on."""
    if not expired or request is None:
        return
    info = getattr(request, "delivery_info", None) or {}
    reliability.save_letter(
        Letter(
            task_id=str(request.id),
            task_name=str(getattr(sender, "name", None) or getattr(request, "task", "")),
            queue=str(info.get("routing_key") or ""),
            reason="expired",
            error_type="Expired",
            error="the task waited in its queue past its expiry time",
            args=list(request.args or []),
            kwargs=dict(request.kwargs or {}),
        )
    )


celery_app = make_celery()
