"""WAV reading and writing, and resampling to Whisper's 16 kHz."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from mocki.voice.audio import (
    Audio,
    AudioFormatError,
    read_wav,
    resample,
    to_whisper_input,
    without_leading_silence,
)


def _tone(rate: int, seconds: float) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * 440 * t) * 12_000).astype(np.int16)


def test_wav_round_trip_keeps_samples_and_rate() -> None:
    audio = Audio(_tone(22_050, 0.5).tobytes(), 22_050)
    back = read_wav(audio.to_wav())
    assert back == audio
    assert back.seconds == pytest.approx(0.5)


def test_stereo_is_averaged_to_mono() -> None:
    left, right = np.full(100, 1000, np.int16), np.full(100, 3000, np.int16)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(np.stack([left, right], axis=1).tobytes())
    audio = read_wav(buffer.getvalue())
    assert audio.sample_rate == 16_000
    assert audio.samples().tolist() == [2000] * 100


def test_rejects_what_is_not_16_bit_wav() -> None:
    with pytest.raises(AudioFormatError, match="Not a readable WAV"):
        read_wav(b"OggS not a wav at all")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(8000)
        out.writeframes(bytes(80))
    with pytest.raises(AudioFormatError, match="8-bit"):
        read_wav(buffer.getvalue())


def test_resampling_keeps_duration_and_pitch() -> None:
    out = resample(_tone(22_050, 1.0), 22_050, 16_000)
    assert abs(len(out) - 16_000) <= 32
    spectrum = np.abs(np.fft.rfft(out.astype(np.float64)))
    peak_hz = np.argmax(spectrum) * 16_000 / len(out)
    assert peak_hz == pytest.approx(440, abs=3)


def test_whisper_input_is_float_in_unit_range_at_16k() -> None:
    floats = to_whisper_input(Audio(_tone(16_000, 0.25).tobytes(), 16_000))
    assert floats.dtype == np.float32
    assert len(floats) == 4000
    assert 0.3 < float(np.abs(floats).max()) <= 1.0


def test_leading_silence_is_cut_to_a_few_milliseconds_and_the_rest_kept() -> None:
    rate = 22_050
    silence, voice = np.zeros(int(0.06 * rate), dtype="<i2"), np.full(rate // 2, 3000, dtype="<i2")
    audio = Audio(np.concatenate([silence, voice, silence]).tobytes(), rate)
    trimmed = without_leading_silence(audio, keep_s=0.01)
    assert round(audio.seconds - trimmed.seconds, 3) == 0.05  # 60 ms of silence, 10 ms kept
    assert trimmed.pcm.endswith(voice.tobytes() + silence.tobytes())
    quiet = Audio(silence.tobytes(), rate)
    assert without_leading_silence(quiet) == quiet  # nothing to speak: left as it is
