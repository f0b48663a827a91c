"""The voice pipeline's link to the interview engine: a spoken answer in, the interviewer's reply out.

Sits after end-of-turn detection and before TTS (voice/session.py). It gathers the transcript
segments of one user turn, and when the turn ends runs it through the same engine as a typed
answer (`streaming.open_answer` + `run_turn`, which store the turns and relay them to the live
room), pushing the reply's text downstream as it streams so TTS speaks it sentence by sentence.
While a human interviewer holds the seat the AI stays silent and the answer is only stored
(`handoff.record_candidate_answer`); a human interviewer's own words are stored as their turns.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    CancelFrame,
    EndFrame,
    Frame,
    InterruptionFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    StartFrame,
    TranscriptionFrame,
    TTSSpeakFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mocki.core.db import session_scope
from mocki.core.errors import DomainError
from mocki.interviews import service, streaming
from mocki.interviews.engine import InterviewEngine
from mocki.interviews.intents import IntentClassifier
from mocki.llm.base import LLM
from mocki.retrieval.service import Retriever
from mocki.voice.services import SegmentDoneFrame, SegmentResult

log = logging.getLogger(__name__)

Seat = Literal["candidate", "interviewer"]
Speaker = Literal["candidate", "ai", "human"]

# What the AI says when the engine refuses a spoken turn; the REST messages name endpoints.
SPOKEN_REFUSALS = {
    "interview_ended": "This interview has ended. You can read your report now.",
    "interview_finished": "That was my last question. End the interview to get your report.",
    "turn_in_progress": "One moment please, I am still finishing my last question.",
    "not_started": "The interview has not started yet.",
    "no_questions": "There are no questions to ask yet. The question bank is empty.",
}
FAILED_LINE = "Sorry, something went wrong on my side. Please say that again."


@dataclass(frozen=True)
class Engine:
    """The api's interview objects (app.state) a voice turn runs with."""

    sessionmaker: async_sessionmaker[AsyncSession]
    interviewer: InterviewEngine
    llm: LLM
    intents: IntentClassifier | None = None
    retriever: Retriever | None = None

    @classmethod
    def from_state(cls, state: Any) -> Engine:
        return cls(state.sessionmaker, state.interviewer, state.llm, state.intents, state.retriever)


@dataclass(frozen=True)
class Caller:
    interview_id: uuid.UUID
    user_id: uuid.UUID
    owner_id: uuid.UUID
    seat: Seat

    @property
    def speaker(self) -> Speaker:
        return "candidate" if self.seat == "candidate" else "human"


@dataclass
class Segment:
    """One stretch of speech between a VAD start and stop, and what STT made of it."""

    started_at: float | None = None  # epoch seconds, as the VAD places the speech
    ended_at: float | None = None
    text: str = ""
    stt_s: float = 0.0
    audio_s: float = 0.0
    done: bool = False


@dataclass
class SpokenTurn:
    """The segments of one user turn, in order."""

    segments: list[Segment]

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments if s.text).strip()

    def meta(self) -> dict[str, Any]:
        def iso(ts: float | None) -> str | None:
            return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()

        spoken = [s for s in self.segments if s.started_at is not None and s.ended_at is not None]
        speech_s = sum(max(0.0, (s.ended_at or 0.0) - (s.started_at or 0.0)) for s in spoken)
        return {
            "speech_s": round(speech_s, 2),
            "voice": {
                "speech_started_at": iso(spoken[0].started_at if spoken else None),
                "speech_ended_at": iso(spoken[-1].ended_at if spoken else None),
                "stt_s": round(sum(s.stt_s for s in self.segments), 3),
                "audio_s": round(sum(s.audio_s for s in self.segments), 2),
            },
        }


