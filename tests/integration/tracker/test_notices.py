"""Status-change notices end to end: mail uploaded through the api, analysed by a real worker, then
the beat job mails one notice per sync to a real SMTP sink, never a change twice (also with four
runs at once), released and resent after a refused send; preferences and the link stop them."""

from __future__ import annotations

import asyncio
import re
import uuid
from email import message_from_bytes, policy
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mocki.core.db import session_scope
from mocki.core.timeutil import utcnow
from mocki.models.tracker import Notification
from mocki.settings import Settings
from mocki.tracker import notices
from tests.conftest import register
from tests.integration.tracker import letters
from tests.integration.tracker.conftest import API, wait_sync
from tests.integration.tracker.mailsink import Sink, smtp_config
from tests.support.processes import Child
from tests.unit.tracker.mails import mbox

BACKENDS = pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)


# The first analysis of a session trains the status model in each worker process: minutes on a busy
# two-core machine.
FIRST_SYNC_S = 900


async def _sync(client: httpx.AsyncClient, auth: dict[str, str], *messages: bytes) -> dict[str, Any]:
    resp = await client.post(
        f"{API}/uploads",
        headers=auth,
        files={"file": ("mail.mbox", mbox(*messages), "application/octet-stream")},
    )
    assert resp.status_code == 202, resp.text
    sync = await wait_sync(client, auth, resp.json()["id"], within_s=FIRST_SYNC_S)
    assert sync["status"] == "done", sync
    return sync


def _recent(raw: bytes, tag: str) -> bytes:
    """The letter as if it arrived just now, under a new Message-ID."""
    msg = message_from_bytes(raw, policy=policy.default)
    msg.replace_header("Date", format_datetime(utcnow()))
    msg.replace_header("Message-ID", f"<{tag}-{uuid.uuid4().hex[:8]}@test.example>")
    return bytes(msg)


def _lines(body: str) -> list[str]:
    return [line for line in body.splitlines() if line.startswith("- ")]


@pytest.mark.slow
@BACKENDS
async def test_one_notice_per_sync_listing_its_changes_never_twice(
    app: Any,
    client: httpx.AsyncClient,
    settings: Settings,
    tracker_worker: Child,
    smtp: tuple[Sink, int],
) -> None:
    sink, port = smtp
    address = f"sam-{uuid.uuid4().hex[:6]}@example.com"
    auth = await register(client, address)
    config = smtp_config(settings, port, notice_max_age_days=0)  # the letters are from 2024
    factory = app.state.sessionmaker

    # A sync of 50 mails: one notice, listing every application it made or moved, once.
    sync = await _sync(client, auth, *letters.ALL, *letters.numbered(46))
    assert sync["stored"] == 50, sync
    runs = await asyncio.gather(*(notices.send_notices(factory, config) for _ in range(4)))
    assert sum(r["sent"] for r in runs) == 1, runs
    [notice] = sink.messages
    apps = (await client.get(f"{API}/applications", headers=auth)).json()
    assert notice["To"] == address and notice["Subject"] == f"{len(apps)} application updates"
    body = notice.get_content()
    assert len(_lines(body)) == len(apps) == 48
    assert "- Acme Robotics (Backend Engineer): new application, interview" in body
    assert "- Brightpath (Data Engineer): new application, assessment" in body
    assert "- Company 3: new application, applied" in body
    assert (await notices.send_notices(factory, config))["sent"] == 0

    # The next sync moves one application: a notice with that one change.
    await _sync(client, auth, letters.ACME_REJECTED)
    assert (await notices.send_notices(factory, config))["sent"] == 1
    latest = sink.messages[-1]
    assert latest["Subject"] == "Application update: Acme Robotics — rejected"
    assert _lines(latest.get_content()) == ["- Acme Robotics (Backend Engineer): interview → rejected"]
    assert latest["List-Unsubscribe"].startswith("<http://mocki.test/api/v1/tracker/reminders/unsubscribe?")

    # A status set by hand is not news to its author.
    acme = next(a for a in apps if a["company"] == "Acme Robotics")
    resp = await client.patch(f"{API}/applications/{acme['id']}", headers=auth, json={"status": "offer"})
    assert resp.status_code == 200, resp.text
    assert (await notices.send_notices(factory, config))["sent"] == 0

    # The link turns notices (only) off; changes meanwhile are never sent, even once turned back on.
    match = re.search(r"token=([\w-]+)&kind=notices", latest.get_content())
    assert match is not None
    resp = await client.get(
        f"{API}/reminders/unsubscribe", params={"token": match.group(1), "kind": "notices"}
    )
    assert resp.status_code == 200, resp.text
    prefs = (await client.get(f"{API}/notifications/preferences", headers=auth)).json()
    assert (prefs["notices"], prefs["reminders"], prefs["digest"]) == (False, True, True)
    await _sync(client, auth, *letters.numbered(1, start=50, tag="later"))
    assert (await notices.send_notices(factory, config))["sent"] == 0
    resp = await client.put(f"{API}/notifications/preferences", headers=auth, json={"notices": True})
    assert resp.status_code == 200 and resp.json()["notices"] is True
    assert (await notices.send_notices(factory, config))["sent"] == 0
    assert len(sink.messages) == 2
    async with session_scope(factory) as session:
        kinds = (
            await session.execute(select(Notification.status).order_by(Notification.claimed_at))
        ).scalars()
        assert list(kinds) == ["sent", "sent", "skipped"]


@pytest.mark.slow
async def test_a_refused_notice_is_sent_by_the_next_run_and_old_mail_is_no_news(
    app: Any,
    client: httpx.AsyncClient,
    auth: dict[str, str],
    settings: Settings,
    tracker_worker: Child,
    smtp: tuple[Sink, int],
) -> None:
    sink, port = smtp
    config = smtp_config(settings, port)  # notices for mail of the last 14 days
    factory = app.state.sessionmaker

    await _sync(client, auth, *letters.ALL)  # March 2024: a first import, nothing to tell
    assert (await notices.send_notices(factory, config))["sent"] == 0 and sink.messages == []

    await _sync(client, auth, _recent(letters.ACME_REJECTED, "fresh"))
    sink.refuse = 1
    assert (await notices.send_notices(factory, config))["sent"] == 0  # refused: claim released
    assert (await notices.send_notices(factory, config))["sent"] == 1
    assert (await notices.send_notices(factory, config))["sent"] == 0
    assert [m["Subject"] for m in sink.messages] == ["Application update: Acme Robotics — rejected"]
