"""`mocki bench abuse`: one user, one IP and a crowd hammering a real api process for a minute.

The api runs as `mocki api` (uvicorn) on a fresh SQLite database and a real Redis, with the
default limits (10 model-backed requests per user per minute, 50 requests per IP per minute,
500 model-backed requests per minute in all). No time is compressed: the run lasts one window.

- one user sends `per_user` model-backed requests (POST /interviews/{id}/end, which queues the
  report) spread over the minute, each from a different address, so only the per-user limit
  applies; exactly 10 must be admitted (`excess_blocked_ratio` = refused / (sent - limit));
- one address sends as many reads (GET /interviews) of a signed-in user over the minute; exactly
  50 must be admitted;
- a crowd of legitimate users, each on its own address, creates, ends and reads interviews at a
  human pace (4 model-backed requests and 16 requests each in the minute): none may see a 429
  (`legit_429`).

Clients are told apart by X-Forwarded-For, which uvicorn trusts from 127.0.0.1 (its default
--forwarded-allow-ips), as behind a load balancer. Every change is signed (replay guard on).
Redis: MOCKI_REDIS_URL when set, otherwise the embedded redis-server on a temporary socket. No
model runs: admitted report requests only queue a task (no worker is started).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from bench.common import free_port, median, p95
from bench.replay import bench_redis
from mocki.security import signing
from mocki.settings import RateLimitSettings

ROOT = Path(__file__).resolve().parents[1]
WINDOW_S = 60.0
# Requests are spread over this share of the window, so scheduling jitter never pushes the last
# ones past the minute in which the first ones were admitted.
SPREAD = 0.95
CROWD = 30
CROWD_CYCLES = 4
DEFAULTS = RateLimitSettings()


@dataclass
class Account:
    ip: str
    access: str
    key: str

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}", "X-Forwarded-For": self.ip}


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    admitted_ms: list[float] = field(default_factory=list)
    refused_ms: list[float] = field(default_factory=list)

    def add(self, status: int, ms: float) -> None:
        self.statuses[status] += 1
        (self.refused_ms if status == 429 else self.admitted_ms).append(ms)

    @property
    def sent(self) -> int:
        return sum(self.statuses.values())

    @property
    def refused(self) -> int:
        return self.statuses[429]


async def _send(
    client: httpx.AsyncClient, tally: Tally, method: str, path: str, who: Account, json: Any = None
) -> httpx.Response:
    request = client.build_request(method, path, json=json, headers=who.headers())
    if method in signing.SIGNED_METHODS:
        ts, nonce = int(time.time()), secrets.token_hex(16)
        request.headers[signing.TIMESTAMP_HEADER] = str(ts)
        request.headers[signing.NONCE_HEADER] = nonce
        request.headers[signing.SIGNATURE_HEADER] = signing.sign(
            who.key, method, request.url.raw_path.decode(), request.content, ts, nonce
        )
    started = time.perf_counter()
    response = await client.send(request)
    tally.add(response.status_code, (time.perf_counter() - started) * 1000)
    return response


async def _account(client: httpx.AsyncClient, ip: str) -> Account:
    resp = await client.post(
        "/api/v1/auth/register",
        json={"email": f"bench-{uuid.uuid4().hex[:10]}@example.com", "password": "correct horse battery"},
        headers={"X-Forwarded-For": ip},
    )
    resp.raise_for_status()
    tokens = resp.json()
    return Account(ip, tokens["access_token"], tokens["signing_key"])


async def _interview(client: httpx.AsyncClient, who: Account, tally: Tally) -> str:
    resp = await _send(
        client, tally, "POST", "/api/v1/interviews", who, {"target_role": "Engineer", "length": 2}
    )
    if resp.status_code != 201:
        raise RuntimeError(f"could not create an interview: {resp.status_code} {resp.text}")
    return str(resp.json()["id"])


async def _at(start: float, offset: float) -> None:
    await asyncio.sleep(max(0.0, start + offset - time.monotonic()))


async def _abuser(client: httpx.AsyncClient, who: Account, interview: str, count: int, start: float) -> Tally:
    tally = Tally()

    async def one(i: int) -> None:
        await _at(start, i * WINDOW_S * SPREAD / count)
        # A different address each time: the per-user limit alone must hold.
        rotated = Account(f"10.1.{i // 250}.{i % 250 + 1}", who.access, who.key)
        await _send(client, tally, "POST", f"/api/v1/interviews/{interview}/end", rotated)

    await asyncio.gather(*(one(i) for i in range(count)))
    return tally


async def _one_ip(client: httpx.AsyncClient, who: Account, count: int, start: float) -> Tally:
    tally = Tally()

    async def one(i: int) -> None:
        await _at(start, i * WINDOW_S * SPREAD / count)
        await _send(client, tally, "GET", "/api/v1/interviews", who)

    await asyncio.gather(*(one(i) for i in range(count)))
    return tally


async def _legit(client: httpx.AsyncClient, who: Account, start: float, tally: Tally, llm: Tally) -> None:
    """Four rounds, a quarter of the minute apart: create, end (model-backed), read twice."""
    for cycle in range(CROWD_CYCLES):
        await _at(start, (cycle + secrets.randbelow(1000) / 1000) * WINDOW_S * SPREAD / CROWD_CYCLES)
        interview = await _interview(client, who, tally)
        await _send(client, llm, "POST", f"/api/v1/interviews/{interview}/end", who)
        await _send(client, tally, "GET", f"/api/v1/interviews/{interview}", who)
        await _send(client, tally, "GET", f"/api/v1/interviews/{interview}/report", who)


def _api_env(tmp: Path, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        # "test" skips training the intent model at start-up; nothing here needs it.
        "MOCKI_ENV": "test",
        "MOCKI_SECRET_KEY": secrets.token_urlsafe(48),
        "MOCKI_DATA_DIR": str(tmp),
        "MOCKI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
        "MOCKI_REDIS_URL": redis_url,
        "MOCKI_LLM_BASE_URL": "http://127.0.0.1:9/v1",
        "MOCKI_RATE_LIMITS__KEY_PREFIX": f"mocki:bench:abuse:{uuid.uuid4().hex[:8]}",
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
    }


class ApiProcess:
    """`mocki api` on a free port, stopped by the PID we started."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.log = log
        subprocess.run(
            [sys.executable, "-m", "alembic", "-x", f"url={env['MOCKI_DATABASE_URL']}", "upgrade", "head"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        with log.open("wb") as fh:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "mocki.cli", "api", "--port", str(self.port)],
                cwd=ROOT,
                env=env,
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the api exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.base_url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the api did not start in {timeout} s; see {self.log}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


async def _scenario(base_url: str, per_user: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        abuser = await _account(client, "10.1.0.0")
        scraper = await _account(client, "10.2.0.1")
        crowd = [await _account(client, f"10.3.{i // 250}.{i % 250 + 1}") for i in range(CROWD)]
        setup = Tally()
        target = await _interview(client, abuser, setup)

        start = time.monotonic() + 0.5
        legit, legit_llm = Tally(), Tally()
        abuse = asyncio.create_task(_abuser(client, abuser, target, per_user, start))
        flood = asyncio.create_task(_one_ip(client, scraper, per_user, start))
        await asyncio.gather(abuse, flood, *(_legit(client, who, start, legit, legit_llm) for who in crowd))
        elapsed = time.monotonic() - start
    return _figures(per_user, elapsed, abuse.result(), flood.result(), legit, legit_llm)


def _admitted_ok(tally: Tally) -> int:
    return sum(n for status, n in tally.statuses.items() if 200 <= status < 300)


def _figures(
    per_user: int, elapsed: float, user: Tally, ip: Tally, legit: Tally, legit_llm: Tally
) -> dict[str, Any]:
    user_limit = int(DEFAULTS.per_user.split("/")[0])
    ip_limit = int(DEFAULTS.per_ip.split("/")[0])
    everything = [user, ip, legit, legit_llm]
    unexpected = sum(
        n for t in everything for status, n in t.statuses.items() if status != 429 and not 200 <= status < 300
    )
    return {
        "per_user_sent": user.sent,
        "per_user_limit": user_limit,
        "per_user_admitted": _admitted_ok(user),
        "excess_blocked_ratio": round(user.refused / max(1, user.sent - user_limit), 6),
        "one_ip_sent": ip.sent,
        "one_ip_limit": ip_limit,
        "one_ip_admitted": _admitted_ok(ip),
        "ip_excess_blocked_ratio": round(ip.refused / max(1, ip.sent - ip_limit), 6),
        "legit_users": CROWD,
        "legit_requests": legit.sent + legit_llm.sent,
        "legit_llm_requests": legit_llm.sent,
        "legit_429": legit.refused + legit_llm.refused,
        "unexpected_statuses": unexpected,
        "llm_budget": DEFAULTS.llm_budget,
        "duration_s": round(elapsed, 1),
        "requests_per_s": round(sum(t.sent for t in everything) / elapsed, 1),
        "admitted_p50_ms": median(
            user.admitted_ms + ip.admitted_ms + legit.admitted_ms + legit_llm.admitted_ms
        ),
        "admitted_p95_ms": p95(user.admitted_ms + ip.admitted_ms + legit.admitted_ms + legit_llm.admitted_ms),
        "refused_p50_ms": median(user.refused_ms + ip.refused_ms),
        "refused_p95_ms": p95(user.refused_ms + ip.refused_ms),
    }


def _print(console: Console, figures: dict[str, Any]) -> None:
    table = Table(
        title="abuse: one user, one IP and a crowd for one minute (default limits; the seed blocked 98 %)"
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in figures.items():
        table.add_row(key, str(value))
    console.print(table)


def run(args: Any = None, *, per_user: int | None = None) -> dict[str, Any]:
    """Entry point for `mocki bench abuse`."""
    count = int(per_user or getattr(args, "per_user", None) or 1000)
    console = Console(width=120)
    with bench_redis() as redis_url, tempfile.TemporaryDirectory(prefix="bench-abuse-") as tmp:
        api = ApiProcess(_api_env(Path(tmp), redis_url), Path(tmp) / "api.log")
        try:
            api.wait_ready()
            figures = asyncio.run(_scenario(api.base_url, count))
        finally:
            api.stop()
    _print(console, figures)
    return figures


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-user", dest="per_user", type=int, default=1000)
    print(json.dumps(run(parser.parse_args()), indent=2))
