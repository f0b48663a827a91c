"""`mocki bench rooms`: live rooms across two api processes on one Redis.

Two `mocki api` processes share a fresh SQLite database and one Redis (MOCKI_REDIS_URL, or an
embedded redis-server). N Socket.IO clients of one account join one interview's room, split
across the two processes. A burst of events is then emitted the way a Celery worker emits (a
write-only Redis manager, each event numbered and logged first), and every client records what
arrives. Figures: delivery latency (emit → client, same clock), events lost and duplicated.
The baseline, in the same run, is the same burst to the same number of clients all on one process.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import socketio  # type: ignore[import-untyped]  # ships no type hints
from redis.asyncio import Redis
from rich.console import Console
from rich.table import Table

from bench.abuse import ApiProcess, Tally, _account, _interview
from bench.common import median, p95
from bench.replay import bench_redis
from mocki.realtime import events
from mocki.realtime.client import RoomClient
from mocki.realtime.emit import RoomEmitter, channel_for
from mocki.realtime.log import RoomLog

DRAIN_S = 60.0


def _env(tmp: Path, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "MOCKI_ENV": "test",  # skips training the intent model at start-up
        "MOCKI_SECRET_KEY": secrets.token_urlsafe(48),
        "MOCKI_DATA_DIR": str(tmp),
        "MOCKI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
        "MOCKI_REDIS_URL": redis_url,
        "MOCKI_LLM_BASE_URL": "http://127.0.0.1:9/v1",
        "MOCKI_RATE_LIMITS__KEY_PREFIX": f"mocki:bench:rooms:{uuid.uuid4().hex[:8]}",
    }


async def _burst(redis_url: str, urls: list[str], clients: int, count: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=urls[0], timeout=60) as http:
        who = await _account(http, "127.0.0.1")
        interview = await _interview(http, who, Tally())
    rooms = [RoomClient(urls[i % len(urls)], who.access) for i in range(clients)]
    manager = socketio.AsyncRedisManager(redis_url, channel=channel_for(redis_url), write_only=True)
    redis: Redis[bytes] = Redis.from_url(redis_url)
    emitter = RoomEmitter(manager, RoomLog(redis))
    try:
        for room in rooms:
            await room.connect()
            ack = await room.join(interview)
            if not ack.get("ok"):
                raise RuntimeError(f"join refused: {ack}")
        started = time.perf_counter()
        for n in range(count):
            data = {"speaker": "candidate", "text": f"line {n}", "sent_at": time.time()}
            await emitter.emit(interview, events.TRANSCRIPT_PARTIAL, data)
        emit_s = time.perf_counter() - started
        deadline = time.monotonic() + DRAIN_S
        # The clients' lists fill from their socket callbacks; polling them is the simplest wait.
        while time.monotonic() < deadline and any(len(r.applied) < count for r in rooms):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        return _tally(rooms, count, emit_s)
    finally:
        for room in rooms:
            await room.close()
        await redis.aclose()  # type: ignore[attr-defined]  # redis 5+ has it; the stubs are older
        if getattr(manager, "redis", None) is not None:
            await manager.redis.aclose()


def _tally(rooms: list[RoomClient], count: int, emit_s: float) -> dict[str, Any]:
    expected = set(range(1, count + 1))
    lost = duplicated = 0
    latencies: list[float] = []
    for room in rooms:
        seqs = [int(r.data["seq"]) for r in room.raw]
        lost += len(expected - set(seqs))
        duplicated += len(seqs) - len(set(seqs))
        latencies += [(r.at - float(r.data["sent_at"])) * 1000 for r in room.raw]
    return {
        "lost": lost,
        "duplicated": duplicated,
        "latency_ms_median": median(latencies),
        "latency_ms_p95": p95(latencies),
        "emit_per_s": round(count / emit_s, 1) if emit_s else 0.0,
    }


async def _scenario(redis_url: str, urls: list[str], clients: int, count: int) -> dict[str, Any]:
    two = await _burst(redis_url, urls, clients, count)
    one = await _burst(redis_url, urls[:1], clients, count)
    return {
        "clients": clients,
        "events": count,
        "api_processes": len(urls),
        **two,
        "baseline_one_process_latency_ms_p95": one["latency_ms_p95"],
        "baseline_one_process_lost": one["lost"],
        "latency_p95_ratio_vs_one_process": round(two["latency_ms_p95"] / one["latency_ms_p95"], 3)
        if one["latency_ms_p95"]
        else None,
    }


def _print(console: Console, figures: dict[str, Any]) -> None:
    table = Table(title="rooms: a burst to one room across two api processes on one Redis")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in figures.items():
        table.add_row(key, str(value))
    console.print(table)


def run(args: Any = None, *, clients: int = 20, events_count: int = 1000) -> dict[str, Any]:
    """Entry point for `mocki bench rooms`."""
    console = Console(width=120)
    with bench_redis() as redis_url, tempfile.TemporaryDirectory(prefix="bench-rooms-") as tmp:
        env = _env(Path(tmp), redis_url)
        apis = [ApiProcess(env, Path(tmp) / f"api-{i}.log") for i in range(2)]
        try:
            for api in apis:
                api.wait_ready()
            figures = asyncio.run(_scenario(redis_url, [a.base_url for a in apis], clients, events_count))
        finally:
            for api in apis:
                api.stop()
    _print(console, figures)
    return figures
