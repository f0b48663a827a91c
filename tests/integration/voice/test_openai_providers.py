"""The OpenAI-compatible STT and TTS providers against a real HTTP speech server on this machine."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mocki.settings import Settings
from mocki.voice.samples import SpokenAnswer
from mocki.voice.stt import OpenAISTT, STTError, make_stt
from mocki.voice.tts import OPENAI_PCM_RATE, OpenAITTS, make_tts
from mocki.voice.wer import corpus_word_error_rate, words
from tests.support.processes import PYTHON, Child, free_port, port_open

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def speech_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("speech-server") / "server.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    args = [PYTHON, "-m", "uvicorn", "tests.integration.voice.openai_voice_server:app", "--port", str(port)]
    child = Child(args, env, log, cwd=ROOT)
    try:
        child.wait_until(lambda: port_open(port), 60, "the speech server")
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        child.stop()


def _settings(base_url: str) -> Settings:
    settings = Settings()
    settings.voice.stt_base_url = base_url
    settings.voice.tts_base_url = base_url
    return settings


async def test_remote_tts_then_remote_stt_round_trip(speech_server: str) -> None:
    settings = _settings(speech_server)
    tts, stt = make_tts(settings), make_stt(settings)
    assert isinstance(tts, OpenAITTS)
    assert isinstance(stt, OpenAISTT)
    text = "I would measure first, and only then add a cache in front of the database."
    try:
        audio = await tts.synthesize(text)
        assert audio.sample_rate == OPENAI_PCM_RATE
        assert 1.5 < len(words(text)) / audio.seconds < 5.0
        transcript = await stt.transcribe(audio)
    finally:
        await tts.aclose()
        await stt.aclose()
    assert corpus_word_error_rate([(text, transcript.text)]) < 0.15, transcript.text


async def test_remote_stt_on_the_piper_answers(speech_server: str, spoken: list[SpokenAnswer]) -> None:
    stt = make_stt(_settings(speech_server))
    try:
        pairs = [(a.text, (await stt.transcribe(a.audio())).text) for a in spoken[:2]]
    finally:
        await stt.aclose()
    assert corpus_word_error_rate(pairs) < 0.15, pairs


async def test_an_unreachable_endpoint_is_a_clear_error(spoken: list[SpokenAnswer]) -> None:
    settings = _settings(f"http://127.0.0.1:{free_port()}/v1")
    settings.voice.timeout_s = 2
    stt = make_stt(settings)
    try:
        with pytest.raises(STTError, match="transcription endpoint failed"):
            await stt.transcribe(spoken[0].audio())
    finally:
        await stt.aclose()
