"""Celery task that writes an ended interview's report on the io queue."""

from __future__ import annotations

import logging
import uuid

from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy.pool import NullPool

from mocki.core.db import make_engine, make_sessionmaker, session_scope
from mocki.interviews import report
from mocki.llm.factory import make_llm
from mocki.realtime import emit as rooms
from mocki.settings import get_settings
from mocki.tasks.celery_app import celery_app
from mocki.tasks.names import GENERATE_REPORT
from mocki.tasks.reliability import will_retry
from mocki.tasks.runtime import run_async, run_in_unit_of_work

log = logging.getLogger(__name__)

# Rules take milliseconds; the model's one sentence per answer takes a few seconds each.
SOFT_TIME_LIMIT_S = 240
TIME_LIMIT_S = 300


async def _generate(interview_id: uuid.UUID) -> str:
    # Read, ask the model, write: no database connection is held while the model writes.
    settings = get_settings()
    engine = make_engine(settings.resolved_database_url, poolclass=NullPool)
    factory = make_sessionmaker(engine)
    llm = make_llm(settings)
    try:
        async with session_scope(factory) as session:
            draft = await report.load_draft(session, interview_id)
        if draft is None:
            return "nothing to do"
        written = await report.write_items(llm, draft)
        async with session_scope(factory) as session:
            done = await report.save_report(session, draft, written)
        if done is not None:  # live rooms (realtime/): tell the interview's room its scores
            await rooms.report_ready(settings, done)
        return "missing" if done is None else done.status
    finally:
        await llm.aclose()
        await engine.dispose()


@celery_app.task(  # type: ignore[untyped-decorator]  # celery ships no type hints
    name=GENERATE_REPORT, soft_time_limit=SOFT_TIME_LIMIT_S, time_limit=TIME_LIMIT_S
)
def generate_report(interview_id: str) -> str:
    """Safe to run twice: a ready report is left alone; a pending or failed one is (re)computed."""
    iid = uuid.UUID(interview_id)
    try:
        return run_async(lambda: _generate(iid))
    except SoftTimeLimitExceeded:
        message = "Writing the report took too long; end the interview again to retry."
    except Exception as exc:  # the user must see a failed report, not one pending forever
        if will_retry(exc):
            raise  # a transient error: retried with backoff; the last attempt lands here
        log.exception("report for interview %s failed", interview_id)
        message = "The report could not be written; end the interview again to retry."
    run_in_unit_of_work(lambda session: report.mark_failed(session, iid, message))
    return "failed"
