"""Prep from invitations: a mock interview for the company and role an invitation is about.

When an email places an `interview` or `assessment` event on an application, the application gets
a mock interview (target role = its position, company = its company) with the user's latest
resume and, when one is found, a job description: a catalogue posting of the same company with a
similar title, else the job description the email itself carries. The event's todo links to it;
its due date (the interview time or the deadline) is what the 24 h / 1 h reminders read.

Once per application: it runs in the transaction that placed the event, under the application's
row lock (timeline.place), and only when the application has no prep yet or its prep has ended
(a later round). Emails are analysed once (pipeline.save_analyses), so a re-sync makes none.
"""

from __future__ import annotations

import logging
import re
import uuid

from celery import Celery
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from mocki.cache import families
from mocki.core.errors import Conflict, DomainError
from mocki.documents import service as documents
from mocki.interviews import service as interviews
from mocki.interviews.schemas import InterviewIn
from mocki.models import Interview
from mocki.models.jobs import SHARED_SCOPE, JobPosting
from mocki.models.tracker import Application, ApplicationEvent, Email, Todo
from mocki.tracker.recommend import latest_resume

log = logging.getLogger(__name__)

PREP_KINDS = frozenset({"interview", "assessment"})
# Where a job description starts in an email, and how much of one makes it worth keeping.
_JD_HEADING = re.compile(
    r"^\W*(job description|about the (?:role|job|position)|the role|role overview|responsibilities|"
    r"what you(?:'|’)ll do|requirements|qualifications|what we(?:'|’)re looking for)\W*$",
    re.I | re.M,
)
_SIGN_OFF = re.compile(r"^\s*(best|kind regards|regards|thanks|thank you|cheers|sincerely)\b.*$", re.I | re.M)
JD_MIN_CHARS = 200
JD_MAX_CHARS = 20_000


def jd_from_email(body: str) -> str | None:
    """The job description an email carries, from its first JD heading to the sign-off; None without one."""
    found = _JD_HEADING.search(body)
    if found is None:
        return None
    text = body[found.start() :]
    end = _SIGN_OFF.search(text, pos=len(found.group(0)))
    if end is not None:
        text = text[: end.start()]
    text = text.strip()
    return text[:JD_MAX_CHARS] if len(text) >= JD_MIN_CHARS else None


def _words(key: str) -> set[str]:
    return {
        w for w in key.split() if w not in ("senior", "junior", "lead", "staff", "principal", "ii", "iii")
    }


def similar_title(a: str, b: str) -> bool:
    """Position keys naming the same job: equal, or sharing most words once seniority is set aside."""
    if not a or not b:
        return False
    if a == b:
        return True
    wa, wb = _words(a), _words(b)
    return bool(wa and wb) and len(wa & wb) / len(wa | wb) >= 0.6


async def matching_posting(session: AsyncSession, app: Application) -> JobPosting | None:
    stmt = select(JobPosting).where(
        or_(JobPosting.scope == str(app.owner_id), JobPosting.scope == SHARED_SCOPE),
        JobPosting.company_key == app.company_key,
    )
    postings = (await session.execute(stmt.options(undefer(JobPosting.description)))).scalars().all()
    alike = [p for p in postings if similar_title(p.position_key, app.position_key)]
    if not alike and not app.position_key and len(postings) == 1:
        alike = list(postings)  # the application names no role: the company's only posting
    alike.sort(key=lambda p: (p.scope == SHARED_SCOPE, p.position_key != app.position_key))
    return alike[0] if alike else None


def posting_document_text(posting: JobPosting) -> str:
    head = [f"{posting.title} at {posting.company}"]
    if posting.location:
        head.append(f"Location: {posting.location}")
    if posting.skills:
        head.append("Skills: " + ", ".join(posting.skills))
    if posting.url:
        head.append(posting.url)
    return "\n".join(head) + "\n\n" + (posting.description or "")


async def _posting_document(
    session: AsyncSession, owner_id: uuid.UUID, posting: JobPosting, celery: Celery | None
) -> uuid.UUID:
    if posting.document_id is not None and posting.scope != SHARED_SCOPE:
        try:
            await documents.get_ready_text(session, owner_id, posting.document_id, "job_description")
            return posting.document_id
        except DomainError:
            pass  # deleted or someone else's: make a fresh one
    doc = await documents.create_from_text(
        session, owner_id, "job_description", f"{posting.title} at {posting.company}",
        posting_document_text(posting), celery=celery,
    )  # fmt: skip
    if posting.scope != SHARED_SCOPE:
        posting.document_id = doc.id
    return doc.id


