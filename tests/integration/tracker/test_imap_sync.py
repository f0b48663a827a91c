"""IMAP end to end: a real Dovecot, the api, a real Celery worker, the real classifier; then incremental."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mocki.core.db import make_engine
from mocki.models.tracker import MailAccount
from mocki.settings import Settings
from tests.integration.tracker import letters
from tests.integration.tracker.conftest import API, Dovecot, imap_body, wait_sync
from tests.support.processes import Child, free_port


async def _credentials(settings: Settings, account_id: str) -> bytes | None:
    engine = make_engine(settings.resolved_database_url)
    try:
        async with engine.connect() as conn:
            stmt = select(MailAccount.credentials).where(MailAccount.id == uuid.UUID(account_id))
            return (await conn.execute(stmt)).scalar_one()
    finally:
        await engine.dispose()


async def _count(settings: Settings, table: Any) -> int:
    engine = make_engine(settings.resolved_database_url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())
    finally:
        await engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)
async def test_imap_mailbox_to_timeline_then_incremental(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    dovecot: Dovecot,
    tracker_worker: Child,
    settings: Settings,
) -> None:
    user, password = dovecot.add_user()
    duplicate = letters.ACME_APPLIED.replace(b"Hi Sam,", b"Hi Sam (resent),")
    dovecot.deliver(user, [*letters.ALL, duplicate, letters.GARBAGE])

    resp = await client.post(f"{API}/accounts/imap", headers=auth, json=imap_body(dovecot, user, password))
    assert resp.status_code == 201, resp.text
    account = resp.json()
    assert account["status"] == "active" and "password" not in resp.text
    stored = await _credentials(settings, account["id"])
    assert stored is not None and password.encode() not in stored  # encrypted at rest

    resp = await client.post(f"{API}/accounts/{account['id']}/sync", headers=auth)
    assert resp.status_code == 202, resp.text
    sync = await wait_sync(client, auth, resp.json()["id"])
    assert sync["status"] == "done", sync
    assert (sync["total"], sync["fetched"], sync["stored"]) == (6, 6, 4)
    assert (sync["duplicates"], sync["malformed"], sync["analysed"]) == (1, 1, 4)
    assert sync["problems"][0]["reason"].startswith("the message has no mail headers")

    apps = {a["company"]: a for a in (await client.get(f"{API}/applications", headers=auth)).json()}
    assert set(apps) == {"Acme Robotics", "Brightpath"}, apps
    assert apps["Brightpath"]["status"] == "assessment"
    assert apps["Acme Robotics"]["status"] == "interview"
    detail = (await client.get(f"{API}/applications/{apps['Brightpath']['id']}", headers=auth)).json()
    event = detail["events"][0]
    assert event["assessment_url"] == "https://www.hackerrank.com/test/brightpath-42"
    assert event["deadline_at"].startswith("2024-03-11")
    assert "hackerrank.com" in event["next_action"]
    acme = (await client.get(f"{API}/applications/{apps['Acme Robotics']['id']}", headers=auth)).json()
    assert [e["kind"] for e in acme["events"]] == ["applied", "interview"]
    assert acme["events"][1]["interview_at"].startswith("2024-03-11T14:00")
    assert acme["position"] == "Backend Engineer"

    # New mail arrives: only it is read, and the story moves on.
    dovecot.deliver(user, [letters.ACME_REJECTED])
    resp = await client.post(f"{API}/accounts/{account['id']}/sync", headers=auth)
    sync = await wait_sync(client, auth, resp.json()["id"])
    assert (sync["status"], sync["fetched"], sync["stored"], sync["analysed"]) == ("done", 1, 1, 1), sync
    acme = (await client.get(f"{API}/applications/{apps['Acme Robotics']['id']}", headers=auth)).json()
    assert acme["status"] == "rejected"
    assert acme["first_response_at"].startswith("2024-03-05")

    board = (await client.get(f"{API}/board", headers=auth)).json()["columns"]
    assert [a["company"] for a in board["rejected"]] == ["Acme Robotics"]
    assert [a["company"] for a in board["assessment"]] == ["Brightpath"]
    analytics = (await client.get(f"{API}/analytics", headers=auth)).json()
    assert analytics["response_rate"] == 1.0 and analytics["days_to_response_by_company"] == {
        "Acme Robotics": 4.0
    }

    threads = (await client.get(f"{API}/threads", headers=auth)).json()
    assert sum(t["emails"] for t in threads) == 5

    # Revoked: the password is gone and no sync can start.
    resp = await client.post(f"{API}/accounts/{account['id']}/revoke", headers=auth)
    assert resp.status_code == 200 and resp.json()["status"] == "revoked"
    assert await _credentials(settings, account["id"]) is None
    resp = await client.post(f"{API}/accounts/{account['id']}/sync", headers=auth)
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "account_revoked"


async def test_wrong_password_is_refused_with_a_reason(
    client: httpx.AsyncClient, auth: dict[str, str], dovecot: Dovecot
) -> None:
    user, _password = dovecot.add_user()
    resp = await client.post(f"{API}/accounts/imap", headers=auth, json=imap_body(dovecot, user, "wrong"))
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "mail_account_unusable"
    assert "app password" in resp.json()["error"]["message"]


async def test_missing_folder_and_unreachable_server_are_422(
    client: httpx.AsyncClient, auth: dict[str, str], dovecot: Dovecot
) -> None:
    user, password = dovecot.add_user()
    body = imap_body(dovecot, user, password, folders=["INBOX", "Jobs"])
    resp = await client.post(f"{API}/accounts/imap", headers=auth, json=body)
    assert resp.status_code == 422 and "Jobs" in resp.json()["error"]["message"]

    body = imap_body(dovecot, user, password, port=free_port())
    resp = await client.post(f"{API}/accounts/imap", headers=auth, json=body)
    assert resp.status_code == 422 and "Could not reach" in resp.json()["error"]["message"]
