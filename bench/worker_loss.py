"""`mocki bench worker-loss`: `kill -9` workers in the middle of a batch; every task done exactly once.

Two real workers (prefork, 2 processes each) on a private Redis and SQLite run a batch of probe
tasks; each commits one `probe_effects` row together with its idempotency marker. A fifth of the
way in, one pool process of worker B is killed (`reject_on_worker_lost` puts its task straight
back); half way, the whole of worker A is killed, parent and children, as a machine loss would
(its messages return when the visibility timeout passes, 10 s here; in production it is the
longest task time limit). Counted from the rows: `lost` (tasks with no effect), `duplicated`
(effects beyond one per task), and recovery: from each kill until every task the killed
processes held had committed its effect.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]  # no stubs installed
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

from bench.task_probe import EFFECTS_DDL
from bench.task_stack import KEY_PREFIX, TaskStack
from mocki.tasks.celery_app import make_celery

TASK_S = 0.05
VISIBILITY_S = 10
CONCURRENCY = 2


class Effects:
    """Reads the committed effects from the bench database."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url.replace("+aiosqlite", ""))
        with self.engine.begin() as conn:
            conn.execute(text(EFFECTS_DDL))

    def rows(self) -> list[tuple[int, float]]:
        with self.engine.connect() as conn:
            return [(int(n), float(at)) for n, at in conn.execute(text("SELECT n, at FROM probe_effects"))]

    def distinct(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(DISTINCT n) FROM probe_effects")).scalar_one())


def _wait_until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _held_by(stack: TaskStack, pids: set[int], effects: Effects) -> set[int]:
    """Tasks started by these processes whose effect is not committed yet."""
    started = stack.redis().hgetall(f"{KEY_PREFIX}started")
    done = {n for n, _ in effects.rows()}
    return {int(n) for n, pid in started.items() if int(pid) in pids} - done


def _recovery(held: set[int], killed_at: float, effects: Effects) -> float:
    finished = {n: at for n, at in effects.rows() if n in held}
    return round(max(finished.values()) - killed_at, 3) if finished else 0.0


def _measure(tasks: int) -> dict[str, Any]:
    with TaskStack(MOCKI_TASKS__VISIBILITY_TIMEOUT_S=str(VISIBILITY_S)) as stack:
        effects = Effects(stack.database_url)
        a = stack.worker("loss-a", concurrency=CONCURRENCY)
        b = stack.worker("loss-b", concurrency=CONCURRENCY)
        sender = make_celery(stack.settings())
        started = time.monotonic()
        for n in range(tasks):
            sender.send_task("probe.effect", args=[n, TASK_S], queue="io", priority=6, expires=3600)

        _wait_until(lambda: effects.distinct() >= tasks // 5, 300, "a fifth of the batch")
        child = psutil.Process(b.pid).children()[0]
        held_child = _held_by(stack, {child.pid}, effects)
        child_killed_at = time.time()
        os.kill(child.pid, signal.SIGKILL)

        _wait_until(lambda: effects.distinct() >= tasks // 2, 300, "half the batch")
        a_pids = {a.pid} | {c.pid for c in psutil.Process(a.pid).children(recursive=True)}
        held_a = _held_by(stack, a_pids, effects)
        a_killed_at = time.time()
        os.killpg(a.pid, signal.SIGKILL)
        a.wait(10)

        _wait_until(lambda: effects.distinct() >= tasks, VISIBILITY_S * 6 + 300, "every task")
        elapsed = time.monotonic() - started
        time.sleep(VISIBILITY_S * 1.5)  # a late redelivery would show as a duplicate now
        rows = effects.rows()
        distinct = len({n for n, _ in rows})
        return {
            "tasks": tasks,
            "lost": tasks - distinct,
            "duplicated": len(rows) - distinct,
            "recovery_s": _recovery(held_a, a_killed_at, effects),
            "held_by_killed_worker": len(held_a),
            "recovery_s_child": _recovery(held_child, child_killed_at, effects),
            "held_by_killed_child": len(held_child),
            "visibility_timeout_s": VISIBILITY_S,
            "batch_s": round(elapsed, 2),
        }


def _print(console: Console, figures: dict[str, Any]) -> None:
    title = f"worker loss: {figures['tasks']} tasks on 2 workers x {CONCURRENCY}, {TASK_S * 1000:.0f} ms each"
    table = Table(title=title)
    for col in ("what", "value"):
        table.add_column(col, justify="left" if col == "what" else "right")
    rows = [
        ("tasks lost", figures["lost"]),
        ("tasks done twice", figures["duplicated"]),
        ("pool process killed: tasks it held", figures["held_by_killed_child"]),
        ("  recovered after (s)", figures["recovery_s_child"]),
        ("whole worker killed: tasks it held", figures["held_by_killed_worker"]),
        (f"  recovered after (s; visibility timeout {VISIBILITY_S} s)", figures["recovery_s"]),
        ("whole batch (s)", figures["batch_s"]),
    ]
    for what, value in rows:
        table.add_row(what, str(value))
    console.print(table)


def run(args: Any = None, *, tasks: int | None = None) -> dict[str, Any]:
    """Entry point for `mocki bench worker-loss`."""
    figures = _measure(int(tasks or getattr(args, "tasks", None) or 500))
    _print(Console(width=120), figures)
    json_path = getattr(args, "json", None)
    if json_path:
        import json

        Path(json_path).write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    return figures


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--json", default=None)
    print(json.dumps(run(parser.parse_args()), indent=2))
