"""`mocki bench api`: requests per second of the main read and write endpoints under a few server
settings (uvicorn workers 1/2, event loop uvloop/asyncio, HTTP parser httptools/h11), and the best.

Each setting gets its own api process on one scratch PostgreSQL database and the real Redis, with
the defaults a deployment has (cache on) except rate limits and request signing, which would refuse
the load. Load: bench/loadgen.py on loopback, CONCURRENCY connections, SECONDS per endpoint.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import uuid
from collections.abc import Callable
from itertools import product
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.cache import REDIS_URL, SECRET, Api, _clean_redis, _migrate, _pg, _seed, api_env
from bench.loadgen import load, request_bytes
from mocki.auth.tokens import issue_access_token

CONCURRENCY = 16
READS = ("/api/v1/users/me", "/api/v1/interviews", "/api/v1/progress")
WRITE = "/api/v1/interviews"
SETTINGS = [
    {"workers": w, "loop": loop, "http": http}
    for w, loop, http in product((1, 2), ("uvloop", "asyncio"), ("httptools", "h11"))
]


def _requests(port: int, tokens: list[str]) -> dict[str, Callable[[int], tuple[bytes, bytes]]]:
    made: dict[str, Callable[[int], tuple[bytes, bytes]]] = {}
    for path in READS:
        heads = [request_bytes("GET", path, port, {"Authorization": f"Bearer {t}"}) for t in tokens]
        made[f"GET {path}"] = lambda n, heads=heads: (heads[n % len(heads)], b"")  # type: ignore[misc]
    body = json.dumps({"target_role": "Backend Engineer", "company": "Acme"}).encode()
    writes = [
        request_bytes(
            "POST", WRITE, port, {"Authorization": f"Bearer {t}", "Content-Type": "application/json"}, body
        )
        for t in tokens
    ]
    made[f"POST {WRITE}"] = lambda n: (writes[n % len(writes)], body)
    return made


async def _one_setting(
    db_url: str, tmp: Path, prefix: str, tokens: list[str], setting: dict[str, Any], seconds: float
) -> dict[str, dict[str, float]]:
    tag = f"w{setting['workers']}-{setting['loop']}-{setting['http']}"
    api = Api(api_env(db_url, tmp / tag, prefix), tmp / f"api-{tag}.log", **setting)
    try:
        await asyncio.to_thread(api.wait_ready)
        return {
            name: await load(api.port, make, seconds, CONCURRENCY)
            for name, make in _requests(api.port, tokens).items()
        }
    finally:
        api.stop()


async def _run(seconds: float) -> list[tuple[dict[str, Any], dict[str, dict[str, float]]]]:
    name = f"mocki_bench_api_{uuid.uuid4().hex[:8]}"
    prefix = f"mocki:bench:{name}"
    db_url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    await _pg(f'CREATE DATABASE "{name}"')
    tmp = Path(tempfile.mkdtemp(prefix="bench-api-"))
    try:
        _migrate(db_url)
        tokens = [issue_access_token(i, "user", SECRET, 60) for i in await _seed(db_url, prefix)]
        return [(s, await _one_setting(db_url, tmp, prefix, tokens, s, seconds)) for s in SETTINGS]
    finally:
        await _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await _clean_redis(prefix)


def _label(setting: dict[str, Any]) -> str:
    return f"workers={setting['workers']} {setting['loop']} {setting['http']}"


def _figures(
    results: list[tuple[dict[str, Any], dict[str, dict[str, float]]]], seconds: float
) -> dict[str, Any]:
    def reads(r: dict[str, dict[str, float]]) -> float:
        return sum(r[f"GET {p}"]["qps"] for p in READS) / len(READS)

    best_setting, best = max(results, key=lambda sr: reads(sr[1]))
    figures: dict[str, Any] = {
        "concurrency": CONCURRENCY,
        "seconds_per_endpoint": seconds,
        "best_settings": _label(best_setting),
        "best_read_qps": round(reads(best), 1),
        "best_write_qps": best[f"POST {WRITE}"]["qps"],
        "max_write_qps": max(r[f"POST {WRITE}"]["qps"] for _, r in results),
        "errors": sum(int(m["errors"]) for _, r in results for m in r.values()),
    }
    for path in READS:
        figures[f"best_qps_{path.rsplit('/', 1)[1]}"] = best[f"GET {path}"]["qps"]
    baseline = next(r for s, r in results if s == {"workers": 1, "loop": "asyncio", "http": "h11"})
    figures["best_vs_asyncio_h11_1_worker"] = round(reads(best) / reads(baseline), 2)
    return figures


def _print(
    console: Console,
    results: list[tuple[dict[str, Any], dict[str, dict[str, float]]]],
    figures: dict[str, Any],
) -> None:
    table = Table(
        title=f"api req/s, {CONCURRENCY} connections, {figures['seconds_per_endpoint']} s per endpoint"
    )
    names = list(results[0][1])
    table.add_column("settings")
    for name in names:
        table.add_column(name.replace("/api/v1", ""), justify="right")
    for setting, r in results:
        table.add_row(_label(setting), *(f"{r[n]['qps']:.0f} ({r[n]['p50_ms']:.1f} ms)" for n in names))
    console.print(table)
    summary = Table(title="figures")
    summary.add_column("key")
    summary.add_column("value", justify="right")
    for key, value in figures.items():
        summary.add_row(key, str(value))
    console.print(summary)


def run(args: Any = None, *, seconds: float | None = None) -> dict[str, Any]:
    """Entry point for `mocki bench api`."""
    seconds = float(seconds or getattr(args, "seconds", None) or 3.0)
    results = asyncio.run(_run(seconds))
    figures = _figures(results, seconds)
    _print(Console(width=140), results, figures)
    return figures


__all__ = ["REDIS_URL", "run"]
