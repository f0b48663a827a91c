"""The Socket.IO server of live rooms: JWT on connect, one room per interview, resume by sequence.

Mounted in the api at /socket.io (app.py). With Redis configured, which the app always is, the
server's client manager is `AsyncRedisManager`, so every api process delivers a room's events to
its own clients; `build_server(settings, app, redis=False)` is the in-process manager.
Client events are answered through the Socket.IO acknowledgement: `{"ok": true, ...}` or
`{"ok": false, "error": {"code", "message", "details"}}` with the REST api's error codes.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import socketio  # type: ignore[import-untyped]  # ships no type hints
from fastapi import FastAPI
from pydantic import ValidationError
from socketio.exceptions import (  # type: ignore[import-untyped]
    ConnectionRefusedError as Refused,
)

from mocki.auth.tokens import decode_access_token
from mocki.core.db import session_scope
from mocki.core.errors import DomainError, NotFound, Unauthorized
from mocki.interviews import handoff
from mocki.realtime import events
from mocki.realtime.emit import RoomEmitter, channel_for
from mocki.realtime.log import RoomLog
from mocki.security.ratelimit import LimitUnavailable, RateLimited, RateLimiter, client_ip
from mocki.settings import Settings
from mocki.users import repository as users

log = logging.getLogger(__name__)

SOCKETIO_PATH = "socket.io"

Handler = Callable[[str, Any], Awaitable[dict[str, Any]]]


def build_server(settings: Settings, app: FastAPI, *, redis: bool = True) -> socketio.AsyncServer:
    """The server, its handlers bound to `app` (its state is read when an event arrives)."""
    manager: socketio.AsyncManager | None = None
    if redis:
        url = settings.resolved_redis_url
        manager = socketio.AsyncRedisManager(url, channel=channel_for(url))
    sio = socketio.AsyncServer(async_mode="asgi", client_manager=manager, logger=False, engineio_logger=False)
    rooms = Rooms(sio, app)
    sio.on("connect", rooms.connect)
    for name, handler in (
        (events.JOIN, rooms.join),
        (events.RESUME, rooms.resume),
        (events.LEAVE, rooms.leave),
        (events.TYPING, rooms.typing),
    ):
        sio.on(name, rooms.guarded(name, handler))
    return sio


def asgi_app(sio: socketio.AsyncServer) -> socketio.ASGIApp:
    """What app.py mounts at /socket.io (Starlette keeps the full path, so the default path matches)."""
    return socketio.ASGIApp(sio, socketio_path=SOCKETIO_PATH)


def room_emitter(sio: socketio.AsyncServer, app: FastAPI) -> RoomEmitter:
    return RoomEmitter(sio, RoomLog(app.state.redis))


async def close_server(sio: socketio.AsyncServer) -> None:
    """Stop the Redis listener and its connection (the lifespan's shutdown)."""
    manager = sio.manager
    listener: asyncio.Task[Any] | None = getattr(manager, "thread", None)
    if listener is not None:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
    connection = getattr(manager, "redis", None)
    if connection is not None:
        await connection.aclose()


def _token(environ: dict[str, Any], auth: Any) -> str | None:
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        return str(auth["token"])
    header = str(environ.get("HTTP_AUTHORIZATION", ""))
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


class Rooms:
    """The handlers, with the app whose database, Redis and limits they use."""

    def __init__(self, sio: socketio.AsyncServer, app: FastAPI) -> None:
        self.sio = sio
        self.app = app

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        token = _token(environ, auth)
        if token is None:
            raise _refusal(
                "not_authenticated", "Sign in first: connect with auth={'token': '<access token>'}."
            )
        settings: Settings = self.app.state.settings
        try:
            claims = decode_access_token(token, settings.secret_key)
            async with session_scope(self.app.state.sessionmaker) as session:
                user = await users.get(session, claims.user_id)
                if user is None or not user.is_active:
                    raise Unauthorized("Account no longer active.", code="account_disabled")
                tier = str(user.tier)
        except DomainError as exc:
            raise _refusal(exc.code, exc.message) from None
        ip = client_ip(environ.get("asgi.scope") or {})
        await self.sio.save_session(sid, {"user_id": str(claims.user_id), "tier": tier, "ip": ip})
        # Every device of the user hears its user-level events (todos: tracker/todos.py).
        await self.sio.enter_room(sid, f"user:{claims.user_id}")

    def guarded(self, name: str, handler: Handler) -> Callable[[str, Any], Awaitable[dict[str, Any]]]:
        """A client event: rate-limited, its payload checked, its refusal an error acknowledgement."""

        async def run(sid: str, data: Any = None) -> dict[str, Any]:
            try:
                await self._limit(sid, name)
                return await handler(sid, data if isinstance(data, dict) else {})
            except ValidationError as exc:
                return events.invalid_ack(exc)
            except (RateLimited, LimitUnavailable) as exc:
                return events.error_ack(exc.code, exc.message, **(exc.details or {}))
            except DomainError as exc:
                return events.error_ack(exc.code, exc.message)
            except Exception:
                log.exception("socket.io %s from %s failed", name, sid)
                return events.error_ack("internal_error", f"The server could not handle {name!r}; try again.")

        return run

    async def _limit(self, sid: str, name: str) -> None:
        limiter: RateLimiter | None = getattr(self.app.state, "rate_limiter", None)
        if limiter is None:
            return
        session = await self.sio.get_session(sid)
        await limiter.check_event(
            ip=session.get("ip"),
            user_id=session["user_id"],
            tier=session.get("tier", "free"),
            route=f"realtime.{name}",
            llm=False,
        )

    async def _enter(self, sid: str, interview_id: uuid.UUID) -> None:
        """The interview's owner and its invited interviewers may join its room (handoff.py).
        Anyone else's join answers not found, as over REST."""
        session = await self.sio.get_session(sid)
        async with session_scope(self.app.state.sessionmaker) as db:
            await handoff.participant_role(db, uuid.UUID(session["user_id"]), interview_id)
        await self.sio.enter_room(sid, events.room_name(interview_id))

    def _log(self) -> RoomLog:
        return RoomLog(self.app.state.redis)

    async def join(self, sid: str, data: dict[str, Any]) -> dict[str, Any]:
        body = events.JoinIn.model_validate(data)
        await self._enter(sid, body.interview_id)
        return {
            "ok": True,
            "interview_id": str(body.interview_id),
            "last_seq": await self._log().last_seq(body.interview_id),
        }

    async def resume(self, sid: str, data: dict[str, Any]) -> dict[str, Any]:
        """Join (again) and get every sequenced event after `after_seq`, in order. The room is
        entered before the log is read, so nothing falls in between; a live event that also
        arrives in the answer has the same seq and is dropped by the client."""
        body = events.ResumeIn.model_validate(data)
        await self._enter(sid, body.interview_id)
        missed = await self._log().since(body.interview_id, body.after_seq)
        return {
            "ok": True,
            "interview_id": str(body.interview_id),
            "events": [e.as_dict() for e in missed.events],
            "last_seq": missed.last_seq,
            "complete": missed.complete,
        }

    async def leave(self, sid: str, data: dict[str, Any]) -> dict[str, Any]:
        body = events.JoinIn.model_validate(data)
        await self.sio.leave_room(sid, events.room_name(body.interview_id))
        return {"ok": True}

    async def typing(self, sid: str, data: dict[str, Any]) -> dict[str, Any]:
        body = events.TypingIn.model_validate(data)
        room = events.room_name(body.interview_id)
        if room not in self.sio.rooms(sid):
            raise NotFound("Join the interview's room before sending to it.", code="not_in_room")
        session = await self.sio.get_session(sid)
        payload = {
            "interview_id": str(body.interview_id),
            "user_id": session["user_id"],
            "typing": body.typing,
        }
        await self.sio.emit(events.TYPING, payload, room=room, skip_sid=sid)
        return {"ok": True}


def _refusal(code: str, message: str) -> Refused:
    """The client's connect_error receives {"message": message, "data": {"code": code}}."""
    return Refused(message, {"code": code})
