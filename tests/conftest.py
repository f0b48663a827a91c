"""Test fixtures: real PostgreSQL and SQLite, real Redis, a real Celery worker, the real local model.

Every test gets a fresh app on the backend it asks for (PostgreSQL unless parametrised with
`backend`), and its tables are emptied afterwards. Servers are started once per session on
free ports and stopped by the PID we started.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get("MOCKI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_BASE = os.environ.get("MOCKI_TEST_REDIS", "redis://127.0.0.1:6379")
# Each backend's worker listens on its own Redis database so their queues never mix.
# MOCKI_TEST_REDIS_DB moves the pair, so two suites can run side by side on one Redis.
_REDIS_BASE_DB = int(os.environ.get("MOCKI_TEST_REDIS_DB", "11"))
REDIS_DB = {"postgresql": _REDIS_BASE_DB, "sqlite": _REDIS_BASE_DB + 1}

os.environ.setdefault("MOCKI_ENV", "test")
os.environ.setdefault("MOCKI_REDIS_URL", f"{REDIS_BASE}/{REDIS_DB['postgresql']}")

from mocki.app import create_app  # noqa: E402
from mocki.llm.local_models import ensure_model, server_command  # noqa: E402
from mocki.settings import (  # noqa: E402
    KeySettings,
    LoginThrottleSettings,
    RateLimitSettings,
    SecuritySettings,
    Settings,
)
from mocki.tasks.names import worker_command  # noqa: E402
from tests.support.processes import PYTHON, Child, free_port, port_open  # noqa: E402
from tests.support.signing import SessionSigner  # noqa: E402

SHARED_DATA = ROOT.parent / "shared" / "data"

# The suite sends many requests from one address (127.0.0.1) and one user: limits high enough
# that only the security tests, which turn them down, ever meet them. Per second, so the
# moving-window lists in Redis stay short.
TEST_RATE_LIMITS = RateLimitSettings(per_ip="1000/second", per_user="1000/second", llm_budget="1000/second")


@pytest.fixture(scope="session")
def tmp_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mocki")


def _migrate(url: str) -> None:
    subprocess.run(
        [PYTHON, "-m", "alembic", "-x", f"url={url}", "upgrade", "head"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


def _pg_admin(sql: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(PG_ADMIN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    name = f"mocki_test_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    try:
        _migrate(url)
        yield url
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_url(tmp_root: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_root / 'test.db'}"
    _migrate(url)
    return url


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "postgresql"))


@pytest.fixture(scope="session")
def tiny_model() -> Path:
    return ensure_model(os.environ.get("MOCKI_TEST_MODEL", "tiny"))


@pytest.fixture(scope="session")
def llm_server(tiny_model: Path, tmp_root: Path) -> Iterator[str]:
    """The packaged model behind llama-cpp-python's OpenAI-compatible server, as `mocki up` runs it."""
    port = free_port()
    child = Child(
        server_command(tiny_model, port, n_ctx=2048),
        env={**os.environ},
        log=tmp_root / "llm.log",
    )
    child.wait_until(lambda: port_open(port), 120, "llama server")
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        child.stop()


def _db_url(backend: str, request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("pg_url" if backend == "postgresql" else "sqlite_url"))


@pytest.fixture
def settings(backend: str, request: pytest.FixtureRequest, tmp_path: Path, tmp_root: Path) -> Settings:
    llm_url = "http://127.0.0.1:9/v1"  # nothing listens there: tests without the model fail fast
    if "llm_server" in request.fixturenames or "worker" in request.fixturenames:
        llm_url = str(request.getfixturevalue("llm_server"))
    return Settings(
        env="test",
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        # Per test: the app's embedded vector store lives here and must start empty.
        data_dir=tmp_path / backend,
        database_url=_db_url(backend, request),
        redis_url=f"{REDIS_BASE}/{REDIS_DB[backend]}",
        llm_base_url=llm_url,
        llm_model="local",
        rate_limits=TEST_RATE_LIMITS,
        # Failed sign-ins are counted per test: fixed emails and 127.0.0.1 recur across tests and runs.
        security=SecuritySettings(
            login=LoginThrottleSettings(key_prefix=f"test-login-{uuid.uuid4().hex[:10]}")
        ),
        # One key file for the session: the session-wide worker must unwrap what every test wraps.
        keys=KeySettings(key_file=str(tmp_root / "keys" / "kek.json")),
    )


