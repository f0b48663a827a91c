"""A 10,000-message IMAP mailbox syncs, then syncs incrementally (only what is new is read).

The sync runs in-process through the task's own code, against a real Dovecot; the analysis tasks
it sends are collected, not run (analysing 10,000 emails is the benchmark's job, not this test's).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mocki.core.db import make_engine, make_sessionmaker
from mocki.models.tracker import Email, MailAccount
from mocki.settings import Settings
from mocki.tasks.names import ANALYSE_EMAILS
from mocki.tracker.tasks import sync_once
from tests.integration.tracker import letters
from tests.integration.tracker.conftest import API, Dovecot, imap_body

SIZE = 10_000


async def _sync(
    client: httpx.AsyncClient, auth: dict[str, str], settings: Settings, account_id: str
) -> dict[str, Any]:
    resp = await client.post(f"{API}/accounts/{account_id}/sync", headers=auth)
    assert resp.status_code == 202, resp.text
    engine = make_engine(settings.resolved_database_url)
    sent: list[tuple[str, list[Any]]] = []
    try:
        outcome = await sync_once(
            make_sessionmaker(engine),
            settings,
            uuid.UUID(resp.json()["id"]),
            lambda n, a: sent.append((n, a)),
        )
        async with engine.connect() as conn:
            emails = (await conn.execute(select(func.count()).select_from(Email))).scalar_one()
            cursor = (
                await conn.execute(select(MailAccount.cursor).where(MailAccount.id == uuid.UUID(account_id)))
            ).scalar_one()
    finally:
        await engine.dispose()
    sync = (await client.get(f"{API}/syncs/{resp.json()['id']}", headers=auth)).json()
    queued = sum(len(args[1]) for name, args in sent if name == ANALYSE_EMAILS)
    return {"outcome": outcome, "sync": sync, "emails": emails, "cursor": cursor, "queued": queued}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"tracker": settings.tracker.model_copy(update={"fetch_batch": 500})})


@pytest.mark.slow
async def test_ten_thousand_messages_then_only_the_new_ones(
    client: httpx.AsyncClient, auth: dict[str, str], dovecot: Dovecot, settings: Settings
) -> None:
    user, password = dovecot.add_user()
    dovecot.deliver(user, letters.numbered(SIZE))
    resp = await client.post(f"{API}/accounts/imap", headers=auth, json=imap_body(dovecot, user, password))
    account_id = resp.json()["id"]

    first = await _sync(client, auth, settings, account_id)
    assert first["outcome"] == "fetched"
    assert (first["sync"]["total"], first["sync"]["fetched"], first["sync"]["stored"]) == (SIZE, SIZE, SIZE)
    assert first["emails"] == SIZE and first["queued"] == SIZE
    assert first["cursor"]["folders"]["INBOX"]["last_uid"] == SIZE

    dovecot.deliver(user, letters.numbered(3, start=SIZE))
    second = await _sync(client, auth, settings, account_id)
    assert (second["sync"]["total"], second["sync"]["fetched"], second["sync"]["stored"]) == (3, 3, 3)
    assert second["emails"] == SIZE + 3 and second["queued"] == 3

    third = await _sync(client, auth, settings, account_id)
    assert (third["sync"]["fetched"], third["sync"]["stored"], third["queued"]) == (0, 0, 0)
    assert third["sync"]["status"] == "done"
