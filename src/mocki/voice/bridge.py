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
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from loguru import logger as pipeline_log
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    CancelFrame,
    EndFrame,
    Frame,
    InputAudioRawFrame,
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
    # When the pipeline learnt of it (epoch seconds): the VAD's stop, the last transcript.
    stopped_at: float | None = None
    done_at: float | None = None


def join_segments(texts: list[str]) -> str:
    """The segments' transcripts as one answer. Whisper ends each segment as a sentence, also at
    a pause the answer goes on from: a full stop before a word in lower case was a comma
    ("the billing service. and we cut" reads "the billing service, and we cut")."""
    out = ""
    for text in (t.strip() for t in texts):
        if not text:
            continue
        if out.endswith(".") and not out.endswith("..") and text[0].islower():
            out = out[:-1] + ","
        out = f"{out} {text}" if out else text
    return out


@dataclass
class SpokenTurn:
    """The segments of one user turn, in order."""

    segments: list[Segment]
    # Epoch seconds of each step from the end of speech to the reply's first audio (`_stages`).
    stages: dict[str, float] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return join_segments([s.text for s in self.segments])

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


@dataclass
class Closing:
    """A turn whose end was decided, waiting for its transcripts and its grace."""

    first: int  # its segments, first to last
    last: int
    decided_at: float  # when end of turn was decided (epoch seconds)


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
        self._closing: list[Closing] = []
        self._in_segment = False

    def speech_started(self, at: float) -> bool:
        """True when this speech reopens a closed turn (it was not released yet, so not
        answered: the answer goes on)."""
        self._segment(self._ended + 1).started_at = at
        self._in_segment = True
        if self._closing:
            self._open_from = self._closing.pop().first
            return True
        return False

    def speech_stopped(self, at: float, *, now: float | None = None) -> None:
        self._ended += 1
        segment = self._segment(self._ended)
        segment.ended_at = at
        segment.stopped_at = at if now is None else now
        self._in_segment = False

    def transcribed(self, result: SegmentResult, text: str) -> None:
        segment = self._segment(result.index)
        segment.text = f"{segment.text} {text}".strip()
        segment.stt_s += result.stt_s
        segment.audio_s += result.audio_s

    def segment_done(self, index: int, *, now: float | None = None) -> None:
        segment = self._segment(index)
        segment.done = True
        segment.done_at = now

    def turn_ended(self, *, now: float | None = None) -> None:
        # An end of turn decided while the user speaks again is stale (Smart-Turn's verdict on
        # the last pause arrived after the VAD heard them go on): the answer continues.
        if self._in_segment:
            return
        if self._ended >= self._open_from:
            decided = time.time() if now is None else now
            self._closing.append(Closing(self._open_from, self._ended, decided))
            self._open_from = self._ended + 1

    def release_at(self) -> float | None:
        """When the next closed turn may be released (epoch seconds), if one is waiting."""
        if not self._closing:
            return None
        return (self._segment(self._closing[0].last).ended_at or 0.0) + self.grace_s

    def pending(self) -> SpokenTurn | None:
        """The next closed turn once all of it is transcribed, still within its grace: what it
        would say if the candidate does not go on (for work that is safe to throw away)."""
        if not self._closing:
            return None
        closing = self._closing[0]
        indexes = range(closing.first, closing.last + 1)
        if not all(self._segment(i).done for i in indexes):
            return None
        return SpokenTurn([self._segments[i] for i in indexes])

    def ready(self, now: float) -> list[SpokenTurn]:
        ready: list[SpokenTurn] = []
        while self._closing:
            closing = self._closing[0]
            indexes = range(closing.first, closing.last + 1)
            if not all(self._segment(i).done for i in indexes) or now < (self.release_at() or 0.0):
                break
            self._closing.pop(0)
            segments = [self._segments.pop(i) for i in indexes]
            ready.append(SpokenTurn(segments, _stages(segments, closing.decided_at, now)))
        return ready

    def _segment(self, index: int) -> Segment:
        return self._segments.setdefault(index, Segment())


def _stages(segments: list[Segment], decided_at: float, released_at: float) -> dict[str, float]:
    """The turn's steps up to its release; the engine and the reply add theirs (InterviewBridge)."""
    last = segments[-1]
    stages = {"speech_end": last.ended_at, "vad_stop": last.stopped_at, "turn_end": decided_at}
    done = [s.done_at for s in segments if s.done_at is not None]
    if done:
        stages["stt_done"] = max(done)
    if last.done_at is not None and last.stt_s:
        stages["stt_start"] = last.done_at - last.stt_s  # the last segment's transcription began
    stages["released"] = released_at
    return {name: at for name, at in stages.items() if at is not None}


