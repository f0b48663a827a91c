"""`mocki bench priority`: how long urgent/VIP tasks wait behind a backlog, per way of keeping lanes.

One real worker (prefork, 4 processes) on a private Redis takes a backlog of normal tasks of fixed
duration; once the backlog is queued, VIP tasks arrive at a steady rate while it drains. Each task
records how long it waited between being sent and starting. The same run is made three times:
routing off (the baseline: everything on one lane), Celery message priorities on Redis, and
separate `.high` queues. Quoted: mean and p95 wait of urgent and normal tasks per mode, and
`urgent_wait_reduction`, the urgent mean wait of the better mode against routing off.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.common import p95
from bench.task_probe import waits
from bench.task_stack import KEY_PREFIX, TaskStack
from mocki.tasks import routing
from mocki.tasks.celery_app import make_celery

MODES = ("off", "priority", "queues")
TASK_S = 0.04  # each task's fixed work
CONCURRENCY = 4
URGENT_PER_S = 4.0


def _mean(values: list[float]) -> float:
    return round(statistics.fmean(values), 3) if values else float("nan")


def _one_mode(stack: TaskStack, mode: str, backlog: int, urgent: int) -> dict[str, float]:
    client = stack.redis()
    client.delete(f"{KEY_PREFIX}waits")
    sender = make_celery(stack.settings(lanes=mode))
    for n in range(backlog):
        routing.send(
            sender, "probe.sleep", [f"normal-{n}", time.time(), TASK_S], tier="free", queue="io", expires=600
        )
    for n in range(urgent):
        routing.send(
            sender, "probe.sleep", [f"urgent-{n}", time.time(), TASK_S], tier="vip", queue="io", expires=600
        )
        time.sleep(1 / URGENT_PER_S)
    deadline = time.monotonic() + 600
    while len(done := waits(client, KEY_PREFIX)) < backlog + urgent:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{mode}: only {len(done)} of {backlog + urgent} tasks ran in 10 minutes")
        time.sleep(0.2)
    urgent_waits = [w["wait_s"] for w in done if w["tag"].startswith("urgent")]
    normal_waits = [w["wait_s"] for w in done if w["tag"].startswith("normal")]
    return {
        "urgent_mean": _mean(urgent_waits),
        "urgent_p95": p95(urgent_waits),
        "normal_mean": _mean(normal_waits),
        "normal_p95": p95(normal_waits),
    }


def _measure(backlog: int) -> dict[str, dict[str, float]]:
    # Urgent tasks arrive over the time the backlog takes to drain.
    urgent = max(5, int(backlog * TASK_S / CONCURRENCY * URGENT_PER_S * 0.8))
    with TaskStack() as stack:
        stack.worker("prio", concurrency=CONCURRENCY)
        return {mode: _one_mode(stack, mode, backlog, urgent) | {"urgent": urgent} for mode in MODES}


def _figures(results: dict[str, dict[str, float]], backlog: int) -> dict[str, Any]:
    best = min(("priority", "queues"), key=lambda mode: results[mode]["urgent_mean"])
    off = results["off"]["urgent_mean"]
    figures: dict[str, Any] = {
        "backlog": backlog,
        "urgent_tasks": int(results["off"]["urgent"]),
        "task_s": TASK_S,
        "concurrency": CONCURRENCY,
        "best_lanes": best,
        "urgent_wait_reduction": round(1 - results[best]["urgent_mean"] / off, 4),
        "urgent_wait_p95_s": results[best]["urgent_p95"],
        "normal_wait_p95_s": results[best]["normal_p95"],
    }
    for mode in MODES:
        figures[f"urgent_wait_mean_s_{mode}"] = results[mode]["urgent_mean"]
        figures[f"urgent_wait_p95_s_{mode}"] = results[mode]["urgent_p95"]
        figures[f"normal_wait_mean_s_{mode}"] = results[mode]["normal_mean"]
        figures[f"normal_wait_p95_s_{mode}"] = results[mode]["normal_p95"]
        if mode != "off":
            figures[f"urgent_wait_reduction_{mode}"] = round(1 - results[mode]["urgent_mean"] / off, 4)
    return figures


def _print(console: Console, figures: dict[str, Any], results: dict[str, dict[str, float]]) -> None:
    title = (
        f"priority lanes: {figures['backlog']} normal tasks of {TASK_S * 1000:.0f} ms queued, then "
        f"{figures['urgent_tasks']} VIP tasks at {URGENT_PER_S:g}/s; 1 worker x {CONCURRENCY}"
    )
    table = Table(title=title)
    for col in ("lanes", "urgent mean s", "urgent p95 s", "normal mean s", "normal p95 s", "urgent vs off"):
        table.add_column(col, justify="left" if col == "lanes" else "right")
    off = results["off"]["urgent_mean"]
    for mode in MODES:
        r = results[mode]
        ratio = "baseline" if mode == "off" else f"{1 - r['urgent_mean'] / off:.1%} lower"
        numbers = [f"{r[k]:.3f}" for k in ("urgent_mean", "urgent_p95", "normal_mean", "normal_p95")]
        table.add_row(mode + (" (kept)" if mode == figures["best_lanes"] else ""), *numbers, ratio)
    console.print(table)


def run(args: Any = None, *, backlog: int | None = None) -> dict[str, Any]:
    """Entry point for `mocki bench priority`."""
    backlog = int(backlog or getattr(args, "backlog", None) or 1000)
    results = _measure(backlog)
    figures = _figures(results, backlog)
    _print(Console(width=120), figures, results)
    json_path = getattr(args, "json", None)
    if json_path:
        import json

        Path(json_path).write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    return figures


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backlog", type=int, default=1000)
    parser.add_argument("--json", default=None)
    print(json.dumps(run(parser.parse_args()), indent=2))
