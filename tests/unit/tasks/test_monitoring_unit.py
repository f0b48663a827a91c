"""Pieces of monitoring that need no server: Flower's login, Redis keys per lane, route templates,
the request middleware, LLM counters."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import REGISTRY
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from mocki.llm.base import Usage
from mocki.observability import llm as llm_metrics
from mocki.observability.http import HTTPMetrics, template_of
from mocki.settings import MonitoringSettings, Settings
from mocki.tasks.monitoring import parse_basic_auth, queue_keys


def test_flower_login_is_required_and_checked() -> None:
    assert parse_basic_auth("ops:long-enough, second:also-long-1") == [
        "ops:long-enough",
        "second:also-long-1",
    ]
    for bad in ("", " , ", "ops", "ops:short", ":nopassword-here"):
        with pytest.raises(ValueError):
            parse_basic_auth(bad)


def test_queue_keys_cover_both_lane_forms_under_the_prefix() -> None:
    keys = queue_keys("io", "p:")
    assert keys["high"][:2] == ["p:io", "p:io.high"] and "p:io.high\x06\x166" in keys["high"]
    assert keys["normal"] == ["p:io\x06\x163", "p:io\x06\x166", "p:io\x06\x169"]


@pytest.mark.parametrize(
    ("path", "params", "template"),
    [
        ("/api/v1/interviews/abc", {"interview_id": "abc"}, "/api/v1/interviews/{interview_id}"),
        ("/api/v1/documents/d1/reindex", {"document_id": "d1"}, "/api/v1/documents/{document_id}/reindex"),
        ("/assets/js/app.js", {"path": "js/app.js"}, "/assets/{path}"),
        ("/api/v1/health", {}, "/api/v1/health"),
    ],
)
def test_route_templates_never_carry_ids(path: str, params: dict[str, str], template: str) -> None:
    assert template_of(path, params) == template


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_the_middleware_counts_by_template_and_status_and_rate_limit_refusals() -> None:
    async def item(request: Request) -> PlainTextResponse:
        return PlainTextResponse("slow down", status_code=429)

    app = HTTPMetrics(Starlette(routes=[Route("/things/{thing_id}", item)]))
    labels = {"method": "GET", "route": "/things/{thing_id}", "status": "429"}
    before = _sample("mocki_http_request_duration_seconds_count", **labels)
    refused = _sample("mocki_rate_limit_rejections_total", route="/things/{thing_id}")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/things/42")).status_code == 429
        assert (await client.get("/nothing-here")).status_code == 404
    assert _sample("mocki_http_request_duration_seconds_count", **labels) == before + 1
    assert _sample("mocki_rate_limit_rejections_total", route="/things/{thing_id}") == refused + 1
    assert (
        _sample("mocki_http_request_duration_seconds_count", method="GET", route="(unmatched)", status="404")
        >= 1
    )


def test_llm_counters_and_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    prices = Settings(
        monitoring=MonitoringSettings(llm_prompt_usd_per_mtok=2.0, llm_completion_usd_per_mtok=8.0)
    )
    monkeypatch.setattr(llm_metrics, "get_settings", lambda: prices)
    before = _sample("mocki_llm_cost_usd_total", model="priced")
    llm_metrics.observe(
        Usage(model="priced", prompt_tokens=1000, completion_tokens=500, latency_s=1.0), "unit", "ok"
    )
    cached = Usage(model="priced", prompt_tokens=1000, completion_tokens=500, cached="exact")
    llm_metrics.observe(cached, "unit", "ok")
    assert _sample("mocki_llm_cost_usd_total", model="priced") == pytest.approx(before + 0.006)
    assert _sample("mocki_llm_calls_total", model="priced", purpose="unit", status="ok", cached="exact") == 1
    assert (
        _sample("mocki_llm_tokens_total", model="priced", kind="prompt") == 1000
    )  # cached calls cost nothing
