"""deploy/: the alert rules pass their promtool unit tests (one per alert at least), the scrape
config parses, the Grafana dashboards query metrics MOCKI or Flower really export, and the compose
stack validates."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"
RULES = DEPLOY / "prometheus" / "alerts.yml"
RULE_TESTS = DEPLOY / "prometheus" / "tests" / "alerts_test.yml"
COMPOSE_ENV = {
    "MOCKI_SECRET_KEY": "x" * 48,
    "POSTGRES_PASSWORD": "pw",
    "MOCKI_LLM_BASE_URL": "http://llm:8000/v1",
    "MOCKI_MONITORING__FLOWER_BASIC_AUTH": "ops:a-long-password",
    "GRAFANA_ADMIN_PASSWORD": "pw",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
}


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool not installed (Debian package `prometheus`)")
    return found


def _alert_names() -> set[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {rule["alert"] for group in groups for rule in group["rules"]}


def test_every_alert_passes_its_promtool_unit_tests() -> None:
    promtool = _promtool()
    checked = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run([promtool, "test", "rules", str(RULE_TESTS)], capture_output=True, text=True)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    cases = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    firing = {
        case["alertname"]
        for test in cases
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert firing == _alert_names(), "every alert needs a unit test in which it fires"


def test_the_scrape_config_parses() -> None:
    promtool = _promtool()
    config = DEPLOY / "prometheus" / "prometheus.yml"
    checked = subprocess.run(
        [promtool, "check", "config", "--syntax-only", str(config)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def _exported_metric_names() -> set[str]:
    """Metric names MOCKI defines, and Flower's."""
    names: set[str] = set()
    for path in (ROOT / "src" / "mocki").rglob("*.py"):
        names |= set(re.findall(r'"(mocki_[a-z_]+)"', path.read_text()))
    flower = Path(__import__("flower").__file__).parent / "events.py"
    names |= set(re.findall(r"'(flower_[a-z_]+)'", flower.read_text()))
    return names


def test_dashboards_query_only_metrics_that_exist() -> None:
    exported = _exported_metric_names() | {"up"}
    boards = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))
    assert [b.stem for b in boards] == ["api", "interviews", "llm-cost", "tasks"]
    uids = set()
    for board in boards:
        data = json.loads(board.read_text())
        uids.add(data["uid"])
        exprs = [t["expr"] for panel in data["panels"] for t in panel["targets"]]
        assert exprs, board.name
        for expr in exprs:
            used = {
                re.sub(r"_(bucket|count|sum)$", "", name)
                for name in re.findall(r"\b((?:mocki|flower)_[a-z_]+|up)\b", expr)
            }
            assert used and used <= exported, f"{board.name}: unknown metric in {expr}"
    assert len(uids) == len(boards)


def test_the_compose_stack_validates(tmp_path: Path) -> None:
    if (
        shutil.which("docker")
        and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0
    ):
        command = ["docker", "compose"]
    elif shutil.which("docker-compose"):
        command = ["docker-compose"]
    else:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed")
    compose = DEPLOY / "compose.yaml"
    done = subprocess.run(
        [*command, "-f", str(compose), "config"], capture_output=True, text=True, env=COMPOSE_ENV
    )
    assert done.returncode == 0, done.stderr
    services = set(yaml.safe_load(done.stdout)["services"])
    assert {
        "api-1",
        "api-2",
        "worker-cpu",
        "worker-io",
        "beat-1",
        "flower",
        "prometheus",
        "grafana",
    } <= services
    assert {"postgres", "redis", "qdrant"} <= services
    # Without the secrets it refuses to render rather than start with defaults.
    bare = subprocess.run(
        [*command, "-f", str(compose), "config"],
        capture_output=True,
        text=True,
        env={"PATH": COMPOSE_ENV["PATH"]},
    )
    said = bare.stderr + bare.stdout
    assert bare.returncode != 0 and ("POSTGRES_PASSWORD" in said or "MOCKI_SECRET_KEY" in said), said