class TurnAssembler:
    """Groups numbered speech segments into turns.

    End of turn (UserStoppedSpeakingFrame) closes the segments the VAD has ended so far. The
    turn is released once each of them is transcribed (which can be after end-of-turn fired:
    the strategy may take an earlier segment's transcript for the last one's) and `grace_s` has
    passed since its speech ended: a candidate who goes on within it was pausing mid-answer,
    and the turn is reopened instead of being cut in two."""

    def __init__(self, grace_s: float = 0.0) -> None:
        self.grace_s = grace_s
        self._segments: dict[int, Segment] = {}
        self._ended = 0  # segments the VAD has ended; the next one to start is _ended + 1
        self._open_from = 1  # first segment of the turn being spoken
        self._closing: list[tuple[int, int]] = []
        self._in_segment = False

    def speech_started(self, at: float) -> None:
        self._segment(self._ended + 1).started_at = at
        self._in_segment = True
        if self._closing:
            # Not released yet, so not answered: the answer goes on.
            self._open_from, _ = self._closing.pop()

    def speech_stopped(self, at: float) -> None:
        self._ended += 1
        self._segment(self._ended).ended_at = at
        self._in_segment = False

    def transcribed(self, result: SegmentResult, text: str) -> None:
        segment = self._segment(result.index)
        segment.text = f"{segment.text} {text}".strip()
        segment.stt_s += result.stt_s
        segment.audio_s += result.audio_s

    def segment_done(self, index: int) -> None:
        self._segment(index).done = True

    def turn_ended(self) -> None:
        # An end of turn decided while the user speaks again is stale (Smart-Turn's verdict on
        # the last pause arrived after the VAD heard them go on): the answer continues.
        if self._in_segment:
            return
        if self._ended >= self._open_from:
            self._closing.append((self._open_from, self._ended))
            self._open_from = self._ended + 1

    def release_at(self) -> float | None:
        """When the next closed turn may be released (epoch seconds), if one is waiting."""
        if not self._closing:
            return None
        _, last = self._closing[0]
        return (self._segment(last).ended_at or 0.0) + self.grace_s

    def ready(self, now: float) -> list[SpokenTurn]:
        ready: list[SpokenTurn] = []
        while self._closing:
            first, last = self._closing[0]
            indexes = range(first, last + 1)
            if not all(self._segment(i).done for i in indexes) or now < (self.release_at() or 0.0):
                break
            self._closing.pop(0)
            ready.append(SpokenTurn([self._segments.pop(i) for i in indexes]))
        return ready

    def _segment(self, index: int) -> Segment:
        return self._segments.setdefault(index, Segment())


# Tells the room who is speaking (realtime.emit.ephemeral "speaking"); injected for unit tests.
SpeakingHook = Callable[[Speaker | None], Awaitable[None]]


