"""Spoken interview answers for tests and benchmarks: project-written texts voiced by the TTS.

Each answer is synthesised once into `folder` as a WAV named by a hash of its text and the
voice, so later runs (and other tests) reuse the file instead of speaking it again.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path

from mocki.voice.audio import Audio, read_wav
from mocki.voice.tts import TextToSpeech

# Written for MOCKI: typical candidate answers, with no digits or brand spellings that a
# transcript may write another way.
ANSWERS: tuple[str, ...] = (
    "In my last role I led a small team that rebuilt the billing service, and we cut the nightly "
    "batch from four hours to under one hour.",
    "When two engineers disagreed about the design, I asked each of them to write down the "
    "trade offs, and we chose the simpler option together.",
    "I would put a cache in front of the database, measure the hit rate, and only then decide "
    "whether the extra complexity is worth it.",
    "My biggest mistake was shipping a change on a Friday without a rollback plan. Since then I "
    "always write down how to undo a release before I start it.",
    "I enjoy mentoring new colleagues, because explaining a system to someone else shows me "
    "which parts of it are still confusing.",
)


@dataclass(frozen=True)
class SpokenAnswer:
    text: str
    path: Path

    def audio(self) -> Audio:
        return read_wav(self.path.read_bytes())


def sample_path(folder: Path, voice_name: str, text: str) -> Path:
    digest = hashlib.sha256(f"{voice_name}\n{text}".encode()).hexdigest()[:16]
    return folder / f"answer-{digest}.wav"


async def spoken_answers(
    tts: TextToSpeech, folder: Path, texts: tuple[str, ...] = ANSWERS
) -> list[SpokenAnswer]:
    """Every text as a WAV in `folder`, synthesising only those not there yet."""
    wanted = await asyncio.to_thread(_wanted, folder, tts.name, texts)
    for answer, present in wanted:
        if not present:
            audio = await tts.synthesize(answer.text)
            await asyncio.to_thread(_write_whole, audio, answer.path)
    return [answer for answer, _ in wanted]


def _wanted(folder: Path, voice_name: str, texts: tuple[str, ...]) -> list[tuple[SpokenAnswer, bool]]:
    folder.mkdir(parents=True, exist_ok=True)
    answers = [SpokenAnswer(text, sample_path(folder, voice_name, text)) for text in texts]
    return [(answer, answer.path.is_file()) for answer in answers]


def _write_whole(audio: Audio, path: Path) -> None:
    # Renamed into place, so a run stopped mid-write never leaves a truncated sample to reuse.
    partial = path.with_suffix(".partial")
    audio.write_wav(partial)
    partial.replace(path)
