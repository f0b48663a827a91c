"""Live rooms against the real server: uvicorn on a port, Socket.IO clients, PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import socketio

from mocki.auth.tokens import issue_access_token
from mocki.realtime import events
from mocki.realtime.client import RoomClient
from mocki.settings import Settings
from tests.conftest import register
from tests.integration.interviews.helpers import done, seed, turn
from tests.integration.realtime.conftest import token_of


async def until(check: Callable[[], bool], wait_s: float = 15) -> None:
    """Wait for something another process or task makes true (a bound, not a timing assertion)."""
    deadline = asyncio.get_running_loop().time() + wait_s
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def connected(url: str, headers: dict[str, str]) -> RoomClient:
    room = RoomClient(url, token_of(headers))
    await room.connect()
    return room


async def refused(url: str, token: str | None) -> dict[str, Any]:
    room = RoomClient(url, token)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await room.connect()
    assert room.refusal is not None
    return room.refusal


async def test_connect_needs_a_valid_token(live: str, settings: Settings) -> None:
    assert (await refused(live, None))["code"] == "not_authenticated"
    assert (await refused(live, "not-a-jwt"))["code"] == "token_invalid"
    forged = issue_access_token(uuid.uuid4(), "user", "another-secret-that-is-long-enough-0123456789", 5)
    assert (await refused(live, forged))["code"] == "token_invalid"
    expired = issue_access_token(uuid.uuid4(), "user", settings.secret_key, -1)
    assert (await refused(live, expired))["code"] == "token_expired"
    unknown_user = issue_access_token(uuid.uuid4(), "user", settings.secret_key, 5)
    assert (await refused(live, unknown_user))["code"] == "account_disabled"


async def test_only_the_owner_joins_and_bad_payloads_are_refused(
    live: str, client: httpx.AsyncClient, owner: tuple[dict[str, str], str]
) -> None:
    headers, iid = owner
    stranger = await connected(live, await register(client))
    mine = await connected(live, headers)
    try:
        ack = await stranger.join(iid)
        assert ack["ok"] is False and ack["error"]["code"] == "interview_not_found"
        ack = await stranger.call(events.RESUME, {"interview_id": iid, "after_seq": 0})
        assert ack["ok"] is False and ack["error"]["code"] == "interview_not_found"
        ack = await stranger.call(events.TYPING, {"interview_id": iid})
        assert ack["ok"] is False and ack["error"]["code"] == "not_in_room"
        bad = await mine.call(events.JOIN, {"interview_id": "nope"})
        assert (
            bad["ok"] is False
            and bad["error"]["code"] == "invalid"
            and "interview_id" in bad["error"]["message"]
        )
        bad = await mine.call(events.RESUME, {"interview_id": iid, "after_seq": -1})
        assert bad["ok"] is False and bad["error"]["code"] == "invalid"
        ack = await mine.join(iid)
        assert ack == {"ok": True, "interview_id": iid, "last_seq": 0}
    finally:
        await stranger.close()
        await mine.close()


async def test_text_turn_reaches_the_room_and_typing_is_relayed(
    app: Any, live: str, client: httpx.AsyncClient, owner: tuple[dict[str, str], str]
) -> None:
    headers, iid = owner
    await seed(app)
    watcher, typist = await connected(live, headers), await connected(live, headers)
    try:
        assert (await watcher.join(iid))["ok"] and (await typist.join(iid))["ok"]
        # No model listens in this test: the interviewer says the planned question (a fallback).
        resp, sse = await turn(client, headers, iid)
        assert resp.status_code == 200
        spoken = done(sse)["turn"]["text"]
        await until(lambda: any(r.event == events.TRANSCRIPT_FINAL for r in watcher.applied))
        names = [r.event for r in watcher.applied]
        assert names[:2] == [events.ROLE, events.STATE] and events.TRANSCRIPT_PARTIAL in names
        final = next(r.data for r in watcher.applied if r.event == events.TRANSCRIPT_FINAL)
        assert final["speaker"] == "interviewer" and final["role"] == "ai" and final["text"] == spoken
        partial = "".join(r.data["text"] for r in watcher.applied if r.event == events.TRANSCRIPT_PARTIAL)
        assert partial.strip() == spoken.strip()
        assert [r.data["seq"] for r in watcher.applied] == list(range(1, len(watcher.applied) + 1))

        assert (await typist.call(events.TYPING, {"interview_id": iid, "typing": True}))["ok"]
        await until(lambda: bool(watcher.typing))
        assert watcher.typing[0]["typing"] is True and "seq" not in watcher.typing[0]
        assert typist.typing == []  # not echoed to the sender
    finally:
        await watcher.close()
        await typist.close()


async def test_reconnect_resumes_with_exactly_the_missed_events(
    app: Any, live: str, owner: tuple[dict[str, str], str]
) -> None:
    headers, iid = owner
    rooms = app.state.rooms
    first = await connected(live, headers)
    await first.join(iid)
    for n in range(3):
        await rooms.emit(iid, events.TRANSCRIPT_FINAL, {"speaker": "candidate", "text": f"line {n}"})
    await until(lambda: len(first.applied) == 3)
    seen = first.last_seq[iid]
    await first.close()
    for n in range(3, 8):  # said while the client was away
        await rooms.emit(iid, events.TRANSCRIPT_FINAL, {"speaker": "candidate", "text": f"line {n}"})

    again = RoomClient(live, token_of(headers), last_seq={iid: seen})
    await again.connect()
    try:
        ack = await again.resume(iid)
        assert ack["ok"] and ack["complete"] is True and ack["last_seq"] == 8
        assert [e["data"]["seq"] for e in ack["events"]] == [4, 5, 6, 7, 8]
        assert [r.data["text"] for r in again.applied] == [f"line {n}" for n in range(3, 8)]
        # Live again: the next line arrives once, after the resumed ones.
        await rooms.emit(iid, events.TRANSCRIPT_FINAL, {"speaker": "candidate", "text": "line 8"})
        await until(lambda: len(again.applied) == 6)
        assert [r.data["seq"] for r in again.applied] == [4, 5, 6, 7, 8, 9]
        # A second resume from the same point answers the same events; the client applies none twice.
        await again.resume(iid, after_seq=seen)
        assert [r.data["seq"] for r in again.applied] == [4, 5, 6, 7, 8, 9]
    finally:
        await again.close()


@pytest.mark.slow
async def test_two_api_processes_share_a_room_over_redis(
    app: Any, live: str, second_api: str, owner: tuple[dict[str, str], str]
) -> None:
    headers, iid = owner
    here, there = await connected(live, headers), await connected(second_api, headers)
    try:
        assert (await here.join(iid))["ok"] and (await there.join(iid))["ok"]
        for n in range(20):
            await app.state.rooms.emit(iid, events.TRANSCRIPT_FINAL, {"speaker": "candidate", "text": f"{n}"})
        await until(lambda: len(there.applied) == 20 and len(here.applied) == 20)
        assert [r.data["seq"] for r in there.raw] == list(range(1, 21))  # none lost, none twice
        # And back: typing on the second process reaches the client on the first.
        assert (await there.call(events.TYPING, {"interview_id": iid}))["ok"]
        await until(lambda: bool(here.typing))
        # A client of the second process resumes from the log the first one wrote.
        ack = await there.call(events.RESUME, {"interview_id": iid, "after_seq": 18})
        assert [e["data"]["text"] for e in ack["events"]] == ["18", "19"]
    finally:
        await here.close()
        await there.close()


@pytest.mark.slow
async def test_worker_emits_the_report_to_the_room(
    app: Any, live: str, client: httpx.AsyncClient, owner: tuple[dict[str, str], str], worker: Any
) -> None:
    headers, iid = owner
    room = await connected(live, headers)
    try:
        await room.join(iid)
        ended = await client.post(f"/api/v1/interviews/{iid}/end", headers=headers)
        assert ended.status_code == 202
        await until(lambda: any(r.event == events.STATE for r in room.applied), wait_s=120)
        names = [r.event for r in room.applied]
        assert names == [events.SCORES, events.STATE]
        assert room.applied[1].data["state"] == "report_ready"
        assert room.applied[0].data["status"] == "ready" and room.applied[0].data["items"] == []
    finally:
        await room.close()
