"""Probe tasks on MOCKI's own Celery app and task base class, whose side effects can be counted.

Run by real workers (`celery -A bench.task_probe:app worker ...`) for `mocki bench priority`,
`mocki bench worker-loss` and the task-system tests. With MOCKI_TASKS__KEY_PREFIX set, the
broker's keys and everything a probe writes in Redis are under that prefix, so a probe run never
meets another run's messages on a shared Redis.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from typing import Any

import redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mocki.llm import usage
from mocki.llm.base import Usage
from mocki.settings import get_settings
from mocki.tasks.celery_app import make_celery
from mocki.tasks.reliability import TransientError, run_once, will_retry
from mocki.tasks.runtime import run_async, run_in_unit_of_work

# The broker's keys are under settings.tasks.key_prefix (MOCKI_TASKS__KEY_PREFIX); the probes' own too.
PREFIX = get_settings().tasks.key_prefix or "probe:"
POOL = "io"  # the pool probes are routed to unless a sender names another
BEAT_QUEUE = "probe-beat"
EFFECTS_DDL = (
    "CREATE TABLE IF NOT EXISTS probe_effects (n INTEGER NOT NULL, pid INTEGER NOT NULL, at FLOAT NOT NULL)"
)

app = make_celery()
if os.environ.get("MOCKI_PROBE_BEAT_S"):
    app.conf.beat_schedule = {
        "probe-tick": {
            "task": "probe.tick",
            "schedule": float(os.environ["MOCKI_PROBE_BEAT_S"]),
            "options": {"queue": BEAT_QUEUE, "expires": 300},
        }
    }

_client: redis.Redis[bytes] | None = None


def store() -> redis.Redis[bytes]:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(get_settings().resolved_redis_url)
    return _client


def key(name: str) -> str:
    return f"{PREFIX}{name}"


@app.task(name="probe.sleep", shared=False)  # type: ignore[untyped-decorator]
def sleep(tag: str, sent_at: float, duration_s: float) -> None:
    """Record how long this task waited in its queue, then work for a fixed time."""
    started = time.time()
    store().rpush(key("waits"), json.dumps({"tag": tag, "wait_s": started - sent_at}))
    time.sleep(duration_s)


@app.task(name="probe.effect", shared=False)  # type: ignore[untyped-decorator]
def effect(n: int, duration_s: float) -> bool:
    """One countable side effect (a probe_effects row), committed with the run's idempotency key."""
    store().hset(key("started"), str(n), os.getpid())
    time.sleep(duration_s)

    async def write(session: AsyncSession) -> None:
        await session.execute(
            text("INSERT INTO probe_effects (n, pid, at) VALUES (:n, :pid, :at)"),
            {"n": n, "pid": os.getpid(), "at": time.time()},
        )

    ran = run_once(write).ran
    store().rpush(key("effect-runs"), f"{n}:{ran}")
    return ran


@app.task(name="probe.flaky", shared=False)  # type: ignore[untyped-decorator]
def flaky(name: str, failures: int) -> None:
    """Fails with a transient error `failures` times, then succeeds; each attempt's time is kept."""
    attempt = store().rpush(key(f"attempts:{name}"), time.time())
    if attempt <= failures:
        raise TransientError(f"attempt {attempt} of {name} failed on purpose")


@app.task(name="probe.status", shared=False)  # type: ignore[untyped-decorator]
def status(name: str, error: str) -> str:
    """A domain task's shape: every failure ends in a status the user sees, but a transient one
    only on the last attempt (reliability.will_retry); each attempt and the final status are kept."""
    store().rpush(key(f"attempts:{name}"), time.time())
    try:
        raise TransientError(name) if error == "transient" else ValueError(name)
    except Exception as exc:
        if will_retry(exc):
            raise
        store().rpush(key(f"status:{name}"), f"failed after {type(exc).__name__}")
        return "failed"


@app.task(name="probe.broken", shared=False)  # type: ignore[untyped-decorator]
def broken(reason: str) -> None:
    raise ValueError(reason)


@app.task(name="probe.hang", shared=False, soft_time_limit=1, time_limit=3)  # type: ignore[untyped-decorator]
def hang(seconds: float) -> None:
    """An async body that never finishes in time: the task's own deadline stops it."""
    run_async(lambda: asyncio.sleep(seconds))


@app.task(name="probe.crash", shared=False)  # type: ignore[untyped-decorator]
def crash() -> None:
    """Kills the process running it, every time (a task that brings its worker down)."""
    store().rpush(key("crashes"), os.getpid())
    os.kill(os.getpid(), signal.SIGKILL)


@app.task(name="probe.llm", shared=False)  # type: ignore[untyped-decorator]
def llm_call(purpose: str, prompt_tokens: int, completion_tokens: int, error: str | None = None) -> None:
    """Record one model call the way every caller does (a `llm_calls` row), without a model."""
    used = Usage(
        model="probe-model",
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        latency_s=0.25,
        error=error,
    )

    async def write(session: AsyncSession) -> None:
        usage.record(session, used, purpose=purpose)

    run_in_unit_of_work(write)


@app.task(name="probe.tick", shared=False)  # type: ignore[untyped-decorator]
def tick() -> None:
    """Beat's probe entry; the tests count its messages, no worker runs it."""


def waits(client: redis.Redis[bytes], prefix: str) -> list[dict[str, Any]]:
    """What `sleep` probes recorded, in the order they started (read by the sender's side)."""
    return [json.loads(raw) for raw in client.lrange(f"{prefix}waits", 0, -1)]
