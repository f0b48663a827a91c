"""Request and response bodies of the WebRTC signalling endpoints (voice/router.py)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field


class IceServerOut(BaseModel):
    urls: list[str]
    username: str | None = None
    credential: str | None = None


class RTCConfigOut(BaseModel):
    ice_servers: list[IceServerOut]


class OfferIn(BaseModel):
    interview_id: uuid.UUID
    # Non-trickle: the offer carries every ICE candidate (the client waits for gathering).
    sdp: str = Field(min_length=1, max_length=100_000)
    type: Literal["offer"] = "offer"
    # An existing connection of this caller: renegotiate it instead of opening another.
    pc_id: str | None = Field(default=None, max_length=200)
    restart_pc: bool = False


class AnswerOut(BaseModel):
    sdp: str
    type: Literal["answer"]
    pc_id: str
    seat: Literal["candidate", "interviewer"]
