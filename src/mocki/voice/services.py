"""Our SpeechToText / TextToSpeech (stt.py, tts.py) as pipecat services for the voice pipeline.

The models themselves stay in their process pools (or behind an OpenAI-compatible endpoint):
these classes only move audio between pipecat frames and the async Protocols.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from pipecat.frames.frames import (
    DataFrame,
    ErrorFrame,
    Frame,
    TranscriptionFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.services.settings import STTSettings, TTSSettings
from pipecat.services.stt_service import SegmentedSTTService
from pipecat.services.tts_service import TTSService
from pipecat.utils.text.base_text_aggregator import Aggregation, TextType
from pipecat.utils.text.simple_text_aggregator import SimpleTextAggregator, _LookaheadState
from pipecat.utils.time import time_now_iso8601

from mocki.voice.audio import Audio, without_leading_silence
from mocki.voice.stt import SpeechToText, STTError
from mocki.voice.tts import TextToSpeech, TTSError

# TTS audio goes downstream in pieces this long, so an interruption drops what is not played yet
# without waiting for a whole sentence to drain.
TTS_CHUNK_S = 0.2
# A reply's first clause is spoken on its own once it has this many words (FirstClauseAggregator).
FIRST_CLAUSE_WORDS = 2
CLAUSE_MARKS = ",;:"


@dataclass(frozen=True)
class SegmentResult:
    """What the STT service learnt about one speech segment (TranscriptionFrame.result)."""

    index: int  # 1 for the segment cut at the connection's first VAD stop, 2 for the next...
    audio_s: float
    stt_s: float


@dataclass
class SegmentDoneFrame(DataFrame):
    """Segment `index` is transcribed (with or without words). Sent after its transcript, so the
    bridge knows when a turn's last words are in: end-of-turn can fire before the transcript of
    a segment that was still queued (a pause mid-answer), and those words belong to the turn."""

    index: int = 0
    # An interruption (the user speaking again) must not drop it: the turn would never complete.
    interruptible: bool = field(default=False, init=False)


class PooledSTTService(SegmentedSTTService):
    """Transcribes each VAD segment with our SpeechToText (Whisper in a process pool, or an endpoint).

    One TranscriptionFrame per segment that has words; the turn strategies downstream decide
    which segments make up one answer (voice/session.py)."""

    def __init__(self, stt: SpeechToText, *, sample_rate: int, **kwargs: object) -> None:
        # Padding: Whisper drops the last word of audio that stops abruptly.
        super().__init__(
            sample_rate=sample_rate,
            trailing_silence_secs=0.3,
            settings=STTSettings(model=stt.name, language=None),
            **kwargs,
        )
        self._stt = stt
        self._ended = 0
        self._queued: deque[int] = deque()

    async def _handle_user_stopped_speaking(self, frame: VADUserStoppedSpeakingFrame) -> None:
        # Every VAD stop is one segment, numbered as the bridge numbers them.
        self._ended += 1
        if self.is_usable:
            self._queued.append(self._ended)
        else:  # the base class drops the audio: the segment is done, with no words
            await self.push_frame(SegmentDoneFrame(index=self._ended))
        await super()._handle_user_stopped_speaking(frame)

    @property
    def wants_wav_segments(self) -> bool:
        return False  # SpeechToText takes raw 16-bit PCM

    def can_generate_metrics(self) -> bool:
        return True

    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame | None, None]:
        index = self._queued.popleft() if self._queued else self._ended
        started = time.perf_counter()
        segment = Audio(audio, self.sample_rate)
        try:
            transcript = await self._stt.transcribe(segment)
        except STTError as exc:
            # Not fatal: the candidate can say it again; the pipeline and the interview go on.
            yield ErrorFrame(error=f"Speech to text failed: {exc}")
        else:
            text = transcript.text.strip()
            if text:
                frame = TranscriptionFrame(text, self._user_id, time_now_iso8601())
                frame.result = SegmentResult(index, segment.seconds, time.perf_counter() - started)
                frame.interruptible = False  # words of an answer are never dropped
                yield frame
        yield SegmentDoneFrame(index=index)


class FirstClauseAggregator(SimpleTextAggregator):
    """Sentences, as pipecat cuts them, except a reply's first clause: it goes to TTS at its comma
    ("Thank you, ..."), so the voice starts after one clause is synthesised (piper: 0.13 s for
    "Thank you," against 0.31 s for the sentence) and the rest is synthesised while it plays."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]  # pipecat's aggregators are untyped
        self._first = True

    async def aggregate(self, text: str) -> AsyncIterator[Aggregation]:
        for char in text:
            async for sentence in super().aggregate(char):
                self._first = False
                yield sentence
            if self._first and char in CLAUSE_MARKS and self._clause_ready():
                clause, self._text = self._text.strip(), ""
                self._first = False
                yield Aggregation(text=clause, type=TextType.SENTENCE)

    def _clause_ready(self) -> bool:
        # Not after a sentence mark waiting for its next character ("e.g.,"): that is pipecat's call.
        return self._lookahead_state is _LookaheadState.IDLE and len(self._text.split()) >= FIRST_CLAUSE_WORDS

    async def flush(self) -> Aggregation | None:
        self._first = True  # the end of a reply: the next one starts with a clause again
        return await super().flush()

    async def handle_interruption(self) -> None:
        self._first = True
        await super().handle_interruption()  # type: ignore[no-untyped-call]

    async def reset(self) -> None:
        self._first = True
        await super().reset()  # type: ignore[no-untyped-call]


class PooledTTSService(TTSService):
    """Speaks each sentence with our TextToSpeech, resampled to the transport's output rate.

    The base class cuts the reply text into sentences (sentence aggregation), so the first
    sentence is spoken while the model is still writing the next."""

    def __init__(self, tts: TextToSpeech, *, sample_rate: int, **kwargs: object) -> None:
        super().__init__(
            push_start_frame=True,
            push_stop_frames=True,
            sample_rate=sample_rate,
            settings=TTSSettings(model=tts.name, voice=None, language=None),
            **kwargs,  # type: ignore[arg-type]
        )
        self._tts = tts
        # pipecat builds its sentence aggregator with the language it resolved; this one cuts the
        # first clause too (pipecat 1.14 offers no parameter for the aggregator it speaks with).
        self._text_aggregator = FirstClauseAggregator(
            aggregation_type=self._text_aggregation_mode, language=self._text_aggregator.language
        )
        # Seconds spent synthesising in this connection, for the stored turn's voice timings.
        self.synth_s = 0.0

    def can_generate_metrics(self) -> bool:
        return True

    async def run_tts(self, text: str, context_id: str) -> AsyncGenerator[Frame | None, None]:
        started = time.perf_counter()
        try:
            audio = without_leading_silence(await self._tts.synthesize(text))
        except TTSError as exc:
            yield ErrorFrame(error=f"Text to speech failed: {exc}")
            return
        finally:
            self.synth_s += time.perf_counter() - started
        await self.start_tts_usage_metrics(text)
        async for frame in self._stream_audio_frames_from_iterator(
            _chunks(audio), in_sample_rate=audio.sample_rate, context_id=context_id
        ):
            await self.stop_ttfb_metrics()
            yield frame


async def _chunks(audio: Audio) -> AsyncIterator[bytes]:
    step = max(2, int(audio.sample_rate * TTS_CHUNK_S) * 2)
    for start in range(0, len(audio.pcm), step):
        yield audio.pcm[start : start + step]
