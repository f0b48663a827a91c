"""Queue and task names as constants, so senders and workers can never drift apart."""

from __future__ import annotations

QUEUE_CPU = "cpu"  # parsing, indexing, scoring
QUEUE_IO = "io"  # LLM calls, embeddings, mail

EXTRACT_DOCUMENT = "documents.extract"
GENERATE_REPORT = "interviews.generate_report"
