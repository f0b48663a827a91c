"""Human interviewers: invites, roles, taking over from the AI and handing back, notes and scores.

Roles in one interview: the owner is the candidate; an invited interviewer (who accepted a
single-use invite) may watch, take the interviewer's seat, speak and write notes. Anyone else
gets `interview_not_found`, exactly as for any interview they do not own; a participant asking
for what their role may not do gets 403 (`owner_only` / `interviewer_only`). The endpoints that
existed before (detail, start, answer, end, report, delete) stay the owner's: to an invited
interviewer they answer 404 like to anyone else.

Who speaks is `interviews.controller`: "ai" (the engine) or "human". While a human has the seat,
the candidate's answers are stored and the AI says nothing; the human's lines are interviewer
turns with `meta.role = "human"`. The plan does not move on a human's question: after the
hand-back the AI goes on with its current planned question, and its next move's prompt starts
from the last interviewer line, which is the human's, with the candidate's answer to it; the
lines said meanwhile also go into the agent's memory (interviews/history.py).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mocki.core.db import after_commit_async, session_scope
from mocki.core.errors import Conflict, Forbidden, Gone, NotFound
from mocki.core.timeutil import utcnow
from mocki.interviews import live_repository, repository, service
from mocki.interviews.engine import InterviewEngine, Plan
from mocki.interviews.schemas import (
    AcceptOut,
    InviteOut,
    LiveOut,
    NoteIn,
    NoteOut,
    ParticipantOut,
    SuggestionOut,
    TurnOut,
)
from mocki.models import Interview, InterviewerNote, InterviewInvite, InterviewParticipant, Turn
from mocki.realtime import emit as rooms
from mocki.realtime import events
from mocki.security import audit
from mocki.users import repository as users

Role = Literal["owner", "interviewer"]
Controller = Literal["ai", "human"]

# 24 random bytes: 192 bits, past guessing; only its SHA-256 is stored.
CODE_BYTES = 24


def _not_found() -> NotFound:
    return NotFound("Interview not found.", code="interview_not_found")


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


async def _role_in(session: AsyncSession, user_id: uuid.UUID, interview: Interview) -> Role:
    if interview.owner_id == user_id:
        return "owner"
    if await live_repository.participant(session, interview.id, user_id) is not None:
        return "interviewer"
    raise _not_found()


async def participant_role(session: AsyncSession, user_id: uuid.UUID, interview_id: uuid.UUID) -> Role:
    """The user's role in the interview; NotFound when they have none (not theirs, not invited)."""
    interview = await repository.get(session, interview_id)
    if interview is None:
        raise _not_found()
    return await _role_in(session, user_id, interview)


async def controller_of(session: AsyncSession, interview_id: uuid.UUID) -> Controller:
    interview = await repository.get(session, interview_id)
    if interview is None:
        raise _not_found()
    return "human" if interview.controller == "human" else "ai"


async def _locked_as(
    session: AsyncSession, user_id: uuid.UUID, interview_id: uuid.UUID, wanted: Role
) -> Interview:
    """The interview, locked, when the user has the `wanted` role in it (checked before locking:
    someone without a role must not even touch the row)."""
    role = await participant_role(session, user_id, interview_id)
    if role != wanted:
        if wanted == "owner":
            raise Forbidden("Only the interview's owner can do this.", code="owner_only")
        raise Forbidden("Only an invited interviewer can do this.", code="interviewer_only")
    interview = await live_repository.lock(session, interview_id)
    if interview is None:  # deleted in between
        raise _not_found()
    return interview


def _require_active(interview: Interview) -> None:
    if interview.status == "created":
        raise Conflict("The interview has not started yet; the candidate starts it.", code="not_started")
    if interview.status == "ended":
        raise Conflict("This interview has ended.", code="interview_ended")


# ------------------------------------------------------------------------------------ invites


async def create_invite(
    session: AsyncSession, owner_id: uuid.UUID, interview_id: uuid.UUID, ttl_minutes: int
) -> InviteOut:
    interview = await _locked_as(session, owner_id, interview_id, "owner")
    if interview.status == "ended":
        raise Conflict("This interview has ended; nobody can join it now.", code="interview_ended")
    code = secrets.token_urlsafe(CODE_BYTES)
    expires = utcnow() + timedelta(minutes=ttl_minutes)
    session.add(
        InterviewInvite(
            interview_id=interview.id, code_hash=_hash(code), created_by=owner_id, expires_at=expires
        )
    )
    audit.record(session, owner_id, audit.INVITE_CREATED, target_type="interview", target_id=interview.id)
    await session.flush()
    return InviteOut(code=code, url=f"/join/{code}", expires_at=expires)


