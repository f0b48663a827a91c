"""The live-room event contract: names and payloads of what a room hears (docs/realtime.md).

Every room event except `typing` carries `seq`, a per-room sequence number, and is kept in the
room's bounded log (log.py) so a reconnecting client can resume after the last one it saw.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

# Server → room, sequenced and logged.
TRANSCRIPT_PARTIAL = "transcript.partial"
TRANSCRIPT_FINAL = "transcript.final"
ROLE = "role"
STATE = "state"
SCORES = "scores"
SEQUENCED = frozenset({TRANSCRIPT_PARTIAL, TRANSCRIPT_FINAL, ROLE, STATE, SCORES})

# Relayed to the rest of the room and never logged: a stale "is typing" is worth nothing after
# a reconnect, and a burst of them must not push transcript lines out of the bounded log.
TYPING = "typing"
# Who is talking in a voice call right now (voice/session.py): {"interview_id", "who":
# "candidate" | "ai" | "human" | null}. Ephemeral like `typing`, for the same reasons.
SPEAKING = "speaking"

# Client → server (answered through the Socket.IO acknowledgement).
JOIN = "join"
RESUME = "resume"
LEAVE = "leave"
CLIENT_EVENTS = frozenset({JOIN, RESUME, LEAVE, TYPING})

Speaker = Literal["candidate", "interviewer"]
InterviewerRole = Literal["system", "ai", "human"]


class JoinIn(BaseModel):
    interview_id: uuid.UUID


class ResumeIn(BaseModel):
    interview_id: uuid.UUID
    after_seq: int = Field(ge=0)


class TypingIn(BaseModel):
    interview_id: uuid.UUID
    typing: bool = True


def room_name(interview_id: uuid.UUID | str) -> str:
    return f"interview:{interview_id}"


def error_ack(code: str, message: str, **details: Any) -> dict[str, Any]:
    """The acknowledgement of a refused client event: the REST error body, plus ok=false."""
    return {"ok": False, "error": {"code": code, "message": message, "details": details or None}}


def invalid_ack(exc: ValidationError) -> dict[str, Any]:
    fields = [".".join(str(p) for p in e["loc"]) or "payload" for e in exc.errors()]
    return error_ack("invalid", f"Malformed event payload: check {', '.join(fields)}.", fields=fields)
