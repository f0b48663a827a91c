"""Fixtures of the browser tests: the built web app, Debian's Chromium, and `mocki api` serving both."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mocki.settings import Settings
from tests.conftest import ROOT, Worker, process_env
from tests.support.processes import PYTHON, Child, free_port

WEB_DIST = ROOT / "web" / "dist"
CHROMIUM = os.environ.get("MOCKI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Generous: the tiny model runs on CPU and the worker may be busy with another task.
SLOW_MS = 240_000


@pytest.fixture
def web_dist() -> Path:
    if not (WEB_DIST / "index.html").is_file():
        pytest.fail(f"The web app is not built ({WEB_DIST / 'index.html'} is missing): run `make web` first.")
    return WEB_DIST


@pytest.fixture
def chromium() -> str:
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        pytest.fail(f"Chromium not found at {CHROMIUM}: `apt-get install -y chromium` or set MOCKI_CHROMIUM.")
    return CHROMIUM


@pytest.fixture
def api_server(web_dist: Path, settings: Settings, worker: Worker, tmp_path: Path) -> Iterator[str]:
    """`mocki api` as a real uvicorn process, sharing the worker's database and Redis."""
    del worker  # requested so the report task has a worker on the same broker
    port = free_port()
    env = {**process_env(settings), "MOCKI_WEB_DIST": str(web_dist)}
    # As a deployment does: migrate and seed the built-in question bank (idempotent).
    subprocess.run(
        [PYTHON, "-m", "mocki.cli", "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True
    )
    uvicorn = [PYTHON, "-m", "uvicorn", "mocki.app:create_app", "--factory"]
    child = Child(
        [*uvicorn, "--host", "127.0.0.1", "--port", str(port), "--log-level", "info"],
        env=env,
        log=tmp_path / "api.log",
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    child.wait_until(healthy, 60, "api server")
    try:
        yield base
    finally:
        child.stop()
