"""Interviews over HTTP: the streamed turns, state errors, ownership, and the report from a real worker.

The tests marked slow talk to the packaged tiny model through llama-cpp-python's server; the others
point the app at an address where nothing listens, which is a real model failure: the interview
must still go on with the planned questions.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mocki.models import LLMCall, Turn
from tests.conftest import register
from tests.integration.interviews.helpers import (
    JOB,
    LONG_STAR_ANSWER,
    RESUME,
    URL,
    create,
    done,
    new_id,
    paste,
    seed,
    turn,
    wait_report,
)

pytestmark = pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)


@pytest.mark.slow
async def test_full_interview_with_real_model_and_worker(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str], worker: Any
) -> None:
    await seed(app)
    resume = await paste(client, auth, "resume", RESUME)
    job = await paste(client, auth, "job_description", JOB)
    interview = await create(client, auth, resume_id=resume, job_description_id=job, company="Acme", length=2)
    assert interview["status"] == "created" and interview["questions_asked"] == 0
    iid = interview["id"]

    resp, events = await turn(client, auth, iid)
    assert resp.status_code == 200
    opening = done(events)
    assert opening["turn"]["speaker"] == "interviewer" and opening["turn"]["seq"] == 1
    assert opening["turn"]["text"].strip() and opening["finished"] is False
    assert all(e.name in ("token", "error", "done") for e in events)

    answers = iter(["It went fine.", LONG_STAR_ANSWER, LONG_STAR_ANSWER, LONG_STAR_ANSWER, LONG_STAR_ANSWER])
    finished, seq = False, 1
    while not finished:
        resp, events = await turn(client, auth, iid, next(answers))
        assert resp.status_code == 200, resp.text
        assert events[0].name == "turn" and events[0].data["speaker"] == "candidate"
        assert events[0].data["seq"] == seq + 1
        last = done(events)
        seq = last["turn"]["seq"]
        finished = last["finished"]
    assert last["turn"]["kind"] == "closing"

    detail = (await client.get(f"{URL}/{iid}", headers=auth)).json()
    assert detail["status"] == "active" and detail["questions_asked"] == 2
    seqs = [t["seq"] for t in detail["turns"]]
    assert seqs == list(range(1, len(seqs) + 1))
    kinds = [t["kind"] for t in detail["turns"]]
    assert kinds[0] == "question" and kinds[1] == "answer" and kinds[2] == "follow_up"  # "It went fine."

    again, _ = await turn(client, auth, iid, "one more thing")
    assert again.status_code == 409 and again.json()["error"]["code"] == "interview_finished"

    ended = await client.post(f"{URL}/{iid}/end", headers=auth)
    assert ended.status_code == 202 and ended.json()["status"] in ("pending", "ready")
    report = await wait_report(client, auth, iid)
    assert report["status"] == "ready", report
    assert 0 <= report["overall_score"] <= 100 and report["summary"]
    assert len(report["items"]) == 2
    by_seq = {t["seq"]: t for t in detail["turns"]}
    for item in report["items"]:
        assert item["feedback"].strip()
        # Correctness is scored only for technical answers (null otherwise).
        assert all(0 <= v <= 5 for k, v in item["scores"].items() if not (k == "correctness" and v is None))
        assert set(item["turn_seqs"]) <= set(by_seq)
        assert any(by_seq[s]["speaker"] == "candidate" for s in item["turn_seqs"])
        assert by_seq[item["turn_seqs"][0]]["text"] == item["question"]

    async with app.state.sessionmaker() as session:
        first = (await session.execute(select(Turn).where(Turn.seq == 1))).scalars().all()
        mine = [t for t in first if str(t.interview_id) == iid]
        assert mine and mine[0].meta["provenance"], "the opening is grounded in a resume or job line"
        assert mine[0].meta["provenance"][0]["source"] in ("resume", "job_description")
        calls = (
            await session.execute(select(LLMCall).where(LLMCall.interview_id == mine[0].interview_id))
        ).scalars()
        purposes = [c.purpose for c in calls]
    assert "interview_question" in purposes and "interview_follow_up" in purposes
    assert "report_feedback" in purposes  # written by the worker

    ended_again = await client.post(f"{URL}/{iid}/end", headers=auth)
    assert ended_again.status_code == 202 and ended_again.json()["status"] == "ready"


async def test_model_down_still_asks_the_planned_questions(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    await seed(app)
    iid = (await create(client, auth, kind="technical"))["id"]
    resp, events = await turn(client, auth, iid)
    assert resp.status_code == 200
    names = [e.name for e in events]
    assert "error" in names and names[-1] == "done"
    error = next(e for e in events if e.name == "error").data
    assert error["code"] == "llm_unavailable" and error["message"]
    assert done(events)["turn"]["text"].strip()  # the bank question, said verbatim
    async with app.state.sessionmaker() as session:
        rows = (await session.execute(select(LLMCall).where(LLMCall.status == "error"))).scalars().all()
        assert any(str(r.interview_id) == iid for r in rows)


async def test_state_errors(app: Any, client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    await seed(app)
    iid = (await create(client, auth))["id"]

    early, _ = await turn(client, auth, iid, "an answer before the start")
    assert early.status_code == 409 and early.json()["error"]["code"] == "not_started"
    no_report = await client.get(f"{URL}/{iid}/report", headers=auth)
    assert no_report.status_code == 404 and no_report.json()["error"]["code"] == "no_report"

    started, _ = await turn(client, auth, iid)
    assert started.status_code == 200
    twice, _ = await turn(client, auth, iid)
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_started"

    ended = await client.post(f"{URL}/{iid}/end", headers=auth)
    assert ended.status_code == 202 and ended.json()["status"] == "pending"
    late, _ = await turn(client, auth, iid, "too late")
    assert late.status_code == 409 and late.json()["error"]["code"] == "interview_ended"
    restart, _ = await turn(client, auth, iid)
    assert restart.status_code == 409 and restart.json()["error"]["code"] == "interview_ended"
    detail = (await client.get(f"{URL}/{iid}", headers=auth)).json()
    assert detail["status"] == "ended" and detail["ended_at"]


async def test_second_answer_while_streaming_is_409(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    await seed(app)
    iid = (await create(client, auth))["id"]
    await turn(client, auth, iid)
    # The model is unreachable, so each turn spends a second or two retrying before it falls back:
    # the second answer arrives while the first turn is still streaming.
    (first, _), (second, _) = await asyncio.gather(
        turn(client, auth, iid, "first answer"), turn(client, auth, iid, "second answer")
    )
    codes = sorted([first.status_code, second.status_code])
    assert codes == [200, 409]
    loser = first if first.status_code == 409 else second
    assert loser.json()["error"]["code"] == "turn_in_progress"
    turns = (await client.get(f"{URL}/{iid}", headers=auth)).json()["turns"]
    assert [t["speaker"] for t in turns] == ["interviewer", "candidate", "interviewer"]


async def test_other_users_interviews_are_404(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    await seed(app)
    iid = (await create(client, auth))["id"]
    other = await register(client)
    for method, path, body in [
        ("GET", f"{URL}/{iid}", None),
        ("POST", f"{URL}/{iid}/start", None),
        ("POST", f"{URL}/{iid}/answer", {"text": "hi"}),
        ("POST", f"{URL}/{iid}/end", None),
        ("GET", f"{URL}/{iid}/report", None),
        ("DELETE", f"{URL}/{iid}", None),
        ("GET", f"{URL}/{new_id()}", None),
    ]:
        resp = await client.request(method, path, headers=other, json=body)
        assert resp.status_code == 404, (method, path, resp.text)
        assert resp.json()["error"]["code"] == "interview_not_found"
    assert (await client.get(URL, headers=other)).json() == []
    assert (await client.get(f"{URL}/{iid}", headers=auth)).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"target_role": ""}, "target_role"),
        ({"target_role": "   "}, "target_role"),
        ({"target_role": "x" * 201}, "target_role"),
        ({"target_role": "Dev", "length": 0}, "length"),
        ({"target_role": "Dev", "length": 16}, "length"),
        ({"target_role": "Dev", "kind": "coding"}, "kind"),
        ({"target_role": "Dev", "resume_id": "not-a-uuid"}, "resume_id"),
        ({"target_role": "Dev", "surprise": True}, "surprise"),
        ({}, "target_role"),
    ],
)
async def test_malformed_create_is_422(
    client: httpx.AsyncClient, auth: dict[str, str], body: dict[str, Any], field: str
) -> None:
    resp = await client.post(URL, headers=auth, json=body)
    assert resp.status_code == 422, resp.text
    err = resp.json()["error"]
    assert err["code"] == "validation_error" and any(field in p["field"] for p in err["details"])


async def test_malformed_answer_is_422(app: Any, client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    iid = (await create(client, auth))["id"]
    for body in ({"text": ""}, {"text": "   "}, {"text": "x" * 5001}, {}, {"text": "ok", "extra": 1}):
        resp = await client.post(f"{URL}/{iid}/answer", headers=auth, json=body)
        assert resp.status_code == 422, (body, resp.text)
    not_json = await client.post(
        f"{URL}/{iid}/answer", headers={**auth, "Content-Type": "application/json"}, content=b"{nope"
    )
    assert not_json.status_code == 422
    bad_id = await client.post(f"{URL}/not-a-uuid/start", headers=auth)
    assert bad_id.status_code == 422


async def test_documents_are_checked_at_creation(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    missing = await client.post(URL, headers=auth, json={"target_role": "Dev", "resume_id": new_id()})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "document_not_found"

    job = await paste(client, auth, "job_description", JOB)
    wrong = await client.post(URL, headers=auth, json={"target_role": "Dev", "resume_id": job})
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "wrong_kind"

    other = await register(client)
    foreign = await paste(client, other, "resume", RESUME)
    stolen = await client.post(URL, headers=auth, json={"target_role": "Dev", "resume_id": foreign})
    assert stolen.status_code == 404

    ok = await create(client, auth, job_description_id=job)
    assert ok["job_description_id"] == job and ok["resume_id"] is None


async def test_list_newest_first_and_delete(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    first = await create(client, auth, target_role="First")
    second = await create(client, auth, target_role="Second")
    listed = (await client.get(URL, headers=auth)).json()
    assert [i["id"] for i in listed] == [second["id"], first["id"]]
    assert (await client.delete(f"{URL}/{first['id']}", headers=auth)).status_code == 204
    assert (await client.get(f"{URL}/{first['id']}", headers=auth)).status_code == 404
    assert [i["id"] for i in (await client.get(URL, headers=auth)).json()] == [second["id"]]


@pytest.mark.slow
async def test_ending_without_answers_gives_an_empty_report(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str], worker: Any
) -> None:
    await seed(app)
    iid = (await create(client, auth))["id"]
    ended = await client.post(f"{URL}/{iid}/end", headers=auth)
    assert ended.status_code == 202
    report = await wait_report(client, auth, iid)
    assert report["status"] == "ready" and report["items"] == []
    assert report["overall_score"] is None and "No answers" in report["summary"]
