"""The real local voice models, loaded once per test session in their process pools."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mocki.settings import Settings
from mocki.voice.samples import SpokenAnswer, spoken_answers
from mocki.voice.stt import LocalSTT
from mocki.voice.tts import LocalTTS


@pytest.fixture(scope="session")
def voice_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("voice-data"))


@pytest.fixture(scope="session")
async def piper(voice_settings: Settings) -> AsyncIterator[LocalTTS]:
    tts = LocalTTS(voice_settings.voice)
    yield tts
    await tts.aclose()


@pytest.fixture(scope="session")
async def whisper_tiny(voice_settings: Settings) -> AsyncIterator[LocalSTT]:
    stt = LocalSTT(voice_settings.voice, voice_settings.data_dir)
    yield stt
    await stt.aclose()


@pytest.fixture(scope="session")
def answers_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("voice-answers")


@pytest.fixture(scope="session")
async def spoken(piper: LocalTTS, answers_dir: Path) -> list[SpokenAnswer]:
    """The project's interview answers voiced by piper, cached as WAVs for the session."""
    return await spoken_answers(piper, answers_dir)
