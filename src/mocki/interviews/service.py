"""Interviews: creating, planning, taking answers, storing turns, ending, and reading reports.

Never commits: HTTP requests commit through their unit of work; the streaming endpoints run
their two short units of work in `mocki.interviews.streaming` (prepare before the stream,
store when it ends), so no transaction stays open while the model talks.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal

from celery import Celery
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from mocki.cache.families import INTERVIEWS, applications_changed, interviews_changed
from mocki.cache.reads import list_adapter_of, read_json, read_models
from mocki.core.errors import Conflict, Invalid, NotFound
from mocki.core.timeutil import utcnow
from mocki.documents import service as documents
from mocki.interviews import grounding, live_repository, progress, repository
from mocki.interviews.agents import planning as agent_planning
from mocki.interviews.agents.routing import default_router
from mocki.interviews.engine import (
    Context,
    InterviewEngine,
    Move,
    Plan,
    SourceLine,
    Tools,
    build_plan,
    keywords_for,
)
from mocki.interviews.engine import source_lines as split_lines
from mocki.interviews.history import History
from mocki.interviews.personas import voice_of
from mocki.interviews.schemas import (
    InterviewDetail,
    InterviewIn,
    InterviewOut,
    NoteOut,
    ReportItem,
    ReportOut,
    TurnOut,
)
from mocki.llm import usage as llm_usage
from mocki.llm.base import Usage
from mocki.models import Interview, InterviewerNote, Report, Turn
from mocki.questions import service as questions
from mocki.retrieval.service import Retriever
from mocki.settings import Settings
from mocki.tasks import routing
from mocki.tasks.names import GENERATE_REPORT

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TurnIntent:
    """What the candidate's turn was classified as, and what the engine acts on: a non-answer
    intent is acted on only when the classifier is confident, since treating an answer as "end"
    or "another topic" costs the candidate more than answering a request as if it were an answer."""

    label: str
    confidence: float

    MIN_CONFIDENCE: ClassVar[dict[str, float]] = {"end": 0.8, "change_topic": 0.7}
    DEFAULT_MIN: ClassVar[float] = 0.6

    @property
    def acted_on(self) -> str:
        if self.label in ("answer", "code_submission"):
            return "answer"
        needed = self.MIN_CONFIDENCE.get(self.label, self.DEFAULT_MIN)
        return self.label if self.confidence >= needed else "answer"

    @property
    def kind(self) -> str:
        """The stored turn's kind: "answer" (scored in the report) or the request acted on."""
        return self.acted_on


# A queued report older than this is dropped by the broker; ending again re-queues it.
REPORT_EXPIRES_S = 3600
# An interviewer turn that has not been stored after this long was lost (a crashed process);
# the candidate may answer again instead of being locked out for good.
PENDING_STALE = timedelta(seconds=180)

_default_engine = InterviewEngine(default_router())


def default_engine() -> InterviewEngine:
    return _default_engine


def build_engine(settings: Settings) -> InterviewEngine:
    """The engine a process runs interviews with: every agent, and their memories."""
    return InterviewEngine(default_router(), History.from_settings(settings))


@dataclass
class PreparedTurn:
    """Everything the stream needs once the preparing transaction has committed."""

    interview_id: uuid.UUID
    owner_id: uuid.UUID
    seq: int
    move: Move
    candidate: TurnOut | None = None
    # The engine's view after this move; the stream warms the next prompt from it.
    context: Context | None = None
    # Where the interviewer's words are remembered once said (the engine's agent memories).
    history: History | None = None
    # Set when the AI does not take this turn: the candidate's answer is stored and a human
    # interviewer has the seat (handoff.py); `move` is then a silent placeholder, never said.
    waiting_for: Literal["human"] | None = None


def _not_found() -> NotFound:
    return NotFound("Interview not found.", code="interview_not_found")


def interview_out(interview: Interview) -> InterviewOut:
    plan = interview.plan or {}
    voice = voice_of(interview.persona, interview.language)
    return InterviewOut(
        id=interview.id,
        target_role=interview.target_role,
        company=interview.company,
        resume_id=interview.resume_id,
        job_description_id=interview.job_description_id,
        kind=interview.kind,
        length=interview.length,
        persona=voice.persona,
        language=voice.language,
        status=interview.status,
        questions_asked=int(plan.get("asked", 0)),
        created_at=interview.created_at,
        ended_at=interview.ended_at,
    )


