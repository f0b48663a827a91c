"""Deleting an account removes everything it owned: rows in every table, vector points, Redis keys.

A real worker indexes the resume (chunks, pairs, the model's questions through the user's scoped
answer cache) and reads an uploaded mailbox into the tracker; then the account is deleted."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import String, Uuid, func, select

from mocki.models import AuditEntry, Base
from mocki.settings import Settings
from tests.conftest import register
from tests.integration.retrieval.test_indexing import RESUME, eventually, indexed, paste

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"
TRACKER = "/api/v1/tracker"


def _mail(subject: str, sender: str, day: int, body: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "dana@example.com", subject
    msg["Date"] = format_datetime(datetime(2026, 3, day, 9, 0, tzinfo=UTC))
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@deletion.test>"
    msg.set_content(body)
    return b"From sender@example.com Mon Mar 02 09:00:00 2026\n" + bytes(msg).rstrip(b"\n") + b"\n\n"


MAILBOX = _mail(
    "Thank you for applying to Orbital Freight",
    "Orbital Freight Careers <jobs@orbitalfreight.example>",
    2,
    "Hi Dana,\n\nThank you for applying for the Data Engineer position at Orbital Freight. We received "
    "your application and will review it shortly.\n\nOrbital Freight Recruiting",
) + _mail(
    "Interview invitation: Data Engineer at Orbital Freight",
    "Priya at Orbital Freight <priya@orbitalfreight.example>",
    5,
    "Hi Dana,\n\nWe would like to invite you to a technical interview for the Data Engineer role on "
    "Thursday at 10:00. Please confirm a time that suits you.\n\nPriya",
)


async def _user_data(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    """A resume indexed by the worker, an interview, mail read into the tracker, a todo, preferences."""
    # The mailbox first: its analysis trains the worker's email model once (minutes on a busy
    # machine); meanwhile the resume is indexed.
    resp = await client.post(
        f"{TRACKER}/uploads", headers=auth, files={"file": ("mail.mbox", MAILBOX, "application/octet-stream")}
    )
    assert resp.status_code == 202, resp.text
    sync_id = resp.json()["id"]

    doc_id = await paste(client, auth, RESUME)
    assert (await indexed(client, auth, doc_id))["index_status"] == "ready"
    resp = await client.post(
        "/api/v1/interviews", headers=auth, json={"target_role": "Data Engineer", "length": 2}
    )
    assert resp.status_code == 201, resp.text

    async def synced() -> Any:
        body = (await client.get(f"{TRACKER}/syncs/{sync_id}", headers=auth)).json()
        return body if body["status"] in ("done", "failed") else None

    sync = await eventually(synced, "the mailbox upload", wait_s=900)
    assert sync["status"] == "done" and sync["stored"] == 2, sync

    # "ready" is searchable; the model's questions for each chunk (through the user's scoped answer
    # cache) follow. Deleting meanwhile is allowed, but this test wants every trace written first.
    async def model_pairs_done() -> Any:
        body = (await client.get(f"/api/v1/documents/{doc_id}", headers=auth)).json()
        return body if body["index_done"] >= body["chunk_count"] else None

    await eventually(model_pairs_done, "the model's pairs", wait_s=300)
    resp = await client.post(
        f"{TRACKER}/todos", headers=auth, json={"title": "Prepare the system design round"}
    )
    assert resp.status_code == 201, resp.text
    resp = await client.put(f"{TRACKER}/reminders/preferences", headers=auth, json={"enabled": False})
    assert resp.status_code == 200, resp.text


async def _rows_naming(app: Any, user_id: uuid.UUID) -> dict[str, int]:
    """Rows in any table with a column holding the user's id (uuid columns, and string ids/scopes),
    the audit log aside."""
    found: dict[str, int] = {}
    async with app.state.sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            if table.name == AuditEntry.__tablename__:
                continue
            for column in table.columns:
                if isinstance(column.type, Uuid):
                    where = column == user_id
                elif isinstance(column.type, String) and (
                    column.name.endswith("_id") or column.name == "scope"
                ):
                    where = column == str(user_id)
                else:
                    continue
                count = int(await session.scalar(select(func.count()).select_from(table).where(where)) or 0)
                if count:
                    found[f"{table.name}.{column.name}"] = count
    return found


def _redis_keys_naming(settings: Settings, user_id: uuid.UUID) -> list[bytes]:
    r = redis.Redis.from_url(settings.resolved_redis_url)
    try:
        return [k for p in (f"*{user_id}*", f"*{user_id.hex}*") for k in r.scan_iter(match=p, count=1000)]
    finally:
        r.close()


# The first mailbox analysis of a worker trains its email model; on a busy machine that alone
# takes minutes.
@pytest.mark.timeout(1500)
async def test_deleting_an_account_leaves_nothing_of_it(
    app: Any, client: httpx.AsyncClient, worker: Any, settings: Settings
) -> None:
    auth = await register(client, f"dana-{uuid.uuid4().hex[:6]}@example.com", PASSWORD)
    user_id = uuid.UUID((await client.get("/api/v1/users/me", headers=auth)).json()["id"])
    other = await register(client)
    assert (
        await client.post(f"{TRACKER}/todos", headers=other, json={"title": "not mine"})
    ).status_code == 201

    await _user_data(client, auth)
    store = app.state.retriever.store
    await app.state.vector_sync.drain()
    before = await _rows_naming(app, user_id)
    # The setup really created what deletion must remove.
    for table in (
        "documents",
        "chunks",
        "qa_pairs",
        "interviews",
        "emails",
        "applications",
        "todos",
        "mail_syncs",
        "reminder_preferences",
        "refresh_tokens",
    ):
        assert any(name.startswith(table + ".") for name in before), (table, before)
    assert store.count(owners=[str(user_id)]) > 0
    assert _redis_keys_naming(settings, user_id), "the answer cache or counters should name the user"

    # A wrong password changes nothing.
    wrong = await client.request(
        "DELETE", "/api/v1/users/me", headers=auth, json={"password": "not my password"}
    )
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "password_mismatch"
    assert await _rows_naming(app, user_id) == before

    resp = await client.request("DELETE", "/api/v1/users/me", headers=auth, json={"password": PASSWORD})
    assert resp.status_code == 204, resp.text

    await app.state.vector_sync.drain()
    assert await _rows_naming(app, user_id) == {}
    assert store.count(owners=[str(user_id)]) == 0
    assert _redis_keys_naming(settings, user_id) == []

    # The audit log keeps that it happened, by whom, and nothing personal.
    async with app.state.sessionmaker() as session:
        entries = (await session.scalars(select(AuditEntry).where(AuditEntry.actor_id == user_id))).all()
    assert "user.deleted" in {e.action for e in entries}
    assert all(e.ip is None for e in entries)
    assert all("@" not in str(e.meta) for e in entries)

    # The session is over, the email is free, the other account untouched.
    assert (await client.get("/api/v1/users/me", headers=auth)).status_code == 401
    todos = (await client.get(f"{TRACKER}/todos", headers=other)).json()
    assert [t["title"] for t in todos] == ["not mine"]


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)
async def test_deletion_needs_the_password_and_cascades_on_both_backends(
    app: Any, client: httpx.AsyncClient, settings: Settings
) -> None:
    """Without a worker: the rows alone, on SQLite's cascades too."""
    email = f"gone-{uuid.uuid4().hex[:6]}@example.com"
    auth = await register(client, email, PASSWORD)
    user_id = uuid.UUID((await client.get("/api/v1/users/me", headers=auth)).json()["id"])
    await paste(client, auth, RESUME)
    resp = await client.post(
        "/api/v1/interviews", headers=auth, json={"target_role": "QA Engineer", "length": 2}
    )
    assert resp.status_code == 201, resp.text
    assert (await client.post(f"{TRACKER}/todos", headers=auth, json={"title": "t"})).status_code == 201
    assert {"documents.owner_id", "interviews.owner_id", "todos.owner_id"} <= set(
        await _rows_naming(app, user_id)
    )

    resp = await client.request("DELETE", "/api/v1/users/me", headers=auth, json={})
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "password_mismatch"
    assert (await client.get("/api/v1/users/me", headers=auth)).status_code == 200

    resp = await client.request("DELETE", "/api/v1/users/me", headers=auth, json={"password": PASSWORD})
    assert resp.status_code == 204, resp.text
    assert await _rows_naming(app, user_id) == {}
    # The session is over and the email signs in to nothing.
    assert (await client.get("/api/v1/users/me", headers=auth)).status_code == 401
    again = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert again.status_code == 401
