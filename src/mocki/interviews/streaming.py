"""One interviewer turn as a stream: prepare (commit), let the model talk, store the turn (commit).

The HTTP endpoints and the terminal interview both consume `run_turn`. Nothing here holds a
transaction open while the model is generating, and whatever happens to the model or the
client, an interviewer turn is stored so the interview can go on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mocki.core.db import session_scope
from mocki.core.errors import NotFound
from mocki.interviews import handoff, service
from mocki.interviews.engine import InterviewEngine, StreamGuard, Tools, finalize, warm_messages
from mocki.interviews.intents import IntentClassifier
from mocki.interviews.prompts import STOP
from mocki.interviews.schemas import TurnOut
from mocki.llm.base import LLM, LLMError, Usage
from mocki.llm.cache import scoped
from mocki.realtime import emit as rooms
from mocki.retrieval.service import Retriever

log = logging.getLogger(__name__)

# The whole model call for one turn, retries included; past this the fallback is said.
TURN_TIMEOUT_S = 90.0
# Everything an agent gathers for one turn (a sandbox run of visible and hidden tests, a search).
GATHER_TIMEOUT_S = 30.0
TEMPERATURE = 0.3

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@dataclass
class TurnEvent:
    """One event of a turn: turn | token | done | error, with the data the contract names."""

    name: str
    data: dict[str, Any]


@dataclass
class TurnStats:
    """Timings of one streamed turn, for the benchmark and logs (not sent to clients)."""

    first_token_s: float | None = None
    latency_s: float = 0.0
    usage: Usage | None = None
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def format_sse(event: TurnEvent) -> bytes:
    # json.dumps escapes newlines, so one data line always carries the whole payload.
    payload = json.dumps(event.data, default=str, separators=(",", ":"), ensure_ascii=False)
    return f"event: {event.name}\ndata: {payload}\n\n".encode()


async def sse_bytes(events: AsyncIterator[TurnEvent]) -> AsyncIterator[bytes]:
    async for event in events:
        yield format_sse(event)


async def open_start(
    factory: async_sessionmaker[AsyncSession],
    owner_id: uuid.UUID,
    interview_id: uuid.UUID,
    engine: InterviewEngine | None = None,
    retriever: Retriever | None = None,
) -> service.PreparedTurn:
    async with session_scope(factory) as session:
        if engine is None:
            return await service.prepare_start(session, owner_id, interview_id, retriever=retriever)
        return await service.prepare_start(session, owner_id, interview_id, engine, retriever)


async def classify(intents: IntentClassifier | None, text: str) -> service.TurnIntent | None:
    """The candidate turn's intent; None (an answer) when there is no classifier or it failed."""
    if intents is None:
        return None
    try:
        result = await intents.classify(text)
    except Exception:  # classifying is a refinement: the turn is then taken as an answer
        log.exception("intent classification failed; taking the turn as an answer")
        return None
    return service.TurnIntent(result.intent, result.confidence)


@dataclass(frozen=True)
class Gathered:
    """What a candidate turn is checked and looked up with before its transaction. Nothing in it
    is stored, so it can be made while the candidate may still go on, and thrown away."""

    text: str
    intent: service.TurnIntent | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


async def gather_answer(
    factory: async_sessionmaker[AsyncSession],
    owner_id: uuid.UUID,
    interview_id: uuid.UUID,
    text: str,
    engine: InterviewEngine | None = None,
    intents: IntentClassifier | None = None,
    retriever: Retriever | None = None,
) -> Gathered:
    """Classify the turn and let the current agent gather its evidence (read-only)."""
    engine = engine or service.default_engine()
    # While a human has the seat the AI neither classifies nor gathers: nobody acts on it.
    # (Checked again under the lock; a hand-back in between takes the turn as a plain answer.)
    if await _human_has_seat(factory, interview_id):
        return Gathered(text)
    intent = await classify(intents, text)
    tools = Tools(owner_id, retriever, factory)
    evidence = await gather(factory, owner_id, interview_id, text, intent, engine, tools)
    return Gathered(text, intent, evidence)


async def open_answer(
    factory: async_sessionmaker[AsyncSession],
    owner_id: uuid.UUID,
    interview_id: uuid.UUID,
    text: str,
    engine: InterviewEngine | None = None,
    intents: IntentClassifier | None = None,
    retriever: Retriever | None = None,
    meta: dict[str, Any] | None = None,
    gathered: Gathered | None = None,
) -> service.PreparedTurn:
    """Store the candidate turn and decide the next move. `gathered`: this text's classification
    and evidence made beforehand (a voice turn's, during its resume grace); made here otherwise."""
    # Classified and gathered before the transaction: no row lock is held while the model looks
    # at the text, the sandbox runs the candidate's code or retrieval searches references.
    engine = engine or service.default_engine()
    if gathered is None or gathered.text != text:
        gathered = await gather_answer(factory, owner_id, interview_id, text, engine, intents, retriever)
    async with session_scope(factory) as session:
        return await service.prepare_answer(
            session, owner_id, interview_id, text, engine, gathered.intent, gathered.evidence, meta
        )


async def _human_has_seat(factory: async_sessionmaker[AsyncSession], interview_id: uuid.UUID) -> bool:
    async with session_scope(factory) as session:
        try:
            return await handoff.controller_of(session, interview_id) == "human"
        except NotFound:
            return False  # prepare_answer says so, with the owner check


