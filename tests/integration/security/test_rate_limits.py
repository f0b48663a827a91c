"""Rate limits on real Redis through the real app: exactly N admitted then 429 with its headers,
per user vs per IP, tiers and routes from settings, the global budget across two app instances,
and each limit's behaviour when its store is unreachable."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import text

from mocki.core.db import make_engine
from mocki.security.ratelimit import LimitUnavailable, RateLimited, RateLimiter
from mocki.settings import Settings
from tests.integration.security.conftest import ClientFactory, bearer, new_interview, sign_up
from tests.support.processes import free_port

Make = Callable[..., Settings]


async def test_per_user_limit_admits_exactly_n_then_429(
    secure_settings: Make, open_client: ClientFactory
) -> None:
    client = await open_client(secure_settings(per_user="3/minute"))
    auth = bearer(await sign_up(client))
    interview = await new_interview(client, auth)  # not model-backed: not counted

    remaining = []
    for _ in range(3):
        resp = await client.post(f"/api/v1/interviews/{interview}/end", headers=auth)
        assert resp.status_code == 202, resp.text
        assert resp.headers["RateLimit-Limit"] == "3"
        remaining.append(resp.headers["RateLimit-Remaining"])
    assert remaining == ["2", "1", "0"]

    refused = await client.post(f"/api/v1/interviews/{interview}/end", headers=auth)
    assert refused.status_code == 429
    body = refused.json()["error"]
    assert body["code"] == "rate_limited"
    assert body["details"]["limit"] == "user" and body["details"]["allowed"] == 3
    assert "AI interviewer" in body["message"]
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert refused.headers["RateLimit-Limit"] == "3"
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert refused.headers["RateLimit-Reset"] == str(retry_after)

    # Other model-backed routes share the user's bucket; routes without a model call do not count.
    assert (await client.post(f"/api/v1/interviews/{interview}/start", headers=auth)).status_code == 429
    assert (await client.get(f"/api/v1/interviews/{interview}", headers=auth)).status_code == 200


async def test_one_users_limit_leaves_others_alone(secure_settings: Make, open_client: ClientFactory) -> None:
    client = await open_client(secure_settings(per_user="2/minute"))
    greedy, modest = bearer(await sign_up(client)), bearer(await sign_up(client))
    greedy_iv, modest_iv = await new_interview(client, greedy), await new_interview(client, modest)
    codes = [
        (await client.post(f"/api/v1/interviews/{greedy_iv}/end", headers=greedy)).status_code
        for _ in range(4)
    ]
    assert codes == [202, 202, 429, 429]
    assert (await client.post(f"/api/v1/interviews/{modest_iv}/end", headers=modest)).status_code == 202


async def test_per_ip_limit_counts_every_api_request_by_address(
    secure_settings: Make, open_client: ClientFactory
) -> None:
    settings = secure_settings(per_ip="4/minute")
    crowded = await open_client(settings, ip="198.51.100.7")
    codes = [(await crowded.get("/api/v1/users/me")).status_code for _ in range(5)]
    # Refused requests (401 here) count too: a flood is a flood.
    assert codes == [401, 401, 401, 401, 429]
    refused = await crowded.get("/api/v1/questions")
    assert refused.status_code == 429
    assert refused.json()["error"]["details"]["limit"] == "ip"
    assert refused.headers["RateLimit-Limit"] == "4" and "Retry-After" in refused.headers
    # Health checks are not limited; another address has its own count.
    assert (await crowded.get("/api/v1/health")).status_code == 200
    other = await open_client(settings, ip="198.51.100.8")
    ok = await other.get("/api/v1/users/me")
    assert ok.status_code == 401 and ok.headers["RateLimit-Remaining"] == "3"


async def test_ipv6_clients_share_their_64(secure_settings: Make, open_client: ClientFactory) -> None:
    settings = secure_settings(per_ip="2/minute")
    first = await open_client(settings, ip="2001:db8:7:7::1")
    second = await open_client(settings, ip="2001:db8:7:7:ffff::2")
    assert (await first.get("/api/v1/users/me")).status_code == 401
    assert (await second.get("/api/v1/users/me")).status_code == 401
    assert (await first.get("/api/v1/users/me")).status_code == 429


async def test_tier_and_route_settings(secure_settings: Make, open_client: ClientFactory) -> None:
    settings = secure_settings(
        per_user="2/minute", tiers={"pro": "4/minute"}, routes={"interviews.end": "1/minute"}
    )
    client = await open_client(settings)
    free = bearer(await sign_up(client))
    pro_tokens = await sign_up(client)
    pro = bearer(pro_tokens)
    await _set_tier(settings, "pro", pro)

    iv = await new_interview(client, free)
    # interviews.end has its own bucket of 1 ...
    assert [
        (await client.post(f"/api/v1/interviews/{iv}/end", headers=free)).status_code for _ in range(2)
    ] == [
        202,
        429,
    ]
    # ... and did not spend the shared "llm" bucket of 2 (documents count there).
    doc = {"kind": "resume", "title": "cv", "text": "Backend engineer with Python and PostgreSQL experience."}
    codes = [
        (await client.post("/api/v1/documents/text", headers=free, json=doc)).status_code for _ in range(3)
    ]
    assert codes == [202, 202, 429]
    # The pro tier gets 4 in the shared bucket.
    codes = [
        (await client.post("/api/v1/documents/text", headers=pro, json=doc)).status_code for _ in range(5)
    ]
    assert codes == [202, 202, 202, 202, 429]


async def _set_tier(settings: Settings, tier: str, auth: dict[str, str]) -> None:
    import jwt

    user_id = jwt.decode(auth["Authorization"].split()[1], options={"verify_signature": False})["sub"]
    engine = make_engine(settings.resolved_database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE users SET tier = :t WHERE id = :i"), {"t": tier, "i": uuid.UUID(user_id)}
            )
    finally:
        await engine.dispose()


async def test_global_budget_is_shared_by_two_app_instances(
    secure_settings: Make, open_client: ClientFactory
) -> None:
    settings = secure_settings(llm_budget="3/minute")
    first, second = await open_client(settings), await open_client(settings)
    a, b = bearer(await sign_up(first)), bearer(await sign_up(second))
    ia, ib = await new_interview(first, a), await new_interview(second, b)

    codes = [
        (await first.post(f"/api/v1/interviews/{ia}/end", headers=a)).status_code,
        (await second.post(f"/api/v1/interviews/{ib}/end", headers=b)).status_code,
        (await first.post(f"/api/v1/interviews/{ia}/end", headers=a)).status_code,
    ]
    assert codes == [202, 202, 202]
    refused = await second.post(f"/api/v1/interviews/{ib}/end", headers=b)
    assert refused.status_code == 429
    assert refused.json()["error"]["details"]["limit"] == "llm_budget"
    assert "limit of AI requests" in refused.json()["error"]["message"]
    assert refused.headers["RateLimit-Limit"] == "3"


@pytest.fixture
def closed_store() -> str:
    port = free_port()  # bound and released: nothing listens there now
    return f"redis://127.0.0.1:{port}/0"


async def test_store_down_fails_open_per_ip_and_closed_for_model_calls(
    secure_settings: Make, open_client: ClientFactory, closed_store: str
) -> None:
    client = await open_client(secure_settings(per_ip="1/minute", storage_url=closed_store))
    auth = bearer(await sign_up(client))
    # Per IP fails open: far past 1/minute and still answered, without RateLimit headers.
    for _ in range(3):
        me = await client.get("/api/v1/users/me", headers=auth)
        assert me.status_code == 200 and "RateLimit-Limit" not in me.headers
    iv = await new_interview(client, auth)
    # The per-user limit and the model budget fail closed.
    refused = await client.post(f"/api/v1/interviews/{iv}/end", headers=auth)
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "rate_limit_unavailable"
    assert refused.headers["Retry-After"] == "5"


async def test_store_down_behaviour_is_chosen_per_limit(
    secure_settings: Make, open_client: ClientFactory, closed_store: str
) -> None:
    lenient = secure_settings(storage_url=closed_store, fail_open_per_user=True, fail_open_llm_budget=True)
    client = await open_client(lenient)
    auth = bearer(await sign_up(client))
    iv = await new_interview(client, auth)
    assert (await client.post(f"/api/v1/interviews/{iv}/end", headers=auth)).status_code == 202

    strict = await open_client(secure_settings(storage_url=closed_store, fail_open_per_ip=False))
    resp = await strict.get("/api/v1/questions")
    assert resp.status_code == 503 and resp.json()["error"]["code"] == "rate_limit_unavailable"


async def test_event_limits_for_socket_and_webrtc_callers(secure_settings: Make) -> None:
    settings = secure_settings(per_ip="5/minute", per_user="2/minute")
    limiter = RateLimiter(settings.rate_limits, settings.resolved_redis_url)
    user = uuid.uuid4()
    try:
        for _ in range(2):
            states = await limiter.check_event(ip="192.0.2.1", user_id=user, route="socket.answer")
            assert {s.name for s in states} == {"ip", "user", "llm_budget"}
        with pytest.raises(RateLimited) as refused:
            await limiter.check_event(ip="192.0.2.1", user_id=user, route="socket.answer")
        assert refused.value.state.name == "user"
        # Events that make no model call meet only the per-IP limit (3 of 5 spent so far).
        states = await limiter.check_event(ip="192.0.2.1", user_id=user, route="rtc.offer", llm=False)
        assert [(s.name, s.remaining) for s in states] == [("ip", 1)]
    finally:
        await limiter.aclose()

    down = RateLimiter(settings.rate_limits.model_copy(update={"storage_url": "redis://127.0.0.1:9/0"}), "")
    try:
        assert await down.check_event(ip="192.0.2.1", user_id=None, route="rtc.offer") == []  # IP fails open
        with pytest.raises(LimitUnavailable):
            await down.check_event(ip="192.0.2.1", user_id=user, route="socket.answer")
    finally:
        await down.aclose()
