"""Deadline reminders through a real SMTP sink (aiosmtpd on 127.0.0.1): the actual messages arrive,
each reminder once, however many runs (also at once); preferences and the unsubscribe link stop them."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from mocki.core.timeutil import utcnow
from mocki.settings import Settings
from mocki.tasks.celery_app import celery_app
from mocki.tasks.names import SEND_DUE_REMINDERS
from mocki.tracker import reminders
from mocki.tracker.config import TrackerSettings
from tests.conftest import register
from tests.integration.tracker.conftest import API
from tests.support.processes import free_port

BACKENDS = pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)


class Sink:
    """Keeps every message the SMTP server accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def _config(settings: Settings, port: int) -> TrackerSettings:
    return settings.tracker.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "public_url": "http://mocki.test"}
    )


async def _todo(client: httpx.AsyncClient, auth: dict[str, str], title: str, due: datetime) -> str:
    resp = await client.post(f"{API}/todos", headers=auth, json={"title": title, "due_at": due.isoformat()})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


@BACKENDS
async def test_due_reminders_are_mailed_once_each(
    app: Any, client: httpx.AsyncClient, settings: Settings, smtp: tuple[Sink, int]
) -> None:
    sink, port = smtp
    address = f"seeker-{uuid.uuid4().hex[:6]}@example.com"
    auth = await register(client, address)
    now = utcnow()
    await _todo(client, auth, "Finish the coding test", now + timedelta(hours=20))
    await _todo(client, auth, "Prepare the interview", now + timedelta(minutes=30))
    await _todo(client, auth, "Far away", now + timedelta(days=3))
    done = await _todo(client, auth, "Already done", now + timedelta(hours=2))
    await client.patch(f"{API}/todos/{done}", headers=auth, json={"status": "done"})
    config = _config(settings, port)

    result = await reminders.send_due_reminders(app.state.sessionmaker, config, now)
    assert (result["due"], result["sent"]) == (2, 2), result
    assert sorted(m["Subject"] for m in sink.messages) == [
        "Reminder: Finish the coding test (in 24 hours)",
        "Reminder: Prepare the interview (in 1 hour)",
    ]
    assert {m["To"] for m in sink.messages} == {address}
    body = sink.messages[0].get_content()
    assert "http://mocki.test/api/v1/tracker/reminders/unsubscribe?token=" in body

    # The next beat run, a minute later, sends nothing again.
    again = await reminders.send_due_reminders(app.state.sessionmaker, config, now + timedelta(minutes=1))
    assert again["sent"] == 0 and len(sink.messages) == 2
    # Within its last hour the first todo gets its second (1 h) reminder, once.
    later = now + timedelta(hours=19, minutes=30)
    assert (await reminders.send_due_reminders(app.state.sessionmaker, config, later))["sent"] == 1
    assert sink.messages[-1]["Subject"] == "Reminder: Finish the coding test (in 1 hour)"
    assert (await reminders.send_due_reminders(app.state.sessionmaker, config, later))["sent"] == 0


async def test_concurrent_runs_claim_each_reminder_once(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str], settings: Settings, smtp: tuple[Sink, int]
) -> None:
    sink, port = smtp
    now = utcnow()
    for n in range(5):
        await _todo(client, auth, f"Task {n}", now + timedelta(minutes=20 + n))
    config = _config(settings, port)
    runs = await asyncio.gather(
        *(reminders.send_due_reminders(app.state.sessionmaker, config, now) for _ in range(4))
    )
    assert sum(r["sent"] for r in runs) == 5
    assert sorted(m["Subject"] for m in sink.messages) == [
        f"Reminder: Task {n} (in 1 hour)" for n in range(5)
    ]


@BACKENDS
async def test_preferences_and_unsubscribe_link_stop_reminders(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str], settings: Settings, smtp: tuple[Sink, int]
) -> None:
    sink, port = smtp
    config, now = _config(settings, port), utcnow()
    await _todo(client, auth, "First", now + timedelta(minutes=40))
    assert (await reminders.send_due_reminders(app.state.sessionmaker, config, now))["sent"] == 1
    match = re.search(r"token=([\w-]+)", sink.messages[0].get_content())
    assert match is not None

    resp = await client.get(f"{API}/reminders/unsubscribe", params={"token": match.group(1)})
    assert resp.status_code == 200, resp.text
    assert (await client.get(f"{API}/reminders/preferences", headers=auth)).json() == {"enabled": False}
    await _todo(client, auth, "Second", now + timedelta(minutes=50))
    assert (await reminders.send_due_reminders(app.state.sessionmaker, config, now))["sent"] == 0

    resp = await client.put(f"{API}/reminders/preferences", headers=auth, json={"enabled": True})
    assert resp.json() == {"enabled": True}
    assert (await reminders.send_due_reminders(app.state.sessionmaker, config, now))["sent"] == 1
    assert sink.messages[-1]["Subject"] == "Reminder: Second (in 1 hour)"

    unknown = await client.get(f"{API}/reminders/unsubscribe", params={"token": "x" * 43})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unsubscribe_token_unknown"
    assert (await client.get(f"{API}/reminders/unsubscribe", params={"token": "short"})).status_code == 422
    bad = await client.put(f"{API}/reminders/preferences", headers=auth, json={"enabled": "sometimes"})
    assert bad.status_code == 422


def test_beat_runs_the_reminders_every_minute() -> None:
    entry = celery_app.conf.beat_schedule[SEND_DUE_REMINDERS]
    assert (entry["task"], entry["schedule"]) == (SEND_DUE_REMINDERS, timedelta(minutes=1))
    celery_app.loader.import_default_modules()  # what a worker does at start
    assert SEND_DUE_REMINDERS in celery_app.tasks
