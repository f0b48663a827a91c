"""Shared benchmark plumbing: the packaged model's server as a child, peak-memory sampling, statistics."""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import psutil  # type: ignore[import-untyped]  # no stubs installed

from mocki.llm.local_models import ensure_model, server_command


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class LlamaServer:
    """llama-cpp-python's OpenAI-compatible server on a free port, stopped by the PID we started."""

    def __init__(self, model: str, *, n_ctx: int = 4096, n_threads: int = 2) -> None:
        self.model = model
        self.path = ensure_model(model)
        self.port = free_port()
        self.n_ctx, self.n_threads = n_ctx, n_threads
        self.log = Path(tempfile.mkstemp(prefix=f"bench-llm-{model}-", suffix=".log")[1])
        self.proc: subprocess.Popen[bytes] | None = None
        self.load_s = 0.0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __enter__(self) -> LlamaServer:
        started = time.perf_counter()
        with self.log.open("wb") as fh:
            self.proc = subprocess.Popen(
                server_command(self.path, self.port, n_ctx=self.n_ctx, n_threads=self.n_threads),
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 240
        while not _port_open(self.port):
            if self.proc.poll() is not None:
                tail = self.log.read_bytes()[-3000:].decode(errors="replace")
                raise RuntimeError(f"llama server exited with {self.proc.returncode}:\n{tail}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"llama server not ready after 240 s; see {self.log}")
            time.sleep(0.1)
        self.load_s = time.perf_counter() - started
        return self

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class PeakRSS:
    """Samples the resident memory of some processes every 50 ms and keeps each one's peak."""

    def __init__(self, pids: dict[str, int], interval_s: float = 0.05, *, children: bool = False) -> None:
        self.procs = {name: psutil.Process(pid) for name, pid in pids.items()}
        # The bench process is the model server's parent: counting children would count the model twice.
        self.children = children
        self.peak = dict.fromkeys(pids, 0)
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        for name, proc in self.procs.items():
            try:
                rss = proc.memory_info().rss
                if self.children:
                    rss += sum(c.memory_info().rss for c in proc.children(recursive=True))
            except psutil.Error:
                continue
            self.peak[name] = max(self.peak[name], rss)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval_s)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def mb(self, name: str) -> float:
        return round(self.peak[name] / 2**20, 1)


def median(values: Sequence[float]) -> float:
    return round(statistics.median(values), 3) if values else float("nan")


def p95(values: Sequence[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    # Nearest rank: with few samples this is the slowest one, which is the honest answer.
    rank = max(1, -(-95 * len(ordered) // 100))
    return round(ordered[rank - 1], 3)
