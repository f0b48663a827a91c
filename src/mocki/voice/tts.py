"""Text to speech: the Protocol, piper with the packaged voice in a process pool, and an
OpenAI-compatible speech endpoint. `make_tts` picks one from settings."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import openai
from openai import AsyncOpenAI

from mocki.settings import Settings, VoiceSettings
from mocki.voice.audio import Audio
from mocki.voice.models import piper_voice_files
from mocki.voice.pool import ModelPool, ModelPoolError

if TYPE_CHECKING:
    from piper import PiperVoice

# OpenAI's "pcm" response format: 24 kHz signed 16-bit little-endian mono.
OPENAI_PCM_RATE = 24_000


class TTSError(Exception):
    """No audio: the model process died, or the endpoint failed."""


class TextToSpeech(Protocol):
    """Speaks one piece of text (the pipeline sends a sentence at a time)."""

    name: str

    async def synthesize(self, text: str) -> Audio: ...

    async def aclose(self) -> None: ...


class PiperEngine:
    """piper in this process. Synchronous and CPU-bound: see LocalTTS."""

    def __init__(self, model: Path, config: Path, *, length_scale: float) -> None:
        from piper import PiperVoice, SynthesisConfig

        self._voice: PiperVoice = PiperVoice.load(model, config_path=config)
        self._config = SynthesisConfig(length_scale=length_scale)
        self.sample_rate: int = self._voice.config.sample_rate

    def synthesize(self, text: str) -> Audio:
        chunks = self._voice.synthesize(text, syn_config=self._config)
        return Audio(b"".join(chunk.audio_int16_bytes for chunk in chunks), self.sample_rate)


_engine: PiperEngine | None = None


def _load_in_worker(model: Path, config: Path, length_scale: float) -> None:
    global _engine
    _engine = PiperEngine(model, config, length_scale=length_scale)


def _synthesize_in_worker(text: str) -> Audio:
    if _engine is None:
        raise TTSError("The text-to-speech process has no voice loaded.")
    return _engine.synthesize(text)


class LocalTTS:
    """The packaged piper voice (en_US joe, 22.05 kHz) behind the async Protocol."""

    name = "piper:en_US-joe-medium"

    def __init__(self, voice: VoiceSettings) -> None:
        model, config = piper_voice_files()
        self._pool = ModelPool(
            "text-to-speech", _load_in_worker, (model, config, voice.piper_length_scale), voice.processes
        )

    async def synthesize(self, text: str) -> Audio:
        if not text.strip():
            return Audio(b"", 22_050)
        try:
            return await self._pool.run(_synthesize_in_worker, text)
        except ModelPoolError as exc:
            raise TTSError(str(exc)) from exc

    async def aclose(self) -> None:
        await self._pool.aclose()


class OpenAITTS:
    """Any OpenAI-compatible /audio/speech endpoint, asked for raw PCM."""

    def __init__(self, voice: VoiceSettings) -> None:
        self.name = f"openai:{voice.tts_model}:{voice.tts_voice}"
        self._model = voice.tts_model
        self._voice = voice.tts_voice
        self._client = AsyncOpenAI(
            base_url=voice.tts_base_url, api_key=voice.tts_api_key, timeout=voice.timeout_s
        )

    async def synthesize(self, text: str) -> Audio:
        if not text.strip():
            return Audio(b"", OPENAI_PCM_RATE)
        try:
            response = await self._client.audio.speech.create(
                model=self._model, voice=self._voice, input=text, response_format="pcm"
            )
        except openai.APIStatusError as exc:
            raise TTSError(
                f"The speech endpoint refused the request ({exc.status_code}): {exc.message}"
            ) from exc
        except openai.OpenAIError as exc:
            raise TTSError(f"The speech endpoint failed: {exc}") from exc
        pcm = response.content
        # An odd byte count would shift every later sample; the endpoint's last half-sample goes.
        return Audio(pcm[: len(pcm) - len(pcm) % 2], OPENAI_PCM_RATE)

    async def aclose(self) -> None:
        await self._client.close()


def make_tts(settings: Settings) -> TextToSpeech:
    if settings.voice.tts_base_url:
        return OpenAITTS(settings.voice)
    return LocalTTS(settings.voice)
