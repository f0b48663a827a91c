"""A worker killed (SIGKILL) in the middle of a sync: another worker finishes it, no email is lost and
none is analysed twice (one stored analysis, one event at most, and the counts add up exactly)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from mocki.core.db import make_engine
from mocki.models.tracker import ApplicationEvent, Email
from mocki.settings import Settings
from tests.integration.tracker import letters
from tests.integration.tracker.conftest import API, Dovecot, imap_body, start_worker, wait_sync, worker_env

SIZE = 600


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Small batches, so the sync is still reading when the worker dies.
    return settings.model_copy(update={"tracker": settings.tracker.model_copy(update={"fetch_batch": 10})})


async def _counts(settings: Settings, sync_id: str) -> dict[str, int]:
    engine = make_engine(settings.resolved_database_url)
    sid = uuid.UUID(sync_id)
    on_email, in_sync = ApplicationEvent.email_id == Email.id, Email.sync_id == sid
    queries = {
        "emails": select(func.count()).select_from(Email).where(in_sync),
        "distinct": select(func.count(func.distinct(Email.message_key))).where(in_sync),
        "done": select(func.count()).select_from(Email).where(in_sync, Email.analysis_status == "done"),
        "events": select(func.count()).select_from(ApplicationEvent).join(Email, on_email).where(in_sync),
        "event_emails": select(func.count(func.distinct(ApplicationEvent.email_id)))
        .join(Email, on_email)
        .where(in_sync),
    }
    try:
        async with engine.connect() as conn:
            return {name: int((await conn.execute(query)).scalar_one()) for name, query in queries.items()}
    finally:
        await engine.dispose()


@pytest.mark.slow
async def test_killed_worker_loses_nothing_and_analyses_nothing_twice(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    dovecot: Dovecot,
    settings: Settings,
    model_dir: Path,
    tmp_path: Path,
) -> None:
    user, password = dovecot.add_user()
    dovecot.deliver(user, [*letters.ALL, *letters.numbered(SIZE - len(letters.ALL), tag="loss")])
    env = worker_env(settings, model_dir)
    first = start_worker(env, tmp_path / "worker-1.log", "doomed")
    second = None
    try:
        resp = await client.post(
            f"{API}/accounts/imap", headers=auth, json=imap_body(dovecot, user, password)
        )
        resp = await client.post(f"{API}/accounts/{resp.json()['id']}/sync", headers=auth)
        sync_id = resp.json()["id"]

        deadline = time.monotonic() + 180
        at_kill: dict[str, object] = {}
        while time.monotonic() < deadline:
            at_kill = (await client.get(f"{API}/syncs/{sync_id}", headers=auth)).json()
            if at_kill["status"] == "fetching" and int(at_kill["fetched"]) >= 100:
                break
            await asyncio.sleep(0.05)
        os.killpg(first.proc.pid, signal.SIGKILL)
        first.proc.wait(10)
        assert at_kill["status"] == "fetching" and int(at_kill["fetched"]) < SIZE, at_kill  # killed mid-sync

        second = start_worker(env, tmp_path / "worker-2.log", "rescuer")
        sync = await wait_sync(client, auth, sync_id, within_s=420)
    finally:
        first.stop()
        if second is not None:
            second.stop()

    assert sync["status"] == "done", sync
    assert (sync["total"], sync["fetched"], sync["stored"], sync["malformed"]) == (SIZE, SIZE, SIZE, 0), sync
    assert (sync["analysed"], sync["analysis_failed"]) == (SIZE, 0), sync
    counts = await _counts(settings, sync_id)
    assert counts["emails"] == counts["distinct"] == counts["done"] == SIZE, counts
    assert counts["events"] == counts["event_emails"] and counts["events"] > 0, counts
