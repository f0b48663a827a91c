"""An invited human interviewer in the live room: joins it, hears take-over, hand-back and its own lines."""

from __future__ import annotations

from typing import Any

import httpx

from mocki.realtime import events
from tests.conftest import register
from tests.integration.interviews.helpers import URL, done, seed, turn
from tests.integration.realtime.test_rooms import connected, until


async def test_invited_interviewer_joins_and_hears_the_role_changes(
    app: Any, live: str, client: httpx.AsyncClient, owner: tuple[dict[str, str], str]
) -> None:
    headers, iid = owner
    await seed(app)
    human, stranger = await register(client), await register(client)
    outsider = await connected(live, human)
    try:
        # Before accepting the invite the interviewer is a stranger to the room.
        ack = await outsider.join(iid)
        assert ack["ok"] is False and ack["error"]["code"] == "interview_not_found"
    finally:
        await outsider.close()
    done((await turn(client, headers, iid))[1])  # the AI opens
    code = (await client.post(f"{URL}/{iid}/invites", headers=headers)).json()["code"]
    assert (
        await client.post("/api/v1/invites/accept", headers=human, json={"code": code})
    ).status_code == 200

    room, other = await connected(live, human), await connected(live, stranger)
    try:
        assert (await room.resume(iid, after_seq=0))["ok"]  # the whole log so far
        assert (await other.join(iid))["error"]["code"] == "interview_not_found"
        assert [r.data["role"] for r in room.applied if r.event == events.ROLE] == ["ai"]

        assert (await client.post(f"{URL}/{iid}/takeover", headers=human)).status_code == 200
        _, sse = await turn(client, headers, iid, "Sure, ask me anything.")
        assert done(sse)["waiting_for"] == "human"
        said = await client.post(f"{URL}/{iid}/human-turn", headers=human, json={"text": "Why Redis?"})
        assert said.status_code == 201
        assert (await client.post(f"{URL}/{iid}/handback", headers=human)).status_code == 200

        await until(
            lambda: (
                [r.data.get("role") for r in room.applied if r.event == events.ROLE] == ["ai", "human", "ai"]
            )
        )
        finals = [r.data for r in room.applied if r.event == events.TRANSCRIPT_FINAL]
        assert [(f["speaker"], f["role"], f["text"]) for f in finals[-2:]] == [
            ("candidate", None, "Sure, ask me anything."),
            ("interviewer", "human", "Why Redis?"),
        ]
        assert finals[-1]["turn"]["seq"] == said.json()["seq"]
        # The silent AI sent nothing for the answer it did not take.
        assert sum(1 for f in finals if f["speaker"] == "interviewer" and f["role"] == "ai") == 1
    finally:
        await room.close()
        await other.close()
