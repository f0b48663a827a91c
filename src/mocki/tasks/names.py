"""Queue, lane and task names as constants, so senders and workers can never drift apart."""

from __future__ import annotations

from typing import Literal

QUEUE_CPU = "cpu"  # prefork: parsing, indexing, scoring
QUEUE_IO = "io"  # threads: LLM calls, embeddings, mail
BASE_QUEUES = (QUEUE_CPU, QUEUE_IO)

# Each pool has a high lane for urgent work and high tiers, kept either by message priority
# within the pool's queue or by a separate `<queue>.high` queue (settings.tasks.lanes).
Lane = Literal["high", "normal"]
HIGH_SUFFIX = ".high"
# Redis serves priority 0 first; every other value is a later list (kombu's steps 0, 3, 6, 9).
PRIORITY_HIGH = 0
PRIORITY_NORMAL = 6

EXTRACT_DOCUMENT = "documents.extract"
GENERATE_REPORT = "interviews.generate_report"
CHUNK_DOCUMENT = "retrieval.chunk_document"  # cpu: split a ready document into chunks
BUILD_PAIRS = "retrieval.build_pairs"  # io: model-written pairs and embeddings for its chunks
INDEX_QUESTIONS = "retrieval.index_questions"  # io: embed bank questions as pairs
PRUNE = "tasks.prune"  # io, beat: old idempotency markers and resolved dead letters

# --- tracker (issue 6): both on the io pool, sent with routing.send(..., queue=QUEUE_IO) ---
SYNC_MAILBOX = "tracker.sync_mailbox"  # read a mailbox's new mail batch by batch
ANALYSE_EMAILS = "tracker.analyse_emails"  # status, fields and timeline of stored emails
SEND_DUE_REMINDERS = "tracker.send_due_reminders"  # beat, every minute: follow-ups, deadline mail
SEND_NOTICES = "tracker.send_notices"  # beat, every minute: one status-change notice per finished sync
SEND_DIGESTS = "tracker.send_digests"  # beat, every 15 minutes: weekly digests whose slot is open
SCHEDULE_SYNCS = "tracker.schedule_syncs"  # beat, every tracker.sync_every_minutes: incremental syncs
EMBED_JOBS = "tracker.embed_jobs"  # embed an imported job catalogue's postings, batch by batch
# --- end tracker ---

# The pool each task belongs to; the lane is chosen per send (tasks/routing.py).
TASK_QUEUES: dict[str, str] = {
    EXTRACT_DOCUMENT: QUEUE_CPU,
    CHUNK_DOCUMENT: QUEUE_CPU,
    GENERATE_REPORT: QUEUE_IO,
    BUILD_PAIRS: QUEUE_IO,
    INDEX_QUESTIONS: QUEUE_IO,
    PRUNE: QUEUE_IO,
    SYNC_MAILBOX: QUEUE_IO,
    ANALYSE_EMAILS: QUEUE_IO,
    SEND_DUE_REMINDERS: QUEUE_IO,
    SEND_NOTICES: QUEUE_IO,
    SEND_DIGESTS: QUEUE_IO,
    SCHEDULE_SYNCS: QUEUE_IO,
    EMBED_JOBS: QUEUE_IO,
}

CELERY_APP = "mocki.tasks.celery_app:celery_app"


def high_queue(queue: str) -> str:
    return queue + HIGH_SUFFIX


def base_queue(queue: str) -> str:
    return queue.removesuffix(HIGH_SUFFIX)


def worker_command(python: str, queues: str, *, concurrency: int, hostname: str) -> list[str]:
    """The command line of a Celery worker for these pools (`mocki up` and the tests share it).

    A worker of a pool also takes that pool's high queue (tasks/celery_app.py adds it)."""
    return [
        python, "-m", "celery", "-A", CELERY_APP, "worker", "-Q", queues,
        "--concurrency", str(concurrency), "--loglevel", "INFO", "--without-gossip", "--without-mingle",
        "--hostname", hostname,
    ]  # fmt: skip


def beat_command(python: str, *, loglevel: str = "INFO") -> list[str]:
    """Celery beat with the Redis leader lock (tasks/beat.py): start as many as you like."""
    return [python, "-m", "celery", "-A", CELERY_APP, "beat", "--loglevel", loglevel]
