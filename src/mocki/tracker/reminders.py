"""Deadline reminders by mail: 24 hours and 1 hour before a todo is due, each sent at most once.

A reminder is claimed before it is sent: its row (unique per todo and kind) is inserted and
committed first, so two beat runs, two workers or a redelivered task can never send it twice. The
price is at-most-once: a process that dies between the claim and the send leaves the row
`claimed` and that reminder unsent. Users turn reminders off in their preferences or with the
unsubscribe link every message carries.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mocki.core.db import session_scope
from mocki.core.timeutil import as_utc, utcnow
from mocki.models.tracker import Reminder, ReminderPreference, Todo
from mocki.tracker import mailer, todos
from mocki.tracker.config import TrackerSettings
from mocki.tracker.timeline import insert_for
from mocki.users import repository as users

log = logging.getLogger(__name__)

# (kind, how long before the deadline it opens); a window closes where the next one opens.
WINDOWS = (("24h", timedelta(hours=24)), ("1h", timedelta(hours=1)))
UNSUBSCRIBE_PATH = "/api/v1/tracker/reminders/unsubscribe"


@dataclass(frozen=True)
class Due:
    todo_id: uuid.UUID
    owner_id: uuid.UUID
    kind: str


def window(due_at: datetime, now: datetime) -> str | None:
    """Which reminder is due now for a deadline: `24h` from 24 h to 1 h before, `1h` in the last hour."""
    left = as_utc(due_at) - now
    if left <= timedelta(0):
        return None
    for kind, opens in reversed(WINDOWS):
        if left <= opens:
            return kind
    return None


# ---------------------------------------------------------------------------------- preferences


async def preference(session: AsyncSession, owner_id: uuid.UUID) -> ReminderPreference:
    """The user's row, made on first use (reminders on, a fresh unsubscribe secret)."""
    pref = await session.get(ReminderPreference, owner_id)
    if pref is None:
        values = {
            "owner_id": owner_id, "enabled": True, "unsubscribe_token": secrets.token_urlsafe(32),
            "notices_enabled": True, "digest_enabled": True, "digest_weekday": 0, "digest_hour": 8,
            "timezone": "UTC",
        }  # fmt: skip
        stmt = insert_for(session)(ReminderPreference).values(**values)
        await session.execute(stmt.on_conflict_do_nothing(index_elements=["owner_id"]))
        pref = await session.get(ReminderPreference, owner_id)
        assert pref is not None
    return pref


# What an unsubscribe link turns off: its `kind` names the preference's switch.
UNSUBSCRIBE_KINDS = {"reminders": "enabled", "notices": "notices_enabled", "digest": "digest_enabled"}


async def unsubscribe(
    session: AsyncSession, token: str, kind: str = "reminders"
) -> ReminderPreference | None:
    """Turn off one kind of mail for the link's owner; None for an unknown token."""
    stmt = select(ReminderPreference).where(ReminderPreference.unsubscribe_token == token)
    pref = (await session.execute(stmt)).scalar_one_or_none()
    if pref is None:
        return None
    setattr(pref, UNSUBSCRIBE_KINDS[kind], False)
    return pref


def unsubscribe_url(config: TrackerSettings, token: str, kind: str = "reminders") -> str:
    query = {"token": token} if kind == "reminders" else {"token": token, "kind": kind}
    return config.public_url.rstrip("/") + UNSUBSCRIBE_PATH + "?" + urlencode(query)


# ----------------------------------------------------------------------------------- selection


async def due(session: AsyncSession, now: datetime) -> list[Due]:
    """Open todos whose deadline is within 24 h, in the reminder window they are in now."""
    stmt = select(Todo.id, Todo.owner_id, Todo.due_at).where(
        Todo.status == "todo",
        Todo.due_at.is_not(None),
        Todo.due_at > now,
        Todo.due_at <= now + WINDOWS[0][1],
    )
    found = []
    for todo_id, owner_id, due_at in (await session.execute(stmt)).all():
        kind = window(due_at, now) if due_at is not None else None
        if kind is not None:
            found.append(Due(todo_id, owner_id, kind))
    return found


async def claim(session: AsyncSession, item: Due, now: datetime) -> bool:
    """Insert the reminder's row unless it exists; True when this caller may send it."""
    values = {
        "id": uuid.uuid4(), "owner_id": item.owner_id, "todo_id": item.todo_id, "kind": item.kind,
        "status": "claimed", "claimed_at": now,
    }  # fmt: skip
    stmt = insert_for(session)(Reminder).values(**values)
    done = await session.execute(stmt.on_conflict_do_nothing(index_elements=["todo_id", "kind"]))
    return bool(done.rowcount)  # type: ignore[attr-defined]  # a CursorResult


# -------------------------------------------------------------------------------------- sending


def compose(config: TrackerSettings, to: str, todo: Todo, kind: str, token: str) -> EmailMessage:
    msg = EmailMessage()
    when = as_utc(todo.due_at).strftime("%Y-%m-%d %H:%M UTC") if todo.due_at else ""
    lead = "in 24 hours" if kind == "24h" else "in 1 hour"
    link = unsubscribe_url(config, token)
    msg["Subject"] = f"Reminder: {todo.title} ({lead})"
    msg["From"] = config.mail_from
    msg["To"] = to
    msg["List-Unsubscribe"] = f"<{link}>"
    body = [f"{todo.title}", f"Due {when} ({lead})."]
    if todo.link:
        body.append(f"Link: {todo.link}")
    if todo.interview_id:  # the prep mock interview made from the invitation (tracker/prep.py)
        body.append(f"Practise first: {config.public_url.rstrip('/')}/interviews/{todo.interview_id}")
    body += ["", f"Stop these reminders: {link}"]
    msg.set_content("\n".join(body) + "\n")
    return msg


async def _send_one(
    factory: async_sessionmaker[AsyncSession], config: TrackerSettings, item: Due, now: datetime
) -> bool:
    async with session_scope(factory) as session:
        pref = await preference(session, item.owner_id)
        if not pref.enabled or not await claim(session, item, now):
            return False
        token = pref.unsubscribe_token
    async with session_scope(factory) as session:  # the claim is committed: now send
        todo, user = await session.get(Todo, item.todo_id), await users.get(session, item.owner_id)
        stmt = select(Reminder).where(Reminder.todo_id == item.todo_id, Reminder.kind == item.kind)
        reminder = (await session.execute(stmt)).scalar_one()
        if todo is None or user is None:
            reminder.status, reminder.error = "failed", "todo or user gone"
            return False
        try:
            msg = compose(config, user.email, todo, item.kind, token)
            await asyncio.to_thread(mailer.deliver, config, msg, f"reminder:{item.todo_id}:{item.kind}")
        except mailer.MailNotSent as exc:
            reminder.status, reminder.error = "failed", str(exc)[:1000]
            log.warning("reminder %s/%s not sent: %s", item.todo_id, item.kind, exc)
            return False
        reminder.status, reminder.sent_at = "sent", utcnow()
        return True


async def send_due_reminders(
    factory: async_sessionmaker[AsyncSession], config: TrackerSettings, now: datetime | None = None
) -> dict[str, int]:
    """The beat job: follow-up todos for silent applications, then every reminder due now."""
    now = now or utcnow()
    async with session_scope(factory) as session:
        follow_ups = await todos.add_follow_ups(session, now)
        items = await due(session, now)
    sent = 0
    for item in items:
        sent += await _send_one(factory, config, item, now)
    return {"follow_ups": follow_ups, "due": len(items), "sent": sent}
