"""Emitting to live rooms: from the api (its Socket.IO server) and from Celery workers (a write-only
Redis manager), every sequenced event numbered and logged first (log.py), then broadcast.

The api's lifespan installs its emitter here, so other domains emit without holding the app:
`relayed` wraps the text interview's turn stream (interviews/streaming.py) and `report_ready`
is what the report task calls. Emitting is best effort and never breaks its caller: a turn or a
report that cannot be broadcast is still stored, and clients reload it over REST.
"""

from __future__ import annotations

import functools
import inspect
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, ParamSpec, Protocol, TypeVar

import socketio  # type: ignore[import-untyped]  # ships no type hints
from redis.asyncio import Redis
from redis.asyncio.connection import parse_url

from mocki.realtime import events
from mocki.realtime.log import RoomLog, envelope
from mocki.settings import Settings

log = logging.getLogger(__name__)


class Transport(Protocol):
    """Socket.IO's emit, as both `AsyncServer` and `AsyncRedisManager` spell it."""

    async def emit(self, event: str, data: Any, *, room: str | None = ..., **kwargs: Any) -> Any: ...


def channel_for(redis_url: str) -> str:
    """The pub/sub channel of this deployment's rooms. Redis pub/sub ignores the database number,
    so it is in the name: two deployments (or test runs) on one Redis never hear each other."""
    db = parse_url(redis_url).get("db", 0)
    return f"mocki:rooms:{db}"


class RoomEmitter:
    def __init__(self, transport: Transport, room_log: RoomLog) -> None:
        self.transport = transport
        self.log = room_log

    async def emit(self, interview_id: uuid.UUID | str, event: str, data: dict[str, Any]) -> int:
        """Number, log and broadcast one sequenced event; returns its number."""
        if event not in events.SEQUENCED:
            raise ValueError(f"{event!r} is not a sequenced room event")
        seq = await self.log.append(interview_id, event, data)
        await self.transport.emit(
            event, envelope(interview_id, seq, data), room=events.room_name(interview_id)
        )
        return seq


_current: RoomEmitter | None = None


def install(emitter: RoomEmitter) -> None:
    global _current
    _current = emitter


def uninstall(emitter: RoomEmitter) -> None:
    global _current
    if _current is emitter:
        _current = None


def current() -> RoomEmitter | None:
    return _current


async def best_effort(
    emitter: RoomEmitter | None, interview_id: uuid.UUID, event: str, data: dict[str, Any]
) -> None:
    if emitter is None:
        return
    try:
        await emitter.emit(interview_id, event, data)
    except Exception as exc:  # a room that misses an event reloads over REST; the turn goes on
        log.warning("interview %s: %s not broadcast: %s", interview_id, event, exc)


async def ephemeral(interview_id: uuid.UUID, event: str, data: dict[str, Any]) -> None:
    """Broadcast an event that is neither numbered nor logged (`speaking`), best effort."""
    emitter = _current
    if emitter is None:
        return
    try:
        await emitter.transport.emit(event, data, room=events.room_name(interview_id))
    except Exception as exc:  # a missed "is speaking" is corrected by the next one
        log.warning("interview %s: %s not broadcast: %s", interview_id, event, exc)


# --- the text interview's turns -----------------------------------------------------------------


class _Event(Protocol):
    name: str
    data: dict[str, Any]


class _Prepared(Protocol):
    interview_id: uuid.UUID
    seq: int


P = ParamSpec("P")
E = TypeVar("E", bound=_Event)


