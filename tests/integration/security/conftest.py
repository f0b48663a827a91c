"""Apps with the limits turned down, each test on its own Redis key prefix, and signed clients."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
import redis

from mocki.app import create_app
from mocki.settings import RateLimitSettings, ReplayGuardSettings, Settings
from tests.conftest import _empty_tables_async
from tests.support.signing import SessionSigner

HIGH = "1000/second"


@pytest.fixture
def prefix() -> str:
    return f"test-sec-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def secure_settings(settings: Settings, prefix: str) -> Callable[..., Settings]:
    """The test's settings with these rate limits (unnamed ones high) on a key prefix of its own."""

    def make(replay: ReplayGuardSettings | None = None, **limits: Any) -> Settings:
        rate = RateLimitSettings(
            per_ip=limits.pop("per_ip", HIGH),
            per_user=limits.pop("per_user", HIGH),
            llm_budget=limits.pop("llm_budget", HIGH),
            key_prefix=f"{prefix}:rl",
            **limits,
        )
        guard = replay or ReplayGuardSettings(key_prefix=f"{prefix}:replay")
        return settings.model_copy(update={"rate_limits": rate, "replay_guard": guard})

    return make


ClientFactory = Callable[..., Any]


@pytest.fixture
async def open_client(settings: Settings, prefix: str) -> AsyncIterator[ClientFactory]:
    """open_client(settings, ip=..., signed=True) -> an httpx client on a fresh app (lifespan run).
    Apps made with the same settings object share nothing but Redis and the database, like two
    api processes."""
    async with AsyncExitStack() as stack:

        async def make(
            app_settings: Settings, *, ip: str = "127.0.0.1", signed: bool = True
        ) -> httpx.AsyncClient:
            app = create_app(app_settings)
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app, client=(ip, 40000))
            hooks = SessionSigner().hooks() if signed else {}
            return await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://test", event_hooks=hooks)
            )

        yield make
    await _empty_tables_async(settings.resolved_database_url)
    r = redis.Redis.from_url(settings.resolved_redis_url)
    keys = list(r.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        r.delete(*keys)
    r.close()


async def sign_up(client: httpx.AsyncClient) -> dict[str, Any]:
    """A new account through the api: its token pair (with the signing key)."""
    resp = await client.post(
        "/api/v1/auth/register",
        json={"email": f"sec-{uuid.uuid4().hex[:8]}@example.com", "password": "correct horse battery"},
    )
    assert resp.status_code == 201, resp.text
    tokens: dict[str, Any] = resp.json()
    return tokens


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def new_interview(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    resp = await client.post(
        "/api/v1/interviews", headers=headers, json={"target_role": "Backend Engineer", "length": 2}
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])
