"""Voice calls: one pipecat pipeline per WebRTC connection, and the registry of live calls.

    mic ─▶ transport in ─▶ Silero VAD ─▶ STT (per VAD segment) ─▶ end of turn (Smart-Turn v3)
        ─▶ InterviewBridge (the interview engine) ─▶ TTS (sentence by sentence) ─▶ transport out ─▶ speaker

The hub (app.state.voice) owns the STT/TTS model pools, created at the first offer so an api
that never takes a call never loads a model, and every live call, by pc_id and by seat: one
connection per (interview, seat). A call ends when the peer hangs up, its ICE fails or closes,
it never connects, DELETE /rtc/{pc_id}, or the app shuts down; the interview is untouched by it
(a turn cut short is stored with its fallback line by run_turn).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import onnxruntime as ort
from loguru import logger as pipeline_log
from pipecat.audio.turn.base_turn_analyzer import EndOfTurnState
from pipecat.audio.turn.smart_turn.base_smart_turn import BaseSmartTurn, SmartTurnParams
from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3
from pipecat.audio.utils import is_silence
from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADParams, VADState
from pipecat.frames.frames import Frame, InputAudioRawFrame, OutputAudioRawFrame
from pipecat.metrics.metrics import MetricsData
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.audio.vad_processor import VADProcessor
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.transports.base_transport import TransportParams
from pipecat.transports.smallwebrtc.connection import IceServer, SmallWebRTCConnection
from pipecat.transports.smallwebrtc.transport import SmallWebRTCTransport
from pipecat.turns.user_start import VADUserTurnStartStrategy
from pipecat.turns.user_stop import SpeechTimeoutUserTurnStopStrategy, TurnAnalyzerUserTurnStopStrategy
from pipecat.turns.user_stop.base_user_turn_stop_strategy import BaseUserTurnStopStrategy
from pipecat.turns.user_turn_processor import UserTurnProcessor
from pipecat.turns.user_turn_strategies import UserTurnStrategies
from pipecat.workers.runner import WorkerRunner

from mocki.core.db import session_scope
from mocki.core.errors import Conflict, Invalid, NotFound, Unavailable
from mocki.realtime import emit as rooms
from mocki.realtime import events
from mocki.settings import Settings, VoiceSettings
from mocki.voice import ice
from mocki.voice.bridge import Caller, Engine, InterviewBridge, Seat, Speaker
from mocki.voice.models import VoiceModelError
from mocki.voice.services import PooledSTTService, PooledTTSService
from mocki.voice.stt import SpeechToText, make_stt
from mocki.voice.tts import TextToSpeech, make_tts

log = logging.getLogger(__name__)

# A peer that has not connected this long after its offer was answered is given up.
CONNECT_TIMEOUT_S = 30.0
# Our STT's end of speech to final transcript, 99th percentile (Whisper tiny.en, a long answer):
# how long end-of-turn waits for a transcript that has not come.
STT_P99_S = 2.5
# How stale the relay's idea of who holds the interviewer's seat may be.
CONTROLLER_TTL_S = 1.0


@dataclass(frozen=True)
class Answer:
    sdp: str
    type: str
    pc_id: str
    seat: Seat


def ice_servers(voice: VoiceSettings) -> list[IceServer]:
    return [IceServer(urls=s.urls, username=s.username, credential=s.credential) for s in voice.ice_servers]


def has_audio(sdp: str) -> bool:
    return any(line.startswith("m=audio ") for line in sdp.splitlines())


@functools.cache
def smart_turn_session(threads: int) -> ort.InferenceSession:
    """The process's one Smart-Turn v3 model (pipecat's bundled ONNX file, its session options),
    built on first use and shared by every call: ONNX Runtime sessions may run from many threads
    at once, and building one per call blocked the event loop for 0.1–0.2 s at each offer."""
    path = resources.files("pipecat.audio.turn.smart_turn.data").joinpath("smart-turn-v3.2-cpu.onnx")
    options = ort.SessionOptions()
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), sess_options=options)


class SharedSmartTurn(LocalSmartTurnAnalyzerV3):
    """pipecat's Smart-Turn v3 analyzer on the process's shared session. Each call keeps its own
    analyzer (its audio buffer and its inference thread); only the model is shared."""

    def __init__(
        self,
        *,
        threads: int,
        likely_done_p: float = 0.5,
        likely_done_silence_s: float | None = None,
        **kwargs: Any,
    ) -> None:
        # Skips LocalSmartTurnAnalyzerV3.__init__, which only builds a session of its own; the
        # attributes it sets are the two its inference reads (pipecat 1.14, pinned).
        BaseSmartTurn.__init__(self, **kwargs)
        self._log_data = False
        self._session = smart_turn_session(threads)
        # The silence that ends a turn (pipecat's _stop_ms: params.stop_secs): shortened to
        # likely_done_silence_s while the last verdict was "not finished" at a probability of
        # finished of at least likely_done_p, until speech goes on or the turn ends.
        self._turn_silence_ms = self._stop_ms
        self._likely_done_p = likely_done_p
        self._likely_done_ms = (
            self._stop_ms
            if likely_done_silence_s is None
            else min(self._stop_ms, likely_done_silence_s * 1000)
        )
        # The audio of the turn that ended last and when its speech started, for `resume`.
        self._ended_turn: tuple[list[tuple[float, Any]], float] | None = None

    def _clear(self, turn_state: EndOfTurnState) -> None:
        if turn_state == EndOfTurnState.COMPLETE and self._audio_buffer and self._speech_start_time:
            self._ended_turn = (self._audio_buffer, self._speech_start_time)
        self._stop_ms = self._turn_silence_ms
        super()._clear(turn_state)

    def append_audio(self, buffer: bytes, is_speech: bool) -> EndOfTurnState:
        if is_speech:
            self._stop_ms = self._turn_silence_ms  # they went on: the next pause is judged anew
        return super().append_audio(buffer, is_speech)

    def resume(self) -> None:
        """The candidate went on with the turn that ended last (within the resume grace, before
        it was answered: InterviewBridge): the next verdict hears that turn, the pause and what
        follows, as one answer. Without this it would hear only the words after the pause, which
        the model judged "not finished" after finished answers (the turn then waited out
        turn_silence_s)."""
        if self._ended_turn is None:
            return
        audio, started = self._ended_turn
        self._ended_turn = None
        # The buffer holds (monotonic time, samples) in order; what came after the end is newer.
        self._audio_buffer = audio + self._audio_buffer
        # pipecat types it int and stores time.monotonic() in it.
        self._speech_start_time = started  # type: ignore[assignment]
        self._speech_triggered = True

    async def analyze_end_of_turn(self) -> tuple[EndOfTurnState, MetricsData | None]:
        """pipecat's verdict, on the whole turn so far. pipecat drops the audio at every "finished"
        verdict, also at a pause the candidate talks on from before the turn ends (its transcript
        was not in yet), and the next verdict then hears only the words after that pause:
        measured on the spoken answers, "...and we cut the nightly batch from four hours to under
        one hour." alone scored 0.13 (not finished: 3 s more wait), the whole answer 0.57; at a
        later comma pause the words since the last pause scored 0.94 and 0.67 (finished), the
        answer so far 0.48 and 0.14. The audio is dropped when the turn ends (`clear()`, called by
        the stop strategy at every end of turn) or after turn_silence_s of silence."""
        loop = asyncio.get_running_loop()
        state, result = await loop.run_in_executor(
            self._model_executor, self._process_speech_segment, self._audio_buffer
        )
        probability = getattr(result, "probability", None)
        # Measured on the spoken answers: a finished answer scored 0.43 ("...from four hours to
        # under one hour."), mid-answer pauses 0.14 when not called finished.
        if state == EndOfTurnState.INCOMPLETE and (probability or 0.0) >= self._likely_done_p:
            self._stop_ms = self._likely_done_ms
        pipeline_log.debug(f"End of Turn result: {state} (p={probability})")  # pipecat's line, in its log
        return state, result


def warm_smart_turn(threads: int) -> None:
    """Build the shared model and run it once (its first run allocates), off the event loop."""
    SharedSmartTurn(threads=threads, sample_rate=16_000)._predict_endpoint(np.zeros(16_000, dtype=np.float32))


class AudioTap(FrameProcessor):
    """Hands the caller's microphone audio to the other person in a human interview (the relay)
    and lets the other side's voice out through this call's bot track."""

    def __init__(self, call: VoiceCall, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._call = call

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame) and direction == FrameDirection.DOWNSTREAM:
            await self._call.relay_out(frame)
        await self.push_frame(frame, direction)


class VoiceCall:
    """One peer connection and its pipeline."""

    def __init__(
        self,
        hub: VoiceHub,
        connection: SmallWebRTCConnection,
        caller: Caller,
        stt: SpeechToText,
        tts: TextToSpeech,
    ) -> None:
        self.hub = hub
        self.connection = connection
        self.caller = caller
        # pipecat's id ("SmallWebRTCConnection#0-<uuid hex>") has a "#", which a URL path cannot
        # carry: the call is known by its uuid.
        self.pc_id: str = str(uuid.UUID(connection.pc_id.rsplit("-", 1)[-1]))
        self.connected = asyncio.Event()
        self._stt, self._tts = stt, tts
        self._runner: WorkerRunner | None = None
        self._worker: PipelineWorker | None = None
        self._run_task: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._closed = False
        # Seconds of the other person's voice played into this call (the human relay).
        self.relayed_s = 0.0
        self.transport: SmallWebRTCTransport | None = None
        self.bridge: InterviewBridge | None = None

    def _pipeline(self, voice: VoiceSettings) -> Pipeline:
        transport = SmallWebRTCTransport(
            self.connection,
            TransportParams(
                audio_in_enabled=True,
                audio_out_enabled=True,
                audio_in_sample_rate=voice.in_sample_rate,
                audio_out_sample_rate=voice.out_sample_rate,
                audio_out_end_silence_secs=0,
            ),
        )
        self.transport = transport
        vad = SileroVADAnalyzer(params=VADParams(stop_secs=voice.vad_stop_s, confidence=voice.vad_confidence))
        stop: list[BaseUserTurnStopStrategy]
        analyzer: SharedSmartTurn | None = None
        if voice.smart_turn:
            # A pause the model judges mid-thought keeps the turn open up to turn_silence_s.
            analyzer = SharedSmartTurn(
                params=SmartTurnParams(stop_secs=voice.turn_silence_s),
                threads=voice.threads,
                likely_done_p=voice.likely_done_p,
                likely_done_silence_s=voice.likely_done_silence_s,
            )
            stop = [TurnAnalyzerUserTurnStopStrategy(turn_analyzer=analyzer)]
        else:
            stop = [SpeechTimeoutUserTurnStopStrategy(user_speech_timeout=voice.turn_silence_s)]
        turns = UserTurnProcessor(
            user_turn_strategies=UserTurnStrategies(
                # VAD alone starts a turn: our STT transcribes VAD segments, so a transcript
                # never means speech the VAD missed, only a late one of a turn that has ended.
                start=[VADUserTurnStartStrategy()],
                stop=stop,
            ),
            user_turn_stop_timeout=voice.turn_silence_s + STT_P99_S,
        )
        stt = PooledSTTService(self._stt, sample_rate=voice.in_sample_rate, ttfs_p99_latency=STT_P99_S)
        tts = PooledTTSService(
            self._tts, sample_rate=voice.out_sample_rate, stop_frame_timeout_s=voice.tts_idle_s
        )
        self.bridge = InterviewBridge(
            self.hub.engine,
            self.caller,
            self._speaking,
            resume_grace_s=voice.resume_grace_s,
            on_resume=analyzer.resume if analyzer is not None else None,
            # pipecat 1.14 (pinned) keeps the VAD's state in this attribute and offers no getter.
            hearing=lambda: vad._vad_state in (VADState.STARTING, VADState.SPEAKING),
            vad_stop_s=voice.vad_stop_s,
        )
        return Pipeline(
            [
                transport.input(),
                AudioTap(self),
                VADProcessor(vad_analyzer=vad),
                stt,
                turns,
                self.bridge,
                tts,
                transport.output(),
            ]
        )

    async def start(self, voice: VoiceSettings) -> None:
        pipeline = self._pipeline(voice)
        self._worker = PipelineWorker(
            pipeline,
            params=PipelineParams(
                audio_in_sample_rate=voice.in_sample_rate, audio_out_sample_rate=voice.out_sample_rate
            ),
            enable_rtvi=False,
            idle_timeout_secs=None,
            cancel_on_idle_timeout=False,
        )
        assert self.transport is not None

        # pipecat ships no type hints for its event-handler decorators and connection methods.
        @self.transport.event_handler("on_client_connected")  # type: ignore[untyped-decorator]
        async def _connected(_transport: Any, _client: Any) -> None:
            self.connected.set()
            if self.bridge is not None:
                self.bridge.greet()

        @self.transport.event_handler("on_client_disconnected")  # type: ignore[untyped-decorator]
        async def _disconnected(_transport: Any, _client: Any) -> None:
            await self.close("peer disconnected")

        @self.connection.event_handler("failed")  # type: ignore[untyped-decorator]
        async def _failed(_connection: Any) -> None:
            await self.close("ICE failed")

        self._runner = WorkerRunner(handle_sigint=False, check_dangling_tasks=False)
        await self._runner.add_workers(self._worker)
        self._run_task = asyncio.create_task(self._runner.run(), name=f"voice-call-{self.pc_id}")
        self._watchdog = asyncio.create_task(self._give_up_unconnected())

    async def _give_up_unconnected(self) -> None:
        try:
            await asyncio.wait_for(self.connected.wait(), CONNECT_TIMEOUT_S)
        except TimeoutError:
            await self.close("never connected")

    async def renegotiate(self, sdp: str, restart_pc: bool) -> None:
        await self.connection.renegotiate(sdp=sdp, type="offer", restart_pc=restart_pc)

    def answer(self) -> Answer:
        answer = self.connection.get_answer()  # type: ignore[no-untyped-call]
        if answer is None:
            raise Invalid("The offer could not be answered.", code="invalid_sdp")
        return Answer(answer["sdp"], answer["type"], self.pc_id, self.caller.seat)

    async def _speaking(self, who: Speaker | None) -> None:
        payload = {"interview_id": str(self.caller.interview_id), "who": who}
        await rooms.ephemeral(self.caller.interview_id, events.SPEAKING, payload)

    # ---------------------------------------------------------------- human relay

    async def relay_out(self, frame: InputAudioRawFrame) -> None:
        """This person's voice, to the other person in the call (human interviews only)."""
        other = self.hub.other_side(self)
        # Silence is not sent: the other call's track fills its own gaps, and relayed silence
        # would count as its "bot" speaking.
        if other is not None and not is_silence(frame.audio):
            await other.play(frame)

    async def play(self, frame: InputAudioRawFrame) -> None:
        """The other person's voice, mixed into what this call's track plays (no renegotiation:
        the bot track already exists). Only while a human holds the interviewer's seat."""
        if self.transport is None or not self.connected.is_set() or not self.hub.relaying(self.caller):
            return
        out = OutputAudioRawFrame(frame.audio, frame.sample_rate, frame.num_channels)
        await self.transport.send_audio(out)
        self.relayed_s += len(frame.audio) / 2 / frame.sample_rate

    # ---------------------------------------------------------------- teardown

    async def close(self, why: str) -> None:
        if self._closed:
            return
        self._closed = True
        log.info(
            "voice call %s (interview %s, %s) closing: %s (relayed in: %.1f s)",
            self.pc_id,
            self.caller.interview_id,
            self.caller.seat,
            why,
            self.relayed_s,
        )
        self.hub.forget(self)
        if self._watchdog is not None and self._watchdog is not asyncio.current_task():
            self._watchdog.cancel()
        if self._worker is not None:
            await self._worker.cancel(reason=why)
        try:
            await self.connection.disconnect()  # type: ignore[no-untyped-call]
        except Exception as exc:  # already gone: nothing left to release
            log.debug("voice call %s: disconnect: %s", self.pc_id, exc)
        if self._run_task is not None and self._run_task is not asyncio.current_task():
            try:
                await asyncio.wait_for(asyncio.shield(self._run_task), 10)
            except (TimeoutError, asyncio.CancelledError):
                pass
            except Exception:
                log.exception("voice call %s: pipeline ended with an error", self.pc_id)
        await self._speaking(None)