async def accept_invite(session: AsyncSession, user_id: uuid.UUID, code: str) -> AcceptOut:
    invite = await live_repository.invite_by_hash(session, _hash(code.strip()))
    if invite is None:
        raise NotFound("This invite link is not valid; ask for a new one.", code="invite_not_found")
    interview = await repository.get(session, invite.interview_id)
    if interview is None:
        raise NotFound("This invite link is not valid; ask for a new one.", code="invite_not_found")
    if interview.owner_id == user_id:
        raise Conflict("This is your own interview: send the link to your interviewer.", code="own_interview")
    now = utcnow()
    if invite.used_by is not None:
        raise Gone("This invite link was used already; ask for a new one.", code="invite_used")
    if invite.expires_at <= now:
        raise Gone("This invite link has expired; ask for a new one.", code="invite_expired")
    if interview.status == "ended":
        raise Conflict("This interview has ended.", code="interview_ended")
    if await live_repository.participant(session, interview.id, user_id) is not None:
        # Already in: the link stays unused, for someone else.
        return AcceptOut(interview_id=interview.id, role="interviewer")
    if not await live_repository.claim_invite(session, invite.id, user_id, now):
        raise Gone("This invite link was used already; ask for a new one.", code="invite_used")
    session.add(
        InterviewParticipant(interview_id=interview.id, user_id=user_id, role="interviewer", joined_at=now)
    )
    audit.record(session, user_id, audit.INVITE_ACCEPTED, target_type="interview", target_id=interview.id)
    await session.flush()
    return AcceptOut(interview_id=interview.id, role="interviewer")


# --------------------------------------------------------------------------------- live state


def suggestion(plan: Plan, engine: InterviewEngine) -> SuggestionOut | None:
    """What the AI would ask next: the next planned question (null once only the closing is left).

    Taken from the plan as it stands, no model call and nothing stored; the AI itself may still
    ask a follow-up on the current question first."""
    if plan.finished:
        return None
    index = plan.cursor + 1
    if not 0 <= index < len(plan.questions):
        return None
    question = plan.questions[index]
    return SuggestionOut(text=question.text, question_index=index, agent=engine.route(question).name)


async def _participants(session: AsyncSession, interview: Interview) -> list[ParticipantOut]:
    seats: list[tuple[uuid.UUID, Role]] = [(interview.owner_id, "owner")]
    seats += [(p.user_id, "interviewer") for p in await live_repository.participants(session, interview.id)]
    out = []
    for user_id, role in seats:
        user = await users.get(session, user_id)
        if user is not None and user.is_active:
            out.append(ParticipantOut(user_id=user_id, role=role, email=user.email))
    return out


async def _live(session: AsyncSession, interview: Interview, role: Role, engine: InterviewEngine) -> LiveOut:
    interviewer = role == "interviewer"
    notes = await live_repository.notes(session, interview.id) if interviewer else []
    return LiveOut(
        interview_id=interview.id,
        status=interview.status,
        controller="human" if interview.controller == "human" else "ai",
        you=role,
        participants=await _participants(session, interview),
        turns=[service.turn_out(t) for t in await repository.turns(session, interview.id)],
        suggestion=suggestion(Plan.from_json(interview.plan), engine) if interviewer else None,
        notes=[service.note_out(n) for n in notes],
    )


async def live_state(
    session: AsyncSession, user_id: uuid.UUID, interview_id: uuid.UUID, engine: InterviewEngine
) -> LiveOut:
    interview = await repository.get(session, interview_id)
    if interview is None:
        raise _not_found()
    return await _live(session, interview, await _role_in(session, user_id, interview), engine)


def _announce_role(session: AsyncSession, interview_id: uuid.UUID, controller: Controller) -> None:
    async def send() -> None:
        await rooms.best_effort(rooms.current(), interview_id, events.ROLE, {"role": controller})

    after_commit_async(session, send)


async def _set_controller(
    session: AsyncSession,
    user_id: uuid.UUID,
    interview_id: uuid.UUID,
    controller: Controller,
    engine: InterviewEngine,
) -> LiveOut:
    interview = await _locked_as(session, user_id, interview_id, "interviewer")
    if controller == "human":
        _require_active(interview)
    if interview.controller != controller:
        interview.controller = controller
        await session.flush()
        _announce_role(session, interview.id, controller)
    return await _live(session, interview, "interviewer", engine)


async def take_over(
    session: AsyncSession, user_id: uuid.UUID, interview_id: uuid.UUID, engine: InterviewEngine
) -> LiveOut:
    """The human takes the seat; an AI line being spoken now is still finished and stored."""
    return await _set_controller(session, user_id, interview_id, "human", engine)


async def hand_back(
    session: AsyncSession, user_id: uuid.UUID, interview_id: uuid.UUID, engine: InterviewEngine
) -> LiveOut:
    """The AI has the seat again and answers the candidate's next turn."""
    return await _set_controller(session, user_id, interview_id, "ai", engine)


