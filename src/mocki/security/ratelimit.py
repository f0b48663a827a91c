"""Rate limits on Redis with the `limits` library (moving window), shared by every api process.

Three limits, each with its own behaviour when the store is unreachable:
- per IP, every /api/v1 request (IPv6 by its /64): fails open, a Redis outage must not take the
  whole api down with it;
- per user, on routes that make model calls (`llm_limit(route)`), by the user's tier or a
  per-route setting: fails closed;
- the global budget of model-backed requests of all users: fails closed, so an outage can never
  turn into unbounded model spend.

A refused request gets 429 with Retry-After and RateLimit-Limit/Remaining/Reset; admitted ones
carry the RateLimit-* headers of their tightest limit. `RateLimiter.check_event` applies the same
limits to Socket.IO events and WebRTC offers.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mocki.auth.deps import CurrentUser
from mocki.core.errors import DomainError, error_body
from mocki.settings import RateLimitSettings

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
# Load balancers probe health far more often than 50 times a minute.
UNLIMITED_PATHS = frozenset({f"{API_PREFIX}/health"})
# Where a request's applied limits are collected for the response headers (request.state).
STATE_KEY = "rate_limits"
# Retry-After for a limit that cannot be checked (its store is down and it fails closed).
UNAVAILABLE_RETRY_S = 5


@dataclass(frozen=True)
class LimitState:
    """One limit as it stood after this request."""

    name: str
    limit: int
    remaining: int
    reset_s: int

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(max(0, self.remaining)),
            "RateLimit-Reset": str(self.reset_s),
        }


class RateLimited(DomainError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, state: LimitState, *, code: str | None = None) -> None:
        super().__init__(
            message,
            code=code,
            details={"limit": state.name, "allowed": state.limit, "retry_after_s": state.reset_s},
        )
        self.state = state

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.state.reset_s), **self.state.headers()}


class LimitUnavailable(DomainError):
    """A fail-closed limit whose store cannot be reached."""

    status_code = 503
    code = "rate_limit_unavailable"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(UNAVAILABLE_RETRY_S)}


def _reset_seconds(reset_time: float, now: float) -> int:
    return max(1, math.ceil(reset_time - now))


def client_key(ip: str | None) -> str:
    """The address a per-IP limit counts: IPv4 as is, IPv6 by its /64 (one host's usual share)."""
    if not ip:
        return "unknown"
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address) + "/64"
    return str(address)


def limits_storage_uri(redis_url: str) -> str:
    """The `limits` spelling of a redis-py URL."""
    if redis_url.startswith("unix://"):
        return "async+redis+unix://" + redis_url.removeprefix("unix://")
    return "async+" + redis_url


def _parse(name: str, value: str) -> RateLimitItem:
    try:
        return parse(value)
    except ValueError as exc:
        raise ValueError(
            f"MOCKI_RATE_LIMITS__{name.upper()}: {value!r} is not a rate limit like '10/minute'"
        ) from exc


class RateLimiter:
    """The three limits over one `limits` moving-window limiter on Redis."""

    def __init__(self, settings: RateLimitSettings, redis_url: str) -> None:
        self.settings = settings
        self.per_ip = _parse("per_ip", settings.per_ip)
        self.per_user = _parse("per_user", settings.per_user)
        self.llm_budget = _parse("llm_budget", settings.llm_budget)
        self.tiers = {tier: _parse(f"tiers__{tier}", v) for tier, v in settings.tiers.items()}
        self.routes = {route: _parse(f"routes__{route}", v) for route, v in settings.routes.items()}
        url = settings.storage_url or redis_url
        # Our own client, with short timeouts: a hung store must not hang every request.
        self._redis: Redis[bytes] = Redis.from_url(
            url, socket_timeout=settings.timeout_s, socket_connect_timeout=settings.timeout_s
        )
        storage = RedisStorage(
            limits_storage_uri(url),
            wrap_exceptions=True,
            implementation="redispy",
            key_prefix=settings.key_prefix,
            connection_pool=self._redis.connection_pool,
        )
        self._limiter = MovingWindowRateLimiter(storage)
        self._last_warning = 0.0

    @property
    def redis(self) -> Redis[bytes]:
        """The limit store's client (short timeouts); the login throttle keeps its counters there too."""
        return self._redis

    async def aclose(self) -> None:
        await self._redis.aclose()  # type: ignore[attr-defined]  # redis 5+ has it; the stubs are older

    def user_limit(self, route: str, tier: str) -> tuple[RateLimitItem, str]:
        """The per-user limit of a route for a tier, and its bucket: a route with its own setting
        counts alone, every other model-backed route shares the user's "llm" bucket."""
        for key in (f"{route}@{tier}", route):
            if key in self.routes:
                return self.routes[key], f"route:{route}"
        return self.tiers.get(tier, self.per_user), "llm"

    async def _consume(
        self, name: str, item: RateLimitItem, identifiers: tuple[str, ...], fail_open: bool
    ) -> LimitState | None:
        try:
            allowed = await self._limiter.hit(item, *identifiers)
            stats = await self._limiter.get_window_stats(item, *identifiers)
        except (StorageError, RedisError, OSError) as exc:
            if fail_open:
                self._warn(name, exc)
                return None
            log.error("rate limit %s cannot be checked (failing closed): %s", name, exc)
            raise LimitUnavailable(
                "Usage limits cannot be checked right now, so this request is refused; try again shortly.",
                details={"limit": name},
            ) from exc
        state = LimitState(name, item.amount, stats.remaining, _reset_seconds(stats.reset_time, time.time()))
        if not allowed:
            raise RateLimited(_MESSAGES[name].format(limit=item, retry=state.reset_s), state)
        return state

    def _warn(self, name: str, exc: BaseException) -> None:
        # One line a minute is enough while the store is down.
        now = time.monotonic()
        if now - self._last_warning > 60:
            self._last_warning = now
            log.warning("rate limit %s not checked (store unreachable, failing open): %s", name, exc)

    async def check_ip(self, ip: str | None) -> LimitState | None:
        return await self._consume(
            "ip", self.per_ip, ("ip", client_key(ip)), fail_open=self.settings.fail_open_per_ip
        )

    async def check_llm(self, user_id: uuid.UUID | str, tier: str, route: str) -> list[LimitState]:
        """Per user first, so one user's excess never spends the shared budget; then the budget."""
        item, bucket = self.user_limit(route, tier)
        states = [
            await self._consume(
                "user", item, ("user", bucket, str(user_id)), fail_open=self.settings.fail_open_per_user
            ),
            await self._consume(
                "llm_budget", self.llm_budget, ("llm_budget",), fail_open=self.settings.fail_open_llm_budget
            ),
        ]
        return [s for s in states if s is not None]

    async def check_event(
        self,
        *,
        ip: str | None,
        user_id: uuid.UUID | str | None,
        tier: str = "free",
        route: str,
        llm: bool = True,
    ) -> list[LimitState]:
        """The limits of one Socket.IO event or WebRTC offer: per IP, then (for model-backed
        events of a signed-in user) per user and the global budget. Raises RateLimited (429) or
        LimitUnavailable (503); the caller turns them into its own error message."""
        states = [s for s in [await self.check_ip(ip)] if s is not None]
        if llm and user_id is not None:
            states += await self.check_llm(user_id, tier, route)
        return states


