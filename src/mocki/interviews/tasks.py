"""Celery task that writes an ended interview's report on the io queue."""

from __future__ import annotations

import logging
import uuid

from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy.ext.asyncio import AsyncSession

from mocki.interviews import report
from mocki.llm.factory import make_llm
from mocki.settings import get_settings
from mocki.tasks.celery_app import celery_app
from mocki.tasks.names import GENERATE_REPORT
from mocki.tasks.runtime import run_in_unit_of_work

log = logging.getLogger(__name__)

# Rules take milliseconds; the model's one sentence per answer takes a few seconds each.
SOFT_TIME_LIMIT_S = 240
TIME_LIMIT_S = 300


async def _generate(session: AsyncSession, interview_id: uuid.UUID) -> str:
    llm = make_llm(get_settings())
    try:
        done = await report.generate_report(session, llm, interview_id)
    finally:
        await llm.aclose()
    return "missing" if done is None else done.status


@celery_app.task(  # type: ignore[untyped-decorator]  # celery ships no type hints
    name=GENERATE_REPORT, soft_time_limit=SOFT_TIME_LIMIT_S, time_limit=TIME_LIMIT_S
)
def generate_report(interview_id: str) -> str:
    """Safe to run twice: a ready report is left alone; a pending or failed one is (re)computed."""
    iid = uuid.UUID(interview_id)
    try:
        return run_in_unit_of_work(lambda session: _generate(session, iid))
    except SoftTimeLimitExceeded:
        message = "Writing the report took too long; end the interview again to retry."
    except Exception:  # the user must see a failed report, not one pending forever
        log.exception("report for interview %s failed", interview_id)
        message = "The report could not be written; end the interview again to retry."
    run_in_unit_of_work(lambda session: report.mark_failed(session, iid, message))
    return "failed"
