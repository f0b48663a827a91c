"""Speech to text: the Protocol, faster-whisper on the packaged weights in a process pool, and
an OpenAI-compatible transcription endpoint. `make_stt` picks one from settings."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import openai
from openai import AsyncOpenAI

from mocki.settings import Settings, VoiceSettings
from mocki.voice.audio import Audio, to_whisper_input
from mocki.voice.models import whisper_dir
from mocki.voice.pool import ModelPool, ModelPoolError


class STTError(Exception):
    """No transcript: the model process died, or the endpoint failed."""


@dataclass(frozen=True)
class Transcript:
    text: str
    audio_s: float


class SpeechToText(Protocol):
    """Turns one utterance into text. Async so the api never blocks its event loop on a model."""

    name: str

    async def transcribe(self, audio: Audio) -> Transcript: ...

    async def aclose(self) -> None: ...


# Whisper's mel frames: 100 a second (hop of 160 samples at 16 kHz); its window is 30 s.
FRAMES_PER_S = 100
WINDOW_FRAMES = 3000
# Silence the encoder hears after the speech when its input is cut short (encoder_frames).
ENCODER_TAIL_S = 1.0
# Speech shorter than this gets the full window: one or two words alone in a short input came
# back wrong or dropped ("Sure." as "your").
SHORT_INPUT_MIN_S = 1.5
# A cut-short input may not stop decoding: its tokens are bounded by what speech can hold.
TOKENS_PER_S = 15
TOKENS_MAX = 440  # Whisper's decoder holds 448 with the prompt


def encoder_frames(samples: int) -> int | None:
    """How many mel frames the encoder is given for `samples` at 16 kHz: the speech plus
    ENCODER_TAIL_S of silence, even (the encoder halves it); None for the full 30 s window.

    Whisper pads every input to 30 s, and its encoder's cost grows with its input, not with the
    speech: a 4 s answer paid for 30 s. CTranslate2 takes shorter inputs. On 65 piper-voiced
    utterances of 0.8–10 s (tiny.en, int8, 2 threads) the median transcription took 0.11–0.15 s
    against 0.45 s padded, with a word error rate of 5.95 % against 5.28 % (a handful of words:
    "Sigma Kappa" as "sigma capa")."""
    if samples < SHORT_INPUT_MIN_S * 16_000:
        return None
    frames = samples // 160 + 1 + int(ENCODER_TAIL_S * FRAMES_PER_S)
    frames += frames % 2
    return frames if frames < WINDOW_FRAMES else None


def repeats(text: str) -> bool:
    """Whether a transcript looks like Whisper's decoding loop ("It depends on the load. It
    depends on the load. It depends on the"): a word three times in a row, or a sequence of three
    words twice. A cut-short input makes the loop likely on short answers; a real answer that
    repeats itself only costs a second, full-window pass."""
    words = re.findall(r"[a-z0-9']+", text.lower())
    if any(words[i] == words[i + 1] == words[i + 2] for i in range(len(words) - 2)):
        return True
    trigrams = [tuple(words[i : i + 3]) for i in range(len(words) - 2)]
    return len(trigrams) != len(set(trigrams))


class WhisperEngine:
    """faster-whisper in this process. Synchronous and CPU-bound: see LocalSTT."""

    def __init__(self, model_dir: Path, *, threads: int, beam_size: int, language: str) -> None:
        # Nothing may be fetched from a model hub; the directory holds every file it needs.
        os.environ["HF_HUB_OFFLINE"] = "1"
        from faster_whisper import WhisperModel  # type: ignore[import-untyped]

        class ShortInputWhisper(WhisperModel):  # type: ignore[misc]  # faster-whisper is untyped
            """faster-whisper 1.2.1 (pinned) pads each window's features to 30 s and hands them
            to `encode`; this one encodes only the first `frames` of them (encoder_frames)."""

            frames: int | None = None

            def encode(self, features: Any) -> Any:
                if self.frames is not None and features.shape[-1] > self.frames:
                    features = np.ascontiguousarray(features[..., : self.frames])
                return super().encode(features)

        self._model = ShortInputWhisper(
            str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads
        )
        self._beam_size = beam_size
        self._language = language

    def transcribe(self, audio: Audio) -> Transcript:
        samples = to_whisper_input(audio)
        frames = encoder_frames(len(samples))
        if frames is not None:
            # Greedy only, and bounded: a loop is caught by `repeats` and decoded again in full.
            tokens = min(TOKENS_MAX, int(len(samples) / 16_000 * TOKENS_PER_S) + 10)
            text = self._decode(samples, frames, temperature=0.0, max_new_tokens=tokens)
            if not repeats(text):
                return Transcript(text=text, audio_s=audio.seconds)
        return Transcript(text=self._decode(samples, None), audio_s=audio.seconds)

    def _decode(self, samples: Any, frames: int | None, **options: Any) -> str:
        self._model.frames = frames
        segments, _info = self._model.transcribe(
            samples,
            language=self._language,
            beam_size=self._beam_size,
            # One utterance at a time, cut by the pipeline's VAD: earlier text only invites
            # the repetition loops Whisper is known for.
            condition_on_previous_text=False,
            # Nothing reads segment times, and not decoding them is 6 % faster on a final
            # segment of 3 s (0.68 s against 0.73 s, same WER on the spoken answers).
            without_timestamps=True,
            **options,
        )
        return " ".join(segment.text.strip() for segment in segments).strip()


# The pool process's model, loaded once by `_load_in_worker`.
_engine: WhisperEngine | None = None


def _load_in_worker(model_dir: Path, threads: int, beam_size: int, language: str) -> None:
    global _engine
    _engine = WhisperEngine(model_dir, threads=threads, beam_size=beam_size, language=language)


def _transcribe_in_worker(pcm: bytes, sample_rate: int) -> Transcript:
    if _engine is None:
        raise STTError("The speech-to-text process has no model loaded.")
    return _engine.transcribe(Audio(pcm, sample_rate))


class LocalSTT:
    """The packaged Whisper weights behind the async Protocol, in a pool of spawned processes."""

    def __init__(self, voice: VoiceSettings, data_dir: Path) -> None:
        self.name = f"faster-whisper:{voice.whisper_model}"
        # Resolved (and its sha256 checked) here, so a bad file fails now with its own message.
        model_dir = whisper_dir(voice.whisper_model, data_dir)
        self._pool = ModelPool(
            "speech-to-text",
            _load_in_worker,
            (model_dir, voice.threads, voice.beam_size, voice.language),
            voice.processes,
        )

    async def transcribe(self, audio: Audio) -> Transcript:
        if not audio.pcm:
            return Transcript(text="", audio_s=0.0)
        try:
            return await self._pool.run(_transcribe_in_worker, audio.pcm, audio.sample_rate)
        except ModelPoolError as exc:
            raise STTError(str(exc)) from exc

    async def aclose(self) -> None:
        await self._pool.aclose()


class OpenAISTT:
    """Any OpenAI-compatible /audio/transcriptions endpoint (OpenAI, a faster-whisper server, ...)."""

    def __init__(self, voice: VoiceSettings) -> None:
        self.name = f"openai:{voice.stt_model}"
        self._model = voice.stt_model
        self._language = voice.language
        self._client = AsyncOpenAI(
            base_url=voice.stt_base_url, api_key=voice.stt_api_key, timeout=voice.timeout_s
        )

    async def transcribe(self, audio: Audio) -> Transcript:
        if not audio.pcm:
            return Transcript(text="", audio_s=0.0)
        try:
            result = await self._client.audio.transcriptions.create(
                model=self._model,
                file=("speech.wav", audio.to_wav(), "audio/wav"),
                language=self._language,
            )
        except openai.APIStatusError as exc:
            raise STTError(
                f"The transcription endpoint refused the request ({exc.status_code}): {exc.message}"
            ) from exc
        except openai.OpenAIError as exc:
            raise STTError(f"The transcription endpoint failed: {exc}") from exc
        return Transcript(text=result.text.strip(), audio_s=audio.seconds)

    async def aclose(self) -> None:
        await self._client.close()


def make_stt(settings: Settings) -> SpeechToText:
    if settings.voice.stt_base_url:
        return OpenAISTT(settings.voice)
    return LocalSTT(settings.voice, settings.data_dir)
