"""The periodic mail sync: beat queues one incremental sync per connected mailbox (a real Dovecot,
a real worker on the io queue); two beats in a row never queue two for one account, revoked
accounts are left alone, and a sync whose task expired in the queue does not block the account."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mocki.core.db import session_scope
from mocki.core.timeutil import utcnow
from mocki.models.tracker import MailSync
from mocki.settings import Settings
from mocki.tasks import routing
from mocki.tasks.celery_app import celery_app, make_celery
from mocki.tasks.names import QUEUE_IO, SCHEDULE_SYNCS, SEND_DIGESTS, SEND_NOTICES, SYNC_MAILBOX
from mocki.tracker import schedule
from tests.integration.tracker import letters
from tests.integration.tracker.conftest import API, Dovecot, imap_body
from tests.support.processes import Child


async def _account(client: httpx.AsyncClient, auth: dict[str, str], dovecot: Dovecot) -> tuple[str, str]:
    user, password = dovecot.add_user()
    resp = await client.post(f"{API}/accounts/imap", headers=auth, json=imap_body(dovecot, user, password))
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"]), user


async def _syncs(factory: Any, account_id: str) -> list[MailSync]:
    async with session_scope(factory) as session:
        stmt = (
            select(MailSync).where(MailSync.account_id == uuid.UUID(account_id)).order_by(MailSync.created_at)
        )
        return list((await session.execute(stmt)).scalars())


async def _fetched(client: httpx.AsyncClient, auth: dict[str, str], sync_id: uuid.UUID) -> dict[str, Any]:
    """Wait until the worker has read the mailbox (the analysis may go on; the cursor is free again)."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        body: dict[str, Any] = (await client.get(f"{API}/syncs/{sync_id}", headers=auth)).json()
        if body["status"] not in ("queued", "fetching"):
            return body
        await asyncio.sleep(0.3)
    raise AssertionError(f"sync {sync_id} not fetched")


@pytest.mark.slow
async def test_two_beats_queue_one_sync_per_account_and_the_next_one_is_incremental(
    app: Any,
    client: httpx.AsyncClient,
    auth: dict[str, str],
    dovecot: Dovecot,
    tracker_worker: Child,
) -> None:
    factory = app.state.sessionmaker
    sent: list[tuple[uuid.UUID, float]] = []

    def send(sync_id: uuid.UUID, expires: float) -> None:
        sent.append((sync_id, expires))
        routing.send(app.state.celery, SYNC_MAILBOX, [str(sync_id)], expires=expires, queue=QUEUE_IO)

    first, first_user = await _account(client, auth, dovecot)
    second, _ = await _account(client, auth, dovecot)
    revoked, _ = await _account(client, auth, dovecot)
    assert (await client.post(f"{API}/accounts/{revoked}/revoke", headers=auth)).status_code == 200
    dovecot.deliver(first_user, [letters.ACME_APPLIED, letters.JOB_ALERT])

    one = await schedule.schedule_syncs(factory, send, 30.0)
    two = await schedule.schedule_syncs(factory, send, 30.0)  # the next beat, before any worker ran
    assert (one, two) == ({"accounts": 2, "queued": 2}, {"accounts": 2, "queued": 0})
    assert len(sent) == 2 and {expires for _, expires in sent} == {1800.0}
    assert [len(await _syncs(factory, a)) for a in (first, second, revoked)] == [1, 1, 0]

    done = await _fetched(client, auth, (await _syncs(factory, first))[0].id)
    assert (done["fetched"], done["stored"]) == (2, 2), done
    await _fetched(client, auth, (await _syncs(factory, second))[0].id)

    # The following beat reads only what is new.
    dovecot.deliver(first_user, [letters.ACME_INTERVIEW])
    assert (await schedule.schedule_syncs(factory, send, 30.0))["queued"] == 2
    later = await _syncs(factory, first)
    assert len(later) == 2
    again = await _fetched(client, auth, later[-1].id)
    assert (again["fetched"], again["stored"]) == (1, 1), again


async def test_a_sync_whose_task_expired_does_not_block_the_account(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str], dovecot: Dovecot
) -> None:
    factory = app.state.sessionmaker
    account, _ = await _account(client, auth, dovecot)
    sent: list[uuid.UUID] = []
    assert (await schedule.schedule_syncs(factory, lambda s, _e: sent.append(s), 10.0))["queued"] == 1
    # Nobody ran it (no worker): within its expiry the account stays taken ...
    soon = utcnow() + timedelta(minutes=5)
    assert (await schedule.schedule_syncs(factory, lambda s, _e: sent.append(s), 10.0, soon))["queued"] == 0
    # ... after it, the old task is gone for good: its sync is failed and a new one queued.
    later = utcnow() + timedelta(minutes=12)
    assert (await schedule.schedule_syncs(factory, lambda s, _e: sent.append(s), 10.0, later))["queued"] == 1
    old, new = await _syncs(factory, account)
    assert old.status == "failed" and "expiry" in (old.error or "")
    assert new.status == "queued" and sent == [old.id, new.id]
    async with session_scope(factory) as session:
        running = (
            select(func.count()).select_from(MailSync).where(MailSync.status.in_(("queued", "fetching")))
        )
        assert (await session.execute(running)).scalar_one() == 1


def test_beat_schedules_the_mail_jobs(settings: Settings) -> None:
    entries = celery_app.conf.beat_schedule
    sync = entries[SCHEDULE_SYNCS]
    assert sync["schedule"] == timedelta(minutes=30) and 0 < sync["options"]["expires"] <= 1800
    assert entries[SEND_NOTICES]["schedule"] == timedelta(minutes=1)
    assert entries[SEND_DIGESTS]["schedule"] == timedelta(minutes=15)
    celery_app.loader.import_default_modules()  # what a worker does at start
    assert {SCHEDULE_SYNCS, SEND_NOTICES, SEND_DIGESTS} <= set(celery_app.tasks)
    off = settings.model_copy(
        update={"tracker": settings.tracker.model_copy(update={"sync_every_minutes": 0})}
    )
    assert SCHEDULE_SYNCS not in make_celery(off).conf.beat_schedule
