"""The weekly digest: the active pipeline, this week's status changes, deadlines and interviews of
the coming week, open todos and (when helper module `tracker.recommend` is installed) jobs for you.

Each user picks a weekday and hour in their own time zone (`reminder_preferences`); the beat job
(every 15 minutes) sends the digest of a week once, in the hours after that slot. Like the
notices, a digest is claimed first: its `notifications` row is unique on (user, `digest`, ISO week
of the slot), so two runs never send a week twice; a failed send deletes the row and the next run
tries again, while the slot's window is open.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mocki.core.db import session_scope
from mocki.core.timeutil import as_utc, utcnow
from mocki.models.tracker import Application, Notification, ReminderPreference, StatusChange, Todo
from mocki.tracker import mailer, reminders
from mocki.tracker.config import TrackerSettings
from mocki.tracker.notices import LABELS
from mocki.tracker.timeline import ACTIVE, insert_for
from mocki.users import repository as users

log = logging.getLogger(__name__)

DIGEST = "digest"
WEEK = timedelta(days=7)
# How long after its slot a week's digest may still go out (beat down, a failed send retried).
WINDOW = timedelta(hours=6)
JOBS_LIMIT = 5
TODOS_LIMIT = 10


@dataclass(frozen=True)
class Slot:
    key: str  # the ISO week of the slot, e.g. 2026-W48
    starts: datetime


@dataclass
class Content:
    active: list[Application] = field(default_factory=list)
    changes: list[tuple[Application, StatusChange]] = field(default_factory=list)
    upcoming: list[Todo] = field(default_factory=list)
    todos: list[Todo] = field(default_factory=list)
    jobs: list[str] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.active or self.changes or self.upcoming or self.todos)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def slot(weekday: int, hour: int, tz: str, now: datetime) -> Slot | None:
    """This week's digest slot (in the user's zone) when `now` is within its window, else None."""
    local = now.astimezone(zone(tz))
    monday = local.date() - timedelta(days=local.weekday())
    for week in (0, -1):  # a window that opened late on Sunday is still open on Monday morning
        day = monday + timedelta(days=weekday + 7 * week)
        starts = datetime.combine(day, time(hour), tzinfo=zone(tz))
        if starts <= local < starts + WINDOW:
            year, number, _ = day.isocalendar()
            return Slot(f"{year}-W{number:02d}", starts)
    return None


# ------------------------------------------------------------------------------------- content


async def candidates(session: AsyncSession) -> list[uuid.UUID]:
    """Users with something to digest: an application or an open todo."""
    apps = select(Application.owner_id).distinct()
    open_todos = select(Todo.owner_id).where(Todo.status == "todo").distinct()
    return list((await session.execute(apps.union(open_todos))).scalars())


async def recommended(session: AsyncSession, owner_id: uuid.UUID) -> list[str]:
    """Lines of the "jobs for you" section: empty when the recommender is not installed or fails."""
    try:
        module = importlib.import_module("mocki.tracker.recommend")
    except ImportError:
        return []
    top = getattr(module, "top_for_user", None)
    if top is None:
        return []
    try:
        found = top(session, owner_id, JOBS_LIMIT)
        if inspect.isawaitable(found):
            found = await found
    except Exception:  # a broken recommender must not stop the digest
        log.exception("digest: jobs for you failed for %s", owner_id)
        return []
    return [_job_line(item) for item in list(found or [])[:JOBS_LIMIT]]


def _job_line(item: Any) -> str:
    item = getattr(item, "posting", None) or item  # a recommendation wraps its posting

    def get(name: str) -> str:
        value = item.get(name) if isinstance(item, dict) else getattr(item, name, None)
        return str(value) if value else ""

    title = get("title") or get("position") or str(item)
    company, url = get("company"), get("url") or get("link")
    text = f"{title} at {company}" if company else title
    return f"{text} — {url}" if url else text


async def gather(session: AsyncSession, owner_id: uuid.UUID, now: datetime) -> Content:
    content = Content()
    content.active = list(
        (
            await session.execute(
                select(Application)
                .where(Application.owner_id == owner_id, Application.status.in_(ACTIVE))
                .order_by(Application.last_event_at.desc().nulls_last())
            )
        ).scalars()
    )
    changes = (
        select(Application, StatusChange)
        .join(StatusChange, StatusChange.application_id == Application.id)
        .where(StatusChange.owner_id == owner_id, StatusChange.occurred_at >= now - WEEK)
        .order_by(StatusChange.occurred_at)
    )
    content.changes = [(app, change) for app, change in (await session.execute(changes)).all()]
    open_todos = select(Todo).where(Todo.owner_id == owner_id, Todo.status == "todo")
    content.upcoming = list(
        (
            await session.execute(
                open_todos.where(Todo.due_at > now, Todo.due_at <= now + WEEK).order_by(Todo.due_at)
            )
        ).scalars()
    )
    later = open_todos.where(or_(Todo.due_at.is_(None), Todo.due_at <= now, Todo.due_at > now + WEEK))
    content.todos = list(
        (await session.execute(later.order_by(Todo.due_at.asc().nulls_last()).limit(TODOS_LIMIT))).scalars()
    )
    content.jobs = await recommended(session, owner_id)
    return content


# -------------------------------------------------------------------------------------- message


def _app_name(app: Application) -> str:
    return f"{app.company} ({app.position})" if app.position else app.company


def _when(at: datetime | None, tz: ZoneInfo) -> str:
    return as_utc(at).astimezone(tz).strftime("%a %d %b %H:%M") if at else ""


def render(content: Content, tz: ZoneInfo) -> list[str]:
    out: list[str] = []
    if content.active:
        out += [f"Active pipeline ({len(content.active)})"]
        out += [f"- {_app_name(a)}: {LABELS.get(a.status, a.status)}" for a in content.active]
        out.append("")
    if content.changes:
        out.append("Changes this week")
        for app, change in content.changes:
            before = LABELS.get(change.from_status or "", change.from_status or "new")
            out.append(f"- {_app_name(app)}: {before} → {LABELS.get(change.to_status, change.to_status)}")
        out.append("")
    if content.upcoming:
        out.append("Coming up (deadlines and interviews)")
        out += [f"- {_when(t.due_at, tz)}: {t.title}" for t in content.upcoming]
        out.append("")
    if content.todos:
        out.append("Open todos")
        out += [f"- {t.title}" + (f" (due {_when(t.due_at, tz)})" if t.due_at else "") for t in content.todos]
        out.append("")
    if content.jobs:
        out.append("Jobs for you")
        out += [f"- {line}" for line in content.jobs]
        out.append("")
    return out


def compose(
    config: TrackerSettings, to: str, content: Content, week: str, tz: ZoneInfo, token: str
) -> EmailMessage:
    msg = EmailMessage()
    link = reminders.unsubscribe_url(config, token, "digest")
    msg["Subject"] = f"Your job search this week ({week})"
    msg["From"] = config.mail_from
    msg["To"] = to
    msg["List-Unsubscribe"] = f"<{link}>"
    body = [*render(content, tz), f"Stop the weekly digest: {link}"]
    msg.set_content("\n".join(body) + "\n")
    return msg


# -------------------------------------------------------------------------------------- sending


async def claim(session: AsyncSession, owner_id: uuid.UUID, key: str, now: datetime) -> uuid.UUID | None:
    notification_id = uuid.uuid4()
    values = {
        "id": notification_id, "owner_id": owner_id, "kind": DIGEST, "key": key, "status": "claimed",
        "claimed_at": now,
    }  # fmt: skip
    stmt = insert_for(session)(Notification).values(**values)
    done = await session.execute(stmt.on_conflict_do_nothing(index_elements=["owner_id", "kind", "key"]))
    return notification_id if done.rowcount else None  # type: ignore[attr-defined]  # a CursorResult


async def _finish(factory: async_sessionmaker[AsyncSession], notification_id: uuid.UUID, status: str) -> None:
    async with session_scope(factory) as session:
        await session.execute(
            update(Notification)
            .where(Notification.id == notification_id)
            .values(status=status, sent_at=utcnow() if status == "sent" else None)
            .execution_options(synchronize_session=False)
        )


async def _send_one(
    factory: async_sessionmaker[AsyncSession], config: TrackerSettings, owner_id: uuid.UUID, now: datetime
) -> bool:
    async with session_scope(factory) as session:
        pref: ReminderPreference = await reminders.preference(session, owner_id)
        when = slot(pref.digest_weekday, pref.digest_hour, pref.timezone, now)
        if when is None or not pref.digest_enabled:
            return False
        notification_id = await claim(session, owner_id, when.key, now)
        token, tz = pref.unsubscribe_token, zone(pref.timezone)
    if notification_id is None:
        return False
    async with session_scope(factory) as session:
        user = await users.get(session, owner_id)
        content = await gather(session, owner_id, now)
        to = user.email if user is not None else ""
    if not to or content.empty():
        await _finish(factory, notification_id, "skipped")
        return False
    try:
        msg = compose(config, to, content, when.key, tz, token)
        await asyncio.to_thread(mailer.deliver, config, msg, f"{owner_id}:{DIGEST}:{when.key}")
    except mailer.MailNotSent as exc:
        log.warning("digest %s for %s not sent, released for the next run: %s", when.key, owner_id, exc)
        async with session_scope(factory) as session:
            await session.execute(delete(Notification).where(Notification.id == notification_id))
        return False
    await _finish(factory, notification_id, "sent")
    return True


async def send_digests(
    factory: async_sessionmaker[AsyncSession], config: TrackerSettings, now: datetime | None = None
) -> dict[str, int]:
    """The beat job: every user whose digest slot is open now and whose week is not sent yet."""
    now = now or utcnow()
    async with session_scope(factory) as session:
        owners = await candidates(session)
    sent = 0
    for owner_id in owners:
        sent += await _send_one(factory, config, owner_id, now)
    return {"users": len(owners), "sent": sent}
