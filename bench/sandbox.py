"""`mocki bench sandbox`: submissions per second through the code sandbox, per language.

A submission is a correct two-sum solution run the way the api runs it: the visible tests in one
sandboxed process, then the hidden tests in a second. Measured sequentially and two at a time,
with p50/p95 latency. One sandboxed run (visible tests only) is compared with the baseline, in
the same run: a bare `python -I -S -c pass` / `node -e 0` started from the same event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.common import median, p95
from mocki.sandbox import get_problem, run_submission
from mocki.sandbox.runner import host_layout

PROBLEM = "two-sum"
CODE = {
    "python": """
def two_sum(nums, target):
    seen = {}
    for i, n in enumerate(nums):
        if target - n in seen:
            return [seen[target - n], i]
        seen[n] = i
""",
    "javascript": """
function twoSum(nums, target) {
  const seen = new Map();
  for (let i = 0; i < nums.length; i++) {
    if (seen.has(target - nums[i])) return [seen.get(target - nums[i]), i];
    seen.set(nums[i], i);
  }
}
""",
}
WARMUP = 2
Row = tuple[str, str, dict[str, float]]


async def _bare(argv: list[str]) -> None:
    proc = await asyncio.create_subprocess_exec(*argv)
    if await proc.wait() != 0:
        raise RuntimeError(f"{argv[0]} failed")


async def _submit(language: str, include_hidden: bool) -> None:
    problem = get_problem(PROBLEM)
    result = await run_submission(language, CODE[language], problem, include_hidden=include_hidden)
    if result.verdict != "passed":
        raise RuntimeError(f"the benchmark's {language} submission did not pass: {result.message}")


async def _measure(job: Callable[[], Awaitable[None]], runs: int, concurrency: int) -> dict[str, float]:
    """Throughput of `runs` jobs with `concurrency` in flight, and each job's latency in ms."""
    for _ in range(WARMUP):
        await job()
    latencies: list[float] = []
    queue = iter(range(runs))

    async def worker() -> None:
        for _ in queue:
            started = time.perf_counter()
            await job()
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {"per_s": round(runs / elapsed, 2), "p50_ms": median(latencies), "p95_ms": p95(latencies)}


async def _run(runs: int) -> tuple[dict[str, Any], list[Row]]:
    layout = host_layout()
    bare = {
        "python": [layout.python, "-I", "-S", "-c", "pass"],
        "javascript": [layout.node or "node", "-e", "0"],
    }
    rows: list[Row] = []
    figures: dict[str, Any] = {"runs": runs, "problem": PROBLEM}
    for language, short in (("python", "python"), ("javascript", "js")):
        base = await _measure(partial(_bare, bare[language]), runs, 1)
        one = await _measure(partial(_submit, language, False), runs, 1)
        seq = await _measure(partial(_submit, language, True), runs, 1)
        par = await _measure(partial(_submit, language, True), runs, 2)
        rows += [
            (language, "bare interpreter (baseline)", base),
            (language, "one sandboxed run (visible tests)", one),
            (language, "submission, sequential", seq),
            (language, "submission, 2 at a time", par),
        ]
        figures |= {
            f"baseline_per_s_{short}": base["per_s"],
            f"baseline_p50_ms_{short}": base["p50_ms"],
            f"runs_per_s_{short}": one["per_s"],
            f"run_p50_ms_{short}": one["p50_ms"],
            f"submissions_per_s_{short}": seq["per_s"],
            f"submissions_per_s_{short}_c2": par["per_s"],
            f"p50_ms_{short}": seq["p50_ms"],
            f"p95_ms_{short}": seq["p95_ms"],
            f"p50_ms_{short}_c2": par["p50_ms"],
            f"p95_ms_{short}_c2": par["p95_ms"],
            # What one sandboxed process costs against starting the bare interpreter.
            f"overhead_ratio_{short}": round(base["per_s"] / one["per_s"], 2),
        }
    return figures, rows


def _print(console: Console, figures: dict[str, Any], rows: list[Row]) -> None:
    title = f"code sandbox: {figures['runs']} runs each ({figures['problem']}, every test passing)"
    table = Table(title=title)
    for col in ("language", "what", "per s", "p50 ms", "p95 ms"):
        table.add_column(col, justify="left" if col in ("language", "what") else "right")
    for language, what, m in rows:
        table.add_row(language, what, f"{m['per_s']:.1f}", f"{m['p50_ms']:.1f}", f"{m['p95_ms']:.1f}")
    console.print(table)
    summary = Table(title="figures")
    summary.add_column("key")
    summary.add_column("value", justify="right")
    for key, value in figures.items():
        summary.add_row(key, str(value))
    console.print(summary)


def run(args: Any = None, *, runs: int | None = None) -> dict[str, Any]:
    """Entry point for `mocki bench sandbox`; accepts an argparse-style namespace or keywords."""
    runs = runs or getattr(args, "runs", None) or 40
    console = Console(width=120)
    figures, rows = asyncio.run(_run(int(runs)))
    _print(console, figures, rows)
    json_path = getattr(args, "json", None)
    if json_path:
        import json

        Path(json_path).write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    return figures


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--json", default=None)
    print(json.dumps(run(parser.parse_args()), indent=2))
