"""Queue and task names as constants, so senders and workers can never drift apart."""

from __future__ import annotations

QUEUE_CPU = "cpu"  # parsing, indexing, scoring
QUEUE_IO = "io"  # LLM calls, embeddings, mail

EXTRACT_DOCUMENT = "documents.extract"
GENERATE_REPORT = "interviews.generate_report"
CHUNK_DOCUMENT = "retrieval.chunk_document"  # cpu: split a ready document into chunks
BUILD_PAIRS = "retrieval.build_pairs"  # io: model-written pairs and embeddings for its chunks
INDEX_QUESTIONS = "retrieval.index_questions"  # io: embed bank questions as pairs


def worker_command(python: str, queues: str, *, concurrency: int, hostname: str) -> list[str]:
    """The command line of a Celery worker for these queues (`mocki up` and the tests share it)."""
    return [
        python, "-m", "celery", "-A", "mocki.tasks.celery_app:celery_app", "worker", "-Q", queues,
        "--concurrency", str(concurrency), "--loglevel", "INFO", "--without-gossip", "--without-mingle",
        "--hostname", hostname,
    ]  # fmt: skip
