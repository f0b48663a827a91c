"""Mono 16-bit PCM audio as the voice code passes it around: WAV in and out, resampling."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

# Whisper hears 16 kHz mono.
WHISPER_RATE = 16_000


class AudioFormatError(ValueError):
    """Audio the voice code cannot read: not a WAV, not 16-bit, or empty."""


@dataclass(frozen=True)
class Audio:
    """Mono signed 16-bit little-endian samples at `sample_rate`."""

    pcm: bytes
    sample_rate: int

    @property
    def seconds(self) -> float:
        return len(self.pcm) / 2 / self.sample_rate

    def samples(self) -> npt.NDArray[np.int16]:
        return np.frombuffer(self.pcm, dtype="<i2")

    def to_wav(self) -> bytes:
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(self.sample_rate)
            out.writeframes(self.pcm)
        return buffer.getvalue()

    def write_wav(self, path: Path) -> None:
        path.write_bytes(self.to_wav())


def read_wav(data: bytes) -> Audio:
    """A 16-bit PCM WAV (stereo is averaged to mono)."""
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise AudioFormatError(f"Not a readable WAV file: {exc}") from exc
    if width != 2:
        raise AudioFormatError(f"Only 16-bit PCM WAV is accepted, this one has {8 * width}-bit samples.")
    samples = np.frombuffer(frames, dtype="<i2")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype("<i2")
    return Audio(samples.tobytes(), rate)


def to_whisper_input(audio: Audio) -> npt.NDArray[np.float32]:
    """Float samples in [-1, 1] at 16 kHz, resampled with PyAV's (libswresample) filter."""
    samples = audio.samples()
    if audio.sample_rate != WHISPER_RATE:
        samples = resample(samples, audio.sample_rate, WHISPER_RATE)
    floats: npt.NDArray[np.float32] = samples.astype(np.float32) / 32768.0
    return floats


def resample(samples: npt.NDArray[np.int16], rate: int, target: int) -> npt.NDArray[np.int16]:
    import av  # faster-whisper's dependency; imported here so the api process need not load it

    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="s16", layout="mono", rate=target)
    frames = resampler.resample(frame) + resampler.resample(None)
    if not frames:
        return np.zeros(0, dtype=np.int16)
    out: npt.NDArray[np.int16] = np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype(np.int16)
    return out


def without_leading_silence(audio: Audio, *, keep_s: float = 0.01, threshold: int = 200) -> Audio:
    """The audio from `keep_s` before its first sample louder than `threshold` (piper starts each
    sentence with about 60 ms of silence: the listener waits for it before hearing a word)."""
    samples = audio.samples()
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > threshold)
    if loud.size == 0:
        return audio
    start = max(0, int(loud[0]) - int(keep_s * audio.sample_rate))
    return audio if start == 0 else Audio(audio.pcm[2 * start :], audio.sample_rate)
