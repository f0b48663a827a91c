"""No lost work, on real workers and Redis: retries with backoff, dead letters, time limits inside
the task, a task that kills its worker, expiry, and idempotent re-runs."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from bench.task_probe import EFFECTS_DDL
from celery import Celery

from mocki.settings import Settings
from tests.integration.tasks.conftest import dead_letters, probe_redis, sql, wait_for
from tests.support.processes import Child

pytestmark = pytest.mark.usefixtures("clean_db")


def _attempts(settings: Settings, name: str) -> list[float]:
    raw = probe_redis(settings).lrange(f"{settings.tasks.key_prefix}attempts:{name}", 0, -1)
    return [float(x) for x in raw]


def test_transient_errors_are_retried_with_backoff_until_they_pass(
    settings: Settings, sender: Celery, start_worker: Callable[..., Child]
) -> None:
    start_worker()
    sender.send_task("probe.flaky", args=["twice", 2], queue="io", expires=120)
    attempts = wait_for(lambda: len(_attempts(settings, "twice")) >= 3 or None, 60, "three attempts")
    assert attempts
    times = _attempts(settings, "twice")
    # Each retry waited its countdown (backoff with jitter can draw zero, so only the order is sure).
    assert times == sorted(times) and len(times) == 3
    # It passed on the third attempt: nothing is dead-lettered.
    assert dead_letters(settings, "probe.flaky") == []


def test_exhausted_retries_write_a_dead_letter(
    settings: Settings, sender: Celery, start_worker: Callable[..., Child]
) -> None:
    start_worker()
    task_id = str(uuid.uuid4())
    sender.send_task("probe.flaky", args=["always", 99], queue="io", expires=120, task_id=task_id)
    letters = wait_for(lambda: dead_letters(settings, "probe.flaky"), 90, "the dead letter")
    (letter,) = letters
    assert letter.task_id == task_id and letter.reason == "failed" and letter.status == "open"
    assert letter.error_type == "TransientError" and letter.retries == settings.tasks.max_retries
    assert len(_attempts(settings, "always")) == settings.tasks.max_retries + 1
    assert list(letter.args) == ["always", 99]


def test_a_task_that_reports_its_failures_is_still_retried_on_transient_ones(
    settings: Settings, sender: Celery, start_worker: Callable[..., Child]
) -> None:
    """Report writing and indexing turn failures into a status the user sees: a transient error
    only on the last attempt, after the retries; a permanent one at once."""
    start_worker()
    sender.send_task("probe.status", args=["blip", "transient"], queue="io", expires=120)
    sender.send_task("probe.status", args=["bug", "permanent"], queue="io", expires=120)
    client = probe_redis(settings)
    status_key = f"{settings.tasks.key_prefix}status:{{}}"
    for name, error in (("blip", "TransientError"), ("bug", "ValueError")):
        wait_for(lambda n=name: client.lrange(status_key.format(n), 0, -1) or None, 90, f"{name}'s status")
        assert client.lrange(status_key.format(name), 0, -1) == [f"failed after {error}".encode()]
    assert len(_attempts(settings, "blip")) == settings.tasks.max_retries + 1
    assert len(_attempts(settings, "bug")) == 1
    # The task ended in a status of its own, so neither is a dead letter.
    assert dead_letters(settings, "probe.status") == []


def test_a_permanent_error_is_dead_lettered_at_once(
    settings: Settings, sender: Celery, start_worker: Callable[..., Child]
) -> None:
    start_worker()
    sender.send_task("probe.broken", args=["the input is wrong"], queue="io", expires=120)
    (letter,) = wait_for(lambda: dead_letters(settings, "probe.broken"), 60, "the dead letter")
    assert letter.reason == "failed" and letter.error_type == "ValueError" and letter.retries == 0
    assert letter.error == "the input is wrong"


def test_time_limit_holds_inside_a_thread_pool(
    settings: Settings, sender: Celery, start_worker: Callable[..., Child]
) -> None:
    """Celery cannot stop a thread; the task's own deadline ends the async body at the soft limit."""
    start_worker(pool="threads", concurrency=2)
    sender.send_task("probe.hang", args=[600], queue="io", expires=120)
    (letter,) = wait_for(lambda: dead_letters(settings, "probe.hang"), 60, "the dead letter")
    assert letter.reason == "timeout" and letter.error_type == "SoftTimeLimitExceeded"


def test_a_task_that_kills_its_worker_is_redelivered_then_dead_lettered(
    settings: Settings, sender: Celery, start_worker: Callable[..., Child]
) -> None:
    settings = settings.model_copy(update={"tasks": settings.tasks.model_copy(update={"max_deliveries": 2})})
    worker = start_worker(MOCKI_TASKS__MAX_DELIVERIES="2")
    sender.send_task("probe.crash", queue="io", expires=120)
    (letter,) = wait_for(lambda: dead_letters(settings, "probe.crash"), 90, "the dead letter")
    assert letter.reason == "worker_lost"
    crashes = probe_redis(settings).lrange(f"{settings.tasks.key_prefix}crashes", 0, -1)
    # Run on each delivery (its pool process died each time), then refused on the third.
    assert len(crashes) == 2 and len(set(crashes)) == 2
    assert worker.proc.poll() is None  # the worker itself survived and replaced its pool process


def test_an_expired_task_is_not_run_and_leaves_a_dead_letter(
    settings: Settings, sender: Celery, start_worker: Callable[..., Child]
) -> None:
    sender.send_task(
        "probe.broken", args=["never runs"], queue="io", expires=datetime.now(UTC) - timedelta(seconds=1)
    )
    start_worker()
    (letter,) = wait_for(lambda: dead_letters(settings, "probe.broken"), 60, "the dead letter")
    assert letter.reason == "expired" and letter.error_type == "Expired"


def test_a_rerun_of_the_same_task_does_nothing_twice(
    settings: Settings, sender: Celery, start_worker: Callable[..., Child]
) -> None:
    sql(settings, EFFECTS_DDL)
    sql(settings, "DELETE FROM probe_effects")
    start_worker(concurrency=2)
    # The same message delivered three times (as after worker losses), and a different task.
    same = str(uuid.uuid4())
    for _ in range(3):
        sender.send_task("probe.effect", args=[1, 0.2], queue="io", expires=120, task_id=same)
    sender.send_task("probe.effect", args=[2, 0.0], queue="io", expires=120)
    marker = f"probe.effect:{same}"
    wait_for(lambda: len(_runs(settings)) == 4 or None, 60, "all four deliveries to finish")
    # One marker for the message, whichever delivery committed it.
    assert sql(settings, "SELECT count(*) FROM task_runs WHERE key = :k", k=marker)[0][0] == 1
    assert sorted(_runs(settings)) == [b"1:False", b"1:False", b"1:True", b"2:True"]
    assert sql(settings, "SELECT count(*) FROM probe_effects WHERE n = 1")[0][0] == 1


def _runs(settings: Settings) -> list[bytes]:
    return probe_redis(settings).lrange(f"{settings.tasks.key_prefix}effect-runs", 0, -1)
