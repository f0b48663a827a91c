"""Two real api processes sharing PostgreSQL and Redis: a write through one is never served stale
by the other once its invalidation has landed (a bounded wait), for the current user's tier, the
interview list and the tracker's applications, board and analytics."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mocki.core.db import make_engine, make_sessionmaker, session_scope
from mocki.settings import Settings
from mocki.users import service as users
from tests.conftest import ROOT, process_env, register
from tests.support.processes import PYTHON, Child, free_port, port_open

pytestmark = pytest.mark.slow

DEADLINE_S = 5.0
PASSWORD = "correct horse battery"


def _api(settings: Settings, tmp: Path, name: str) -> tuple[Child, str]:
    port = free_port()
    env = {
        **process_env(settings),
        # Each process its own embedded vector store; no limits or request signing in the way.
        "MOCKI_DATA_DIR": str(tmp / name),
        "MOCKI_RATE_LIMITS__ENABLED": "false",
        "MOCKI_REPLAY_GUARD__ENABLED": "false",
        "MOCKI_READ_CACHE__ENABLED": "true",
    }
    child = Child(
        [PYTHON, "-m", "uvicorn", "mocki.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--no-access-log"],
        env=env, log=tmp / f"{name}.log", cwd=ROOT,
    )  # fmt: skip
    return child, f"http://127.0.0.1:{port}"


@pytest.fixture
def apis(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, str]]:
    first, first_url = _api(settings, tmp_path, "a")
    second, second_url = _api(settings, tmp_path, "b")
    try:
        for child, url in ((first, first_url), (second, second_url)):
            port = int(url.rsplit(":", 1)[1])
            child.wait_until(lambda port=port: port_open(port), 120, "api")  # type: ignore[misc]
            child.wait_until(lambda url=url: _healthy(url), 60, "api health")  # type: ignore[misc]
        yield first_url, second_url
    finally:
        first.stop()
        second.stop()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


async def _admin(settings: Settings, client: httpx.AsyncClient, email: str) -> dict[str, str]:
    engine = make_engine(settings.resolved_database_url)
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            await users.create_user(session, email, PASSWORD, "Admin", role="admin")
    finally:
        await engine.dispose()
    resp = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


async def _eventually_always(read: object, expected: object) -> None:
    """`read()` answers `expected` within the bounded wait, and then on every one of 20 more reads."""
    assert callable(read)
    deadline = time.monotonic() + DEADLINE_S
    while await read() != expected:
        assert time.monotonic() < deadline, "the other process still serves the old value"
        await asyncio.sleep(0.02)
    assert [await read() for _ in range(20)] == [expected] * 20


def _l1_hits(metrics: str, family: str) -> float:
    pattern = rf'mocki_cache_requests_total{{family="{family}",level="l1",result="hit"}} ([0-9.e+]+)'
    found = re.search(pattern, metrics)
    return float(found.group(1)) if found else 0.0


async def test_writes_through_one_process_are_not_served_stale_by_the_other(
    settings: Settings, apis: tuple[str, str]
) -> None:
    a_url, b_url = apis
    async with (
        httpx.AsyncClient(base_url=a_url, timeout=30) as a,
        httpx.AsyncClient(base_url=b_url, timeout=30) as b,
    ):
        user = await register(a)
        me = (await b.get("/api/v1/users/me", headers=user)).json()
        assert me["tier"] == "free"
        admin = await _admin(settings, a, f"admin-{me['id'][:8]}@example.com")

        async def tier_on_b() -> str:
            resp = await b.get("/api/v1/users/me", headers=user)
            assert resp.status_code == 200, resp.text
            return str(resp.json()["tier"])

        assert [await tier_on_b() for _ in range(5)] == ["free"] * 5  # now held by b's cache
        changed = await a.patch(f"/api/v1/admin/users/{me['id']}", headers=admin, json={"tier": "pro"})
        assert changed.status_code == 200, changed.text
        await _eventually_always(tier_on_b, "pro")

        async def interviews_on_b() -> list[str]:
            resp = await b.get("/api/v1/interviews", headers=user)
            assert resp.status_code == 200, resp.text
            return [i["target_role"] for i in resp.json()]

        assert await interviews_on_b() == []
        assert await interviews_on_b() == []
        made = await a.post("/api/v1/interviews", headers=user, json={"target_role": "Backend Engineer"})
        assert made.status_code == 201, made.text
        await _eventually_always(interviews_on_b, ["Backend Engineer"])
        gone = await a.delete(f"/api/v1/interviews/{made.json()['id']}", headers=user)
        assert gone.status_code == 204
        await _eventually_always(interviews_on_b, [])

        await _tracker_reads_follow_writes(a, b, user)

        # b really answered from its in-process cache in between, so the test above means something.
        metrics = (await b.get("/metrics")).text
        assert _l1_hits(metrics, "user") > 0
        assert _l1_hits(metrics, "interviews") > 0
        for family in ("applications", "tracker_board", "tracker_analytics"):
            assert _l1_hits(metrics, family) > 0, family


async def _tracker_reads_follow_writes(
    a: httpx.AsyncClient, b: httpx.AsyncClient, user: dict[str, str]
) -> None:
    """Companies and positions, the board and the analytics (the tracker's dashboard) on b follow
    an application created and then edited by hand through a."""

    async def seen_on_b() -> tuple[list[tuple[str, str, str]], dict[str, list[str]], dict[str, int]]:
        listed = await b.get("/api/v1/tracker/applications", headers=user)
        board = await b.get("/api/v1/tracker/board", headers=user)
        analytics = await b.get("/api/v1/tracker/analytics", headers=user)
        for resp in (listed, board, analytics):
            assert resp.status_code == 200, resp.text
        return (
            [(x["company"], x["position"], x["status"]) for x in listed.json()],
            {k: [x["company"] for x in v] for k, v in board.json()["columns"].items() if v},
            {k: v for k, v in analytics.json()["pipeline"].items() if v},
        )

    assert await seen_on_b() == ([], {}, {})
    assert await seen_on_b() == ([], {}, {})  # now held by b's cache
    made = await a.post(
        "/api/v1/tracker/applications", headers=user, json={"company": "Acme", "position": "SRE"}
    )
    assert made.status_code == 201, made.text
    await _eventually_always(seen_on_b, ([("Acme", "SRE", "applied")], {"applied": ["Acme"]}, {"applied": 1}))

    # An unchanged answer is not sent again: the ETag of b's cached JSON, then 304.
    first = await b.get("/api/v1/tracker/analytics", headers=user)
    etag = first.headers["etag"]
    again = await b.get("/api/v1/tracker/analytics", headers={**user, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""

    app_id = made.json()["id"]
    edited = await a.patch(
        f"/api/v1/tracker/applications/{app_id}",
        headers=user,
        json={"status": "interview", "company": "Acme Corp"},
    )
    assert edited.status_code == 200, edited.text
    await _eventually_always(
        seen_on_b, ([("Acme Corp", "SRE", "interview")], {"interview": ["Acme Corp"]}, {"interview": 1})
    )
    changed = await b.get("/api/v1/tracker/analytics", headers={**user, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    only = await b.get("/api/v1/tracker/applications", headers=user, params={"status": "interview"})
    assert [x["company"] for x in only.json()] == ["Acme Corp"]
    none = await b.get("/api/v1/tracker/applications", headers=user, params={"status": "applied"})
    assert none.json() == []
