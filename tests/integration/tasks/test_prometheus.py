"""Prometheus from Debian's package scrapes a real api process and `mocki flower` with the real
alert rules (their `for:` shortened to seconds); a burst of failing tasks fires the failure-rate
alert."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from celery import Celery

from mocki.settings import Settings
from tests.conftest import ROOT
from tests.integration.tasks.conftest import env_for, wait_for
from tests.integration.tasks.test_monitoring import LOGIN
from tests.support.processes import PYTHON, Child, free_port, port_open

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("clean_db")]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"


def _quick_rules(target: Path) -> None:
    """The real alert rules, waiting seconds instead of minutes before they fire."""
    rules = yaml.safe_load(RULES.read_text())
    for group in rules["groups"]:
        group["interval"] = "1s"
        for rule in group["rules"]:
            rule["for"] = "1s"
    target.write_text(yaml.safe_dump(rules))


@pytest.fixture
def servers(settings: Settings, tmp_path: Path) -> Iterator[dict[str, int]]:
    env = env_for(settings, MOCKI_MONITORING__FLOWER_BASIC_AUTH=":".join(LOGIN))
    api_port, flower_port = free_port(), free_port()
    api = Child(
        [PYTHON, "-m", "uvicorn", "mocki.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(api_port), "--no-access-log"],
        env=env, log=tmp_path / "api.log", cwd=ROOT,
    )  # fmt: skip
    flower = Child(
        [PYTHON, "-m", "mocki.cli", "flower", "--port", str(flower_port)],
        env=env,
        log=tmp_path / "flower.log",
        cwd=ROOT,
    )
    try:
        api.wait_until(lambda: port_open(api_port), 90, "api")
        flower.wait_until(lambda: port_open(flower_port), 60, "flower")
        yield {"api": api_port, "flower": flower_port}
    finally:
        flower.stop()
        api.stop()


@pytest.fixture
def prometheus(servers: dict[str, int], tmp_path: Path) -> Iterator[str]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("prometheus not installed (Debian package `prometheus`)")
    _quick_rules(tmp_path / "alerts.yml")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(tmp_path / "alerts.yml")],
        "scrape_configs": [
            {"job_name": "mocki-api", "static_configs": [{"targets": [f"127.0.0.1:{servers['api']}"]}]},
            {"job_name": "mocki-tasks", "static_configs": [{"targets": [f"127.0.0.1:{servers['flower']}"]}]},
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    child = Child(
        [binary, f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        env={"PATH": "/usr/bin:/bin"}, log=tmp_path / "prometheus.log",
    )  # fmt: skip
    try:
        child.wait_until(lambda: port_open(port), 60, "prometheus")
        yield f"http://127.0.0.1:{port}"
    finally:
        child.stop()


def _query(base: str, expr: str) -> list[dict[str, Any]]:
    body = httpx.get(f"{base}/api/v1/query", params={"query": expr}, timeout=10).json()
    return list(body["data"]["result"])


def _alert(base: str, name: str) -> dict[str, Any] | None:
    alerts = httpx.get(f"{base}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
    return next((a for a in alerts if a["labels"]["alertname"] == name), None)


def test_a_failure_burst_fires_the_task_failure_alert(
    prometheus: str, sender: Celery, start_worker: Callable[..., Child]
) -> None:
    start_worker("io", concurrency=2, name="burst")
    wait_for(lambda: len(_query(prometheus, "up == 1")) == 2, 60, "both targets scraped")
    sender.send_task("probe.sleep", args=["ok", time.time(), 0], queue="io", expires=60)
    wait_for(lambda: _query(prometheus, 'flower_events_total{type="task-succeeded"}'), 60, "a success")
    assert _alert(prometheus, "TaskFailureRateHigh") is None  # nothing failed yet

    # A burst: failures keep coming (a counter series that appears already at its final value
    # shows no increase to rate(), so a single instant batch is not what this alert is about).
    deadline, n, firing = time.monotonic() + 120, 0, None
    while firing is None and time.monotonic() < deadline:
        sender.send_task("probe.broken", args=[f"burst {n}"], queue="io", expires=60)
        n += 1
        time.sleep(0.5)
        alert = _alert(prometheus, "TaskFailureRateHigh")
        firing = alert if alert is not None and alert["state"] == "firing" else None
    assert firing is not None, f"no alert after {n} failing tasks"
    assert firing["labels"]["severity"] == "page"
    # The api's own request metrics are in Prometheus too.
    assert _query(prometheus, 'mocki_http_request_duration_seconds_count{job="mocki-api"}')
    assert _query(prometheus, 'mocki_celery_workers_alive{job="mocki-tasks"} == 1')
