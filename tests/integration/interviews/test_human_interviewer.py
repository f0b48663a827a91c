"""The human interviewer through the real API: invites, roles, take-over, hand-back, notes.

No model listens here (the settings point at a closed port): the AI's lines are its fallbacks,
which is enough to see what it was asked to say. The prompts it sent are recorded by wrapping
the app's real LLM client, so the test sees that the AI's move after the hand-back starts from
the human's question.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from mocki.core.timeutil import utcnow
from mocki.interviews.engine import Plan
from mocki.llm.base import LLM, ChatMessage, ChatStream
from mocki.models import AuditEntry, Interview, InterviewInvite
from tests.conftest import register
from tests.integration.interviews.helpers import URL, create, done, seed, turn

pytestmark = pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)

HUMAN_QUESTION = "Which Celery retry policy did you choose for the nightly batch jobs, and why?"
ANSWER = (
    "I used exponential backoff with a cap of five retries, because the jobs call a flaky partner API "
    "and a fixed delay kept hitting their rate limit. We also made every task idempotent first."
)


class Recording:
    """The app's real LLM client, keeping the messages of every streamed call (not a fake)."""

    def __init__(self, inner: LLM) -> None:
        self.inner = inner
        self.sent: list[list[ChatMessage]] = []

    def stream(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatStream:
        self.sent.append(list(messages))
        return self.inner.stream(messages, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def invite(client: httpx.AsyncClient, owner: dict[str, str], iid: str) -> str:
    resp = await client.post(f"{URL}/{iid}/invites", headers=owner)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["url"] == f"/join/{body['code']}" and len(body["code"]) >= 32
    return str(body["code"])


async def accept(client: httpx.AsyncClient, user: dict[str, str], code: str) -> httpx.Response:
    return await client.post("/api/v1/invites/accept", headers=user, json={"code": code})


def _error(resp: httpx.Response, status: int, code: str) -> None:
    assert resp.status_code == status, resp.text
    assert resp.json()["error"]["code"] == code, resp.text


async def _plan(app: Any, iid: str) -> Plan:
    async with app.state.sessionmaker() as session:
        row = (await session.scalars(select(Interview).where(Interview.id == uuid.UUID(iid)))).one()
        return Plan.from_json(row.plan)


async def test_invites_are_single_use_expire_and_are_not_for_the_owner(
    app: Any, client: httpx.AsyncClient
) -> None:
    owner, guest, late, stranger = [await register(client) for _ in range(4)]
    iid = (await create(client, owner))["id"]
    code = await invite(client, owner, iid)

    _error(await accept(client, owner, code), 409, "own_interview")  # and it stays usable
    ok = await accept(client, guest, code)
    assert ok.status_code == 200 and ok.json() == {"interview_id": iid, "role": "interviewer"}
    _error(await accept(client, late, code), 410, "invite_used")
    _error(await accept(client, late, "no-such-code"), 404, "invite_not_found")

    expiring = await invite(client, owner, iid)
    async with app.state.sessionmaker() as session:
        await session.execute(update(InterviewInvite).values(expires_at=utcnow() - timedelta(minutes=1)))
        await session.commit()
    _error(await accept(client, late, expiring), 410, "invite_expired")

    # Only the owner invites: the interviewer is told so, anyone else does not see the interview.
    _error(await client.post(f"{URL}/{iid}/invites", headers=guest), 403, "owner_only")
    _error(await client.post(f"{URL}/{iid}/invites", headers=stranger), 404, "interview_not_found")
    _error(await client.post(f"{URL}/{iid}/invites"), 401, "not_authenticated")

    # The audit log has both invites and the one acceptance, each against this interview.
    async with app.state.sessionmaker() as session:
        rows = (await session.scalars(select(AuditEntry).where(AuditEntry.target_id == iid))).all()
    assert sorted(r.action for r in rows) == ["invite.accepted", "invite.created", "invite.created"]


async def test_take_over_and_hand_back_with_the_ai_resuming_in_context(
    app: Any, client: httpx.AsyncClient
) -> None:
    recording = Recording(app.state.llm)
    app.state.llm = recording
    await seed(app)
    owner, human, stranger = [await register(client) for _ in range(3)]
    iid = (await create(client, owner, length=2))["id"]
    opening = done((await turn(client, owner, iid))[1])["turn"]
    assert opening["role"] == "ai"
    assert (await accept(client, human, await invite(client, owner, iid))).status_code == 200

    # The interviewer sees the live state and what the AI would ask next; the owner does not.
    live = (await client.get(f"{URL}/{iid}/live", headers=human)).json()
    plan = await _plan(app, iid)
    assert live["you"] == "interviewer" and live["controller"] == "ai" and live["status"] == "active"
    assert [t["seq"] for t in live["turns"]] == [opening["seq"]]
    assert {p["role"] for p in live["participants"]} == {"owner", "interviewer"}
    assert live["suggestion"] == {
        "text": plan.questions[1].text,
        "question_index": 1,
        "agent": app.state.interviewer.route(plan.questions[1]).name,
    }
    mine = (await client.get(f"{URL}/{iid}/live", headers=owner)).json()
    assert mine["you"] == "owner" and mine["suggestion"] is None and mine["notes"] == []

    _error(
        await client.post(f"{URL}/{iid}/human-turn", headers=human, json={"text": "Hi"}),
        409,
        "not_in_control",
    )
    _error(await client.post(f"{URL}/{iid}/takeover", headers=owner), 403, "interviewer_only")
    took = await client.post(f"{URL}/{iid}/takeover", headers=human)
    assert took.status_code == 200 and took.json()["controller"] == "human"

    # The candidate answers: stored, and the AI stays silent (no model call at all).
    calls = len(recording.sent)
    _, events = await turn(client, owner, iid, "Happy to go on.")
    assert [e.name for e in events] == ["turn", "done"]
    assert done(events) == {"turn": None, "finished": False, "waiting_for": "human"}
    assert len(recording.sent) == calls

    said = await client.post(f"{URL}/{iid}/human-turn", headers=human, json={"text": HUMAN_QUESTION})
    assert said.status_code == 201, said.text
    human_turn = said.json()
    assert human_turn["speaker"] == "interviewer" and human_turn["role"] == "human"
    assert (await _plan(app, iid)).cursor == 0  # a human's question does not move the plan

    note = await client.post(
        f"{URL}/{iid}/notes", headers=human, json={"text": "Knows retries well.", "scores": {"depth": 4}}
    )
    assert note.status_code == 201 and note.json()["scores"] == {"depth": 4}
    bad = await client.post(f"{URL}/{iid}/notes", headers=human, json={"text": "x", "scores": {"depth": 6}})
    assert bad.status_code == 422
    _error(
        await client.post(f"{URL}/{iid}/notes", headers=owner, json={"text": "me"}), 403, "interviewer_only"
    )
    assert [n["text"] for n in (await client.get(f"{URL}/{iid}/notes", headers=owner)).json()] == [
        "Knows retries well."
    ]

    back = await client.post(f"{URL}/{iid}/handback", headers=human)
    assert back.status_code == 200 and back.json()["controller"] == "ai"

    # The AI answers the next turn, and its prompt starts from the human's question.
    _, events = await turn(client, owner, iid, ANSWER)
    reply = done(events)["turn"]
    assert reply is not None and reply["role"] == "ai" and reply["speaker"] == "interviewer"
    prompt = "\n".join(m["content"] for m in recording.sent[-1])
    assert f"Interviewer asked: {HUMAN_QUESTION}" in prompt and ANSWER[:40] in prompt
    # And the speaking agent remembers the human's exchange (its memory goes into its prompts).
    plan = await _plan(app, iid)
    memory = app.state.interviewer.history.memory(plan, app.state.interviewer.route(plan.questions[0]).name)
    assert HUMAN_QUESTION in [t.text for t in memory.recent]

    detail = (await client.get(f"{URL}/{iid}", headers=owner)).json()
    assert [(t["speaker"], t["role"]) for t in detail["turns"]] == [
        ("interviewer", "ai"),
        ("candidate", None),
        ("interviewer", "human"),
        ("candidate", None),
        ("interviewer", "ai"),
    ]

    # The invited interviewer neither ends nor deletes the interview: it is not theirs.
    _error(await client.post(f"{URL}/{iid}/end", headers=human), 404, "interview_not_found")
    _error(await client.delete(f"{URL}/{iid}", headers=human), 404, "interview_not_found")
    _error(await client.get(f"{URL}/{iid}", headers=human), 404, "interview_not_found")

    # Someone else gets 404 on every live endpoint, nobody signed in 401.
    live_calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "live", None),
        ("POST", "takeover", None),
        ("POST", "handback", None),
        ("POST", "human-turn", {"text": "Hello?"}),
        ("POST", "notes", {"text": "A note."}),
        ("GET", "notes", None),
        ("POST", "invites", None),
    ]
    for method, path, body in live_calls:
        resp = await client.request(method, f"{URL}/{iid}/{path}", headers=stranger, json=body)
        _error(resp, 404, "interview_not_found")
        _error(await client.request(method, f"{URL}/{iid}/{path}", json=body), 401, "not_authenticated")

    ended = await client.post(f"{URL}/{iid}/end", headers=owner)
    assert ended.status_code == 202
    report = (await client.get(f"{URL}/{iid}/report", headers=owner)).json()
    assert [(n["text"], n["scores"]) for n in report["interviewer_notes"]] == [
        ("Knows retries well.", {"depth": 4})
    ]