def relayed(run_turn: Callable[P, AsyncIterator[E]]) -> Callable[P, AsyncIterator[E]]:
    """Wrap a turn stream (`run_turn(..., prepared, ...)`) so each of its events also reaches the
    interview's room: the stored candidate line and the interviewer's final line as
    transcript.final, the interviewer's tokens as transcript.partial."""
    signature = inspect.signature(run_turn)

    @functools.wraps(run_turn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> AsyncIterator[E]:
        prepared: _Prepared = signature.bind(*args, **kwargs).arguments["prepared"]
        if getattr(prepared, "candidate", None) is None:  # the opening turn: the AI has the floor
            await best_effort(_current, prepared.interview_id, events.ROLE, {"role": "ai"})
            await best_effort(_current, prepared.interview_id, events.STATE, {"state": "in_progress"})
        inner = run_turn(*args, **kwargs)
        try:
            async for event in inner:
                await relay_turn_event(_current, prepared, event.name, event.data)
                yield event
        finally:
            # A client that leaves closes this wrapper; the turn's own clean-up (storing a
            # fallback turn) must run now, not whenever the inner generator is collected.
            aclose = getattr(inner, "aclose", None)
            if aclose is not None:
                await aclose()

    return wrapper


async def relay_turn_event(
    emitter: RoomEmitter | None, prepared: _Prepared, name: str, data: dict[str, Any]
) -> None:
    iid = prepared.interview_id
    if emitter is None:
        return
    if name == "turn":
        await best_effort(emitter, iid, events.TRANSCRIPT_FINAL, _final("candidate", None, data))
    elif name == "token":
        partial = {
            "speaker": "interviewer",
            "role": "ai",
            "turn_seq": prepared.seq,
            "text": data.get("text", ""),
        }
        await best_effort(emitter, iid, events.TRANSCRIPT_PARTIAL, partial)
    elif name == "done":
        turn = data.get("turn")
        if turn is None:  # a human has the seat: the AI said nothing (interviews/handoff.py)
            return
        await best_effort(emitter, iid, events.TRANSCRIPT_FINAL, _final("interviewer", "ai", turn))
        if data.get("finished"):
            await best_effort(emitter, iid, events.STATE, {"state": "finished"})


async def transcript_final(
    interview_id: uuid.UUID, speaker: str, role: str | None, turn: dict[str, Any]
) -> None:
    """A turn stored outside `run_turn` (a human interviewer's line, an answer given while a human
    has the seat: interviews/handoff.py), as the same transcript.final a streamed turn sends."""
    await best_effort(_current, interview_id, events.TRANSCRIPT_FINAL, _final(speaker, role, turn))


def _final(speaker: str, role: str | None, turn: dict[str, Any]) -> dict[str, Any]:
    return {
        "speaker": speaker,
        "role": role,
        "turn_seq": turn.get("seq"),
        "text": turn.get("text", ""),
        "turn": turn,
    }


# --- Celery workers ------------------------------------------------------------------------------


@asynccontextmanager
async def worker_emitter(settings: Settings) -> AsyncIterator[RoomEmitter]:
    """An emitter for a process without a Socket.IO server: a write-only Redis manager publishes
    to every api process, which deliver to their own clients in the room."""
    url = settings.resolved_redis_url
    manager = socketio.AsyncRedisManager(url, channel=channel_for(url), write_only=True)
    redis: Redis[bytes] = Redis.from_url(url)
    try:
        yield RoomEmitter(manager, RoomLog(redis))
    finally:
        await redis.aclose()  # type: ignore[attr-defined]  # redis 5+ has it; the stubs are older
        manager_redis = getattr(manager, "redis", None)
        if manager_redis is not None:
            await manager_redis.aclose()


class _Report(Protocol):
    interview_id: uuid.UUID
    status: str
    overall_score: float | None
    items: list[dict[str, Any]]


async def report_ready(settings: Settings, report: _Report) -> None:
    """Tell the interview's room its report is written: the scores, then the new state."""
    scores = {
        "status": report.status,
        "overall_score": report.overall_score,
        "items": [{"question": i.get("question"), "scores": i.get("scores") or {}} for i in report.items],
    }
    try:
        async with worker_emitter(settings) as emitter:
            await emitter.emit(report.interview_id, events.SCORES, scores)
            await emitter.emit(report.interview_id, events.STATE, {"state": f"report_{report.status}"})
    except Exception as exc:  # the report is saved; the room learns of it on its next reload
        log.warning("interview %s: report event not broadcast: %s", report.interview_id, exc)
