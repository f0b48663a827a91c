"""`mocki bench cache`: the hot reads with the two-level cache off and on, in one run.

A real api process (uvicorn, uvloop + httptools, one worker) on a scratch PostgreSQL database and
the real Redis serves GET /users/me (the current-user lookup every request makes),
GET /interviews and GET /progress for SEED_USERS users with three ended interviews each. A Python
load generator (raw HTTP/1.1 keep-alive on asyncio streams, bench/loadgen.py, on loopback, in
this process) keeps CONCURRENCY requests in flight for a fixed time per endpoint. The api is
started once with MOCKI_READ_CACHE__ENABLED=false (the baseline) and once with it on. Rate limits and
request signing are off in that process (the per-IP limit would refuse the load). Beside it, the
service layer alone: the cached reads timed in this process against the same database and Redis.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # ships no type hints
import httpx
import psutil  # type: ignore[import-untyped]  # no stubs installed
from redis.asyncio import Redis
from rich.console import Console
from rich.table import Table

from bench.common import free_port
from bench.loadgen import load, request_bytes
from mocki import cache as cache_pkg
from mocki.auth.tokens import issue_access_token
from mocki.cache.core import TwoLevelCache
from mocki.core.db import make_engine, make_sessionmaker, session_scope
from mocki.interviews import progress
from mocki.interviews import service as interviews
from mocki.interviews.schemas import InterviewIn
from mocki.models import Interview, Report
from mocki.settings import CacheSettings
from mocki.users import service as users

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get("MOCKI_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("MOCKI_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
SECRET = secrets.token_urlsafe(48)
ENDPOINTS = ("/api/v1/users/me", "/api/v1/interviews", "/api/v1/progress")
SEED_USERS = 50
CONCURRENCY = 16
SERVICE_READS = 2000


# ------------------------------------------------------------------------------ scratch database


async def _pg(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _migrate(url: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "alembic", "-x", f"url={url}", "upgrade", "head"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


def _items() -> list[dict[str, Any]]:
    dims = {"relevance": 3.0, "structure": 2.5, "depth": 3.5, "communication": 4.0}
    return [
        {"category": c, "scores": {k: v + random.random() for k, v in dims.items()}}
        for c in ("coding", "behavioural")
    ]


async def _seed(url: str, prefix: str) -> list[uuid.UUID]:
    engine = make_engine(url)
    ids = []
    try:
        factory = make_sessionmaker(engine)
        redis: Redis[bytes] = Redis.from_url(REDIS_URL)
        cache_pkg.attach(factory, TwoLevelCache(CacheSettings(key_prefix=f"{prefix}:seed"), redis))
        for n in range(SEED_USERS):
            async with session_scope(factory) as session:
                user = await users.create_user(
                    session, f"bench-{n}@example.com", "correct horse battery", f"U{n}"
                )
                for k in range(3):
                    out = await interviews.create_interview(
                        session, user.id, InterviewIn(target_role=f"Engineer {k}", company="Acme")
                    )
                    row = await session.get(Interview, out.id)
                    assert row is not None
                    row.status, row.ended_at = "ended", row.created_at
                    session.add(
                        Report(
                            interview_id=out.id,
                            status="ready",
                            summary="",
                            items=_items(),
                            overall_score=60.0,
                        )
                    )
                ids.append(user.id)
        await redis.aclose()  # type: ignore[attr-defined]  # types-redis predates aclose
    finally:
        await engine.dispose()
    return ids


# ------------------------------------------------------------------------------ the api process


class Api:
    """uvicorn serving create_app on a free port, stopped by the PID we started."""

    def __init__(
        self,
        env: dict[str, str],
        log: Path,
        *,
        workers: int = 1,
        loop: str = "uvloop",
        http: str = "httptools",
    ) -> None:
        self.port = free_port()
        self.log = log
        args = [sys.executable, "-m", "uvicorn", "mocki.app:create_app", "--factory", "--host", "127.0.0.1",
                "--port", str(self.port), "--no-access-log", "--log-level", "warning",
                "--workers", str(workers), "--loop", loop, "--http", http]  # fmt: skip
        with log.open("wb") as fh:
            self.proc = subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the api exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the api did not start in {timeout} s; see {self.log}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(5)


def api_env(db_url: str, data_dir: Path, prefix: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "MOCKI_ENV": "test",  # no intent-model training at start-up
        "MOCKI_SECRET_KEY": SECRET,
        "MOCKI_DATA_DIR": str(data_dir),
        "MOCKI_DATABASE_URL": db_url,
        "MOCKI_REDIS_URL": REDIS_URL,
        "MOCKI_LLM_BASE_URL": "http://127.0.0.1:9/v1",
        "MOCKI_RATE_LIMITS__ENABLED": "false",
        "MOCKI_REPLAY_GUARD__ENABLED": "false",
        "MOCKI_READ_CACHE__KEY_PREFIX": f"{prefix}:c",
        "MOCKI_READ_CACHE__CHANNEL": f"{prefix}:inv",
        **extra,
    }


# ------------------------------------------------------------------------------ load


def _get(path: str, port: int, tokens: list[str]) -> Callable[[int], tuple[bytes, bytes]]:
    heads = [request_bytes("GET", path, port, {"Authorization": f"Bearer {t}"}) for t in tokens]
    return lambda n: (heads[n % len(heads)], b"")


async def _http_mode(
    db_url: str, tmp: Path, prefix: str, enabled: bool, tokens: list[str], seconds: float
) -> dict[str, dict[str, float]]:
    name = "on" if enabled else "off"
    api = Api(
        api_env(db_url, tmp / name, prefix, MOCKI_READ_CACHE__ENABLED=str(enabled).lower()),
        tmp / f"api-{name}.log",
    )
    try:
        await asyncio.to_thread(api.wait_ready)
        server = psutil.Process(api.proc.pid)
        found = {}
        for path in ENDPOINTS:
            before, mine = _cpu_s(server), time.process_time()
            found[path] = await load(api.port, _get(path, api.port, tokens), seconds, CONCURRENCY)
            # CPU per request, which the neighbours on a shared machine do not change much (qps
            # they do): the api process's, and this load generator's own.
            sent = max(1, int(found[path].pop("sent")))
            found[path]["api_cpu_ms"] = round((_cpu_s(server) - before) * 1000 / sent, 3)
            found[path]["loadgen_cpu_ms"] = round((time.process_time() - mine) * 1000 / sent, 3)
        return found
    finally:
        api.stop()


def _cpu_s(proc: psutil.Process) -> float:
    """User + system CPU seconds of the api process and its children (uvicorn workers)."""
    total = 0.0
    for one in (proc, *proc.children(recursive=True)):
        times = one.cpu_times()
        total += times.user + times.system
    return total


# ------------------------------------------------------------------------------ service layer


async def _service(db_url: str, prefix: str, ids: list[uuid.UUID]) -> dict[str, dict[str, float]]:
    """p50 of each cached read in this process, warm, cache on and off (ms)."""
    engine = make_engine(db_url)
    redis: Redis[bytes] = Redis.from_url(REDIS_URL)
    found: dict[str, dict[str, float]] = {}
    reads: dict[str, Callable[[Any, uuid.UUID], Awaitable[Any]]] = {
        "user": users.cached_user,
        "interviews": interviews.list_interviews,
        "progress": progress.get_progress,
    }
    try:
        for enabled in (False, True):
            cache = TwoLevelCache(
                CacheSettings(enabled=enabled, key_prefix=f"{prefix}:svc", channel=f"{prefix}:svc:inv"), redis
            )
            await cache.start()
            await cache.wait_subscribed()
            factory = make_sessionmaker(engine)
            cache_pkg.attach(factory, cache)
            try:
                for family, read in reads.items():
                    times = []
                    for i in range(SERVICE_READS if enabled else SERVICE_READS // 4):
                        async with factory() as session:
                            started = time.perf_counter()
                            await read(session, ids[i % len(ids)])
                            times.append((time.perf_counter() - started) * 1000)
                    warm = times[len(ids) :]  # the first round fills the cache
                    found.setdefault(family, {})["on" if enabled else "off"] = round(
                        statistics.median(warm), 4
                    )
            finally:
                await cache.stop()
    finally:
        await redis.aclose()  # type: ignore[attr-defined]  # types-redis predates aclose
        await engine.dispose()
    return found


# ------------------------------------------------------------------------------ report


async def _clean_redis(prefix: str) -> None:
    redis: Redis[bytes] = Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in redis.scan_iter(match=f"{prefix}:*", count=1000)]
        for at in range(0, len(keys), 500):
            await redis.delete(*keys[at : at + 500])
    finally:
        await redis.aclose()  # type: ignore[attr-defined]


async def _run(seconds: float) -> tuple[dict[str, Any], dict[str, Any]]:
    name = f"mocki_bench_cache_{uuid.uuid4().hex[:8]}"
    prefix = f"mocki:bench:{name}"
    db_url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    await _pg(f'CREATE DATABASE "{name}"')
    tmp = Path(tempfile.mkdtemp(prefix="bench-cache-"))
    try:
        _migrate(db_url)
        ids = await _seed(db_url, prefix)
        tokens = [issue_access_token(i, "user", SECRET, 60) for i in ids]
        service = await _service(db_url, prefix, ids)
        http = {
            "off": await _http_mode(db_url, tmp, prefix, False, tokens, seconds),
            "on": await _http_mode(db_url, tmp, prefix, True, tokens, seconds),
        }
    finally:
        await _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await _clean_redis(prefix)
    return _figures(service, http, seconds), {"service": service, "http": http}


def _figures(
    service: dict[str, dict[str, float]], http: dict[str, dict[str, dict[str, float]]], seconds: float
) -> dict[str, Any]:
    def cpu(mode: str, key: str) -> float:
        return statistics.fmean(m[key] for m in http[mode].values())

    def total_qps(mode: str) -> float:
        # Each endpoint ran for the same time: the mean rate over the mix.
        return statistics.fmean(m["qps"] for m in http[mode].values())

    figures: dict[str, Any] = {
        "concurrency": CONCURRENCY,
        "seconds_per_endpoint": seconds,
        "seed_users": SEED_USERS,
        # The slowest of the three cached reads at the service layer, warm.
        "p50_ms_cached_service": max(v["on"] for v in service.values()),
        "p50_ms_uncached_service": max(v["off"] for v in service.values()),
        "qps_cached": round(total_qps("on"), 1),
        "qps_uncached": round(total_qps("off"), 1),
        "qps_ratio": round(total_qps("on") / total_qps("off"), 2),
        "p99_ms_cached": max(m["p99_ms"] for m in http["on"].values()),
        "p99_ms_uncached": max(m["p99_ms"] for m in http["off"].values()),
        "errors": sum(int(m["errors"]) for mode in http.values() for m in mode.values()),
        # CPU ms per request, the mean over the endpoints: the api's with the cache on and off,
        # the load generator's (it shares the cores); and the ratio the api's own cost allows.
        "api_cpu_ms_cached": round(cpu("on", "api_cpu_ms"), 3),
        "api_cpu_ms_uncached": round(cpu("off", "api_cpu_ms"), 3),
        "loadgen_cpu_ms": round(cpu("on", "loadgen_cpu_ms"), 3),
        "api_cpu_ratio": round(cpu("off", "api_cpu_ms") / max(cpu("on", "api_cpu_ms"), 1e-9), 2),
    }
    for family, v in service.items():
        figures[f"p50_ms_service_{family}_cached"] = v["on"]
        figures[f"p50_ms_service_{family}_uncached"] = v["off"]
    return figures


def _print(console: Console, figures: dict[str, Any], detail: dict[str, Any]) -> None:
    table = Table(
        title=f"hot reads over HTTP: {CONCURRENCY} in flight, {figures['seconds_per_endpoint']} s each"
    )
    for col in ("endpoint", "cache", "req/s", "p50 ms", "p99 ms", "errors", "api CPU ms", "loadgen CPU ms"):
        table.add_column(col, justify="left" if col in ("endpoint", "cache") else "right")
    for path in ENDPOINTS:
        for mode in ("off", "on"):
            m = detail["http"][mode][path]
            table.add_row(
                path, mode, f"{m['qps']:.0f}", f"{m['p50_ms']:.2f}", f"{m['p99_ms']:.2f}", str(m["errors"]),
                f"{m['api_cpu_ms']:.3f}", f"{m['loadgen_cpu_ms']:.3f}",
            )  # fmt: skip
    console.print(table)
    svc = Table(title="service layer, warm, p50 ms")
    for col in ("read", "cache off", "cache on"):
        svc.add_column(col, justify="left" if col == "read" else "right")
    for family, v in detail["service"].items():
        svc.add_row(family, f"{v['off']:.3f}", f"{v['on']:.3f}")
    console.print(svc)
    summary = Table(title="figures")
    summary.add_column("key")
    summary.add_column("value", justify="right")
    for key, value in figures.items():
        summary.add_row(key, str(value))
    console.print(summary)


def run(args: Any = None, *, seconds: float | None = None) -> dict[str, Any]:
    """Entry point for `mocki bench cache`."""
    seconds = float(seconds or getattr(args, "seconds", None) or 8.0)
    figures, detail = asyncio.run(_run(seconds))
    _print(Console(width=120), figures, detail)
    return figures
