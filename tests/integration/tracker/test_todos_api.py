"""Todos against the real api and database: generated once per event (however often an analysis is
written again), follow-ups for silent applications, user todos over REST, live events to devices."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
import socketio

from mocki.core.db import session_scope
from mocki.core.timeutil import utcnow
from mocki.models.tracker import ApplicationEvent, Email
from mocki.tracker import pipeline, todos
from tests.conftest import register
from tests.integration.realtime.conftest import live, token_of  # noqa: F401  (the live fixture)
from tests.integration.tracker.conftest import API

BACKENDS = pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)


async def _me(client: httpx.AsyncClient, auth: dict[str, str]) -> uuid.UUID:
    return uuid.UUID((await client.get("/api/v1/users/me", headers=auth)).json()["id"])


async def _email(app: Any, owner: uuid.UUID, days_ago: float) -> uuid.UUID:
    email_id, now = uuid.uuid4(), utcnow()
    async with session_scope(app.state.sessionmaker) as session:
        session.add(
            Email(
                id=email_id, owner_id=owner, message_key=uuid.uuid4().hex, thread_key=uuid.uuid4().hex,
                subject="About your application", sent_at=now - timedelta(days=days_ago), body="",
                links=[], defects=[], created_at=now,
            )
        )  # fmt: skip
    return email_id


async def _analyse(app: Any, email_id: uuid.UUID, analysis: dict[str, Any]) -> int:
    """Write an analysis as the analysis task does (pipeline.save_analyses), in its own transaction."""
    async with session_scope(app.state.sessionmaker) as session:
        return await pipeline.save_analyses(session, None, [(email_id, analysis)], [], None)


async def _todos(client: httpx.AsyncClient, auth: dict[str, str], **params: str) -> list[dict[str, Any]]:
    resp = await client.get(f"{API}/todos", headers=auth, params=params)
    assert resp.status_code == 200, resp.text
    return list(resp.json())


@BACKENDS
async def test_events_make_one_todo_each_and_resyncs_add_none(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    owner = await _me(client, auth)
    deadline = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    interview_at = deadline + timedelta(days=3)
    assessment = {
        "status": "assessment", "company": "Acme Robotics", "position": "Backend Engineer",
        "deadline_at": deadline.isoformat(), "assessment_url": "https://assess.example.com/t/1",
        "next_action": "Complete the assessment", "links": [],
    }  # fmt: skip
    interview = {**assessment, "status": "interview", "interview_at": interview_at.isoformat()}
    first, second = await _email(app, owner, 1), await _email(app, owner, 0.5)
    assert await _analyse(app, first, assessment) == 1
    assert await _analyse(app, second, interview) == 1
    # A redelivered analysis of the same email writes nothing, so no second todo either.
    assert await _analyse(app, first, assessment) == 0

    found = await _todos(client, auth)
    assert sorted((t["kind"], t["status"]) for t in found) == [("assessment", "todo"), ("interview", "todo")]
    by_kind = {t["kind"]: t for t in found}
    assert by_kind["assessment"]["title"] == "Complete the assessment for Backend Engineer at Acme Robotics"
    assert by_kind["assessment"]["link"] == "https://assess.example.com/t/1"
    assert by_kind["assessment"]["due_at"].startswith(deadline.strftime("%Y-%m-%dT%H:%M:%S"))
    assert by_kind["interview"]["due_at"].startswith(interview_at.strftime("%Y-%m-%dT%H:%M:%S"))

    # The hook itself is idempotent: the same event offered again makes nothing.
    async with session_scope(app.state.sessionmaker) as session:
        event = (await session.execute(
            ApplicationEvent.__table__.select().where(ApplicationEvent.email_id == first)
        )).one()  # fmt: skip
        again = await session.get(ApplicationEvent, event.id)
        assert await todos.add_for_event(session, again) is False
    assert len(await _todos(client, auth)) == 2


@BACKENDS
async def test_follow_up_after_seven_silent_days_once(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    owner = await _me(client, auth)
    applied = {"status": "applied", "company": "Globex", "position": "Data Analyst", "links": []}
    recent = {"status": "applied", "company": "Initech", "position": "QA Engineer", "links": []}
    await _analyse(app, await _email(app, owner, 8), applied)
    await _analyse(app, await _email(app, owner, 2), recent)
    async with session_scope(app.state.sessionmaker) as session:
        assert await todos.add_follow_ups(session) == 1
    async with session_scope(app.state.sessionmaker) as session:
        assert await todos.add_follow_ups(session) == 0  # the next beat run
    found = await _todos(client, auth)
    assert [(t["kind"], t["title"]) for t in found] == [
        ("follow_up", "Follow up on your application: Data Analyst at Globex")
    ]


@BACKENDS
async def test_user_todos_crud_and_bad_input(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    due = (utcnow() + timedelta(days=1)).isoformat()
    resp = await client.post(
        f"{API}/todos", headers=auth, json={"title": "Email the recruiter", "due_at": due}
    )
    assert resp.status_code == 201, resp.text
    todo = resp.json()
    assert (todo["kind"], todo["status"], todo["done_at"]) == ("user", "todo", None)

    resp = await client.patch(f"{API}/todos/{todo['id']}", headers=auth, json={"status": "done"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "done" and resp.json()["done_at"] is not None
    assert [t["id"] for t in await _todos(client, auth, status="done")] == [todo["id"]]
    assert await _todos(client, auth, status="todo") == []
    resp = await client.patch(f"{API}/todos/{todo['id']}", headers=auth, json={"status": "todo"})
    assert (resp.json()["status"], resp.json()["done_at"]) == ("todo", None)

    bad = [
        ("post", f"{API}/todos", {"title": ""}),
        ("post", f"{API}/todos", {"title": "x", "due_at": "next tuesday"}),
        ("post", f"{API}/todos", {"title": "x", "colour": "red"}),
        ("patch", f"{API}/todos/{todo['id']}", {"status": "maybe"}),
        ("patch", f"{API}/todos/{todo['id']}", {"title": None}),
    ]
    for method, url, body in bad:
        resp = await client.request(method, url, headers=auth, json=body)
        assert resp.status_code in (400, 422), (body, resp.status_code, resp.text)
        assert "error" in resp.json() or "detail" in resp.json()
    resp = await client.post(
        f"{API}/todos", headers=auth, json={"title": "x", "application_id": str(uuid.uuid4())}
    )
    assert resp.status_code == 404, resp.text

    stranger = await register(client)
    assert (
        await client.patch(f"{API}/todos/{todo['id']}", headers=stranger, json={"status": "done"})
    ).status_code == 404
    assert (await client.delete(f"{API}/todos/{todo['id']}", headers=stranger)).status_code == 404
    assert await _todos(client, stranger) == []

    assert (await client.delete(f"{API}/todos/{todo['id']}", headers=auth)).status_code == 204
    assert (await client.delete(f"{API}/todos/{todo['id']}", headers=auth)).status_code == 404
    assert await _todos(client, auth) == []


async def test_todo_changes_reach_every_device_of_the_user(
    live: str,  # noqa: F811  (the fixture imported above)
    client: httpx.AsyncClient,
    auth: dict[str, str],
) -> None:
    heard: dict[str, list[dict[str, Any]]] = {"phone": [], "laptop": [], "stranger": []}
    clients = []
    stranger = await register(client)
    for name, headers in (("phone", auth), ("laptop", auth), ("stranger", stranger)):
        sio = socketio.AsyncClient()
        sio.on(todos.TODO_EVENT, lambda data, name=name: heard[name].append(data))
        await sio.connect(live, auth={"token": token_of(headers)}, transports=["websocket"], wait_timeout=10)
        clients.append(sio)
    try:
        created = (
            await client.post(f"{API}/todos", headers=auth, json={"title": "Send thank-you note"})
        ).json()
        await client.patch(f"{API}/todos/{created['id']}", headers=auth, json={"status": "done"})
        deadline = asyncio.get_running_loop().time() + 15
        while len(heard["phone"]) < 2 or len(heard["laptop"]) < 2:
            assert asyncio.get_running_loop().time() < deadline, heard
            await asyncio.sleep(0.05)
        for device in ("phone", "laptop"):
            assert [(e["action"], e["id"], e["status"]) for e in heard[device]] == [
                ("created", created["id"], "todo"),
                ("updated", created["id"], "done"),
            ]
        assert heard["stranger"] == []
    finally:
        for sio in clients:
            await sio.disconnect()
