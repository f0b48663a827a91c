"""Candidate turns are classified by the real intent model before the engine decides: a request
for a hint gets one and keeps the question, asking to stop closes the interview, and only real
answers are scored in the report."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mocki.models import Turn
from tests.integration.interviews.helpers import LONG_STAR_ANSWER, create, done, seed, turn

pytestmark = pytest.mark.slow


async def test_hint_keeps_the_question_and_stop_closes(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    await seed(app)
    interview = await create(client, auth, length=3, kind="behavioural")
    iid = interview["id"]
    opening = done((await turn(client, auth, iid))[1])["turn"]

    _, events = await turn(client, auth, iid, "I'm stuck, could you give me a hint?")
    assert events[0].name == "turn" and events[0].data["kind"] == "hint"
    hint = done(events)["turn"]
    assert hint["kind"] == "hint" and "hint" in hint["text"].lower()

    _, events = await turn(client, auth, iid, LONG_STAR_ANSWER)
    assert events[0].data["kind"] == "answer"
    assert done(events)["turn"]["kind"] in ("follow_up", "question")

    _, events = await turn(client, auth, iid, "I'd like to end the interview now, thanks.")
    assert events[0].data["kind"] == "end"
    closing = done(events)
    assert closing["turn"]["kind"] == "closing" and closing["finished"] is True

    async with app.state.sessionmaker() as session:
        rows = list((await session.scalars(select(Turn).where(Turn.speaker == "candidate"))).all())
    intents = {r.meta["intent"] for r in rows}
    assert {"hint", "answer", "end"} <= intents
    assert all(0 < r.meta["intent_confidence"] <= 1 for r in rows)
    assert opening["text"]
