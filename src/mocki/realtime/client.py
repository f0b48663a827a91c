"""A Python client of live rooms (tests, `mocki bench rooms`, scripts): connect with a token, join or
resume a room, keep the events in sequence order and drop the ones already seen.

Needs the client extras of python-socketio (`python-socketio[asyncio_client]`), which the server
does not.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import socketio  # type: ignore[import-untyped]  # ships no type hints

from mocki.realtime import events


@dataclass
class Received:
    event: str
    data: dict[str, Any]
    at: float  # time.time() when it arrived


@dataclass
class RoomClient:
    url: str
    token: str | None
    sio: socketio.AsyncClient = field(default_factory=lambda: socketio.AsyncClient(reconnection=False))
    # Everything that arrived live, duplicates included (what a benchmark counts).
    raw: list[Received] = field(default_factory=list)
    # Sequenced events applied once each, in the order applied; and the typing notes.
    applied: list[Received] = field(default_factory=list)
    typing: list[dict[str, Any]] = field(default_factory=list)
    last_seq: dict[str, int] = field(default_factory=dict)
    refusal: dict[str, Any] | None = None
    # Rooms being resumed: their live events wait here until the missed ones are applied, or a
    # newer live event would make the missed (older) ones look already seen.
    _held: dict[str, list[Received]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sio.on("*", self._on_event)
        self.sio.on("connect_error", self._on_refused)

    async def _on_event(self, event: str, data: Any) -> None:
        if not isinstance(data, dict):
            return
        received = Received(event, data, time.time())
        if event == events.TYPING:
            self.typing.append(data)
            return
        self.raw.append(received)
        held = self._held.get(str(data.get("interview_id")))
        if held is not None:
            held.append(received)
        else:
            self.apply(received)

    async def _on_refused(self, data: Any) -> None:
        # The server refuses with {"message", "data": {"code"}}: kept flat, like a REST error body.
        if isinstance(data, dict):
            extra = data.get("data")
            self.refusal = {"message": data.get("message"), **(extra if isinstance(extra, dict) else {})}
        else:
            self.refusal = {"message": str(data)}

    def apply(self, received: Received) -> bool:
        """Apply a sequenced event unless its number was seen already; True when applied."""
        room = str(received.data.get("interview_id"))
        seq = int(received.data.get("seq", 0))
        if seq <= self.last_seq.get(room, 0):
            return False
        self.last_seq[room] = seq
        self.applied.append(received)
        return True

    async def connect(self, wait_s: float = 10) -> None:
        auth = {"token": self.token} if self.token is not None else None
        await self.sio.connect(self.url, auth=auth, transports=["websocket"], wait_timeout=wait_s)

    async def call(self, event: str, data: dict[str, Any], wait_s: float = 10) -> dict[str, Any]:
        ack = await self.sio.call(event, data, timeout=wait_s)
        return ack if isinstance(ack, dict) else {"ok": False, "error": {"message": repr(ack)}}

    async def join(self, interview_id: uuid.UUID | str) -> dict[str, Any]:
        ack = await self.call(events.JOIN, {"interview_id": str(interview_id)})
        if ack.get("ok"):
            self.last_seq.setdefault(str(interview_id), int(ack["last_seq"]))
        return ack

    async def resume(self, interview_id: uuid.UUID | str, after_seq: int | None = None) -> dict[str, Any]:
        """Rejoin after a reconnect and apply what was missed since the last event seen."""
        room = str(interview_id)
        after = self.last_seq.get(room, 0) if after_seq is None else after_seq
        self._held[room] = []
        try:
            ack = await self.call(events.RESUME, {"interview_id": room, "after_seq": after})
        finally:
            held = self._held.pop(room)
        if ack.get("ok"):
            self.last_seq[room] = max(self.last_seq.get(room, 0), after)
            missed = [Received(item["event"], item["data"], time.time()) for item in ack["events"]]
            for received in sorted(missed + held, key=lambda r: int(r.data.get("seq", 0))):
                self.apply(received)
        return ack

    async def close(self) -> None:
        await self.sio.disconnect()
