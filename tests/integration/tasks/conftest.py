"""Real Celery workers, beat and Flower on the probe app (bench/task_probe.py), each test on a Redis
key prefix of its own so it never meets the session's worker or another test's messages."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from sqlalchemy import text

from mocki.core.db import make_engine
from mocki.settings import Settings, TaskSettings
from mocki.tasks.celery_app import make_celery
from tests.conftest import ROOT, process_env
from tests.support.processes import PYTHON, Child

PROBE_APP = "bench.task_probe:app"


@pytest.fixture
def settings(settings: Settings) -> Iterator[Settings]:
    """The test's settings on a Redis key prefix of its own, with quick retries."""
    prefix = f"test-tasks-{uuid.uuid4().hex[:10]}:"
    tasks = TaskSettings(key_prefix=prefix, retry_backoff_s=1, retry_backoff_max_s=2, max_retries=3)
    yield settings.model_copy(update={"tasks": tasks})
    client = redis.Redis.from_url(settings.resolved_redis_url)
    for name in client.scan_iter(match=f"{prefix}*", count=1000):
        client.delete(name)


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    tasks = settings.tasks
    return {
        **process_env(settings),
        "MOCKI_TASKS__KEY_PREFIX": tasks.key_prefix,
        "MOCKI_TASKS__LANES": tasks.lanes,
        "MOCKI_TASKS__MAX_RETRIES": str(tasks.max_retries),
        "MOCKI_TASKS__RETRY_BACKOFF_S": str(tasks.retry_backoff_s),
        "MOCKI_TASKS__RETRY_BACKOFF_MAX_S": str(tasks.retry_backoff_max_s),
        "MOCKI_TASKS__MAX_DELIVERIES": str(tasks.max_deliveries),
        "MOCKI_TASKS__VISIBILITY_TIMEOUT_S": str(tasks.visibility_timeout_s),
        **extra,
    }


@pytest.fixture
def sender(settings: Settings) -> Celery:
    """A Celery app that sends on the test's key prefix, like the api's."""
    return make_celery(settings)


@pytest.fixture
def start_worker(settings: Settings, tmp_path: Path) -> Iterator[Callable[..., Child]]:
    """Start probe-app workers; each is stopped by its PID when the test ends."""
    started: list[Child] = []

    def start(
        queues: str = "io", *, pool: str = "prefork", concurrency: int = 1, name: str = "w", **env: str
    ) -> Child:
        command = [
            PYTHON, "-m", "celery", "-A", PROBE_APP, "worker", "-Q", queues, "--pool", pool,
            "--concurrency", str(concurrency), "--loglevel", "INFO", "--without-mingle",
            "--without-gossip", "--hostname", f"{name}-{uuid.uuid4().hex[:6]}@%h",
        ]  # fmt: skip
        child = Child(command, env=env_for(settings, **env), log=tmp_path / f"{name}.log", cwd=ROOT)
        started.append(child)
        child.wait_until(lambda: "ready." in child.tail(100_000), 60, f"worker {name}")
        return child

    yield start
    for child in started:
        child.stop()


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def probe_redis(settings: Settings) -> redis.Redis[bytes]:
    return redis.Redis.from_url(settings.resolved_redis_url)


def sql(settings: Settings, statement: str, **params: Any) -> list[Any]:
    """Run one statement on the test database from sync test code."""

    async def run() -> list[Any]:
        engine = make_engine(settings.resolved_database_url)
        try:
            async with engine.begin() as conn:
                result = await conn.execute(text(statement), params)
                return list(result.all()) if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(run())


@pytest.fixture
def clean_db(settings: Settings) -> Iterator[None]:
    """Empty every table after a test that wrote through workers rather than the api."""
    yield
    from tests.conftest import _empty_tables_async

    asyncio.run(_empty_tables_async(settings.resolved_database_url))


def dead_letters(settings: Settings, task_name: str) -> list[Any]:
    return sql(
        settings,
        "SELECT task_id, reason, error_type, error, retries, status, args FROM dead_letters "
        "WHERE task_name = :name ORDER BY created_at",
        name=task_name,
    )