def turn_out(turn: Turn) -> TurnOut:
    return TurnOut(
        seq=turn.seq,
        speaker=turn.speaker,
        text=turn.text,
        kind=turn.kind,
        created_at=turn.created_at,
        provenance=(turn.meta or {}).get("provenance") or [],
        agent=(turn.meta or {}).get("agent"),
        data=(turn.meta or {}).get("data") or {},
        role=((turn.meta or {}).get("role") or "ai") if turn.speaker == "interviewer" else None,
    )


def note_out(note: InterviewerNote) -> NoteOut:
    return NoteOut(
        id=note.id,
        author_id=note.author_id,
        text=note.text,
        scores=dict(note.scores or {}),
        created_at=note.created_at,
    )


async def _check_document(
    session: AsyncSession, owner_id: uuid.UUID, document_id: uuid.UUID, kind: str
) -> None:
    try:
        await documents.get_ready_text(session, owner_id, document_id, kind)
    except Invalid as exc:
        # Still being extracted is fine at creation; the text is needed only at start.
        if exc.code != "document_not_ready":
            raise


async def create_interview(session: AsyncSession, owner_id: uuid.UUID, body: InterviewIn) -> InterviewOut:
    if body.resume_id is not None:
        await _check_document(session, owner_id, body.resume_id, "resume")
    if body.job_description_id is not None:
        await _check_document(session, owner_id, body.job_description_id, "job_description")
    interview = Interview(
        owner_id=owner_id,
        target_role=body.target_role,
        company=body.company.strip(),
        resume_id=body.resume_id,
        job_description_id=body.job_description_id,
        kind=body.kind,
        length=body.length,
        persona=body.persona,
        language=body.language,
        status="created",
        plan={},
    )
    session.add(interview)
    await session.flush()
    interviews_changed(session, owner_id)
    return interview_out(interview)


async def list_interviews(session: AsyncSession, owner_id: uuid.UUID) -> list[InterviewOut]:
    async def load() -> list[InterviewOut]:
        return [interview_out(i) for i in await repository.list_owned(session, owner_id)]

    # Cached (mocki.cache): every change below to an owner's interviews calls interviews_changed.
    return await read_models(session, INTERVIEWS, owner_id, InterviewOut, load)


async def list_interviews_json(session: AsyncSession, owner_id: uuid.UUID) -> bytes:
    """GET /interviews as the JSON the cache keeps (one serialisation per load, not per request)."""

    async def load() -> list[InterviewOut]:
        return [interview_out(i) for i in await repository.list_owned(session, owner_id)]

    return await read_json(session, INTERVIEWS, owner_id, list_adapter_of(InterviewOut), load)


async def get_interview(
    session: AsyncSession, owner_id: uuid.UUID, interview_id: uuid.UUID
) -> InterviewDetail:
    interview = await repository.get_owned(session, owner_id, interview_id)
    if interview is None:
        raise _not_found()
    turns = [turn_out(t) for t in await repository.turns(session, interview_id)]
    targets = progress.plan_targets(interview.plan)
    return InterviewDetail(**interview_out(interview).model_dump(), turns=turns, targets=targets)


async def delete_interview(session: AsyncSession, owner_id: uuid.UUID, interview_id: uuid.UUID) -> None:
    interview = await repository.get_owned(session, owner_id, interview_id)
    if interview is None:
        raise _not_found()
    await repository.delete_interview(session, interview)
    interviews_changed(session, owner_id)
    # An application whose prep this was names it no more (ON DELETE SET NULL).
    applications_changed(session, owner_id)


# ------------------------------------------------------------------------------ turns


def _pending_is_live(plan: Plan, now: datetime) -> bool:
    if not plan.pending:
        return False
    since = datetime.fromisoformat(str(plan.pending.get("since")))
    return now - since < PENDING_STALE


async def _sources(session: AsyncSession, interview: Interview) -> tuple[str, str, list[SourceLine]]:
    resume, job = "", ""
    lines: list[SourceLine] = []
    if interview.resume_id is not None:
        doc, resume = await documents.get_ready_text(
            session, interview.owner_id, interview.resume_id, "resume"
        )
        lines += split_lines(resume, "resume", str(doc.id))
    if interview.job_description_id is not None:
        doc, job = await documents.get_ready_text(
            session, interview.owner_id, interview.job_description_id, "job_description"
        )
        lines += split_lines(job, "job_description", str(doc.id))
    return resume, job, lines


