"""The packaged piper voice and Whisper weights, end to end: speak answers, transcribe them back."""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path

import pytest

from mocki.settings import Settings
from mocki.voice.audio import Audio
from mocki.voice.models import WHISPER_BASE, whisper_base_dir
from mocki.voice.samples import ANSWERS, SpokenAnswer, spoken_answers
from mocki.voice.stt import LocalSTT
from mocki.voice.tts import LocalTTS, TextToSpeech, TTSError
from mocki.voice.wer import corpus_word_error_rate, words

pytestmark = pytest.mark.slow


async def test_piper_speaks_each_answer_at_a_speaking_pace(spoken: list[SpokenAnswer]) -> None:
    assert [answer.text for answer in spoken] == list(ANSWERS)
    for answer in spoken:
        audio = answer.audio()
        assert audio.sample_rate == 22_050
        # People speak about two to four words a second; piper's joe voice too.
        words_per_s = len(words(answer.text)) / audio.seconds
        assert 1.5 < words_per_s < 5.0, (answer.text, audio.seconds)
        assert int(abs(audio.samples().astype("int32")).max()) > 3000  # not silence


async def test_whisper_tiny_transcribes_piper_answers_under_15_percent_wer(
    spoken: list[SpokenAnswer], whisper_tiny: LocalSTT
) -> None:
    pairs = [(answer.text, (await whisper_tiny.transcribe(answer.audio())).text) for answer in spoken]
    wer = corpus_word_error_rate(pairs)
    assert wer < 0.15, pairs


async def test_whisper_base_joined_from_its_wheels_transcribes_too(
    spoken: list[SpokenAnswer], voice_settings: Settings
) -> None:
    settings = voice_settings.model_copy(deep=True)
    settings.voice.whisper_model = "base"
    stt = LocalSTT(settings.voice, settings.data_dir)
    try:
        assert (
            settings.data_dir / "models" / "whisper-base" / "model.bin"
        ).stat().st_size == WHISPER_BASE.size
        pairs = [(answer.text, (await stt.transcribe(answer.audio())).text) for answer in spoken[:3]]
    finally:
        await stt.aclose()
    assert corpus_word_error_rate(pairs) < 0.15, pairs
    # Joined once: a second resolve reuses the file rather than writing it again.
    model = settings.data_dir / "models" / "whisper-base" / "model.bin"
    before = model.stat().st_mtime_ns
    whisper_base_dir(settings.data_dir)
    assert model.stat().st_mtime_ns == before


async def test_silence_and_empty_input_give_empty_text(whisper_tiny: LocalSTT, piper: LocalTTS) -> None:
    assert (await whisper_tiny.transcribe(Audio(b"", 16_000))).text == ""
    assert (await piper.synthesize("   ")).pcm == b""
    silence = Audio(bytes(2 * 16_000 * 2), 16_000)
    # Whisper may still "hear" a word or two in silence; never a sentence.
    assert len(words((await whisper_tiny.transcribe(silence)).text)) <= 2


class _CountingTTS:
    """The real voice, counting how often it is asked to speak."""

    def __init__(self, inner: TextToSpeech) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls = 0

    async def synthesize(self, text: str) -> Audio:
        self.calls += 1
        return await self.inner.synthesize(text)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_spoken_answers_are_cached_by_text_and_voice(piper: LocalTTS, tmp_path: Path) -> None:
    counting = _CountingTTS(piper)
    first = await spoken_answers(counting, tmp_path, ANSWERS[:2])
    again = await spoken_answers(counting, tmp_path, ANSWERS[:2])
    assert counting.calls == 2
    assert [a.path for a in again] == [a.path for a in first]
    assert sorted(os.listdir(tmp_path)) == sorted(a.path.name for a in first)


async def test_models_run_in_other_processes(whisper_tiny: LocalSTT, piper: LocalTTS) -> None:
    # The api's event loop must never run inference: the engines live only in pool processes.
    import mocki.voice.stt as stt_module
    import mocki.voice.tts as tts_module

    await piper.synthesize("Ready.")
    assert stt_module._engine is None
    assert tts_module._engine is None


async def test_a_killed_model_process_fails_one_call_and_is_replaced(voice_settings: Settings) -> None:
    before = {p.pid for p in multiprocessing.active_children()}
    tts = LocalTTS(voice_settings.voice)
    try:
        assert (await tts.synthesize("First.")).pcm
        ours = [p for p in multiprocessing.active_children() if p.pid not in before]
        assert len(ours) == 1
        pid = ours[0].pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)  # as the out-of-memory killer would
        ours[0].join(10)
        with pytest.raises(TTSError, match="text-to-speech process died"):
            await tts.synthesize("Second.")
        assert (await tts.synthesize("Third.")).pcm
    finally:
        await tts.aclose()
