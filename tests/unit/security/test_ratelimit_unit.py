"""Rate-limit pieces that need no Redis: header values, the tightest limit, client keys, which
setting a (route, tier) uses, storage URLs, and the request target the signature covers."""

from __future__ import annotations

import pytest

from mocki.security.ratelimit import (
    LimitState,
    LimitUnavailable,
    RateLimited,
    RateLimiter,
    client_key,
    limits_storage_uri,
    tightest,
)
from mocki.security.replay import path_and_query
from mocki.settings import RateLimitSettings

# Nothing listens here; the limiter connects lazily and these tests never make it.
NOWHERE = "redis://127.0.0.1:9/0"


def test_headers_of_a_state() -> None:
    state = LimitState("user", limit=10, remaining=3, reset_s=42)
    assert state.headers() == {"RateLimit-Limit": "10", "RateLimit-Remaining": "3", "RateLimit-Reset": "42"}
    assert LimitState("ip", 5, -1, 1).headers()["RateLimit-Remaining"] == "0"


def test_refusal_carries_retry_after_and_a_json_friendly_body() -> None:
    exc = RateLimited("slow down", LimitState("llm_budget", 500, 0, 17))
    assert exc.status_code == 429 and exc.code == "rate_limited"
    assert exc.headers() == {
        "Retry-After": "17",
        "RateLimit-Limit": "500",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "17",
    }
    assert exc.details == {"limit": "llm_budget", "allowed": 500, "retry_after_s": 17}
    down = LimitUnavailable("store down")
    assert down.status_code == 503 and down.headers() == {"Retry-After": "5"}


def test_tightest_is_fewest_remaining_then_longest_wait() -> None:
    ip = LimitState("ip", 50, 40, 5)
    user = LimitState("user", 10, 2, 30)
    budget = LimitState("llm_budget", 500, 2, 50)
    assert tightest([ip, user]) == user
    assert tightest([ip, user, budget]) == budget
    assert tightest([]) is None


@pytest.mark.parametrize(
    ("ip", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        (None, "unknown"),
        ("not-an-ip", "not-an-ip"),
    ],
)
def test_client_key(ip: str | None, key: str) -> None:
    assert client_key(ip) == key


def test_storage_uri() -> None:
    assert limits_storage_uri("redis://h:6379/5") == "async+redis://h:6379/5"
    assert limits_storage_uri("rediss://h:6380/0") == "async+rediss://h:6380/0"
    assert limits_storage_uri("unix:///var/redis.sock") == "async+redis+unix:///var/redis.sock"


def test_which_limit_a_route_and_tier_get() -> None:
    limiter = RateLimiter(
        RateLimitSettings(
            per_user="10/minute",
            tiers={"pro": "60/minute"},
            routes={"interviews.answer": "20/minute", "interviews.answer@pro": "100/minute"},
        ),
        NOWHERE,
    )
    item, bucket = limiter.user_limit("interviews.start", "free")
    assert (item.amount, bucket) == (10, "llm")
    item, bucket = limiter.user_limit("interviews.start", "pro")
    assert (item.amount, bucket) == (60, "llm")
    item, bucket = limiter.user_limit("interviews.answer", "free")
    assert (item.amount, bucket) == (20, "route:interviews.answer")
    item, bucket = limiter.user_limit("interviews.answer", "pro")
    assert (item.amount, bucket) == (100, "route:interviews.answer")


def test_a_bad_limit_string_names_its_variable() -> None:
    with pytest.raises(ValueError, match="MOCKI_RATE_LIMITS__PER_IP"):
        RateLimiter(RateLimitSettings(per_ip="fifty a minute"), NOWHERE)


@pytest.mark.parametrize(
    ("scope", "target"),
    [
        ({"raw_path": b"/api/v1/x", "query_string": b""}, "/api/v1/x"),
        ({"raw_path": b"/api/v1/x", "query_string": b"a=1&b=%20"}, "/api/v1/x?a=1&b=%20"),
        ({"raw_path": b"/api/v1/a%2Fb", "query_string": b""}, "/api/v1/a%2Fb"),
        ({"raw_path": b"/api/v1/x?a=1", "query_string": b"a=1"}, "/api/v1/x?a=1"),
        ({"path": "/api/v1/y", "query_string": b"q=2"}, "/api/v1/y?q=2"),
    ],
)
def test_signed_target_is_the_raw_path_and_query(scope: dict[str, object], target: str) -> None:
    assert path_and_query(scope) == target
