"""Whisper's cut-short encoder input and the decoding-loop check (voice/stt.py)."""

from __future__ import annotations

import pytest

from mocki.voice.stt import encoder_frames, repeats

RATE = 16_000


def test_the_encoder_hears_the_speech_and_a_second_of_silence() -> None:
    assert encoder_frames(4 * RATE) == 4 * 100 + 1 + 100 + 1  # even: the encoder halves it
    assert encoder_frames(int(2.5 * RATE)) == 352


@pytest.mark.parametrize("seconds", [0.2, 1.0, 1.49, 28.99, 29.5, 45.0])
def test_short_words_and_long_audio_get_the_full_window(seconds: float) -> None:
    assert encoder_frames(int(seconds * RATE)) is None


@pytest.mark.parametrize(
    "text",
    [
        "It depends on the load. It depends on the load. It depends on the",
        "Thank you. Thank you. Thank you.",
        "Okay? Okay? Okay? Okay",
        "Not really not really not really",
        "That is a good question. That is a good",
    ],
)
def test_whispers_decoding_loops_are_caught(text: str) -> None:
    assert repeats(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Yes.",
        "No, no, I would put a cache in front of the database first.",
        "In my last role I led a small team that rebuilt the billing service.",
    ],
)
def test_ordinary_answers_are_not_loops(text: str) -> None:
    assert not repeats(text)
