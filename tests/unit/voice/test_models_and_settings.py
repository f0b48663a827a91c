"""Pinned model files are refused when they differ; settings pick the providers."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mocki.settings import Settings
from mocki.voice.models import PinnedFile, VoiceModelError, verify, whisper_dir
from mocki.voice.stt import OpenAISTT, make_stt
from mocki.voice.tts import OpenAITTS, make_tts


def _pin_for(data: bytes) -> PinnedFile:
    return PinnedFile(len(data), hashlib.sha256(data).hexdigest())


def test_verify_accepts_the_pinned_file(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"weights")
    verify(path, _pin_for(b"weights"), "pkg==1")


def test_verify_refuses_a_missing_resized_or_altered_file(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    with pytest.raises(VoiceModelError, match="missing; reinstall pkg==1"):
        verify(path, _pin_for(b"weights"), "pkg==1")
    path.write_bytes(b"weights!")
    with pytest.raises(VoiceModelError, match="has 8 bytes, not the 7"):
        verify(path, _pin_for(b"weights"), "pkg==1")
    path.write_bytes(b"weighTs")
    with pytest.raises(VoiceModelError, match="refusing to load it"):
        verify(path, _pin_for(b"weights"), "pkg==1")


def test_unknown_whisper_model_is_named(tmp_path: Path) -> None:
    with pytest.raises(VoiceModelError, match="'large'"):
        whisper_dir("large", tmp_path)


def test_nested_voice_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKI_VOICE__STT_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("MOCKI_VOICE__TTS_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("MOCKI_VOICE__WHISPER_MODEL", "base")
    monkeypatch.setenv("MOCKI_VOICE__TTS_VOICE", "nova")
    voice = Settings().voice
    assert (voice.stt_base_url, voice.whisper_model, voice.tts_voice) == (
        "http://127.0.0.1:9/v1",
        "base",
        "nova",
    )


def test_a_wrong_whisper_model_name_is_refused_by_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKI_VOICE__WHISPER_MODEL", "large")
    with pytest.raises(ValueError, match="whisper_model"):
        Settings()


async def test_base_urls_switch_to_the_openai_compatible_providers() -> None:
    settings = Settings()
    settings.voice.stt_base_url = "http://127.0.0.1:9/v1"
    settings.voice.tts_base_url = "http://127.0.0.1:9/v1"
    stt, tts = make_stt(settings), make_tts(settings)
    try:
        assert isinstance(stt, OpenAISTT)
        assert isinstance(tts, OpenAITTS)
        assert stt.name == "openai:whisper-1"
        assert tts.name == "openai:tts-1:alloy"
    finally:
        await stt.aclose()
        await tts.aclose()
