"""The router and the agents' memories through the real API, with the real local model.

The model server is a hosted-style endpoint here, so the prompts carry the speaking agent's
memory ("auto"); each turn still goes through, the memory is kept in the stored plan under the
agent that heard it, and what the candidate stated reaches every agent of the interview.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mocki.interviews.engine import Plan
from mocki.models import Interview
from tests.integration.interviews.helpers import create, done, seed, turn

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)]

ANSWER = (
    "When I worked at Parcelworks our checkout service kept timing out during sales; I was responsible for "
    "fixing it. I profiled the PostgreSQL queries and added a Redis cache, and as a result p99 "
    "latency fell from 2 seconds to 300 ms."
)


async def _plan(app: Any, iid: str) -> Plan:
    async with app.state.sessionmaker() as session:
        row = (await session.scalars(select(Interview).where(Interview.id == uuid.UUID(iid)))).one()
        return Plan.from_json(row.plan)


async def test_agents_keep_their_own_memory_and_share_the_facts(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str], llm_server: str
) -> None:
    assert app.state.interviewer.history.in_prompts
    await seed(app)
    iid = (await create(client, auth, kind="mixed", length=2))["id"]
    opening = done((await turn(client, auth, iid))[1])["turn"]
    first = (await _plan(app, iid)).questions[0]
    assert first.category == "behavioural" and opening["agent"] == "behavioural"

    _, events = await turn(client, auth, iid, ANSWER)
    reply = done(events)["turn"]
    plan = await _plan(app, iid)
    behavioural = plan.agents["behavioural"]
    heard = [t["text"] for t in behavioural["memory"]["recent"]]
    assert heard[:2] == [opening["text"], ANSWER]
    # A follow-up is the behavioural agent's; the next question is the next agent's to remember.
    spoken_by = app.state.interviewer.history.memory(plan, reply["agent"])
    assert reply["text"] == spoken_by.recent[-1].text
    assert behavioural["state"]["star"]["result"] is True

    # The next agent (a technical one) has not heard the story, but knows what was stated.
    name = app.state.interviewer.route(plan.questions[1]).name
    assert name != "behavioural"
    memory = app.state.interviewer.history.memory(plan, name)
    assert ANSWER not in [t.text for t in memory.recent]
    assert {"Parcelworks", "Redis"} <= {f.value for f in memory.facts}
