"""Todos and reminders without a database: which event asks for which todo, the reminder windows,
the message a reminder is, and the live event's payload."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from mocki.models.tracker import Application, ApplicationEvent, Todo
from mocki.tracker import reminders, todos
from mocki.tracker.config import TrackerSettings

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def _app(position: str = "Backend Engineer") -> Application:
    return Application(id=uuid.uuid4(), owner_id=uuid.uuid4(), company="Acme", position=position)


def _event(app: Application, kind: str, **extra: object) -> ApplicationEvent:
    return ApplicationEvent(
        id=uuid.uuid4(), owner_id=app.owner_id, application_id=app.id, kind=kind, occurred_at=NOW,
        next_action="", **extra,
    )  # fmt: skip


def test_assessment_event_asks_to_complete_it_before_its_deadline() -> None:
    app = _app()
    event = _event(
        app, "assessment", deadline_at=NOW + timedelta(days=2), assessment_url="https://t.example/1"
    )
    values = todos.from_event(app, event)
    assert values is not None
    assert values["kind"] == "assessment"
    assert values["title"] == "Complete the assessment for Backend Engineer at Acme"
    assert (values["due_at"], values["link"]) == (NOW + timedelta(days=2), "https://t.example/1")
    assert values["source_key"] == f"event:{event.id}"


def test_interview_event_asks_to_prepare_on_its_date() -> None:
    app = _app(position="")
    event = _event(app, "interview", interview_at=NOW + timedelta(days=5))
    values = todos.from_event(app, event)
    assert values is not None
    assert (values["kind"], values["title"], values["due_at"]) == (
        "interview",
        "Prepare for your interview at Acme on "
        + (NOW + timedelta(days=5)).strftime("%a %d %b %Y, %H:%M UTC"),
        NOW + timedelta(days=5),
    )


@pytest.mark.parametrize("kind", ["applied", "rejected", "offer", "recruiter_outreach", "other", "manual"])
def test_other_events_ask_nothing(kind: str) -> None:
    app = _app()
    assert todos.from_event(app, _event(app, kind)) is None


@pytest.mark.parametrize(
    ("left", "expected"),
    [
        (timedelta(days=2), None),
        (timedelta(hours=24, seconds=1), None),
        (timedelta(hours=24), "24h"),
        (timedelta(hours=2), "24h"),
        (timedelta(hours=1), "1h"),
        (timedelta(minutes=1), "1h"),
        (timedelta(0), None),
        (-timedelta(minutes=5), None),
    ],
)
def test_reminder_windows(left: timedelta, expected: str | None) -> None:
    assert reminders.window(NOW + left, NOW) == expected


def test_naive_deadlines_from_sqlite_are_utc() -> None:
    assert reminders.window((NOW + timedelta(minutes=30)).replace(tzinfo=None), NOW) == "1h"


def test_reminder_message_carries_the_deadline_link_and_unsubscribe() -> None:
    config = TrackerSettings(public_url="https://mocki.example.org/", mail_from="MOCKI <m@example.org>")
    todo = Todo(title="Complete the assessment for Acme", due_at=NOW, link="https://t.example/1")
    msg = reminders.compose(config, "me@example.com", todo, "24h", "tok-123")
    body = msg.get_content()
    assert msg["Subject"] == "Reminder: Complete the assessment for Acme (in 24 hours)"
    assert (msg["To"], msg["From"]) == ("me@example.com", "MOCKI <m@example.org>")
    assert "Due 2026-11-26 09:00 UTC" in body and "https://t.example/1" in body
    link = "https://mocki.example.org/api/v1/tracker/reminders/unsubscribe?token=tok-123"
    assert link in body and msg["List-Unsubscribe"] == f"<{link}>"


def test_live_payload_and_room() -> None:
    owner = uuid.uuid4()
    todo = Todo(id=uuid.uuid4(), owner_id=owner, kind="user", title="Call back", status="done", due_at=None)
    data = todos.payload(todo, "updated")
    assert data == {
        "action": "updated", "id": str(todo.id), "kind": "user", "title": "Call back",
        "status": "done", "due_at": None, "application_id": None, "interview_id": None,
    }  # fmt: skip
    assert todos.user_room(owner) == f"user:{owner}"
