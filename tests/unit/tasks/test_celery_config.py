"""The Celery app's configuration: every task known, routed, bounded in time and retried sanely."""

from __future__ import annotations

from mocki.settings import Settings, TaskSettings
from mocki.tasks.celery_app import DEFAULT_VISIBILITY_TIMEOUT_S, celery_app, make_celery
from mocki.tasks.names import TASK_QUEUES, high_queue
from mocki.tasks.reliability import TRANSIENT_ERRORS, ReliableTask


def _tasks() -> dict[str, ReliableTask]:
    celery_app.loader.import_default_modules()
    return {name: task for name, task in celery_app.tasks.items() if not name.startswith("celery.")}


def test_every_named_task_is_registered_and_every_task_has_a_pool() -> None:
    assert set(_tasks()) == set(TASK_QUEUES)


def test_every_task_has_time_limits_shorter_than_the_visibility_timeout() -> None:
    for name, task in _tasks().items():
        assert task.soft_time_limit and task.time_limit, name
        assert task.soft_time_limit < task.time_limit < DEFAULT_VISIBILITY_TIMEOUT_S, name


def test_every_task_acks_late_and_retries_transient_errors() -> None:
    for name, task in _tasks().items():
        assert isinstance(task, ReliableTask), name
        assert task.acks_late and task.reject_on_worker_lost, name
        assert set(task.autoretry_for) == set(TRANSIENT_ERRORS) and task.retry_jitter, name


def test_settings_reach_the_app() -> None:
    tasks = TaskSettings(
        key_prefix="x:", max_retries=2, retry_backoff_s=3, lanes="queues", visibility_timeout_s=90
    )
    app = make_celery(Settings(redis_url="redis://127.0.0.1:6379/15", tasks=tasks))
    options = app.conf.broker_transport_options
    assert options["global_keyprefix"] == "x:" and options["visibility_timeout"] == 90
    assert app.conf.mocki_lanes == "queues" and app.conf.mocki_beat_lock_key == "x:mocki:beat:leader"
    assert app.Task.max_retries == 2 and app.Task.retry_backoff == 3
    assert {q.name for q in app.conf.task_queues} == {"cpu", "io", high_queue("cpu"), high_queue("io")}
    assert app.conf.beat_scheduler == "mocki.tasks.beat:LockedScheduler" and app.conf.beat_schedule
