"""How the app takes the rate limits, the replay guard, login throttling, CORS and the security
headers in: middlewares, handlers, lifespan."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from redis.asyncio import Redis

from mocki.core.errors import error_body
from mocki.security.audit import AuditContext
from mocki.security.headers import SecurityHeaders, StrictCORS
from mocki.security.login import LoginLocked, LoginThrottle
from mocki.security.ratelimit import RateLimiter, RateLimitMiddleware, install_handlers
from mocki.security.replay import ReplayGuard, ReplayGuardMiddleware
from mocki.settings import Settings


def add_inner_middleware(app: FastAPI) -> None:
    """Call before the body-size limit is added: the replay guard reads the (capped) body."""
    install_handlers(app)
    app.add_exception_handler(LoginLocked, _login_locked)
    app.add_middleware(ReplayGuardMiddleware)


def add_outer_middleware(app: FastAPI) -> None:
    """Call after every other middleware: the per-IP limit refuses floods before any body is read."""
    app.add_middleware(RateLimitMiddleware)


def add_browser_middleware(app: FastAPI, settings: Settings) -> None:
    """Call after add_outer_middleware: CORS outside the rate limit (so a 429 to an allowed origin
    is readable by its page), the security headers outside everything they decorate."""
    app.add_middleware(AuditContext)
    app.add_middleware(StrictCORS, settings=settings.security)
    app.add_middleware(SecurityHeaders, settings=settings.security)


async def _login_locked(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LoginLocked)
    return JSONResponse(
        error_body(exc.code, exc.message, exc.details), status_code=429, headers=exc.headers()
    )


def start(app: FastAPI, settings: Settings, redis: Redis[bytes]) -> None:
    """In the lifespan: the limiter and the guard the middlewares find on app.state (None: off)."""
    app.state.rate_limiter = (
        RateLimiter(settings.rate_limits, settings.resolved_redis_url)
        if settings.rate_limits.enabled
        else None
    )
    app.state.replay_guard = (
        ReplayGuard(redis, settings.replay_guard) if settings.replay_guard.enabled else None
    )
    login = settings.security.login
    store = app.state.rate_limiter.redis if app.state.rate_limiter is not None else redis
    app.state.login_throttle = LoginThrottle(store, login) if login.enabled else None


async def stop(app: FastAPI) -> None:
    limiter: RateLimiter | None = getattr(app.state, "rate_limiter", None)
    if limiter is not None:
        await limiter.aclose()
