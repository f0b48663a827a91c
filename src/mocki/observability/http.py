"""Request latency by route template, method and status, and rate-limit rejections (ASGI middleware).

Registered outermost, so requests the rate limits or the body limit refuse are counted too. The
route label is the template (`/api/v1/interviews/{interview_id}`), never the raw path, so ids do
not multiply the series. A scrape of /metrics first refreshes the gauges read from the database
(observability/gauges.py).
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mocki.observability import gauges

METRICS_PATH = "/metrics"
UNMATCHED = "(unmatched)"

REQUEST_SECONDS = Histogram(
    "mocki_http_request_duration_seconds",
    "Time to answer an HTTP request (streamed answers: until the stream ends), by route template",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
RATE_LIMITED = Counter(
    "mocki_rate_limit_rejections_total", "Requests refused with 429 by a rate limit, by route", ["route"]
)


def route_template(scope: Scope) -> str:
    """The path with each path parameter put back as `{name}`: /api/v1/interviews/{interview_id}."""
    params = scope.get("path_params")
    if "endpoint" not in scope:
        # Refused before routing (rate limit, body size): find the route it would have reached.
        params = _would_match(scope)
        if params is None:
            return UNMATCHED
    return template_of(str(scope["path"]), params or {})


def template_of(path: str, params: dict[str, Any]) -> str:
    for name, value in params.items():
        text = str(value)
        if not text:
            continue
        if "/" in text and path.endswith(text):  # a {name:path} parameter takes the rest
            path = path[: -len(text)] + "{" + name + "}"
        else:
            path = "/".join("{" + name + "}" if part == text else part for part in path.split("/"))
    return path


def _would_match(scope: Scope) -> dict[str, Any] | None:
    app: Any = scope.get("app")
    for candidate in getattr(app, "routes", []):
        match, child = candidate.matches(scope)
        if match is Match.FULL:
            return dict(child.get("path_params") or {})
    return None


class HTTPMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == METRICS_PATH:
            await gauges.refresh(scope.get("app"))
        status = 500  # what the client sees when the app raises before answering
        started = time.perf_counter()

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = route_template(scope)
            REQUEST_SECONDS.labels(scope["method"], route, str(status)).observe(time.perf_counter() - started)
            if status == 429:
                RATE_LIMITED.labels(route).inc()