async def _retrieved(
    session: AsyncSession, retriever: Retriever | None, interview: Interview
) -> dict[uuid.UUID, grounding.Match]:
    docs = [d for d in (interview.resume_id, interview.job_description_id) if d is not None]
    if retriever is None or not docs:
        return {}
    try:
        return await grounding.bank_matches(session, retriever, interview.owner_id, docs)
    except Exception:  # retrieval is an improvement, never a reason an interview cannot start
        log.exception("retrieval for interview %s failed; planning by keywords", interview.id)
        return {}


async def prepare_start(
    session: AsyncSession,
    owner_id: uuid.UUID,
    interview_id: uuid.UUID,
    engine: InterviewEngine = _default_engine,
    retriever: Retriever | None = None,
) -> PreparedTurn:
    """Plan the interview and choose the opening move; the opening itself is streamed after commit.

    With a retriever, bank questions close to the indexed resume and job description rank higher
    and are grounded in the chunk that matched them; without one (or before indexing finished),
    keywords do both."""
    interview = await repository.lock_owned(session, owner_id, interview_id)
    if interview is None:
        raise _not_found()
    if interview.status == "ended":
        raise Conflict("This interview has ended; start a new one.", code="interview_ended")
    if interview.status == "active":
        raise Conflict("This interview has already started; send answers to /answer.", code="already_started")
    resume, job, lines = await _sources(session, interview)
    keywords = keywords_for(interview.target_role, resume, job)
    matches = await _retrieved(session, retriever, interview)
    focus = progress.focus_for((await progress.load_progress(session, owner_id)).weak_points)
    picked = await questions.pick_questions(
        session,
        owner_id,
        kind=interview.kind,
        role=interview.target_role,
        keywords=keywords,
        n=interview.length,
        similarity={qid: m.score for qid, m in matches.items()},
        focus=focus,
    )
    if not picked:
        raise Conflict(
            "The question bank is empty, so there is nothing to ask. Seed it with `mocki db upgrade`.",
            code="no_questions",
        )
    grounds = {
        str(q.id): grounding.ground_in_chunk(matches[q.id], q.text, lines, keywords)
        for q in picked
        if q.id in matches
    }
    plan = build_plan(picked, [str(q.id) for q in picked], keywords, lines, grounds)
    progress.mark_targets(plan, focus, interview.length)
    # The specialist agents' planning (agents/planning.py): a deep dive into the resume replaces
    # one question; the knowledge agents note the job description they may quote.
    await agent_planning.prepare(session, interview, plan, lines)
    voice = voice_of(interview.persona, interview.language)
    ctx = Context(interview.target_role, interview.company, plan, voice=voice)
    move = engine.opening(ctx)
    if engine.history is not None:
        engine.history.apply(plan, move)
    seq = await repository.next_seq(session, interview_id)
    plan.pending = {"since": utcnow().isoformat(), "seq": seq}
    interview.status = "active"
    interview.plan = plan.to_json()
    await session.flush()
    interviews_changed(session, owner_id)
    return PreparedTurn(interview_id, owner_id, seq, move, context=ctx, history=engine.history)


