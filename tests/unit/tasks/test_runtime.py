"""Time limits inside the task: the soft limit ends async work with SoftTimeLimitExceeded, clean-up
after it has until the hard limit."""

from __future__ import annotations

import asyncio

import pytest
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded

from mocki.tasks.runtime import Deadlines, run_async, task_deadlines


def test_without_limits_the_body_runs_to_its_end() -> None:
    assert run_async(lambda: asyncio.sleep(0.01, result="done")) == "done"


def test_the_soft_limit_stops_a_hung_body() -> None:
    with task_deadlines(0.05, 5), pytest.raises(SoftTimeLimitExceeded):
        run_async(lambda: asyncio.sleep(30))


def test_after_the_soft_limit_the_clean_up_has_until_the_hard_limit() -> None:
    with task_deadlines(0.01, 0.3):
        with pytest.raises(SoftTimeLimitExceeded):
            run_async(lambda: asyncio.sleep(30))
        assert run_async(lambda: asyncio.sleep(0.01, result="saved")) == "saved"
        with pytest.raises(TimeLimitExceeded):
            run_async(lambda: asyncio.sleep(30))


def test_remaining_time() -> None:
    limits = Deadlines(soft=10.0, hard=20.0)
    assert limits.remaining(4.0) == (6.0, True)
    assert limits.remaining(15.0) == (5.0, False)
    assert limits.remaining(25.0) == (0.0, False)
    assert Deadlines(None, None).remaining(1.0) == (None, False)
