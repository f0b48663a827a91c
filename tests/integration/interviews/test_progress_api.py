"""Progress over HTTP: the score series and weak points from stored reports, and the next interview's
plan favouring the weak points, with the reason on each targeted question."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from mocki.interviews.engine import Plan
from mocki.models import Interview, Report
from tests.conftest import register
from tests.integration.interviews.helpers import URL, create, done, seed, turn

pytestmark = pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)

PROGRESS = "/api/v1/progress"
START = datetime(2026, 2, 1, 9, tzinfo=UTC)


def item(category: str, score: float, correctness: float | None = None) -> dict[str, Any]:
    scores: dict[str, float | None] = {
        "relevance": score,
        "structure": score,
        "depth": score,
        "communication": score,
        "correctness": correctness,
    }
    return {
        "question": f"A {category} question?",
        "answer": "An answer.",
        "category": category,
        "scores": scores,
        "feedback": "Advice.",
        "turn_seqs": [1, 2],
    }


# Knowledge answers are poor in every interview; behavioural and system design ones are good.
WEAK_KNOWLEDGE = [
    item("behavioural", 4.5),
    item("knowledge", 1.0, correctness=0.5),
    item("system_design", 4.0, correctness=4.0),
]


async def user_id(client: httpx.AsyncClient, headers: dict[str, str]) -> uuid.UUID:
    return uuid.UUID((await client.get("/api/v1/users/me", headers=headers)).json()["id"])


async def add_history(
    app: Any,
    owner: uuid.UUID,
    items: list[dict[str, Any]],
    days: list[int],
    *,
    status: str = "ready",
    overall: float = 60.0,
) -> list[uuid.UUID]:
    """Ended interviews with a report in `status`, one per day offset, as the report task leaves them."""
    ids: list[uuid.UUID] = []
    async with app.state.sessionmaker() as session:
        for day in days:
            interview = Interview(
                owner_id=owner,
                target_role=f"Backend Engineer {day}",
                company="Acme",
                kind="mixed",
                length=3,
                status="ended",
                plan={},
                ended_at=START + timedelta(days=day),
            )
            session.add(interview)
            await session.flush()
            session.add(
                Report(
                    interview_id=interview.id,
                    status=status,
                    overall_score=overall + day if status == "ready" else None,
                    summary="",
                    items=items if status == "ready" else [],
                )
            )
            ids.append(interview.id)
        await session.commit()
    return ids


async def test_new_user_has_an_empty_series(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    resp = await client.get(PROGRESS, headers=auth)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["interviews"] == [] and body["weak_points"] == []
    assert body["threshold"] > 0 and body["window"] >= 1


async def test_series_and_weak_points_from_ready_reports(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    me = await user_id(client, auth)
    # Stored out of order; the series is by date, oldest first.
    ready = await add_history(app, me, WEAK_KNOWLEDGE, [2, 0, 1])
    await add_history(app, me, [], [3], status="pending")  # not scored yet: left out
    other = await register(client)
    await add_history(app, await user_id(client, other), [item("coding", 0.5)], [4])

    body = (await client.get(PROGRESS, headers=auth)).json()
    points = body["interviews"]
    assert [p["interview_id"] for p in points] == [str(ready[1]), str(ready[2]), str(ready[0])]
    assert [p["overall_score"] for p in points] == [60.0, 61.0, 62.0]
    assert [p["target_role"] for p in points] == [f"Backend Engineer {d}" for d in (0, 1, 2)]
    first = points[0]
    assert first["answers"] == 3 and first["company"] == "Acme"
    assert first["dimensions"]["structure"] == pytest.approx((4.5 + 1.0 + 4.0) / 3, abs=0.01)
    assert first["dimensions"]["correctness"] == pytest.approx(2.25, abs=0.01)
    assert first["categories"] == {
        "behavioural": 4.5,
        "knowledge": pytest.approx(0.9, abs=0.01),
        "system_design": 4.0,
    }

    weak = body["weak_points"]
    assert [(w["kind"], w["name"]) for w in weak] == [("category", "knowledge"), ("dimension", "correctness")]
    knowledge, correctness = weak
    assert knowledge["interviews"] == 3 and knowledge["trend"] == "flat"
    assert knowledge["average"] == pytest.approx(0.9, abs=0.01)
    assert "knowledge answers averaged 0.9/5" in knowledge["reason"]
    assert correctness["reason"].startswith("correctness was your weakest score in your last 3 interviews")

    stranger = (await client.get(PROGRESS, headers=other)).json()
    assert len(stranger["interviews"]) == 1 and stranger["weak_points"][0]["average"] < 1


async def _planned(app: Any, interview_id: str) -> Plan:
    async with app.state.sessionmaker() as session:
        row = await session.get(Interview, uuid.UUID(interview_id))
        assert row is not None
        return Plan.from_json(row.plan)


async def _start_technical(app: Any, client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[str, Plan]:
    iid = str((await create(client, headers, kind="technical", length=4))["id"])
    resp, events = await turn(client, headers, iid)
    assert resp.status_code == 200, resp.text
    assert done(events)["turn"]["text"].strip()
    return iid, await _planned(app, iid)


async def test_next_interview_practises_the_weak_category(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    await seed(app)
    await add_history(app, await user_id(client, auth), WEAK_KNOWLEDGE, [0, 1, 2])
    weak = (await client.get(PROGRESS, headers=auth)).json()["weak_points"]
    reasons = {w["name"]: w["reason"] for w in weak}

    # The same interview for someone without a history is the baseline.
    newcomer = await register(client)
    plain_id, plain = await _start_technical(app, client, newcomer)
    iid, plan = await _start_technical(app, client, auth)

    def knowledge(p: Plan) -> int:
        return sum(q.category == "knowledge" for q in p.questions)

    assert knowledge(plan) > knowledge(plain), ([q.category for q in plan.questions], plain.questions)
    targeted = [q for q in plan.questions if q.target]
    assert targeted and all(q.category in ("knowledge", "coding") for q in targeted)
    assert {q.target for q in targeted} <= {reasons["knowledge"], reasons["correctness"]}
    assert any(q.target == reasons["knowledge"] for q in targeted if q.category == "knowledge")
    assert len(targeted) < len(plan.questions)  # the rest are still picked for the role
    assert all(q.target is None for q in plain.questions)

    detail = (await client.get(f"{URL}/{iid}", headers=auth)).json()
    assert detail["targets"] and set(detail["targets"]) == {q.target for q in targeted}
    assert (await client.get(f"{URL}/{plain_id}", headers=newcomer)).json()["targets"] == []
