"""The Celery application shared by every worker and every sender."""

from __future__ import annotations

from celery import Celery
from kombu import Queue  # type: ignore[attr-defined]

from mocki.settings import Settings, get_settings
from mocki.tasks.names import (
    BUILD_PAIRS,
    CHUNK_DOCUMENT,
    EXTRACT_DOCUMENT,
    GENERATE_REPORT,
    INDEX_QUESTIONS,
    QUEUE_CPU,
    QUEUE_IO,
)


def make_celery(settings: Settings | None = None) -> Celery:
    settings = settings or get_settings()
    app = Celery(
        "mocki",
        broker=settings.celery_broker_url,
        include=["mocki.documents.tasks", "mocki.interviews.tasks", "mocki.retrieval.tasks"],
    )
    app.conf.update(
        task_queues=[Queue(QUEUE_CPU), Queue(QUEUE_IO)],  # type: ignore[no-untyped-call]
        task_default_queue=QUEUE_IO,
        task_routes={
            EXTRACT_DOCUMENT: {"queue": QUEUE_CPU},
            CHUNK_DOCUMENT: {"queue": QUEUE_CPU},
            GENERATE_REPORT: {"queue": QUEUE_IO},
            BUILD_PAIRS: {"queue": QUEUE_IO},
            INDEX_QUESTIONS: {"queue": QUEUE_IO},
        },
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        # Results are read from the database, never from the broker.
        result_backend=None,
        broker_transport_options={"visibility_timeout": 3600},
    )
    return app


celery_app = make_celery()