@dataclass
class Worker:
    child: Child
    backend: str


@pytest.fixture(scope="session")
def _workers(tmp_root: Path) -> Iterator[dict[str, Worker]]:
    started: dict[str, Worker] = {}
    yield started
    for w in started.values():
        w.child.stop()


def process_env(settings: Settings) -> dict[str, str]:
    """Environment for a child process (worker, api) that must share this test's settings."""
    return {
        **os.environ,
        "MOCKI_ENV": "test",
        "MOCKI_DATABASE_URL": settings.resolved_database_url,
        "MOCKI_REDIS_URL": settings.resolved_redis_url,
        "MOCKI_LLM_BASE_URL": settings.llm.base_url,
        "MOCKI_LLM_MODEL": settings.llm.model,
        "MOCKI_SECRET_KEY": settings.secret_key,
        "MOCKI_DATA_DIR": str(settings.data_dir),
        "MOCKI_KEYS__KEY_FILE": settings.keys.key_file,
        "MOCKI_RATE_LIMITS__PER_IP": settings.rate_limits.per_ip,
        "MOCKI_RATE_LIMITS__PER_USER": settings.rate_limits.per_user,
        "MOCKI_RATE_LIMITS__LLM_BUDGET": settings.rate_limits.llm_budget,
    }


@pytest.fixture
def worker(settings: Settings, backend: str, _workers: dict[str, Worker], tmp_root: Path) -> Worker:
    """A real Celery worker on both queues, sharing the test's database and Redis."""
    if backend not in started_ok(_workers):
        env = process_env(settings)
        redis.Redis.from_url(settings.resolved_redis_url).flushdb()
        child = Child(
            worker_command(PYTHON, "cpu,io", concurrency=2, hostname=f"test-{backend}@%h"),
            env=env,
            log=tmp_root / f"worker-{backend}.log",
            cwd=ROOT,
        )
        child.wait_until(lambda: "ready." in child.tail(100_000), 60, "celery worker")
        _workers[backend] = Worker(child, backend)
    return _workers[backend]


def started_ok(workers: dict[str, Worker]) -> set[str]:
    return {name for name, w in workers.items() if w.child.proc.poll() is None}


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    # Signs mutating requests with the key from sign-in, as the web app does (replay guard).
    hooks = SessionSigner().hooks()
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", timeout=120, event_hooks=hooks
    ) as c:
        yield c
    await _empty_tables_async(settings.resolved_database_url)


async def _empty_tables_async(url: str) -> None:
    from sqlalchemy.exc import DBAPIError

    from mocki.core.db import make_engine
    from mocki.models import Base

    names = [t.name for t in reversed(Base.metadata.sorted_tables)]
    engine = make_engine(url)
    try:
        # A worker may still be finishing a task of the test (a report, an extraction); its
        # transaction can deadlock with TRUNCATE's table locks. Postgres picks one victim:
        # if it is us, wait a moment and empty the tables again.
        for attempt in range(6):
            try:
                async with engine.begin() as conn:
                    if engine.dialect.name == "postgresql":
                        await conn.execute(text("TRUNCATE " + ", ".join(names) + " CASCADE"))
                    else:
                        for name in names:
                            await conn.execute(text(f"DELETE FROM {name}"))
                return
            except DBAPIError:
                if attempt == 5:
                    raise
                await asyncio.sleep(0.5 * (attempt + 1))
    finally:
        await engine.dispose()


async def register(
    client: httpx.AsyncClient, email: str | None = None, password: str = "correct horse battery"
) -> dict[str, str]:
    """Create an account through the api and return its Authorization header."""
    email = email or f"user-{uuid.uuid4().hex[:8]}@example.com"
    resp = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": password, "name": "Test"}
    )
    assert resp.status_code == 201, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


@pytest.fixture
async def auth(client: httpx.AsyncClient) -> dict[str, str]:
    return await register(client)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data not present at {SHARED_DATA} (only beside the project checkout)")
    return SHARED_DATA
