"""The user's tier decides the lane: through the real api and Redis, and on a real worker, for both
ways of keeping a high lane (message priority, separate queues)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from bench.task_probe import waits
from celery import Celery

from mocki.settings import Settings
from mocki.tasks import routing
from mocki.tasks.celery_app import make_celery
from tests.conftest import register
from tests.integration.questions.helpers import admin_headers, user_id
from tests.integration.tasks.conftest import probe_redis, wait_for
from tests.support.processes import Child

# Where kombu keeps a message of this priority for this queue (priority 0: the bare name).
NORMAL_SUFFIX = "\x06\x166"


def _with_lanes(settings: Settings, lanes: str) -> Settings:
    return settings.model_copy(update={"tasks": settings.tasks.model_copy(update={"lanes": lanes})})


def _task_args(settings: Settings, key: str) -> list[str]:
    """The argsrepr of every message waiting in one Redis list of the test's broker."""
    raw = probe_redis(settings).lrange(settings.tasks.key_prefix + key, 0, -1)
    return [json.loads(m)["headers"]["argsrepr"] for m in raw]


@pytest.mark.parametrize(
    ("lanes", "high_key", "normal_key"),
    [
        ("priority", "cpu", "cpu" + NORMAL_SUFFIX),
        ("queues", "cpu.high" + NORMAL_SUFFIX, "cpu" + NORMAL_SUFFIX),
    ],
)
async def test_a_vip_users_work_goes_on_the_high_lane(
    app: Any, client: httpx.AsyncClient, settings: Settings, lanes: str, high_key: str, normal_key: str
) -> None:
    # No worker consumes this test's key prefix: the messages stay where the sender put them.
    app.state.celery = make_celery(_with_lanes(settings, lanes))
    admin = await admin_headers(app, client)
    vip, free = await register(client), await register(client)
    vip_id = await user_id(client, vip)
    made = await client.patch(f"/api/v1/admin/users/{vip_id}", json={"tier": "vip"}, headers=admin)
    assert made.status_code == 200 and made.json()["tier"] == "vip", made.text

    docs = {}
    for name, headers in (("vip", vip), ("free", free)):
        resp = await client.post(
            "/api/v1/documents/text",
            json={
                "kind": "job_description",
                "title": name,
                "text": "Backend engineer, Python and PostgreSQL.",
            },
            headers=headers,
        )
        assert resp.status_code in (201, 202), resp.text
        docs[name] = resp.json()["id"]

    high, normal = _task_args(settings, high_key), _task_args(settings, normal_key)
    assert [docs["vip"] in a for a in high] == [True] and [docs["free"] in a for a in normal] == [True]


@pytest.mark.parametrize(("lanes", "vip_position"), [("priority", 0), ("queues", 0), ("off", 5)])
def test_the_high_lane_runs_first_on_a_real_worker(
    settings: Settings, start_worker: Callable[..., Child], lanes: str, vip_position: int
) -> None:
    sender: Celery = make_celery(_with_lanes(settings, lanes))
    now = time.time()
    for n in range(5):
        routing.send(sender, "probe.sleep", [f"free-{n}", now, 0.0], tier="free", queue="io", expires=120)
    routing.send(sender, "probe.sleep", ["vip", now, 0.0], tier="vip", queue="io", expires=120)
    start_worker(concurrency=1)  # the backlog is there before the worker takes anything
    client = probe_redis(settings)
    done = wait_for(
        lambda: (w := waits(client, settings.tasks.key_prefix)) and len(w) == 6 and w, 60, "six probes"
    )
    order = [w["tag"] for w in done]
    assert order.index("vip") == vip_position, order
    assert sorted(order) == sorted(["vip"] + [f"free-{n}" for n in range(5)])
