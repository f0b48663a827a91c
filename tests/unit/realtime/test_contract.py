"""The event contract without a server: turn events to room events, payload checks, client dedupe."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import ValidationError

from mocki.realtime import events
from mocki.realtime.client import Received, RoomClient
from mocki.realtime.emit import channel_for, relay_turn_event


@dataclass
class FakeEmitter:
    """Records what would be numbered and broadcast (unit tests only)."""

    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    fail: bool = False

    async def emit(self, interview_id: uuid.UUID | str, event: str, data: dict[str, Any]) -> int:
        if self.fail:
            raise ConnectionError("redis is down")
        self.sent.append((event, data))
        return len(self.sent)


@dataclass
class Prepared:
    interview_id: uuid.UUID
    seq: int


async def test_turn_events_become_transcript_events() -> None:
    emitter, prepared = FakeEmitter(), Prepared(uuid.uuid4(), 4)
    candidate = {"seq": 3, "speaker": "candidate", "text": "I built it."}
    interviewer = {"seq": 4, "speaker": "interviewer", "text": "Why?"}
    for name, data in [
        ("turn", candidate),
        ("token", {"text": "Wh"}),
        ("token", {"text": "y?"}),
        ("error", {"code": "llm_unavailable"}),
        ("done", {"turn": interviewer, "finished": True}),
    ]:
        await relay_turn_event(emitter, prepared, name, data)  # type: ignore[arg-type]
    assert [e for e, _ in emitter.sent] == [
        events.TRANSCRIPT_FINAL,
        events.TRANSCRIPT_PARTIAL,
        events.TRANSCRIPT_PARTIAL,
        events.TRANSCRIPT_FINAL,
        events.STATE,
    ]
    assert emitter.sent[0][1]["speaker"] == "candidate" and emitter.sent[0][1]["text"] == "I built it."
    assert emitter.sent[1][1] == {"speaker": "interviewer", "role": "ai", "turn_seq": 4, "text": "Wh"}
    assert emitter.sent[3][1]["role"] == "ai" and emitter.sent[3][1]["turn_seq"] == 4
    assert emitter.sent[4][1] == {"state": "finished"}


async def test_a_failing_room_never_breaks_the_turn() -> None:
    emitter = FakeEmitter(fail=True)
    await relay_turn_event(emitter, Prepared(uuid.uuid4(), 1), "token", {"text": "x"})  # type: ignore[arg-type]
    await relay_turn_event(None, Prepared(uuid.uuid4(), 1), "token", {"text": "x"})
    assert emitter.sent == []


def test_payloads_are_checked() -> None:
    with pytest.raises(ValidationError) as bad:
        events.ResumeIn.model_validate({"interview_id": "x", "after_seq": -2})
    ack = events.invalid_ack(bad.value)
    assert ack["ok"] is False and ack["error"]["code"] == "invalid"
    assert set(ack["error"]["details"]["fields"]) == {"interview_id", "after_seq"}


def test_channel_carries_the_database_number() -> None:
    assert channel_for("redis://127.0.0.1:6379/3") != channel_for("redis://127.0.0.1:6379/4")
    assert channel_for("unix:///tmp/redis.sock") == "mocki:rooms:0"


def _event(room: str, seq: int) -> Received:
    return Received(events.TRANSCRIPT_FINAL, {"interview_id": room, "seq": seq}, 0.0)


def test_client_applies_each_number_once() -> None:
    client = RoomClient("http://unused", None)
    assert [client.apply(_event("r", s)) for s in (1, 2, 2, 1, 3)] == [True, True, False, False, True]
    assert [r.data["seq"] for r in client.applied] == [1, 2, 3]
    assert client.last_seq == {"r": 3}
