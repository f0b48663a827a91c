"""HTTP endpoints of the human interviewer (interviews/handoff.py): invites, live state, take-over
and hand-back, the human's turns and notes."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status

from mocki.auth.deps import CurrentUser
from mocki.deps import SessionDep, SettingsDep
from mocki.interviews import handoff
from mocki.interviews.engine import InterviewEngine
from mocki.interviews.schemas import (
    AcceptIn,
    AcceptOut,
    HumanTurnIn,
    InviteOut,
    LiveOut,
    NoteIn,
    NoteOut,
    TurnOut,
)

router = APIRouter(tags=["interviews"])


def _engine(request: Request) -> InterviewEngine:
    engine: InterviewEngine = request.app.state.interviewer
    return engine


@router.post(
    "/interviews/{interview_id}/invites", response_model=InviteOut, status_code=status.HTTP_201_CREATED
)
async def invite(
    interview_id: uuid.UUID, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> InviteOut:
    return await handoff.create_invite(session, user.id, interview_id, settings.interview.invite_ttl_minutes)


@router.post("/invites/accept", response_model=AcceptOut)
async def accept(body: AcceptIn, user: CurrentUser, session: SessionDep) -> AcceptOut:
    return await handoff.accept_invite(session, user.id, body.code)


@router.get("/interviews/{interview_id}/live", response_model=LiveOut)
async def live(interview_id: uuid.UUID, user: CurrentUser, session: SessionDep, request: Request) -> LiveOut:
    return await handoff.live_state(session, user.id, interview_id, _engine(request))


@router.post("/interviews/{interview_id}/takeover", response_model=LiveOut)
async def takeover(
    interview_id: uuid.UUID, user: CurrentUser, session: SessionDep, request: Request
) -> LiveOut:
    return await handoff.take_over(session, user.id, interview_id, _engine(request))


@router.post("/interviews/{interview_id}/handback", response_model=LiveOut)
async def handback(
    interview_id: uuid.UUID, user: CurrentUser, session: SessionDep, request: Request
) -> LiveOut:
    return await handoff.hand_back(session, user.id, interview_id, _engine(request))


@router.post(
    "/interviews/{interview_id}/human-turn", response_model=TurnOut, status_code=status.HTTP_201_CREATED
)
async def human_turn(
    interview_id: uuid.UUID, body: HumanTurnIn, user: CurrentUser, session: SessionDep, request: Request
) -> TurnOut:
    return await handoff.human_turn(session, user.id, interview_id, body.text, engine=_engine(request))


@router.post("/interviews/{interview_id}/notes", response_model=NoteOut, status_code=status.HTTP_201_CREATED)
async def add_note(interview_id: uuid.UUID, body: NoteIn, user: CurrentUser, session: SessionDep) -> NoteOut:
    return await handoff.add_note(session, user.id, interview_id, body)


@router.get("/interviews/{interview_id}/notes", response_model=list[NoteOut])
async def notes(interview_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> list[NoteOut]:
    return await handoff.list_notes(session, user.id, interview_id)
