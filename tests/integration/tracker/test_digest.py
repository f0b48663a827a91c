"""The weekly digest through a real SMTP sink: sent once per week at the user's weekday and hour in
their time zone, with the pipeline, the week's changes, what is coming up and the open todos; the
"jobs for you" section only when the recommender is there; a refused send is retried."""

from __future__ import annotations

import re
import sys
import types
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from mocki.settings import Settings
from mocki.tracker import digest
from tests.conftest import register
from tests.integration.tracker.conftest import API
from tests.integration.tracker.mailsink import Sink, smtp_config

BACKENDS = pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)
# Monday 30 November 2026, 09:30 in New York (14:30 UTC): the digest slot below opened at 09:00.
SLOT_OPEN = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)
RECOMMEND = "mocki.tracker.recommend"


@pytest.fixture
def no_recommender(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, RECOMMEND, None)  # `import` raises ImportError


@pytest.fixture
def recommender(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, uuid.UUID, int]]:
    """A stand-in `tracker.recommend` (helper E's module) that records how it was asked."""
    calls: list[tuple[Any, uuid.UUID, int]] = []
    module = types.ModuleType(RECOMMEND)

    async def top_for_user(session: Any, user_id: uuid.UUID, limit: int) -> list[dict[str, str]]:
        calls.append((session, user_id, limit))
        return [{"title": "Platform Engineer", "company": "Orbitly", "url": "https://jobs.example/1"}]

    module.top_for_user = top_for_user  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, RECOMMEND, module)
    return calls


async def _pipeline(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    for company, status in (
        ("Acme Robotics", "interview"),
        ("Brightpath", "applied"),
        ("Fernway", "rejected"),
    ):
        body = {"company": company, "position": "Backend Engineer", "status": status}
        resp = await client.post(f"{API}/applications", headers=auth, json=body)
        assert resp.status_code == 201, resp.text
    todos = [
        ("Interview with Acme", SLOT_OPEN + timedelta(days=2)),
        ("Reply to Brightpath", None),
        ("Renew the portfolio", SLOT_OPEN + timedelta(days=20)),
    ]
    for title, due in todos:
        body = {"title": title, "due_at": due.isoformat() if due else None}
        assert (await client.post(f"{API}/todos", headers=auth, json=body)).status_code == 201


async def _prefs(client: httpx.AsyncClient, auth: dict[str, str], **values: Any) -> httpx.Response:
    return await client.put(f"{API}/notifications/preferences", headers=auth, json=values)


@BACKENDS
async def test_the_digest_goes_out_once_a_week_in_the_users_slot(
    app: Any, client: httpx.AsyncClient, settings: Settings, smtp: tuple[Sink, int], no_recommender: None
) -> None:
    sink, port = smtp
    config, factory = smtp_config(settings, port), app.state.sessionmaker
    address = f"sam-{uuid.uuid4().hex[:6]}@example.com"
    auth = await register(client, address)
    await register(client)  # a second user with nothing in the tracker gets nothing
    await _pipeline(client, auth)
    resp = await _prefs(client, auth, digest_weekday=0, digest_hour=9, timezone="America/New_York")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "reminders": True, "notices": True, "digest": True,
        "digest_weekday": 0, "digest_hour": 9, "timezone": "America/New_York",
    }  # fmt: skip

    assert (await digest.send_digests(factory, config, SLOT_OPEN - timedelta(hours=1)))["sent"] == 0
    result = await digest.send_digests(factory, config, SLOT_OPEN)
    assert result == {"users": 1, "sent": 1}
    [mail] = sink.messages
    assert (mail["To"], mail["Subject"]) == (address, "Your job search this week (2026-W49)")
    body = mail.get_content().replace("\r\n", "\n")
    assert "Active pipeline (2)" in body
    assert "- Acme Robotics (Backend Engineer): interview" in body
    assert "- Fernway (Backend Engineer): applied → rejected" in body  # changes this week
    assert (
        "Coming up (deadlines and interviews)\n- Wed 02 Dec 09:30: Interview with Acme" in body
    )  # local time
    assert "Open todos\n- Renew the portfolio (due Sun 20 Dec 09:30)\n- Reply to Brightpath" in body
    assert "Jobs for you" not in body

    # Later that Monday, and again at once: the week is sent. The next Monday it is a new week.
    assert (await digest.send_digests(factory, config, SLOT_OPEN + timedelta(hours=2)))["sent"] == 0
    sink.refuse = 1
    next_week = SLOT_OPEN + timedelta(days=7)
    assert (await digest.send_digests(factory, config, next_week))["sent"] == 0  # refused: released
    assert (await digest.send_digests(factory, config, next_week))["sent"] == 1
    assert sink.messages[-1]["Subject"] == "Your job search this week (2026-W50)"
    assert len(sink.messages) == 2

    # The link in the digest turns the digest (only) off.
    match = re.search(r"token=([\w-]+)&kind=digest", body)
    assert match is not None
    resp = await client.get(
        f"{API}/reminders/unsubscribe", params={"token": match.group(1), "kind": "digest"}
    )
    assert resp.status_code == 200
    prefs = (await client.get(f"{API}/notifications/preferences", headers=auth)).json()
    assert (prefs["digest"], prefs["notices"], prefs["reminders"]) == (False, True, True)
    assert (await digest.send_digests(factory, config, SLOT_OPEN + timedelta(days=14)))["sent"] == 0


async def test_jobs_for_you_come_from_the_recommender_when_it_is_installed(
    app: Any,
    client: httpx.AsyncClient,
    auth: dict[str, str],
    settings: Settings,
    smtp: tuple[Sink, int],
    recommender: list[tuple[Any, uuid.UUID, int]],
) -> None:
    sink, port = smtp
    await _pipeline(client, auth)
    monday_8_utc = datetime(2026, 11, 30, 8, 5, tzinfo=UTC)  # the default slot: Monday 08:00 UTC
    assert (await digest.send_digests(app.state.sessionmaker, smtp_config(settings, port), monday_8_utc))[
        "sent"
    ] == 1
    body = sink.messages[0].get_content().replace("\r\n", "\n")
    assert "Jobs for you\n- Platform Engineer at Orbitly — https://jobs.example/1" in body
    [(_session, _user, limit)] = recommender
    assert limit == digest.JOBS_LIMIT


async def test_digest_preferences_are_checked(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    bad = await _prefs(client, auth, timezone="Mars/Olympus_Mons")
    assert bad.status_code == 422 and "unknown time zone" in bad.text
    assert (await _prefs(client, auth, digest_hour=24)).status_code == 422
    assert (await _prefs(client, auth, digest_weekday=7)).status_code == 422
    assert (await _prefs(client, auth, sometimes=True)).status_code == 422
    resp = await _prefs(client, auth, digest=False)
    assert resp.status_code == 200 and resp.json()["digest"] is False and resp.json()["timezone"] == "UTC"
    unknown = await client.get(f"{API}/reminders/unsubscribe", params={"token": "x" * 43, "kind": "digest"})
    assert unknown.status_code == 404
    assert (
        await client.get(f"{API}/reminders/unsubscribe", params={"token": "x" * 43, "kind": "all"})
    ).status_code == 422
