"""Fixtures of the tracker's integration tests: a real Dovecot IMAP server, the tracker's own Celery
worker (on its own queue prefix, so no other worker takes its tasks), and helpers to wait on syncs.

Dovecot runs from Debian's `dovecot-imapd` in a temporary directory: a passwd-file of users, one
maildir each, plain IMAP on a free port of 127.0.0.1, stopped by the PID we started.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from mocki.settings import Settings
from mocki.tasks.names import worker_command
from tests.conftest import ROOT, process_env
from tests.integration.tracker.mailsink import resend_server, smtp  # noqa: F401  (fixtures of the mail tests)
from tests.support.processes import PYTHON, Child, free_port, port_open

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
MAIL_UID = 65534  # nobody: Dovecot will not serve mail as root
API = "/api/v1/tracker"


@dataclass
class Dovecot:
    root: Path
    port: int
    child: Child
    users: dict[str, str] = field(default_factory=dict)

    def add_user(self) -> tuple[str, str]:
        user, password = f"u{uuid.uuid4().hex[:10]}@example.com", uuid.uuid4().hex
        maildir = self.maildir(user)
        for sub in ("cur", "new", "tmp"):
            (maildir / sub).mkdir(parents=True, exist_ok=True)
        # One passwd-file per user: Dovecot reloads a changed file only when its mtime (in seconds) moves.
        (self.root / "users" / user).write_text(f"{user}:{{PLAIN}}{password}\n")
        self._chown(maildir.parent)
        self.users[user] = password
        return user, password

    def maildir(self, user: str) -> Path:
        return self.root / "mail" / user

    def deliver(self, user: str, messages: list[bytes]) -> None:
        """Drop messages into the user's maildir, as a local delivery agent would."""
        new = self.maildir(user) / "new"
        stamp = time.time_ns()
        for number, raw in enumerate(messages):
            path = new / f"{stamp}.M{number}P{os.getpid()}.mocki-test"
            path.write_bytes(raw)
            os.chown(path, MAIL_UID, MAIL_UID)

    def _chown(self, path: Path) -> None:
        for dirpath, _dirs, files in os.walk(path):
            os.chown(dirpath, MAIL_UID, MAIL_UID)
            for name in files:
                os.chown(os.path.join(dirpath, name), MAIL_UID, MAIL_UID)


CONFIG = """
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = 1
mail_max_userip_connections = 50
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
userdb {{
  driver = static
  args = uid={uid} gid={uid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    if not Path(DOVECOT).exists():
        pytest.skip("Dovecot is not installed (Debian package dovecot-imapd)")
    if os.geteuid() != 0:
        pytest.skip("the Dovecot fixture starts the server as root (it drops to 'nobody' for mail)")
    # Not under pytest's 0700 temporary tree: Dovecot's auth and mail processes run as other users.
    root = Path(tempfile.mkdtemp(prefix="mocki-dovecot-"))
    os.chmod(root, 0o755)
    (root / "mail").mkdir()
    (root / "users").mkdir()
    port = free_port()
    (root / "dovecot.conf").write_text(CONFIG.format(root=root, port=port, uid=MAIL_UID))
    child = Child(
        [DOVECOT, "-F", "-c", str(root / "dovecot.conf")], env=dict(os.environ), log=root / "stdout.log"
    )
    child.wait_until(lambda: port_open(port), 30, "dovecot")
    server = Dovecot(root, port, child)
    try:
        yield server
    finally:
        child.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def task_prefix() -> str:
    return f"trk-{uuid.uuid4().hex[:8]}:"


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data directory for the status model, so it is trained once per session and shared."""
    return tmp_path_factory.mktemp("tracker-model")


@pytest.fixture
def settings(settings: Settings, task_prefix: str) -> Settings:
    """The suite's settings with the tracker's own task prefix, the LLM off and small batches."""
    return settings.model_copy(
        update={
            "tasks": settings.tasks.model_copy(update={"key_prefix": task_prefix}),
            "tracker": settings.tracker.model_copy(
                update={"llm": "off", "fetch_batch": 25, "analysis_batch": 20}
            ),
        }
    )


def worker_env(settings: Settings, model_dir: Path, **extra: str) -> dict[str, str]:
    env = process_env(settings)
    env.update(
        {
            "MOCKI_DATA_DIR": str(model_dir),
            "MOCKI_TASKS__KEY_PREFIX": settings.tasks.key_prefix,
            "MOCKI_TASKS__VISIBILITY_TIMEOUT_S": "8",
            "MOCKI_TRACKER__LLM": "off",
            "MOCKI_TRACKER__FETCH_BATCH": str(settings.tracker.fetch_batch),
            "MOCKI_TRACKER__ANALYSIS_BATCH": str(settings.tracker.analysis_batch),
            **extra,
        }
    )
    return env


def start_worker(env: dict[str, str], log: Path, name: str) -> Child:
    child = Child(
        worker_command(PYTHON, "io", concurrency=2, hostname=f"{name}-{uuid.uuid4().hex[:6]}@%h"),
        env=env,
        log=log,
        cwd=ROOT,
    )
    child.wait_until(lambda: "ready." in child.tail(100_000), 90, "tracker worker")
    return child


@pytest.fixture
def tracker_worker(settings: Settings, model_dir: Path, tmp_path: Path, backend: str) -> Iterator[Child]:
    """A Celery io worker of this test's backend on the tracker's queue prefix."""
    child = start_worker(worker_env(settings, model_dir), tmp_path / f"worker-{backend}.log", "tracker")
    try:
        yield child
    finally:
        child.stop()


async def wait_sync(
    client: httpx.AsyncClient, auth: dict[str, str], sync_id: str, within_s: float = 240
) -> dict[str, Any]:
    """Poll the sync until it is done or failed; its last state."""
    deadline = time.monotonic() + within_s
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        resp = await client.get(f"{API}/syncs/{sync_id}", headers=auth)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        if body["status"] in ("done", "failed"):
            return body
        await asyncio.sleep(0.3)
    raise AssertionError(f"sync {sync_id} not finished after {within_s}s: {body}")


def imap_body(server: Dovecot, user: str, password: str, **extra: Any) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": server.port,
        "security": "none",
        "username": user,
        "password": password,
        **extra,
    }
