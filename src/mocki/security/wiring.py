"""How the app takes the rate limits and the replay guard in: middlewares, handlers, lifespan."""

from __future__ import annotations

from fastapi import FastAPI
from redis.asyncio import Redis

from mocki.security.ratelimit import RateLimiter, RateLimitMiddleware, install_handlers
from mocki.security.replay import ReplayGuard, ReplayGuardMiddleware
from mocki.settings import Settings


def add_inner_middleware(app: FastAPI) -> None:
    """Call before the body-size limit is added: the replay guard reads the (capped) body."""
    install_handlers(app)
    app.add_middleware(ReplayGuardMiddleware)


def add_outer_middleware(app: FastAPI) -> None:
    """Call after every other middleware: the per-IP limit refuses floods before any body is read."""
    app.add_middleware(RateLimitMiddleware)


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


async def stop(app: FastAPI) -> None:
    limiter: RateLimiter | None = getattr(app.state, "rate_limiter", None)
    if limiter is not None:
        await limiter.aclose()
