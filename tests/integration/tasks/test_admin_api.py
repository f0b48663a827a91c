"""The admin api over the real task system: queue depth per lane, live workers, dead letters sent
again, users' tiers; administrators only."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx

from mocki.settings import Settings
from mocki.tasks import routing
from mocki.tasks.celery_app import make_celery
from tests.conftest import register
from tests.integration.questions.helpers import admin_headers, user_id
from tests.support.processes import Child

API = "/api/v1/admin"


async def _until(probe: Callable[[], Any], wait_s: float, what: str) -> Any:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if value := await probe():
            return value
        await asyncio.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


async def test_only_administrators_see_the_admin_api(app: Any, client: httpx.AsyncClient) -> None:
    user = await register(client)
    for path in ("/queues", "/workers", "/dead-letters", "/users"):
        resp = await client.get(API + path, headers=user)
        assert resp.status_code == 403, (path, resp.text)
    assert (await client.get(API + "/queues")).status_code == 401


async def test_queue_depth_per_pool_and_lane(app: Any, client: httpx.AsyncClient, settings: Settings) -> None:
    app.state.celery = make_celery(settings)  # nothing consumes the test's key prefix
    for n in range(3):
        routing.send(app.state.celery, "probe.sleep", [f"n{n}", 0, 0], queue="io", tier="free", expires=60)
    routing.send(app.state.celery, "probe.sleep", ["v", 0, 0], queue="io", tier="vip", expires=60)
    routing.send(app.state.celery, "probe.sleep", ["c", 0, 0], queue="cpu", urgent=True, expires=60)
    resp = await client.get(API + "/queues", headers=await admin_headers(app, client))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    depth = {(q["queue"], q["lane"]): q["depth"] for q in body["queues"]}
    assert depth == {("io", "normal"): 3, ("io", "high"): 1, ("cpu", "high"): 1, ("cpu", "normal"): 0}
    assert body["lanes"] == "queues" and body["high_tiers"] == ["vip"] and body["unacked"] == 0


async def test_workers_are_listed_with_their_lanes(
    app: Any, client: httpx.AsyncClient, settings: Settings, start_worker: Callable[..., Child]
) -> None:
    app.state.celery = make_celery(settings)
    await asyncio.to_thread(start_worker, "io", concurrency=2, name="listed")
    admin = await admin_headers(app, client)

    async def listed() -> list[dict[str, Any]]:
        resp = await client.get(API + "/workers", headers=admin)
        assert resp.status_code == 200, resp.text
        return [w for w in resp.json()["workers"] if w["name"].startswith("listed-")]

    (worker,) = await _until(listed, 30, "the worker to answer")
    assert (
        worker["queues"] == ["io", "io.high"] and worker["concurrency"] == 2 and worker["pool"] == "prefork"
    )


async def test_a_dead_letter_is_listed_and_sent_again_once(
    app: Any, client: httpx.AsyncClient, settings: Settings, start_worker: Callable[..., Child]
) -> None:
    app.state.celery = make_celery(settings)
    await asyncio.to_thread(start_worker)
    admin = await admin_headers(app, client)
    routing.send(app.state.celery, "probe.broken", ["bad input"], queue="io", expires=60)

    async def letters(status: str = "open") -> list[dict[str, Any]]:
        resp = await client.get(API + "/dead-letters", params={"status": status}, headers=admin)
        assert resp.status_code == 200, resp.text
        return list(resp.json()["items"])

    (first,) = await _until(letters, 60, "the dead letter")
    assert first["task_name"] == "probe.broken" and first["task_args"] == ["bad input"]
    assert (
        first["reason"] == "failed" and first["error"] == "bad input" and "ValueError" in first["traceback"]
    )

    sent = await client.post(f"{API}/dead-letters/{first['id']}/retry", headers=admin)
    assert sent.status_code == 202, sent.text
    assert sent.json()["status"] == "retried" and sent.json()["retried_task_id"]
    again = await client.post(f"{API}/dead-letters/{first['id']}/retry", headers=admin)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_retried"
    missing = await client.post(f"{API}/dead-letters/{first['id'][:-4]}0000/retry", headers=admin)
    assert missing.status_code == 404

    # It really ran again (and, being broken, failed again under its new id).
    (second,) = await _until(letters, 60, "the retried task's own dead letter")
    assert second["task_id"] == sent.json()["retried_task_id"]
    assert [r["id"] for r in await letters("retried")] == [first["id"]]


async def test_users_and_their_tiers(app: Any, client: httpx.AsyncClient) -> None:
    admin = await admin_headers(app, client)
    user = await register(client, email="tiered@example.com")
    uid = await user_id(client, user)
    listed = await client.get(API + "/users", params={"q": "TIERED"}, headers=admin)
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert (
        page["total"] == 1 and page["items"][0]["tier"] == "free" and page["tiers"] == ["free", "pro", "vip"]
    )

    made = await client.patch(f"{API}/users/{uid}", json={"tier": "pro"}, headers=admin)
    assert made.status_code == 200 and made.json()["tier"] == "pro"
    me = await client.get("/api/v1/users/me", headers=user)
    assert me.json()["tier"] == "pro"
    pros = await client.get(API + "/users", params={"tier": "pro"}, headers=admin)
    assert [u["email"] for u in pros.json()["items"]] == ["tiered@example.com"]

    bad = await client.patch(f"{API}/users/{uid}", json={"tier": "platinum"}, headers=admin)
    assert bad.status_code == 422 and "free, pro, vip" in bad.json()["error"]["message"]
    gone = await client.patch(f"{API}/users/{uid.hex[:-4]}0000", json={"tier": "vip"}, headers=admin)
    assert gone.status_code == 404