class InterviewBridge(FrameProcessor):
    def __init__(
        self,
        engine: Engine,
        caller: Caller,
        speaking: SpeakingHook,
        *,
        resume_grace_s: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._engine = engine
        self._caller = caller
        self._speaking = speaking
        self._turns = TurnAssembler(resume_grace_s)
        self._release_timer: asyncio.Task[None] | None = None
        self._work: asyncio.Queue[Callable[[], Awaitable[None]]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._interrupted = False
        self._replying = False
        # Stored voice turns of this call, for logs and the benchmark.
        self.turns_done = 0
        self.last_reply_started: float | None = None

    # ---------------------------------------------------------------- frames

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, StartFrame):
            await self.push_frame(frame, direction)
            self._worker = self.create_task(self._run_work(), "interview-turns")
            return
        if isinstance(frame, (EndFrame, CancelFrame)):
            await self._stop_work()
            await self.push_frame(frame, direction)
            return
        if isinstance(frame, TranscriptionFrame):
            if isinstance(frame.result, SegmentResult):
                self._turns.transcribed(frame.result, frame.text)
            return  # the engine gets the whole turn, not its pieces
        if isinstance(frame, SegmentDoneFrame):
            self._turns.segment_done(frame.index)
            self._release()
            return
        if isinstance(frame, VADUserStartedSpeakingFrame) and direction == FrameDirection.DOWNSTREAM:
            self._turns.speech_started(time.time() - frame.start_secs)
        elif isinstance(frame, VADUserStoppedSpeakingFrame) and direction == FrameDirection.DOWNSTREAM:
            self._turns.speech_stopped(time.time() - frame.stop_secs)
        elif isinstance(frame, UserStartedSpeakingFrame):
            await self._speaking(self._caller.speaker)
        elif isinstance(frame, UserStoppedSpeakingFrame):
            await self._speaking(None)
            self._turns.turn_ended()
            self._release()
        elif isinstance(frame, InterruptionFrame):
            # Barge-in: what the reply has not said yet is dropped (TTS and the output transport
            # drop what they hold); the engine still stores the whole reply.
            if self._replying:
                self._interrupted = True
        elif isinstance(frame, BotStartedSpeakingFrame) and direction == FrameDirection.UPSTREAM:
            await self._speaking("ai")
        elif isinstance(frame, BotStoppedSpeakingFrame) and direction == FrameDirection.UPSTREAM:
            await self._speaking(None)
        await self.push_frame(frame, direction)

    def _release(self) -> None:
        """Hand the turns that are complete to the engine; check again when the grace ends."""
        now = time.time()
        self._take(self._turns.ready(now))
        at = self._turns.release_at()
        # Only a grace still running needs a timer; a missing transcript arrives as a frame.
        if at is not None and at > now and (self._release_timer is None or self._release_timer.done()):
            self._release_timer = self.create_task(self._release_later(at), "release-turn")

    async def _release_later(self, at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.time()) + 0.01)
        self._release_timer = None
        self._release()

    def _take(self, turns: list[SpokenTurn]) -> None:
        for turn in turns:
            text, meta = turn.text, turn.meta()
            if not text:
                continue  # noise, or speech Whisper heard no words in
            handle = self._candidate_turn if self._caller.seat == "candidate" else self._interviewer_line
            self._work.put_nowait(functools.partial(handle, text, meta))

    def greet(self) -> None:
        """On connect: open the interview, or repeat where it stands (candidate seat only)."""
        if self._caller.seat == "candidate":
            self._work.put_nowait(self._greeting)

    # ---------------------------------------------------------------- the interview

    async def _run_work(self) -> None:
        """One turn at a time, in order: an answer given while the reply is still being stored
        waits for it, instead of being refused as `turn_in_progress`."""
        while True:
            job = await self._work.get()
            try:
                await job()
            except DomainError as exc:
                log.info("interview %s: voice turn refused: %s", self._caller.interview_id, exc.code)
                await self._say(SPOKEN_REFUSALS.get(exc.code, exc.message))
            except Exception:
                log.exception("interview %s: voice turn failed", self._caller.interview_id)
                await self._say(FAILED_LINE)

    async def _stop_work(self) -> None:
        if self._release_timer is not None:
            await self.cancel_task(self._release_timer)
            self._release_timer = None
        if self._worker is not None:
            worker, self._worker = self._worker, None
            # A turn being stored finishes first (run_turn stores a fallback if it is cut short).
            await self.cancel_task(worker, timeout=5.0)

    async def _greeting(self) -> None:
        engine, caller = self._engine, self._caller
        async with session_scope(engine.sessionmaker) as session:
            detail = await service.get_interview(session, caller.owner_id, caller.interview_id)
        if detail.status == "created":
            prepared = await streaming.open_start(
                engine.sessionmaker,
                caller.owner_id,
                caller.interview_id,
                engine.interviewer,
                engine.retriever,
            )
            await self._reply(streaming.run_turn(engine.sessionmaker, engine.llm, prepared))
            return
        if detail.status == "ended":
            await self._say(SPOKEN_REFUSALS["interview_ended"])
            return
        last = next((t for t in reversed(detail.turns) if t.speaker == "interviewer"), None)
        if last is not None and last.kind == "closing":
            await self._say(SPOKEN_REFUSALS["interview_finished"])
        elif last is not None and detail.turns[-1] is last:
            await self._say(last.text)  # reconnected while the question waits for its answer

    async def _candidate_turn(self, text: str, meta: dict[str, Any]) -> None:
        engine, caller = self._engine, self._caller
        log.info("interview %s: voice answer (%s s spoken): %r", caller.interview_id, meta["speech_s"], text)
        if await self._human_has_seat():
            from mocki.interviews import handoff

            await handoff.record_candidate_answer(
                engine.sessionmaker,
                caller.owner_id,
                caller.interview_id,
                text,
                meta,
                engine=engine.interviewer,
            )
        else:
            prepared = await streaming.open_answer(
                engine.sessionmaker,
                caller.owner_id,
                caller.interview_id,
                text,
                engine.interviewer,
                intents=engine.intents,
                retriever=engine.retriever,
                meta=meta,
            )
            await self._reply(streaming.run_turn(engine.sessionmaker, engine.llm, prepared))
        self.turns_done += 1

    async def _interviewer_line(self, text: str, meta: dict[str, Any]) -> None:
        """A human interviewer's words are their turn while they hold the seat; otherwise they
        are only talking to the candidate (the relay carries the audio), and nothing is stored."""
        if not await self._human_has_seat():
            return
        from mocki.interviews import handoff

        engine, caller = self._engine, self._caller
        await handoff.record_human_turn(
            engine.sessionmaker, caller.user_id, caller.interview_id, text, meta, engine=engine.interviewer
        )
        self.turns_done += 1

    async def _human_has_seat(self) -> bool:
        # Imported here: handoff belongs to the human-interviewer feature and may be absent.
        try:
            from mocki.interviews import handoff
        except ImportError:
            return False
        async with session_scope(self._engine.sessionmaker) as session:
            return await handoff.controller_of(session, self._caller.interview_id) == "human"

    # ---------------------------------------------------------------- speaking

    async def _reply(self, events: AsyncIterator[streaming.TurnEvent]) -> None:
        """Stream the interviewer's reply into TTS; TTS cuts it into sentences as it arrives."""
        self._interrupted = False
        self._replying = True
        self.last_reply_started = time.time()
        await self.push_frame(LLMFullResponseStartFrame())
        try:
            async for event in events:
                if event.name == "token" and self.last_reply_started is not None:
                    log.info(
                        "interview %s: first reply text after %.2f s",
                        self._caller.interview_id,
                        time.time() - self.last_reply_started,
                    )
                    self.last_reply_started = None
                if event.name == "token" and not self._interrupted:
                    await self.push_frame(LLMTextFrame(str(event.data.get("text", ""))))
        finally:
            self._replying = False
            await self.push_frame(LLMFullResponseEndFrame())

    async def _say(self, text: str) -> None:
        if text:
            await self.push_frame(TTSSpeakFrame(text))