async def gather(
    factory: async_sessionmaker[AsyncSession],
    owner_id: uuid.UUID,
    interview_id: uuid.UUID,
    text: str,
    intent: service.TurnIntent | None,
    engine: InterviewEngine,
    tools: Tools,
) -> dict[str, Any]:
    """The current agent's evidence for this turn; {} when it has none, fails or takes too long
    (the agent then decides without it, as if nothing had been gathered)."""
    try:
        async with asyncio.timeout(GATHER_TIMEOUT_S):
            async with session_scope(factory) as session:
                return await service.gather_evidence(
                    session, owner_id, interview_id, text, intent, engine, tools
                )
    except Exception:
        log.exception("interview %s: gathering evidence failed; deciding without it", interview_id)
        return {}


async def _store(
    factory: async_sessionmaker[AsyncSession],
    prepared: service.PreparedTurn,
    text: str,
    source: str,
    usage: Usage | None,
    error: str | None,
) -> TurnOut:
    async with session_scope(factory) as session:
        return await service.store_interviewer_turn(
            session, prepared, text, source=source, usage=usage, error=error
        )


# Strong references to running warm-ups: the event loop keeps only weak ones.
_warming: set[asyncio.Task[None]] = set()


def _warm_next(llm: LLM, prepared: service.PreparedTurn, spoken: str) -> None:
    """While the candidate reads and types, let the model evaluate the next prompt's known part."""
    if prepared.context is None:
        return
    messages = warm_messages(replace(prepared.context, last_question=spoken))
    if messages is None:
        return
    task = asyncio.get_running_loop().create_task(llm.prewarm(messages))
    _warming.add(task)
    task.add_done_callback(_warming.discard)


async def settle_warmups() -> None:
    """Wait for warm-ups in flight (the benchmark's stand-in for the candidate's typing time)."""
    if _warming:
        await asyncio.gather(*list(_warming), return_exceptions=True)


# Live rooms (realtime/emit.py): every event of the turn also reaches the interview's room.
@rooms.relayed
async def run_turn(
    factory: async_sessionmaker[AsyncSession],
    llm: LLM,
    prepared: service.PreparedTurn,
    stats: TurnStats | None = None,
) -> AsyncIterator[TurnEvent]:
    """Yield turn → token* → (error) → done; the interviewer turn is stored before "done".

    While a human interviewer has the seat (`prepared.waiting_for`): turn → done with no
    interviewer turn (`{"turn": null, "finished": false, "waiting_for": "human"}`)."""
    if prepared.waiting_for is not None:
        if prepared.candidate is not None:
            yield TurnEvent("turn", prepared.candidate.model_dump(mode="json"))
        yield TurnEvent("done", {"turn": None, "finished": False, "waiting_for": prepared.waiting_for})
        return
    # Cached answers are this candidate's own: a turn may quote their resume or their words.
    llm = scoped(llm, str(prepared.owner_id))
    stats = stats or TurnStats()
    started = time.perf_counter()
    move = prepared.move
    stored = False
    spoken = move.fallback
    source = "fixed" if move.messages is None else "fallback"
    usage: Usage | None = None
    error: str | None = None
    try:
        if prepared.candidate is not None:
            yield TurnEvent("turn", prepared.candidate.model_dump(mode="json"))
        if move.messages is None:
            stats.first_token_s = time.perf_counter() - started
            yield TurnEvent("token", {"text": spoken})
        else:
            stream = llm.stream(move.messages, max_tokens=move.max_tokens, temperature=TEMPERATURE, stop=STOP)
            usage = stream.usage
            guard = StreamGuard()
            try:
                async with asyncio.timeout(TURN_TIMEOUT_S):
                    async for delta in stream:
                        visible = guard.feed(delta)
                        if visible:
                            if stats.first_token_s is None:
                                stats.first_token_s = time.perf_counter() - started
                            yield TurnEvent("token", {"text": visible})
            except (LLMError, TimeoutError) as exc:
                error = str(exc) or "The model took too long to answer."
                log.warning(
                    "interview %s turn %s: model failed: %s", prepared.interview_id, prepared.seq, error
                )
                yield TurnEvent(
                    "error",
                    {
                        "code": "llm_unavailable",
                        "message": "The model did not answer; going on with the planned question.",
                    },
                )
            text = None if error else finalize(guard.raw, move)
            if text is not None:
                spoken, source = text, "model"
            else:
                if not error and guard.sent:
                    log.info(
                        "interview %s turn %s: model text unusable, said the fallback",
                        prepared.interview_id,
                        prepared.seq,
                    )
                if not guard.sent:
                    # Nothing was shown yet: stream the fallback too, so a client that renders
                    # tokens always has the interviewer's words before "done".
                    if stats.first_token_s is None:
                        stats.first_token_s = time.perf_counter() - started
                    yield TurnEvent("token", {"text": spoken})
        turn = await _store(factory, prepared, spoken, source, usage, error)
        stored = True
        _warm_next(llm, prepared, spoken)
        stats.latency_s = time.perf_counter() - started
        stats.usage, stats.source = usage, source
        yield TurnEvent("done", {"turn": turn.model_dump(mode="json"), "finished": move.finished})
    except Exception:
        log.exception("interview %s turn %s failed", prepared.interview_id, prepared.seq)
        yield TurnEvent(
            "error", {"code": "internal_error", "message": "This turn failed; reload the interview."}
        )
    finally:
        if not stored:
            # The client went away or something broke mid-stream: still store a usable turn, so
            # the interview is not left waiting for an interviewer line that never comes.
            try:
                await asyncio.shield(
                    _store(factory, prepared, move.fallback, "fallback", usage, error or "stream interrupted")
                )
            except Exception:
                log.exception("interview %s: could not store the fallback turn", prepared.interview_id)
