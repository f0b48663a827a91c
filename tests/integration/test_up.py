"""`mocki up` end to end: the embedded stack starts, serves, and Ctrl-C leaves nothing running."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import BinaryIO

import httpx
import psutil
import pytest

from tests.support.processes import PYTHON, free_port

pytestmark = pytest.mark.slow


def _start_up(tmp_path: Path, log: BinaryIO) -> tuple[subprocess.Popen[bytes], int]:
    """`mocki up --model tiny` with a clean MOCKI_ environment, on free ports."""
    port, llm_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKI_")}
    env.update(
        {
            "MOCKI_DATA_DIR": str(tmp_path / "data"),
            "MOCKI_LOCAL_MODEL__PORT": str(llm_port),
            "MOCKI_CACHE": os.environ.get("MOCKI_CACHE", str(Path.home() / ".cache" / "mocki")),
        }
    )
    proc = subprocess.Popen(
        [PYTHON, "-m", "mocki.cli", "up", "--model", "tiny", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return proc, port


def test_up_serves_and_ctrl_c_stops_every_child(tmp_path: Path, tiny_model: Path) -> None:
    log = (tmp_path / "up.log").open("wb")
    proc, port = _start_up(tmp_path, log)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "up.log").read_text()
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail("mocki up did not serve in time:\n" + (tmp_path / "up.log").read_text())

        children = psutil.Process(proc.pid).children(recursive=True)
        names = " ".join(" ".join(c.cmdline()) for c in children)
        assert "redis-server" in names and "llama_cpp.server" in names
        assert "celery" in names and "uvicorn" in names
        assert (tmp_path / "data" / "mocki.db").exists()
        # No process signs tokens with the published default key.
        key = tmp_path / "data" / "secret_key"
        assert key.stat().st_mode & 0o777 == 0o600 and len(key.read_text()) >= 48

        # The embedded stack really works: an account, and the built-in bank is seeded.
        reg = httpx.post(
            f"{base}/api/v1/auth/register",
            json={"email": "up@example.com", "password": "correct horse battery"},
        )
        assert reg.status_code == 201, reg.text
        headers = {"Authorization": f"Bearer {reg.json()['access_token']}"}
        bank = httpx.get(f"{base}/api/v1/questions", params={"limit": 1}, headers=headers)
        assert bank.status_code == 200 and bank.json()["total"] >= 150

        proc.send_signal(signal.SIGINT)
        # Stopping is bounded by its phases (embedded.Stack.stop: 40 s, plus 5 s per kill).
        assert proc.wait(90) == 0, (tmp_path / "up.log").read_text()
        _gone, alive = psutil.wait_procs(children, timeout=10)
        assert not alive, f"left running: {[c.pid for c in alive]}"
    finally:
        if proc.poll() is None:
            # Only what this test started: the up process and its own children, by PID.
            for child in psutil.Process(proc.pid).children(recursive=True):
                child.kill()
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def test_children_follow_a_killed_up(tmp_path: Path, tiny_model: Path) -> None:
    """Even SIGKILL, which `mocki up` cannot handle, leaves no child running."""
    with (tmp_path / "up.log").open("wb") as log:
        proc, _port = _start_up(tmp_path, log)
        try:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline and b"MOCKI is up" not in (tmp_path / "up.log").read_bytes():
                assert proc.poll() is None, (tmp_path / "up.log").read_text()
                time.sleep(0.5)
            children = psutil.Process(proc.pid).children(recursive=True)
            assert len(children) >= 4
        finally:
            proc.kill()
            proc.wait(10)
    _gone, alive = psutil.wait_procs(children, timeout=30)
    for child in alive:  # only what this test started, by PID
        child.kill()
    assert not alive, f"outlived mocki up: {[c.pid for c in alive]}"
