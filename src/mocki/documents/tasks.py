"""Celery task that extracts an uploaded document's text on the cpu queue."""

from __future__ import annotations

import logging
import uuid

from celery.exceptions import SoftTimeLimitExceeded

from mocki.core.errors import DomainError
from mocki.documents import service
from mocki.documents.extract import ExtractedText, extract_text
from mocki.settings import get_settings
from mocki.tasks.celery_app import celery_app
from mocki.tasks.names import EXTRACT_DOCUMENT
from mocki.tasks.runtime import run_in_unit_of_work

log = logging.getLogger(__name__)

# A 30-page PDF takes a second or two; a file that needs a minute is hostile or broken.
SOFT_TIME_LIMIT_S = 60
TIME_LIMIT_S = 90


@celery_app.task(  # type: ignore[untyped-decorator]  # celery ships no type hints
    name=EXTRACT_DOCUMENT, soft_time_limit=SOFT_TIME_LIMIT_S, time_limit=TIME_LIMIT_S
)
def extract_document(document_id: str) -> str:
    """Claim, extract outside any transaction, then store the text or the reason it failed.

    Safe to run twice: a finished document is left alone, and a second run of an unfinished one
    produces the same text.
    """
    doc_id = uuid.UUID(document_id)
    job = run_in_unit_of_work(lambda session: service.begin_extraction(session, doc_id))
    if job is None:
        return "skipped"
    outcome: ExtractedText | str
    try:
        outcome = extract_text(job.data, job.filename, job.media_type, get_settings().documents)
    except DomainError as exc:
        outcome = exc.message
    except SoftTimeLimitExceeded:
        outcome = "Reading the document took too long. Try a smaller file or paste the text instead."
    except Exception:  # a parser bug must still end in a status the user can see
        log.exception("extracting document %s failed", document_id)
        outcome = "The document could not be read. Try saving it again as PDF or .docx, or paste the text."
    run_in_unit_of_work(lambda session: service.finish_extraction(session, celery_app, doc_id, outcome))
    return "ready" if isinstance(outcome, ExtractedText) else "failed"