class VoiceHub:
    """The api process's voice calls and the model pools they share (app.state.voice)."""

    def __init__(self, settings: Settings, state: Any) -> None:
        self.settings = settings
        self._state = state
        self._calls: dict[str, VoiceCall] = {}
        self._seats: dict[tuple[uuid.UUID, Seat], VoiceCall | None] = {}
        self._models: tuple[SpeechToText, TextToSpeech] | None = None
        self._models_lock = asyncio.Lock()
        self._warm: asyncio.Task[None] | None = None
        self._controllers: dict[uuid.UUID, tuple[str, float]] = {}
        self._refreshing: set[asyncio.Task[None]] = set()
        if settings.voice.ice_loopback:
            ice.allow_loopback()

    @property
    def engine(self) -> Engine:
        return Engine.from_state(self._state)

    async def models(self) -> tuple[SpeechToText, TextToSpeech]:
        """The STT and TTS, made at the first call; their processes load the models then."""
        async with self._models_lock:
            if self._models is None:
                try:
                    # Threads: resolving the packaged models checks their sha256 (a few 100 ms).
                    stt = await asyncio.to_thread(make_stt, self.settings)
                    tts = await asyncio.to_thread(make_tts, self.settings)
                except VoiceModelError as exc:
                    raise Unavailable(str(exc), code="voice_unavailable") from exc
                smart_turn = self.settings.voice.threads if self.settings.voice.smart_turn else None
                if smart_turn is not None:
                    await asyncio.to_thread(smart_turn_session, smart_turn)  # before a call needs it
                self._models = (stt, tts)
                self._warm = asyncio.create_task(_warm(stt, tts, smart_turn))
            return self._models

    async def offer(self, caller: Caller, sdp: str, pc_id: str | None, restart_pc: bool) -> Answer:
        if pc_id is not None and pc_id in self._calls:
            call = self._calls[pc_id]
            if call.caller.user_id != caller.user_id or call.caller.interview_id != caller.interview_id:
                raise NotFound("No such voice connection.", code="connection_not_found")
            _check_sdp(sdp)
            try:
                await call.renegotiate(sdp, restart_pc)
            except Exception as exc:
                raise Invalid(f"The offer could not be used: {exc}", code="invalid_sdp") from exc
            return call.answer()
        _check_sdp(sdp)
        seat = (caller.interview_id, caller.seat)
        if seat in self._seats:
            raise Conflict(
                "Someone is already connected to this interview in this seat; hang up there first.",
                code="seat_taken",
            )
        self._seats[seat] = None  # held while this offer is answered, so a second one is refused
        try:
            connection = SmallWebRTCConnection(ice_servers=ice_servers(self.settings.voice))
            try:
                await connection.initialize(sdp=sdp, type="offer")
            except Exception as exc:
                await _quietly_close(connection)
                raise Invalid(f"The offer could not be used: {exc}", code="invalid_sdp") from exc
            try:
                stt, tts = await self.models()
            except BaseException:
                await _quietly_close(connection)
                raise
            call = VoiceCall(self, connection, caller, stt, tts)
            await call.start(self.settings.voice)
        except BaseException:
            self._seats.pop(seat, None)
            raise
        self._seats[seat] = call
        self._calls[call.pc_id] = call
        return call.answer()

    async def hang_up(self, user_id: uuid.UUID, pc_id: str) -> None:
        call = self._calls.get(pc_id)
        if call is None or call.caller.user_id != user_id:
            raise NotFound("No such voice connection.", code="connection_not_found")
        await call.close("hung up")

    def forget(self, call: VoiceCall) -> None:
        self._calls.pop(call.pc_id, None)
        seat = (call.caller.interview_id, call.caller.seat)
        if self._seats.get(seat) is call:
            del self._seats[seat]

    @property
    def call_count(self) -> int:
        """Calls this process holds (the mocki_voice_calls_active gauge)."""
        return len(self._calls)

    def live(self, interview_id: uuid.UUID, seat: Seat) -> VoiceCall | None:
        return self._seats.get((interview_id, seat))

    # The human relay: the candidate's voice always reaches a connected human interviewer (who
    # listens in while the AI asks); the interviewer's reaches the candidate only while they hold
    # the seat. Who holds it is read from the database at most once a second per interview.
    def other_side(self, call: VoiceCall) -> VoiceCall | None:
        other: Seat = "interviewer" if call.caller.seat == "candidate" else "candidate"
        return self._seats.get((call.caller.interview_id, other))

    def relaying(self, listener: Caller) -> bool:
        if listener.seat == "interviewer":
            return True
        value, fetched = self._controllers.get(listener.interview_id, ("ai", 0.0))
        now = time.monotonic()
        if now - fetched > CONTROLLER_TTL_S:
            self._controllers[listener.interview_id] = (value, now)
            task = asyncio.create_task(self._refresh_controller(listener.interview_id))
            self._refreshing.add(task)
            task.add_done_callback(self._refreshing.discard)
        return value == "human"

    async def _refresh_controller(self, interview_id: uuid.UUID) -> None:
        try:
            from mocki.interviews import handoff

            async with session_scope(self.engine.sessionmaker) as session:
                value = await handoff.controller_of(session, interview_id)
        except Exception as exc:  # keep the last known value; the next frame asks again
            log.debug("interview %s: controller not read: %s", interview_id, exc)
            return
        self._controllers[interview_id] = (value, time.monotonic())

    async def aclose(self) -> None:
        for call in list(self._calls.values()):
            await call.close("server shutting down")
        if self._warm is not None:
            self._warm.cancel()
        if self._models is not None:
            stt, tts = self._models
            self._models = None
            await stt.aclose()
            await tts.aclose()


def _check_sdp(sdp: str) -> None:
    if not sdp.lstrip().startswith("v=0") or not has_audio(sdp):
        raise Invalid(
            "The offer is not a WebRTC session description with an audio track (m=audio).",
            code="invalid_sdp",
        )


async def _quietly_close(connection: SmallWebRTCConnection) -> None:
    try:
        await connection.pc.close()
    except Exception as exc:  # nothing was set up on it
        log.debug("closing a refused connection: %s", exc)


async def _warm(stt: SpeechToText, tts: TextToSpeech, smart_turn_threads: int | None) -> None:
    """Load the models now, while the peer connects, instead of on the first answer."""
    from mocki.voice.audio import Audio

    loads = [tts.synthesize("Hello."), stt.transcribe(Audio(bytes(16_000), 16_000))]
    if smart_turn_threads is not None:
        loads.append(asyncio.to_thread(warm_smart_turn, smart_turn_threads))
    try:
        await asyncio.gather(*loads)
    except Exception as exc:  # reported again, with context, by the first real call
        log.warning("voice warm-up failed: %s", exc)
