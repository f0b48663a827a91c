"""Two real beat processes on one Redis: only the lock holder fires; the other takes over when the
holder dies, and the two never fire side by side."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from bench.task_probe import BEAT_QUEUE

from mocki.settings import Settings
from tests.conftest import ROOT
from tests.integration.tasks.conftest import env_for, probe_redis, wait_for
from tests.support.processes import PYTHON, Child

pytestmark = pytest.mark.slow


def _senders(settings: Settings) -> list[int]:
    """The pid of the process that sent each beat message, oldest first."""
    client = probe_redis(settings)
    prefix = settings.tasks.key_prefix
    keys = list(client.scan_iter(match=f"{prefix}{BEAT_QUEUE}*"))  # one list per priority
    pids = []
    for key in keys:
        for raw in reversed(client.lrange(key, 0, -1)):  # LPUSHed: the oldest is last
            headers = json.loads(raw)["headers"]
            pids.append(int(headers["origin"].split("@")[0].removeprefix("gen")))
    return pids


def _beat(settings: Settings, tmp_path: Path, name: str) -> Child:
    env = env_for(settings, MOCKI_PROBE_BEAT_S="0.3", MOCKI_TASKS__BEAT_LOCK_TTL_S="3")
    command = [PYTHON, "-m", "celery", "-A", "bench.task_probe:app", "beat", "--loglevel", "INFO"]
    child = Child(command, env=env, log=tmp_path / f"{name}.log", cwd=ROOT)
    child.wait_until(lambda: "beat: Starting" in child.tail(20_000), 60, f"beat {name}")
    return child


def test_two_beats_fire_once_and_the_standby_takes_over(settings: Settings, tmp_path: Path) -> None:
    first = _beat(settings, tmp_path, "beat-1")
    second = _beat(settings, tmp_path, "beat-2")
    try:
        pids = {first.proc.pid, second.proc.pid}
        sent = wait_for(lambda: (s := _senders(settings)) and len(s) >= 15 and s, 60, "15 beat messages")
        leaders = set(sent)
        assert len(leaders) == 1 and leaders <= pids, f"both beats fired: {sent}"
        (leader_pid,) = leaders
        leader, standby = (first, second) if leader_pid == first.proc.pid else (second, first)

        os.killpg(leader.proc.pid, signal.SIGKILL)  # no chance to release the lock
        leader.proc.wait(10)
        before = len(_senders(settings))
        wait_for(lambda: standby.proc.pid in _senders(settings)[before:], 60, "the standby to fire")
        wait_for(lambda: len(_senders(settings)) >= before + 10, 60, "ten more beat messages")
        order = _senders(settings)
        # One sender at a time: the old leader's messages, then only the new leader's.
        switch = order.index(standby.proc.pid)
        assert set(order[:switch]) == {leader.proc.pid} and set(order[switch:]) == {standby.proc.pid}
    finally:
        first.stop()
        second.stop()
