"""Todos: generated from application events and silent applications, written by hand, and broadcast
to the user's devices.

Generation is idempotent by a per-user `source_key` (`event:<id>`, `follow_up:<application id>`)
under a unique constraint, inserted with ON CONFLICT DO NOTHING: a redelivered analysis, a re-sync
or two beat runs at once never make a second todo.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mocki.core.db import after_commit_async
from mocki.core.timeutil import as_utc, utcnow
from mocki.models.tracker import Application, ApplicationEvent, Todo
from mocki.realtime import emit
from mocki.tracker.timeline import insert_for

log = logging.getLogger(__name__)

FOLLOW_UP_AFTER = timedelta(days=7)
TODO_EVENT = "todo"


def user_room(owner_id: uuid.UUID | str) -> str:
    """The per-user Socket.IO room every connection of the user joins (realtime/server.py)."""
    return f"user:{owner_id}"


def _label(app: Application) -> str:
    return f"{app.position} at {app.company}" if app.position else app.company


def interview_title(app: Application, when: datetime | None) -> str:
    """ "Prepare for your interview at Acme (Backend Engineer) on Mon 11 Mar 2024, 14:00 UTC"."""
    label = f"{app.company} ({app.position})" if app.position else app.company
    on = f" on {as_utc(when).strftime('%a %d %b %Y, %H:%M UTC')}" if when else ""
    return f"Prepare for your interview at {label}{on}"


def from_event(app: Application, event: ApplicationEvent) -> dict[str, Any] | None:
    """The todo an event asks for, as row values; None for events that ask nothing."""
    if event.kind == "assessment":
        title = f"Complete the assessment for {_label(app)}"
        due, kind = event.deadline_at, "assessment"
    elif event.kind == "interview":
        title = interview_title(app, event.interview_at)
        due, kind = event.interview_at, "interview"
    else:
        return None
    return {
        "owner_id": event.owner_id, "application_id": app.id, "source_key": f"event:{event.id}",
        "kind": kind, "title": title[:500], "notes": event.next_action or "",
        "link": event.assessment_url, "due_at": due,
    }  # fmt: skip


async def _insert(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert unless a todo with the same source exists; True when this call made it."""
    now = utcnow()
    row = {"id": uuid.uuid4(), "status": "todo", "created_at": now, "updated_at": now, **values}
    stmt = insert_for(session)(Todo).values(**row)
    done = await session.execute(stmt.on_conflict_do_nothing(index_elements=["owner_id", "source_key"]))
    return bool(done.rowcount)  # type: ignore[attr-defined]  # a CursorResult


async def add_for_event(session: AsyncSession, event: ApplicationEvent | None) -> bool:
    """The timeline's hook: the todo of a newly placed event, at most once per event."""
    if event is None:
        return False
    app = await session.get(Application, event.application_id)
    values = from_event(app, event) if app is not None else None
    return values is not None and await _insert(session, values)


async def add_follow_ups(session: AsyncSession, now: datetime | None = None) -> int:
    """A follow-up todo for every application still `applied` with no news for 7 days (beat)."""
    now = now or utcnow()
    cutoff = now - FOLLOW_UP_AFTER
    stmt = select(Application).where(
        Application.status == "applied",
        Application.applied_at.is_not(None),
        Application.applied_at <= cutoff,
        Application.last_event_at <= cutoff,
    )
    made = 0
    for app in (await session.execute(stmt)).scalars():
        values = {
            "owner_id": app.owner_id, "application_id": app.id, "source_key": f"follow_up:{app.id}",
            "kind": "follow_up", "title": f"Follow up on your application: {_label(app)}"[:500],
            "notes": "No reply for 7 days since you applied.", "link": None, "due_at": now,
        }  # fmt: skip
        made += await _insert(session, values)
    return made


# ------------------------------------------------------------------------------------ by hand


async def owned(session: AsyncSession, owner_id: uuid.UUID, todo_id: uuid.UUID) -> Todo | None:
    todo = await session.get(Todo, todo_id)
    return todo if todo is not None and todo.owner_id == owner_id else None


async def listed(
    session: AsyncSession, owner_id: uuid.UUID, status: str | None, application_id: uuid.UUID | None
) -> Sequence[Todo]:
    stmt = select(Todo).where(Todo.owner_id == owner_id)
    if status:
        stmt = stmt.where(Todo.status == status)
    if application_id:
        stmt = stmt.where(Todo.application_id == application_id)
    stmt = stmt.order_by(Todo.status.desc(), Todo.due_at.asc().nulls_last(), Todo.created_at)
    return (await session.execute(stmt)).scalars().all()


def set_status(todo: Todo, status: str) -> None:
    todo.status = status
    todo.done_at = utcnow() if status == "done" else None


# --------------------------------------------------------------------------------- live rooms


def payload(todo: Todo, action: str) -> dict[str, Any]:
    return {
        "action": action, "id": str(todo.id), "kind": todo.kind, "title": todo.title,
        "status": todo.status, "due_at": as_utc(todo.due_at).isoformat() if todo.due_at else None,
        "application_id": str(todo.application_id) if todo.application_id else None,
        "interview_id": str(todo.interview_id) if todo.interview_id else None,
    }  # fmt: skip


def broadcast_after_commit(session: AsyncSession, owner_id: uuid.UUID, data: dict[str, Any]) -> None:
    """Tell the user's other devices once the change is committed; best effort (they reload over REST)."""

    async def send() -> None:
        emitter = emit.current()
        if emitter is None:
            return
        try:
            await emitter.transport.emit(TODO_EVENT, data, room=user_room(owner_id))
        except Exception as exc:  # the change is stored; a device that missed it reloads
            log.warning("todo event not broadcast to user %s: %s", owner_id, exc)

    after_commit_async(session, send)
