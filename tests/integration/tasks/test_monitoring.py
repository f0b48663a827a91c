"""`mocki flower` behind basic auth with the task metrics on its /metrics (Celery events, queue
depth per lane, workers alive, LLM calls made by workers), and the api's own /metrics."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from celery import Celery

from mocki.llm import usage
from mocki.llm.base import Usage
from mocki.settings import Settings
from tests.conftest import ROOT
from tests.integration.tasks.conftest import env_for, wait_for
from tests.support.processes import PYTHON, Child, free_port, port_open

LOGIN = ("ops", "a-long-flower-password")


@pytest.fixture
def flower(settings: Settings, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = env_for(settings, MOCKI_MONITORING__FLOWER_BASIC_AUTH=":".join(LOGIN))
    child = Child(
        [PYTHON, "-m", "mocki.cli", "flower", "--port", str(port)],
        env=env,
        log=tmp_path / "flower.log",
        cwd=ROOT,
    )
    child.wait_until(lambda: port_open(port), 60, "flower")
    yield f"http://127.0.0.1:{port}"
    child.stop()


def metric(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus' text format (None when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(
            re.findall(
                r'(\w+)="([^"]*)"', line.split(" ")[0] if "{" not in line else line[: line.rindex("}") + 1]
            )
        )
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_flower_refuses_to_start_without_a_login(settings: Settings) -> None:
    env = env_for(settings, MOCKI_MONITORING__FLOWER_BASIC_AUTH="")
    done = subprocess.run(
        [PYTHON, "-m", "mocki.cli", "flower", "--port", str(free_port())],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0 and "MOCKI_MONITORING__FLOWER_BASIC_AUTH" in done.stderr


@pytest.mark.slow
@pytest.mark.usefixtures("clean_db")
def test_flower_needs_its_login_and_exports_the_task_metrics(
    flower: str, sender: Celery, start_worker: Callable[..., Child]
) -> None:
    assert httpx.get(flower + "/", timeout=10).status_code == 401
    assert httpx.get(flower + "/", auth=("ops", "wrong"), timeout=10).status_code == 401
    assert httpx.get(flower + "/", auth=LOGIN, timeout=10).status_code == 200

    for n in range(3):
        sender.send_task("probe.sleep", args=[f"queued-{n}", 0, 0], queue="cpu", priority=6, expires=300)
    worker = start_worker("io", name="metrics")
    sender.send_task("probe.broken", args=["boom"], queue="io", expires=60)
    sender.send_task("probe.sleep", args=["ok", 0, 0], queue="io", expires=60)
    sender.send_task("probe.llm", args=["probe_call", 120, 30], queue="io", expires=60)
    sender.send_task("probe.llm", args=["probe_call", 50, 0, "endpoint unreachable"], queue="io", expires=60)

    def scraped() -> str | None:
        text = httpx.get(flower + "/metrics", timeout=10).text
        failed = metric(text, "flower_events_total", type="task-failed", task="probe.broken")
        errors = metric(text, "mocki_llm_calls_total", purpose="probe_call", status="error")
        return text if failed and errors else None

    text = wait_for(scraped, 60, "the task and LLM metrics")
    assert metric(text, "flower_events_total", type="task-succeeded", task="probe.sleep") == 1
    assert metric(text, "mocki_llm_calls_total", model="probe-model", purpose="probe_call", status="ok") == 1
    assert metric(text, "mocki_llm_tokens_total", model="probe-model", kind="prompt") == 170
    assert metric(text, "mocki_celery_queue_depth", queue="cpu", lane="normal") == 3
    assert metric(text, "mocki_celery_queue_depth", queue="io", lane="high") == 0
    assert metric(text, "mocki_celery_workers_alive") == 1

    os.killpg(worker.proc.pid, signal.SIGKILL)  # no goodbye: only the heartbeats stop
    worker.proc.wait(10)
    wait_for(
        lambda: metric(httpx.get(flower + "/metrics", timeout=10).text, "mocki_celery_workers_alive") == 0,
        60,
        "the killed worker to count as gone",
    )


async def test_api_metrics_by_route_template_and_llm_calls(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    assert (await client.get("/api/v1/health")).status_code == 200
    missing = await client.get(f"/api/v1/interviews/{uuid.uuid4()}", headers=auth)
    assert missing.status_code == 404
    async with app.state.sessionmaker() as session:
        usage.record(
            session,
            Usage(model="api-probe", prompt_tokens=7, completion_tokens=3, latency_s=0.1),
            purpose="probe_api",
        )
        await session.commit()

    text = (await client.get("/metrics")).text
    assert metric(
        text, "mocki_http_request_duration_seconds_count", method="GET", route="/api/v1/health", status="200"
    )
    assert metric(
        text,
        "mocki_http_request_duration_seconds_count",
        route="/api/v1/interviews/{interview_id}",
        status="404",
    )
    assert (
        metric(
            text, "mocki_llm_calls_total", model="api-probe", purpose="probe_api", status="ok", cached="no"
        )
        == 1
    )
    assert metric(text, "mocki_llm_tokens_total", model="api-probe", kind="completion") == 3
    assert metric(text, "mocki_interviews_active") == 0
    assert metric(text, "mocki_dead_letters_open") == 0
    assert metric(text, "mocki_llm_cache_requests_total", result="miss") is not None  # cache ratios