async def job_description(
    session: AsyncSession, app: Application, email_id: uuid.UUID | None, celery: Celery | None
) -> uuid.UUID | None:
    """A job-description document for the application: from the catalogue, else from the email."""
    posting = await matching_posting(session, app)
    if posting is not None:
        return await _posting_document(session, app.owner_id, posting, celery)
    if email_id is None:
        return None
    stmt = select(Email.body).where(Email.id == email_id)
    text = jd_from_email((await session.execute(stmt)).scalar_one_or_none() or "")
    if text is None:
        return None
    try:
        doc = await documents.create_from_text(
            session, app.owner_id, "job_description", f"{app.position or 'Role'} at {app.company}", text,
            celery=celery,
        )  # fmt: skip
    except DomainError as exc:  # too long or unusable text: the prep goes ahead without it
        log.info("job description of email %s not kept: %s", email_id, exc)
        return None
    return doc.id


async def current_prep(session: AsyncSession, app: Application) -> Interview | None:
    if app.prep_interview_id is None:
        return None
    return await session.get(Interview, app.prep_interview_id)


async def create(
    session: AsyncSession, app: Application, *, kind: str, email_id: uuid.UUID | None, celery: Celery | None
) -> uuid.UUID:
    """Make the application's prep interview and remember it on the application."""
    resume = await latest_resume(session, app.owner_id)
    body = InterviewIn(
        target_role=(app.position or f"Role at {app.company}")[:200],
        company=app.company[:200],
        resume_id=resume[0] if resume else None,
        job_description_id=await job_description(session, app, email_id, celery),
        kind="technical" if kind == "assessment" else "mixed",
    )
    out = await interviews.create_interview(session, app.owner_id, body)
    app.prep_interview_id = out.id
    families.applications_changed(session, app.owner_id)  # the application now names its prep
    return out.id


async def link_todo(
    session: AsyncSession, owner_id: uuid.UUID, event_id: uuid.UUID, interview_id: uuid.UUID
) -> None:
    await session.execute(
        update(Todo)
        .where(Todo.owner_id == owner_id, Todo.source_key == f"event:{event_id}")
        .values(interview_id=interview_id)
        .execution_options(synchronize_session=False)
    )


async def for_event(
    session: AsyncSession, event: ApplicationEvent | None, *, celery: Celery | None = None
) -> uuid.UUID | None:
    """The pipeline's hook after an event's todo: the application's prep (made when it has none or
    its last one ended), linked to the event's todo. None for events that need no prep."""
    if event is None or event.kind not in PREP_KINDS:
        return None
    app = await session.get(Application, event.application_id)  # locked by timeline.place
    if app is None:
        return None
    prep = await current_prep(session, app)
    if prep is not None and prep.status != "ended":
        interview_id = prep.id
    else:
        try:
            interview_id = await create(session, app, kind=event.kind, email_id=event.email_id, celery=celery)
        except DomainError as exc:  # the email is still placed; the user can ask for a prep later
            log.warning("no prep interview for application %s: %s", app.id, exc)
            return None
    await link_todo(session, app.owner_id, event.id, interview_id)
    return interview_id


async def on_demand(session: AsyncSession, app: Application, celery: Celery | None) -> uuid.UUID:
    """POST .../prep: a prep for the application now; Conflict (naming it) when one is still open."""
    prep = await current_prep(session, app)
    if prep is not None and prep.status != "ended":
        raise Conflict(
            "This application already has a prep interview.",
            code="prep_exists",
            details={"interview_id": str(prep.id)},
        )
    events = (
        await session.execute(
            select(ApplicationEvent)
            .where(ApplicationEvent.application_id == app.id, ApplicationEvent.kind.in_(PREP_KINDS))
            .order_by(ApplicationEvent.occurred_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    kind = events.kind if events is not None else "interview"
    interview_id = await create(
        session, app, kind=kind, email_id=events.email_id if events else None, celery=celery
    )
    if events is not None:
        await link_todo(session, app.owner_id, events.id, interview_id)
    return interview_id