# A closed turn is released only once the VAD has analysed the grace's audio and this much more
# (two of Silero's 32 ms windows): speech resumed within the grace has then been heard, and the
# VAD is confirming it. Counted in audio, not on the clock: on a loaded machine the audio reaches
# the VAD late, and a clock-timed grace ran out before the VAD had heard the candidate go on.
HEARD_MARGIN_S = 0.07
# At most this long past the grace (if the caller's audio stops coming), and how often to look.
HOLD_MAX_S = 5.0
HOLD_STEP_S = 0.03


def holding(
    now: float, release_at: float, heard_since_stop: float | None, heard_needed: float, hearing: bool
) -> bool:
    """Whether a closed turn whose grace ends at `release_at` must wait: the VAD has not yet
    analysed `heard_needed` seconds of audio since its stop, or it hears sound it has not
    confirmed (or not yet reported) as speech. Never past HOLD_MAX_S after the grace."""
    if now < release_at or now >= release_at + HOLD_MAX_S:
        return False
    behind = heard_since_stop is not None and heard_since_stop < heard_needed
    return behind or hearing


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
        on_resume: Callable[[], None] | None = None,
        hearing: Callable[[], bool] | None = None,
        vad_stop_s: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._engine = engine
        self._caller = caller
        self._speaking = speaking
        # Called when the candidate goes on with a turn that had ended (the end-of-turn model
        # then hears the turn whole again: SharedSmartTurn.resume).
        self._on_resume = on_resume
        # Whether the VAD hears sound it has not yet confirmed as speech (its start window): a
        # turn whose grace runs out meanwhile waits for the VAD's decision (HOLD_MAX_S at most).
        self._hearing = hearing
        # Seconds of the caller's audio that passed the VAD since its last stop (None while they
        # speak), and how much of it a closed turn waits for (`holding`).
        self._heard_since_stop: float | None = None
        self._heard_needed = max(0.0, resume_grace_s - vad_stop_s) + HEARD_MARGIN_S if hearing else 0.0
        self._turns = TurnAssembler(resume_grace_s)
        self._release_timer: asyncio.Task[None] | None = None
        self._work: asyncio.Queue[Callable[[], Awaitable[None]]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._interrupted = False
        self._replying = False
        # The answer being replied to: its stages, logged at the reply's first audio.
        self._stages: dict[str, float] | None = None
        # The closed turn waiting out its grace: its text, classified and gathered meanwhile.
        self._speculation: tuple[str, asyncio.Task[streaming.Gathered]] | None = None
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
            self._turns.segment_done(frame.index, now=time.time())
            self._release()
            return
        if isinstance(frame, InputAudioRawFrame) and direction == FrameDirection.DOWNSTREAM:
            if self._heard_since_stop is not None:
                self._heard_since_stop += len(frame.audio) / (2 * frame.num_channels * frame.sample_rate)
                if self._turns.release_at() is not None:
                    self._release()
        elif isinstance(frame, VADUserStartedSpeakingFrame) and direction == FrameDirection.DOWNSTREAM:
            self._heard_since_stop = None
            if self._turns.speech_started(time.time() - frame.start_secs) and self._on_resume:
                self._on_resume()
            await self._drop_speculation()  # unless the turn it was for is still closed
        elif isinstance(frame, VADUserStoppedSpeakingFrame) and direction == FrameDirection.DOWNSTREAM:
            now = time.time()
            self._turns.speech_stopped(now - frame.stop_secs, now=now)
            self._heard_since_stop = 0.0
        elif isinstance(frame, UserStartedSpeakingFrame):
            await self._speaking(self._caller.speaker)
        elif isinstance(frame, UserStoppedSpeakingFrame):
            await self._speaking(None)
            self._turns.turn_ended(now=time.time())
            self._release()
        elif isinstance(frame, InterruptionFrame):
            # Barge-in: what the reply has not said yet is dropped (TTS and the output transport
            # drop what they hold); the engine still stores the whole reply.
            if self._replying:
                self._interrupted = True
        elif isinstance(frame, BotStartedSpeakingFrame) and direction == FrameDirection.UPSTREAM:
            self._first_audio()
            await self._speaking("ai")
        elif isinstance(frame, BotStoppedSpeakingFrame) and direction == FrameDirection.UPSTREAM:
            await self._speaking(None)
        await self.push_frame(frame, direction)

    def _release(self) -> None:
        """Hand the turns that are complete to the engine; check again when the grace ends."""
        now = time.time()
        at = self._turns.release_at()
        hearing = self._hearing is not None and self._hearing()
        if at is not None and holding(now, at, self._heard_since_stop, self._heard_needed, hearing):
            # The candidate may be going on: the VAD confirms speech only after its start
            # window (0.2 s), so a pause a little shorter than the grace would otherwise be
            # seen as resumed speech only once the turn was released, and the answer cut in two.
            self._speculate()  # a transcript that came in during the hold is worked on meanwhile
            if self._release_timer is None or self._release_timer.done():
                self._release_timer = self.create_task(self._release_later(now + HOLD_STEP_S), "release-turn")
            return
        self._take(self._turns.ready(now))
        self._speculate()
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
            if self._caller.seat == "candidate":
                gathered = None
                if self._speculation is not None and self._speculation[0] == text:
                    gathered, self._speculation = self._speculation[1], None
                job = functools.partial(self._candidate_turn, text, meta, turn.stages, gathered)
                self._work.put_nowait(job)
            else:
                self._work.put_nowait(functools.partial(self._interviewer_line, text, meta))

    def _speculate(self) -> None:
        """Classify a closed, transcribed turn and gather its evidence while its grace runs out:
        nothing of it is stored, so it is thrown away if the candidate goes on, and the engine
        starts from it if they do not."""
        pending = self._turns.pending() if self._caller.seat == "candidate" else None
        text = pending.text if pending is not None else ""
        if not text or (self._speculation is not None and self._speculation[0] == text):
            return
        engine, caller = self._engine, self._caller
        gathering = streaming.gather_answer(
            engine.sessionmaker,
            caller.owner_id,
            caller.interview_id,
            text,
            engine.interviewer,
            engine.intents,
            engine.retriever,
        )
        stale, self._speculation = self._speculation, (text, self.create_task(gathering, "gather-answer"))
        if stale is not None:
            stale[1].cancel()

    async def _drop_speculation(self) -> None:
        pending = self._turns.pending()
        if self._speculation is None or (pending is not None and pending.text == self._speculation[0]):
            return
        task, self._speculation = self._speculation[1], None
        await self.cancel_task(task)

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
        if self._speculation is not None:
            task, self._speculation = self._speculation[1], None
            await self.cancel_task(task)
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

    async def _candidate_turn(
        self,
        text: str,
        meta: dict[str, Any],
        stages: dict[str, float],
        speculated: asyncio.Task[streaming.Gathered] | None = None,
    ) -> None:
        engine, caller = self._engine, self._caller
        stages["engine_start"] = time.time()
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
            gathered = await _speculated(speculated)
            if gathered is None:
                gathered = await streaming.gather_answer(
                    engine.sessionmaker,
                    caller.owner_id,
                    caller.interview_id,
                    text,
                    engine.interviewer,
                    engine.intents,
                    engine.retriever,
                )
            stages["gathered"] = time.time()
            prepared = await streaming.open_answer(
                engine.sessionmaker,
                caller.owner_id,
                caller.interview_id,
                text,
                engine.interviewer,
                meta=meta,
                gathered=gathered,
            )
            stages["prepared"] = time.time()
            self._stages = stages
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
                if event.name == "token" and self._stages is not None:
                    self._stages.setdefault("first_token", time.time())
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

    def _first_audio(self) -> None:
        """The reply to an answer started playing: log when each step of its wait ended, in epoch
        seconds (`mocki bench voice` reads these lines and sets them against the caller's clock)."""
        if self._stages is None:
            return
        stages, self._stages = self._stages, None
        stages["first_audio"] = time.time()
        # In pipecat's log (loguru), at debug level next to its lines on the same frames: the api
        # configures no handler for ours, and this is one line per answer.
        pipeline_log.debug(
            "interview {}: voice turn stages {}",
            self._caller.interview_id,
            json.dumps({name: round(at, 3) for name, at in stages.items()}),
        )

    async def _say(self, text: str) -> None:
        if text:
            await self.push_frame(TTSSpeakFrame(text))


async def _speculated(task: asyncio.Task[streaming.Gathered] | None) -> streaming.Gathered | None:
    """What was gathered during the grace, or None to gather it now."""
    if task is None:
        return None
    try:
        return await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if not task.cancelled() or (current is not None and current.cancelling()):
            raise  # this turn is being cancelled, not only the gathering
        return None
    except Exception:  # the turn gathers again, as without speculation
        log.exception("gathering a voice answer during its grace failed")
        return None