async def prepare_answer(
    session: AsyncSession,
    owner_id: uuid.UUID,
    interview_id: uuid.UUID,
    text: str,
    engine: InterviewEngine = _default_engine,
    intent: TurnIntent | None = None,
    evidence: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
) -> PreparedTurn:
    """Store the candidate's turn and decide the next move (follow-up, next question, a reply to a
    request for clarification or a hint, or closing). Without an intent the turn is an answer.
    `meta` goes into the candidate turn's meta (a voice turn's timings: voice/bridge.py)."""
    interview = await repository.lock_owned(session, owner_id, interview_id)
    if interview is None:
        raise _not_found()
    if interview.status == "created":
        raise Conflict("This interview has not started yet; call /start first.", code="not_started")
    if interview.status == "ended":
        raise Conflict("This interview has ended; no more answers are taken.", code="interview_ended")
    plan = Plan.from_json(interview.plan)
    now = utcnow()
    if _pending_is_live(plan, now):
        raise Conflict(
            "The interviewer is still speaking; send your answer when the current turn is done.",
            code="turn_in_progress",
        )
    if interview.controller == "human":
        # A human interviewer has the seat: store the answer for them; the AI stays silent.
        stored = await store_answer_for_human(session, interview, text, meta or {}, engine)
        return PreparedTurn(
            interview_id, owner_id, stored.seq, silent_move(), candidate=stored, waiting_for="human"
        )
    if plan.finished:
        raise Conflict(
            "All questions have been asked; end the interview to get your report.", code="interview_finished"
        )
    # The last interviewer line may be a human's (handoff.py): the AI's next move answers to it.
    last_question = await repository.last_interviewer_text(session, interview_id)
    seq = await repository.next_seq(session, interview_id)
    current = plan.current
    candidate = Turn(
        interview_id=interview_id,
        seq=seq,
        speaker="candidate",
        text=text,
        question_id=uuid.UUID(current.id) if current and current.id else None,
        kind="answer" if intent is None else intent.kind,
        meta={**(meta or {}), "question_index": plan.cursor}
        | ({} if intent is None else {"intent": intent.label, "intent_confidence": intent.confidence}),
        created_at=now,
    )
    session.add(candidate)
    voice = voice_of(interview.persona, interview.language)
    ctx = Context(interview.target_role, interview.company, plan, last_question=last_question, voice=voice)
    ctx.intent = "answer" if intent is None else intent.label
    # Gathered before this transaction: it counts only if the plan has not moved on since.
    if evidence and evidence.get("question_index") == plan.cursor:
        ctx.evidence = evidence
    speaking = engine.route(current).name if current is not None else None
    move = engine.after_turn(ctx, text, "answer" if intent is None else intent.acted_on)
    if engine.history is not None:
        # The prompt gets the memory as it was before this turn: its text is in the prompt already.
        engine.history.apply(plan, move)
        if speaking is not None:
            agents = {engine.route(q).name for q in plan.questions}
            await engine.history.add(plan, speaking, "candidate", text, agents)
    plan.pending = {"since": now.isoformat(), "seq": seq + 1}
    interview.plan = plan.to_json()
    await session.flush()
    interviews_changed(session, owner_id)
    return PreparedTurn(
        interview_id,
        owner_id,
        seq + 1,
        move,
        candidate=turn_out(candidate),
        context=ctx,
        history=engine.history,
    )


def save_plan(interview: Interview, plan: Plan) -> None:
    """Store the plan, flagged as changed: `Plan.from_json` shares the agents' nested dicts with the
    loaded row, so a memory written in place would make the new value equal the "old" one and
    SQLAlchemy would skip the UPDATE."""
    interview.plan = plan.to_json()
    flag_modified(interview, "plan")


def silent_move() -> Move:
    """The move of a turn the AI does not take; run_turn never says or stores it."""
    return Move(kind="question", fallback="", messages=None, agent="human")


async def remember(
    plan: Plan, engine: InterviewEngine, speaker: Literal["candidate", "interviewer"], text: str
) -> None:
    """Put a line said while a human had the seat into the current agent's memory, so the AI's
    prompts after hand-back carry it (when memories go into prompts at all: interviews/history.py)."""
    current = plan.current
    if engine.history is None or current is None:
        return
    agents = {engine.route(q).name for q in plan.questions}
    await engine.history.add(plan, engine.route(current).name, speaker, text, agents)


async def store_answer_for_human(
    session: AsyncSession,
    interview: Interview,
    text: str,
    meta: dict[str, Any],
    engine: InterviewEngine = _default_engine,
) -> TurnOut:
    """Store a candidate turn given while a human interviewer has the seat (`interview` locked).

    The plan does not move: it is not an answer to the planned question, so the turn has no
    bank question; the report scores it under the human's question before it."""
    plan = Plan.from_json(interview.plan)
    turn = Turn(
        interview_id=interview.id,
        seq=await repository.next_seq(session, interview.id),
        speaker="candidate",
        text=text,
        question_id=None,
        kind="answer",
        meta={**meta, "question_index": plan.cursor, "answered": "human"},
        created_at=utcnow(),
    )
    session.add(turn)
    await remember(plan, engine, "candidate", text)
    save_plan(interview, plan)
    await session.flush()
    interviews_changed(session, interview.owner_id)
    return turn_out(turn)


async def gather_evidence(
    session: AsyncSession,
    owner_id: uuid.UUID,
    interview_id: uuid.UUID,
    text: str,
    intent: TurnIntent | None,
    engine: InterviewEngine,
    tools: Tools,
) -> dict[str, Any]:
    """Let the agent on the current question gather what it needs for this turn (run the code,
    find reference material) from a snapshot of the plan, before the turn's transaction.

    Read-only: the decision is taken later under the row lock, and the evidence is used only if
    the plan is still on the same question (`question_index`)."""
    interview = await repository.get_owned(session, owner_id, interview_id)
    if interview is None or interview.status != "active":
        return {}
    plan = Plan.from_json(interview.plan)
    current = plan.current
    if current is None or plan.finished:
        return {}
    voice = voice_of(interview.persona, interview.language)
    ctx = Context(interview.target_role, interview.company, plan, voice=voice)
    ctx.intent = "answer" if intent is None else intent.label
    agent = engine.route(current)
    found = await agent.gather(ctx, text, tools)
    return {"question_index": plan.cursor, **found} if found else {}


