"""Property-based calls to every operation of the published OpenAPI schema, signed in as a real user.

schemathesis generates requests from the schema; each is sent in-process to the app (httpx's ASGI
transport, signed like the web app signs) and the answer must be no 5xx and must match the schema.
The app runs on one event loop in a thread of its own for the whole test: its database pool and
Redis client live on that loop, while hypothesis drives the examples from synchronous code.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from mocki.app import create_app
from mocki.settings import Settings
from tests.conftest import _empty_tables_async, register
from tests.support.signing import SessionSigner

T = TypeVar("T")
BASE = "http://test"
# Per operation; raise it for a deeper hunt (MOCKI_SCHEMATHESIS_EXAMPLES=100 make test).
EXAMPLES = int(os.environ.get("MOCKI_SCHEMATHESIS_EXAMPLES", "10"))
# The same examples every run, so CI's verdict is about the change, not the draw; hunt for new
# failures with MOCKI_SCHEMATHESIS_RANDOM=1 (and more examples).
DERANDOMIZE = os.environ.get("MOCKI_SCHEMATHESIS_RANDOM") != "1"

# Operations that cannot work in-process; each says why. Everything else is called.
# (All are POSTs.)
EXCLUDED = {
    # Opens a real WebRTC peer and loads the voice models (tests/integration/voice).
    "/api/v1/rtc/offer",
    # Need Google / Firebase, which a test machine has no access to: they answer 503 by design.
    "/api/v1/tracker/accounts/gmail/authorize",
    "/api/v1/tracker/accounts/gmail/callback",
    "/api/v1/auth/firebase",
}


class LiveApp:
    """The app with its lifespan entered, on a private event loop, and a signing client for it."""

    def __init__(self, app_settings: Settings) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.settings = app_settings
        self.headers: dict[str, str] = {}

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=120)

    async def start(self) -> None:
        self.app = create_app(self.settings)
        self.lifespan = self.app.router.lifespan_context(self.app)
        await self.lifespan.__aenter__()
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url=BASE,
            timeout=60,
            event_hooks=SessionSigner().hooks(),
        )
        self.headers = await register(self.client)

    async def stop(self) -> None:
        await self.client.aclose()
        await self.lifespan.__aexit__(None, None, None)
        await _empty_tables_async(self.settings.resolved_database_url)

    async def send(self, kwargs: dict[str, Any]) -> httpx.Response:
        # schemathesis serialises a case for `requests`; httpx spells a raw body `content`.
        data = kwargs.pop("data", None)
        if isinstance(data, (bytes, str)):
            kwargs["content"] = data
        elif data is not None:
            kwargs["data"] = data
        if kwargs.get("files"):
            kwargs["files"] = [(name, _httpx_part(part)) for name, part in kwargs["files"]]
        cookies = kwargs.pop("cookies", None)
        if cookies:  # httpx deprecates per-request cookies; a header says the same
            kwargs["headers"] = {
                **kwargs.get("headers", {}),
                "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
            }
        kwargs.pop("verify", None)
        kwargs.pop("cert", None)
        kwargs.pop("timeout", None)
        return await self.client.request(**kwargs)


def _httpx_part(part: tuple[Any, ...]) -> tuple[Any, ...]:
    # `requests` turns a number in a multipart part into text itself; httpx wants str or bytes.
    filename, content, *rest = part
    if not isinstance(content, (bytes, str)):
        content = str(content)
    return (filename, content, *rest)


@pytest.fixture
def live(settings: Settings) -> Iterator[LiveApp]:
    live_app = LiveApp(settings)
    live_app.run(live_app.start())
    try:
        yield live_app
    finally:
        live_app.run(live_app.stop())
        live_app.loop.call_soon_threadsafe(live_app.loop.stop)
        live_app.thread.join(timeout=10)
        live_app.loop.close()


def _operations(app_settings: Settings) -> list[Any]:
    # The document the app publishes at /openapi.json (no lifespan needed to build it).
    loaded = schemathesis.openapi.from_dict(create_app(app_settings).openapi())
    loaded.config.update(base_url=BASE)
    chosen = loaded.exclude(method="POST", path=sorted(EXCLUDED))
    return [result.ok() for result in chosen.get_all_operations()]


def _check(operation: Any, live: LiveApp) -> str | None:
    """Run the operation's examples; the first failure (after hypothesis shrinks it), or None."""

    @settings(
        max_examples=EXAMPLES,
        derandomize=DERANDOMIZE,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def examples(case: Any) -> None:
        kwargs = case.as_transport_kwargs(base_url=BASE, headers=live.headers)
        response = live.run(live.send(kwargs))
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    try:
        examples()
    except Exception as exc:  # every failure is reported with its operation
        return f"{operation.method.upper()} {operation.path}: {exc}"
    return None


# schemathesis's own pytest integration (from_fixture) does not run under pytest 9 yet; driving
# hypothesis per operation keeps the in-process app and its fixtures in our hands.
@pytest.mark.slow
def test_api_answers_as_its_schema_says(settings: Settings, live: LiveApp) -> None:
    operations = _operations(settings)
    assert len(operations) >= 50
    failures = [f for f in (_check(op, live) for op in operations) if f]
    assert not failures, "\n\n".join(failures)


# What the schemathesis run found, pinned so it stays fixed whatever the generator draws next.


async def test_an_offset_past_any_database_integer_is_a_422(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    # Was a 500: PostgreSQL refused 2**63 as OFFSET (value out of int64 range).
    for path in (
        "/api/v1/tracker/emails",
        "/api/v1/tracker/threads",
        "/api/v1/tracker/jobs",
        "/api/v1/questions",
    ):
        resp = await client.get(path, params={"offset": 2**63}, headers=auth)
        assert resp.status_code == 422, (path, resp.text)


async def test_an_imap_host_that_is_no_host_name_is_a_422(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    # Was a 500: the idna codec failed deep in the connection on a stray byte or an empty label.
    for host in ("\x80", "a..b", "x" * 64 + ".example"):
        body = {"host": host, "username": "u", "password": "p"}
        resp = await client.post("/api/v1/tracker/accounts/imap", json=body, headers=auth)
        assert resp.status_code == 422, (host, resp.text)
        assert resp.json()["error"]["code"] == "validation_error"


async def test_a_nul_character_in_text_is_a_422_not_a_500(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    # Found by the schemathesis run: PostgreSQL refuses NUL in any text column (core/errors.py).
    resp = await client.post("/api/v1/tracker/todos", json={"title": "\x00"}, headers=auth)
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["code"] == "nul_character"