# ------------------------------------------------------------------------------------ turns


def _broadcast(
    session: AsyncSession, interview_id: uuid.UUID, speaker: str, role: str | None, turn: TurnOut
) -> None:
    data = turn.model_dump(mode="json")

    async def send() -> None:
        await rooms.transcript_final(interview_id, speaker, role, data)

    after_commit_async(session, send)


async def human_turn(
    session: AsyncSession,
    interviewer_id: uuid.UUID,
    interview_id: uuid.UUID,
    text: str,
    meta: dict[str, Any] | None = None,
    engine: InterviewEngine | None = None,
) -> TurnOut:
    """Store what the human interviewer says (409 `not_in_control` unless they have the seat)."""
    interview = await _locked_as(session, interviewer_id, interview_id, "interviewer")
    _require_active(interview)
    if interview.controller != "human":
        raise Conflict("Take over from the AI first (POST /takeover).", code="not_in_control")
    plan = Plan.from_json(interview.plan)
    if service._pending_is_live(plan, utcnow()):
        raise Conflict("The AI is finishing its line; speak when it is stored.", code="turn_in_progress")
    turn = Turn(
        interview_id=interview.id,
        seq=await repository.next_seq(session, interview.id),
        speaker="interviewer",
        text=text,
        question_id=None,
        # A question of the human's own: the report scores the answers to it under it.
        kind="question",
        meta={
            **(meta or {}),
            "role": "human",
            "agent": "human",
            "source": "human",
            "author_id": str(interviewer_id),
        },
        created_at=utcnow(),
    )
    session.add(turn)
    await service.remember(plan, engine or service.default_engine(), "interviewer", text)
    service.save_plan(interview, plan)
    await session.flush()
    out = service.turn_out(turn)
    _broadcast(session, interview.id, "interviewer", "human", out)
    return out


async def candidate_answer(
    session: AsyncSession,
    owner_id: uuid.UUID,
    interview_id: uuid.UUID,
    text: str,
    meta: dict[str, Any] | None = None,
    engine: InterviewEngine | None = None,
) -> TurnOut:
    """Store the candidate's turn while a human has the seat (409 `ai_in_control` otherwise: then
    the turn goes through the AI, streaming.open_answer)."""
    interview = await repository.lock_owned(session, owner_id, interview_id)
    if interview is None:
        raise _not_found()
    _require_active(interview)
    if interview.controller != "human":
        raise Conflict("The AI has the interviewer's seat; answer through it.", code="ai_in_control")
    if service._pending_is_live(Plan.from_json(interview.plan), utcnow()):
        raise Conflict(
            "The interviewer is still speaking; answer when the current turn is done.",
            code="turn_in_progress",
        )
    out = await service.store_answer_for_human(
        session, interview, text, meta or {}, engine or service.default_engine()
    )
    _broadcast(session, interview.id, "candidate", None, out)
    return out


# The voice pipeline's entry points: each its own unit of work, the room told after the commit.


async def record_candidate_answer(
    factory: async_sessionmaker[AsyncSession],
    owner_id: uuid.UUID,
    interview_id: uuid.UUID,
    text: str,
    meta: dict[str, Any],
    *,
    engine: InterviewEngine | None = None,
) -> TurnOut:
    async with session_scope(factory) as session:
        return await candidate_answer(session, owner_id, interview_id, text, meta, engine)


async def record_human_turn(
    factory: async_sessionmaker[AsyncSession],
    interviewer_id: uuid.UUID,
    interview_id: uuid.UUID,
    text: str,
    meta: dict[str, Any],
    *,
    engine: InterviewEngine | None = None,
) -> TurnOut:
    async with session_scope(factory) as session:
        return await human_turn(session, interviewer_id, interview_id, text, meta, engine)


# ------------------------------------------------------------------------------------ notes


async def add_note(
    session: AsyncSession, interviewer_id: uuid.UUID, interview_id: uuid.UUID, body: NoteIn
) -> NoteOut:
    """A note with optional 1-5 scores; allowed after the interview ended too (final impressions)."""
    interview = await _locked_as(session, interviewer_id, interview_id, "interviewer")
    note = InterviewerNote(
        interview_id=interview.id,
        author_id=interviewer_id,
        text=body.text,
        scores=dict(body.scores),
        created_at=utcnow(),
    )
    session.add(note)
    await session.flush()
    return service.note_out(note)


async def list_notes(session: AsyncSession, user_id: uuid.UUID, interview_id: uuid.UUID) -> list[NoteOut]:
    """The owner and every invited interviewer read all the notes."""
    await participant_role(session, user_id, interview_id)
    return [service.note_out(n) for n in await live_repository.notes(session, interview_id)]