_MESSAGES = {
    "ip": "Too many requests from your address (limit {limit}); try again in {retry} s.",
    "user": "Too many requests that use the AI interviewer (limit {limit}); try again in {retry} s.",
    "llm_budget": "The server is at its limit of AI requests right now; try again in {retry} s.",
}


def tightest(states: list[LimitState]) -> LimitState | None:
    """The limit a client should pace itself by: fewest remaining, then the longest wait."""
    return min(states, key=lambda s: (s.remaining, -s.reset_s)) if states else None


def _record(scope: Scope, states: list[LimitState]) -> None:
    scope.setdefault("state", {}).setdefault(STATE_KEY, []).extend(states)


def llm_limit(route: str) -> Any:
    """A route dependency: the per-user and global model limits for `route` (e.g. "interviews.answer")."""

    async def dependency(request: Request, user: CurrentUser) -> None:
        limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
        if limiter is None:
            return
        _record(request.scope, await limiter.check_llm(user.id, user.tier, route))

    return Depends(dependency)


def client_ip(scope: Scope) -> str | None:
    # uvicorn has already replaced it with X-Forwarded-For when the peer is a trusted proxy
    # (--forwarded-allow-ips, 127.0.0.1 by default).
    client = scope.get("client")
    return str(client[0]) if client else None


class RateLimitMiddleware:
    """The per-IP limit on every api request, and the RateLimit-* headers on every api response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limiter: RateLimiter | None = (
            getattr(scope["app"].state, "rate_limiter", None) if "app" in scope else None
        )
        path: str = scope.get("path", "")
        if (
            scope["type"] != "http"
            or limiter is None
            or not path.startswith(API_PREFIX + "/")
            or path in UNLIMITED_PATHS
        ):
            await self.app(scope, receive, send)
            return
        try:
            state = await limiter.check_ip(client_ip(scope))
        except (RateLimited, LimitUnavailable) as exc:
            await _send_refusal(send, exc)
            return
        _record(scope, [state] if state else [])
        await self.app(scope, receive, _with_headers(scope, send))


def _with_headers(scope: Scope, send: Send) -> Callable[[Message], Awaitable[None]]:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers") or [])
            best = tightest(scope.get("state", {}).get(STATE_KEY, []))
            if best is not None and not any(k.lower() == b"ratelimit-limit" for k, _ in headers):
                headers += [(k.lower().encode(), v.encode()) for k, v in best.headers().items()]
                message = {**message, "headers": headers}
        await send(message)

    return wrapped


def refusal_response(exc: RateLimited | LimitUnavailable) -> JSONResponse:
    return JSONResponse(
        error_body(exc.code, exc.message, exc.details), status_code=exc.status_code, headers=exc.headers()
    )


async def _send_refusal(send: Send, exc: RateLimited | LimitUnavailable) -> None:
    response = refusal_response(exc)
    await send(
        {"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers}
    )
    await send({"type": "http.response.body", "body": response.body})


def install_handlers(app: FastAPI) -> None:
    """429/503 from a route dependency, with their headers (the generic DomainError handler has none)."""

    async def handler(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RateLimited | LimitUnavailable)
        return refusal_response(exc)

    app.add_exception_handler(RateLimited, handler)
    app.add_exception_handler(LimitUnavailable, handler)
