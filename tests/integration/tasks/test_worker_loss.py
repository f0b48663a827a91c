"""`kill -9` of a pool process and of a whole worker in the middle of a batch: every task's effect
is committed exactly once (counted from the database), none is lost."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

import psutil
import pytest
from bench.task_probe import EFFECTS_DDL
from celery import Celery

from mocki.settings import Settings
from tests.integration.tasks.conftest import sql, wait_for
from tests.support.processes import Child

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("clean_db")]
TASKS = 80


def _done(settings: Settings) -> int:
    return int(sql(settings, "SELECT count(DISTINCT n) FROM probe_effects")[0][0])


def test_no_task_is_lost_or_done_twice_when_workers_die(
    settings: Settings, sender: Celery, start_worker: Callable[..., Child]
) -> None:
    sql(settings, EFFECTS_DDL)
    sql(settings, "DELETE FROM probe_effects")
    quick = {"MOCKI_TASKS__VISIBILITY_TIMEOUT_S": "4"}  # messages of a vanished worker return after 4 s
    doomed = start_worker(concurrency=2, name="doomed", **quick)
    start_worker(concurrency=2, name="survivor", **quick)
    for n in range(TASKS):
        sender.send_task("probe.effect", args=[n, 0.1], queue="io", priority=6, expires=600)

    wait_for(lambda: _done(settings) >= TASKS // 5, 120, "a fifth of the batch")
    os.kill(psutil.Process(doomed.proc.pid).children()[0].pid, signal.SIGKILL)  # one pool process
    wait_for(lambda: _done(settings) >= TASKS // 2, 120, "half of the batch")
    os.killpg(doomed.proc.pid, signal.SIGKILL)  # the whole worker, parent and children
    doomed.proc.wait(10)

    wait_for(lambda: _done(settings) == TASKS, 180, "every task's effect")
    rows = sql(settings, "SELECT n, count(*) FROM probe_effects GROUP BY n HAVING count(*) > 1")
    assert rows == [], f"done twice: {rows}"
    assert sql(settings, "SELECT count(*) FROM probe_effects")[0][0] == TASKS
