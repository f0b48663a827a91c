"""Applications and their status history, built from analysed emails; the board and the analytics.

An analysed email becomes one event of one application, matched by company (and position when
the email names one). The application's status is that of its latest status-bearing event, unless
a person set it by hand: manual fields live in `Application.manual` and always win, through any
number of re-syncs. Events are added under a row lock on the application, so two analysis tasks
adding events to the same application at once still leave the right status.
"""

from __future__ import annotations

import statistics
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from mocki.cache import families
from mocki.core.timeutil import as_utc, utcnow
from mocki.models.tracker import Application, ApplicationEvent, Email, StatusChange
from mocki.tracker.extract import company_key, position_key

BOARD_COLUMNS = ("applied", "assessment", "interview", "offer", "rejected")
# Later steps of the process outrank earlier ones when two events share a time.
RANK = {"recruiter_outreach": 0, "applied": 1, "assessment": 2, "interview": 3, "offer": 4, "rejected": 5}
RESPONSES = frozenset({"rejected", "interview", "assessment", "offer"})
# Still in play: waiting for an answer, a test or an interview, or an offer not yet decided.
ACTIVE = frozenset({"applied", "assessment", "interview", "offer"})
MANUAL_FIELDS = ("company", "position", "status")


def insert_for(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def derive(
    events: Sequence[ApplicationEvent],
) -> tuple[str, datetime | None, datetime | None, datetime | None]:
    """(status, applied at, first response at, last event at) from an application's events."""
    ordered = sorted(events, key=lambda e: (as_utc(e.occurred_at), RANK.get(e.kind, -1)))
    steps = [e for e in ordered if e.kind in RANK]
    status = steps[-1].kind if steps else "applied"
    applied = next((as_utc(e.occurred_at) for e in ordered if e.kind == "applied"), None)
    responses = [as_utc(e.occurred_at) for e in ordered if e.kind in RESPONSES]
    if applied is not None:
        responses = [at for at in responses if at >= applied]
    last = as_utc(ordered[-1].occurred_at) if ordered else None
    return status, applied, (responses[0] if responses else None), last


def refresh(app: Application, events: Sequence[ApplicationEvent]) -> None:
    status, applied, responded, last = derive(events)
    app.extracted_status = status
    app.status = str(app.manual.get("status") or status)
    app.applied_at = applied or app.applied_at
    app.first_response_at = responded
    app.last_event_at = last


async def _events(session: AsyncSession, application_id: uuid.UUID) -> Sequence[ApplicationEvent]:
    stmt = select(ApplicationEvent).where(ApplicationEvent.application_id == application_id)
    return (await session.execute(stmt)).scalars().all()


async def _locked(session: AsyncSession, application_id: uuid.UUID) -> Application:
    stmt = select(Application).where(Application.id == application_id).with_for_update()
    app = (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one()
    return app


async def _find(session: AsyncSession, owner_id: uuid.UUID, ckey: str, pkey: str) -> Application | None:
    base = select(Application).where(Application.owner_id == owner_id, Application.company_key == ckey)
    if pkey:
        exact = (await session.execute(base.where(Application.position_key == pkey))).scalar_one_or_none()
        if exact is not None:
            return exact
        # An application whose position was not known yet takes this one's.
        return (await session.execute(base.where(Application.position_key == ""))).scalar_one_or_none()
    latest = base.order_by(
        Application.last_event_at.desc().nulls_last(), Application.created_at.desc()
    ).limit(1)
    return (await session.execute(latest)).scalar_one_or_none()


async def _create(
    session: AsyncSession, owner_id: uuid.UUID, company: str, position: str, ckey: str, pkey: str
) -> Application:
    """Insert if absent (a concurrent task may be creating the same application), then read it."""
    now = utcnow()
    values = {
        "id": uuid.uuid4(), "owner_id": owner_id, "company": company[:300], "position": position[:300],
        "company_key": ckey, "position_key": pkey, "status": "applied", "extracted_status": "applied",
        "manual": {}, "notes": "", "source": "email", "created_at": now, "updated_at": now,
    }  # fmt: skip
    stmt = insert_for(session)(Application).values(**values)
    await session.execute(
        stmt.on_conflict_do_nothing(index_elements=["owner_id", "company_key", "position_key"])
    )
    found = select(Application).where(
        Application.owner_id == owner_id, Application.company_key == ckey, Application.position_key == pkey
    )
    return (await session.execute(found)).scalar_one()


async def place(session: AsyncSession, email: Email, analysis: dict[str, Any]) -> ApplicationEvent | None:
    """Add the email's event to its application (created when new); None when it belongs to none."""
    status = str(analysis["status"])
    company = (analysis.get("company") or "").strip()
    position = (analysis.get("position") or "").strip()
    ckey = company_key(company) if company else ""
    if not ckey:
        return None
    pkey = position_key(position) if position else ""
    app = await _find(session, email.owner_id, ckey, pkey)
    created = app is None
    if app is None:
        if status == "other":
            return None  # unrelated mail from a company with no application
        app = await _create(session, email.owner_id, company, position, ckey, pkey)
    app = await _locked(session, app.id)
    before = None if created and app.last_event_at is None else app.status
    if pkey and not app.position_key:
        clash = await _find(session, email.owner_id, ckey, pkey)
        if clash is None or clash.id == app.id:
            app.position, app.position_key = position[:300], pkey
    event = ApplicationEvent(
        id=uuid.uuid4(),
        owner_id=email.owner_id,
        application_id=app.id,
        email_id=email.id,
        kind=status,
        occurred_at=email.sent_at or email.created_at,
        interview_at=_date(analysis.get("interview_at")),
        deadline_at=_date(analysis.get("deadline_at")),
        assessment_url=analysis.get("assessment_url"),
        links=list(analysis.get("links") or []),
        next_action=str(analysis.get("next_action") or "")[:500],
        summary=email.subject[:500],
        source=str(analysis.get("source") or "model"),
        confidence=float(analysis.get("confidence") or 1.0),
        created_at=utcnow(),
    )
    session.add(event)
    await session.flush()
    email.application_id = app.id
    refresh(app, await _events(session, app.id))
    # Cached reads (board, analytics, the list): dropped on every api process once this commits.
    families.applications_changed(session, email.owner_id)
    if app.status != before:
        note_change(session, app, before, event.occurred_at, email.sync_id, "email")
    return event


def note_change(
    session: AsyncSession,
    app: Application,
    before: str | None,
    occurred_at: datetime,
    sync_id: uuid.UUID | None,
    source: str,
) -> None:
    """Record a status change for the notices (tracker/notices.py) and the digest; same transaction."""
    session.add(
        StatusChange(
            id=uuid.uuid4(), owner_id=app.owner_id, application_id=app.id, sync_id=sync_id,
            from_status=before, to_status=app.status, source=source, occurred_at=occurred_at,
            created_at=utcnow(),
        )
    )  # fmt: skip


def _date(value: Any) -> datetime | None:
    if not value:
        return None
    return as_utc(datetime.fromisoformat(str(value)))


# -------------------------------------------------------------------------------- manual edits


async def create_manual(
    session: AsyncSession, owner_id: uuid.UUID, company: str, position: str, status: str, notes: str
) -> Application:
    ckey, pkey = company_key(company), position_key(position)
    app = await _create(session, owner_id, company, position, ckey, pkey)
    app.source = "email" if app.source == "email" and app.last_event_at else "manual"
    await edit(session, app, {"status": status}, notes)
    return app


async def edit(
    session: AsyncSession, app: Application, changes: dict[str, str | None], notes: str | None
) -> None:
    """Set (or, with None, clear) manual fields; a manual status change is also an event."""
    manual = dict(app.manual)
    for name, value in changes.items():
        if name not in MANUAL_FIELDS:
            continue
        if value is None or value == "":
            manual.pop(name, None)
        else:
            manual[name] = value
            if name == "company":
                app.company = value[:300]
            elif name == "position":
                app.position = value[:300]
    app.manual = manual
    if notes is not None:
        app.notes = notes
    if changes.get("status"):
        session.add(
            ApplicationEvent(
                id=uuid.uuid4(),
                owner_id=app.owner_id,
                application_id=app.id,
                kind="manual",
                occurred_at=utcnow(),
                summary=f"Status set to {changes['status']} by hand",
                source="manual",
                confidence=1.0,
                created_at=utcnow(),
                links=[],
                next_action="",
            )
        )
    await session.flush()
    before = app.status
    refresh(app, await _events(session, app.id))
    families.applications_changed(session, app.owner_id)
    if app.status != before and app.last_event_at is not None:
        note_change(session, app, before, app.last_event_at, None, "manual")


# ---------------------------------------------------------------------------- board, analytics


def board(apps: Sequence[Application]) -> dict[str, list[Application]]:
    columns: dict[str, list[Application]] = {column: [] for column in BOARD_COLUMNS}
    for app in apps:
        if app.status in columns:
            columns[app.status].append(app)
    for column in columns.values():
        column.sort(key=lambda a: a.last_event_at or a.created_at, reverse=True)
    return columns


def analytics(apps: Sequence[Application]) -> dict[str, Any]:
    applied = [a for a in apps if a.applied_at is not None]
    answered = [a for a in applied if a.first_response_at is not None]
    by_company: dict[str, list[float]] = defaultdict(list)
    for app in answered:
        assert app.applied_at is not None and app.first_response_at is not None
        days = (as_utc(app.first_response_at) - as_utc(app.applied_at)).total_seconds() / 86400
        by_company[app.company].append(days)
    all_days = [d for days in by_company.values() for d in days]
    pipeline = {
        status: sum(1 for a in apps if a.status == status)
        for status in (*BOARD_COLUMNS, "recruiter_outreach")
    }
    return {
        "applications": len(apps),
        "applied": len(applied),
        "responded": len(answered),
        "response_rate": round(len(answered) / len(applied), 4) if applied else None,
        "median_days_to_response": round(statistics.median(all_days), 2) if all_days else None,
        "days_to_response_by_company": {
            company: round(statistics.median(days), 2) for company, days in sorted(by_company.items())
        },
        "active": sum(1 for a in apps if a.status in ACTIVE),
        "pipeline": pipeline,
    }