async def store_interviewer_turn(
    session: AsyncSession,
    prepared: PreparedTurn,
    text: str,
    *,
    source: str,
    usage: Usage | None = None,
    error: str | None = None,
) -> TurnOut:
    """Save what the interviewer said (model text or fallback) and the model call that produced it."""
    move = prepared.move
    meta: dict[str, Any] = {
        "provenance": move.provenance,
        "source": source,  # model | fallback | fixed
        "agent": move.agent,
        "question_index": move.question_index,
    }
    if move.reason:
        meta["reason"] = move.reason
    if move.data:
        meta["data"] = move.data
    if error:
        meta["error"] = error[:300]
    turn = Turn(
        interview_id=prepared.interview_id,
        seq=prepared.seq,
        speaker="interviewer",
        text=text,
        question_id=uuid.UUID(move.question_id) if move.question_id else None,
        kind=move.kind,
        meta=meta,
        created_at=utcnow(),
    )
    interview = await repository.lock_owned(session, prepared.owner_id, prepared.interview_id)
    if interview is None:
        # Deleted while the model was talking: nothing to attach the turn to.
        return turn_out(turn)
    session.add(turn)
    plan = Plan.from_json(interview.plan)
    if plan.pending and plan.pending.get("seq") == prepared.seq:
        plan.pending = None
    if prepared.history is not None and move.kind != "closing":
        await prepared.history.add(plan, move.agent, "interviewer", text)
    interview.plan = plan.to_json()
    interviews_changed(session, interview.owner_id)
    if usage is not None:
        llm_usage.record(
            session,
            usage,
            purpose=move.purpose,
            user_id=prepared.owner_id,
            interview_id=prepared.interview_id,
            error=error,
        )
    await session.flush()
    return turn_out(turn)


# ----------------------------------------------------------------------------- report


def report_out(report: Report, notes: Sequence[InterviewerNote] = ()) -> ReportOut:
    return ReportOut(
        status=report.status,
        overall_score=report.overall_score,
        summary=report.summary,
        items=[ReportItem.model_validate(item) for item in report.items or []],
        error=report.error,
        interviewer_notes=[note_out(n) for n in notes],
    )


async def _report_out(session: AsyncSession, report: Report) -> ReportOut:
    """The report with the human interviewers' notes, as they are now."""
    return report_out(report, await live_repository.notes(session, report.interview_id))


async def end_interview(
    session: AsyncSession, owner_id: uuid.UUID, interview_id: uuid.UUID, celery: Celery | None
) -> ReportOut:
    """End the interview and queue its report; ending again returns the report (re-queued if failed).

    With `celery=None` (the terminal) the caller generates the report itself.
    """
    interview = await repository.lock_owned(session, owner_id, interview_id)
    if interview is None:
        raise _not_found()
    report = await repository.report_for(session, interview_id)
    if interview.status == "ended" and report is not None and report.status != "failed":
        return await _report_out(session, report)
    if interview.status != "ended":
        interview.status = "ended"
        interview.ended_at = utcnow()
        plan = Plan.from_json(interview.plan)
        plan.pending = None
        interview.plan = plan.to_json()
    if report is None:
        report = Report(interview_id=interview_id, status="pending", summary="", items=[])
        session.add(report)
    else:
        report.status, report.error = "pending", None
    await session.flush()
    interviews_changed(session, owner_id)
    if celery is not None:
        routing.send_after_commit(
            session, celery, GENERATE_REPORT, [str(interview_id)], expires=REPORT_EXPIRES_S, owner_id=owner_id
        )
    return await _report_out(session, report)


async def get_report(session: AsyncSession, owner_id: uuid.UUID, interview_id: uuid.UUID) -> ReportOut:
    interview = await repository.get_owned(session, owner_id, interview_id)
    if interview is None:
        raise _not_found()
    report = await repository.report_for(session, interview_id)
    if report is None:
        raise NotFound("There is no report yet: end the interview first.", code="no_report")
    return await _report_out(session, report)


async def active_count(session: AsyncSession, idle_minutes: int = 30) -> int:
    """Interviews in progress with a turn in the last `idle_minutes` (an abandoned one stops counting)."""
    return await repository.count_active(session, utcnow() - timedelta(minutes=idle_minutes))
