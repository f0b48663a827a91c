"""WebRTC signalling for voice interviews: ICE configuration, the offer/answer, hanging up."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request, Response, status

from mocki.auth.deps import CurrentUser
from mocki.core.errors import Conflict, NotFound
from mocki.deps import SessionDep, SettingsDep
from mocki.interviews import handoff
from mocki.interviews import repository as interviews
from mocki.security.ratelimit import llm_limit
from mocki.voice.schemas import AnswerOut, IceServerOut, OfferIn, RTCConfigOut

if TYPE_CHECKING:
    from mocki.voice.session import VoiceHub

router = APIRouter(prefix="/rtc", tags=["voice"])


def _hub(request: Request) -> VoiceHub:
    """The process's voice hub, made at the first call: pipecat, aiortc and the models load only
    in an api that takes calls (the lifespan closes it)."""
    hub: VoiceHub | None = request.app.state.voice
    if hub is None:
        from mocki.voice.session import VoiceHub

        hub = request.app.state.voice = VoiceHub(request.app.state.settings, request.app.state)
    return hub


@router.get("/config", response_model=RTCConfigOut)
async def config(_user: CurrentUser, settings: SettingsDep) -> RTCConfigOut:
    servers = [IceServerOut.model_validate(s.model_dump()) for s in settings.voice.ice_servers]
    return RTCConfigOut(ice_servers=servers)


@router.post(
    "/offer",
    response_model=AnswerOut,
    # A call runs the interview's model turns; a new one also loads per-call models.
    dependencies=[llm_limit("rtc.offer")],
)
async def offer(body: OfferIn, user: CurrentUser, session: SessionDep, request: Request) -> AnswerOut:
    role = await handoff.participant_role(session, user.id, body.interview_id)
    interview = await interviews.get(session, body.interview_id)
    if interview is None:
        raise NotFound("Interview not found.", code="interview_not_found")
    if interview.status == "ended":
        raise Conflict("This interview has ended; start a new one to talk again.", code="interview_ended")
    from mocki.voice.bridge import Caller  # with the hub: see _hub

    caller = Caller(
        interview_id=interview.id,
        user_id=user.id,
        owner_id=interview.owner_id,
        seat="candidate" if role == "owner" else "interviewer",
    )
    # Nothing to commit: the transaction ends before the (slower) WebRTC answer is made.
    await session.rollback()
    answer = await _hub(request).offer(caller, body.sdp, body.pc_id, body.restart_pc)
    return AnswerOut(sdp=answer.sdp, type="answer", pc_id=answer.pc_id, seat=answer.seat)


@router.delete("/{pc_id}", status_code=status.HTTP_204_NO_CONTENT)
async def hang_up(pc_id: uuid.UUID, user: CurrentUser, request: Request) -> Response:
    hub: VoiceHub | None = request.app.state.voice
    if hub is None:
        raise NotFound("No such voice connection.", code="connection_not_found")
    await hub.hang_up(user.id, str(pc_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
