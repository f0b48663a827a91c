"""Interviewer persona and language over HTTP: stored, returned, validated, and heard in the turns.

The model address points where nothing listens (a real model failure), so the turns are the
fixed texts of the chosen voice: in a Chinese interview they must be Chinese.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mocki.interviews.personas import han_count
from tests.integration.interviews.helpers import URL, create, done, seed, turn

pytestmark = pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)


async def test_tough_chinese_interview_round_trips_and_speaks_chinese(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    await seed(app)
    created = await create(client, auth, persona="tough", language="zh", kind="technical", length=2)
    assert (created["persona"], created["language"]) == ("tough", "zh")
    iid = created["id"]

    resp, events = await turn(client, auth, iid)
    assert resp.status_code == 200
    assert any(e.name == "error" and e.data["code"] == "llm_unavailable" for e in events)
    opening = done(events)["turn"]
    assert han_count(opening["text"]) >= 4, opening["text"]
    # The streamed tokens are the same Chinese fallback.
    assert "".join(e.data["text"] for e in events if e.name == "token") == opening["text"]

    resp, events = await turn(client, auth, iid, "我用了缓存。")
    follow = done(events)["turn"]
    assert follow["kind"] == "follow_up" and han_count(follow["text"]) >= 4, follow

    detail = (await client.get(f"{URL}/{iid}", headers=auth)).json()
    assert (detail["persona"], detail["language"]) == ("tough", "zh")
    listed = (await client.get(URL, headers=auth)).json()
    assert [(i["persona"], i["language"]) for i in listed if i["id"] == iid] == [("tough", "zh")]


async def test_defaults_are_neutral_english(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    await seed(app)
    created = await create(client, auth, kind="technical")
    assert (created["persona"], created["language"]) == ("neutral", "en")
    _, events = await turn(client, auth, created["id"])
    assert han_count(done(events)["turn"]["text"]) == 0


@pytest.mark.parametrize(
    "body",
    [{"persona": "grumpy"}, {"language": "fr"}, {"persona": ""}, {"language": None}, {"persona": 1}],
)
async def test_bad_persona_or_language_is_422(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str], body: dict[str, Any]
) -> None:
    resp = await client.post(URL, headers=auth, json={"target_role": "Backend Engineer", **body})
    assert resp.status_code == 422, resp.text
    assert (await client.get(URL, headers=auth)).json() == []
