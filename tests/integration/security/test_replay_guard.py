"""The replay guard on real Redis through the real app: a signed request is accepted once, stale,
tampered, unsigned and foreign-key requests are refused with their codes, and a Bloom false
positive never rejects a new request."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable

import httpx
import pytest
import redis.asyncio as aioredis

from mocki.auth.tokens import decode_access_token, issue_access_token
from mocki.security import signing
from mocki.security.bloom import positions
from mocki.security.replay import ReplayGuard, Verdict
from mocki.settings import ReplayGuardSettings, Settings
from tests.integration.security.conftest import ClientFactory, bearer, sign_up
from tests.support.signing import sign_request

Make = Callable[..., Settings]
DOC = {"kind": "resume", "title": "cv", "text": "Backend engineer with Python and PostgreSQL experience."}


def _signed(
    client: httpx.AsyncClient,
    tokens: dict[str, str],
    url: str,
    body: dict[str, str],
    *,
    key: str | None = None,
    timestamp: int | None = None,
) -> httpx.Request:
    request = client.build_request("POST", url, json=body, headers=bearer(tokens))
    sign_request(request, key or tokens["signing_key"], request.content, timestamp=timestamp)
    return request


async def test_the_same_signed_request_twice_is_a_replay(
    secure_settings: Make, open_client: ClientFactory
) -> None:
    client = await open_client(secure_settings(), signed=False)
    tokens = await sign_up(client)
    request = _signed(client, tokens, "/api/v1/documents/text", DOC)
    first = await client.send(request)
    assert first.status_code == 202, first.text
    again = await client.send(request)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "request_replayed"
    # A fresh nonce for the same change is a new request.
    assert (await client.send(_signed(client, tokens, "/api/v1/documents/text", DOC))).status_code == 202
    # Exactly two documents were made.
    listed = await client.get("/api/v1/documents", headers=bearer(tokens))
    assert len(listed.json()) == 2


async def test_stale_and_future_timestamps_are_refused(
    secure_settings: Make, open_client: ClientFactory
) -> None:
    client = await open_client(secure_settings(), signed=False)
    tokens = await sign_up(client)
    for offset in (-301, 301):
        request = _signed(client, tokens, "/api/v1/documents/text", DOC, timestamp=int(time.time()) + offset)
        resp = await client.send(request)
        assert resp.status_code == 401
        error = resp.json()["error"]
        assert error["code"] == "request_stale"
        assert (
            abs(error["details"]["server_time"] - time.time()) < 5 and error["details"]["max_skew_s"] == 300
        )
    ok = _signed(client, tokens, "/api/v1/documents/text", DOC, timestamp=int(time.time()) - 250)
    assert (await client.send(ok)).status_code == 202


async def test_tampered_requests_are_refused(secure_settings: Make, open_client: ClientFactory) -> None:
    client = await open_client(secure_settings(), signed=False)
    tokens = await sign_up(client)

    body_swapped = _signed(client, tokens, "/api/v1/documents/text", DOC)
    forged = client.build_request(
        "POST", "/api/v1/documents/text", json={**DOC, "title": "forged"}, headers=body_swapped.headers
    )
    forged.headers["Content-Length"] = str(len(forged.content))
    resp = await client.send(forged)
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "signature_invalid"

    query_added = _signed(client, tokens, "/api/v1/documents/text", DOC)
    moved = client.build_request(
        "POST", "/api/v1/documents/text?x=1", content=query_added.content, headers=query_added.headers
    )
    assert (await client.send(moved)).json()["error"]["code"] == "signature_invalid"

    other_key = signing.session_signing_key("another-secret-that-is-long-enough-000000", str(uuid.uuid4()))
    foreign = _signed(client, tokens, "/api/v1/documents/text", DOC, key=other_key)
    assert (await client.send(foreign)).json()["error"]["code"] == "signature_invalid"
    assert (await client.get("/api/v1/documents", headers=bearer(tokens))).json() == []


async def test_missing_and_malformed_signatures(secure_settings: Make, open_client: ClientFactory) -> None:
    client = await open_client(secure_settings(), signed=False)
    tokens = await sign_up(client)
    unsigned = await client.post("/api/v1/documents/text", json=DOC, headers=bearer(tokens))
    assert unsigned.status_code == 400
    assert unsigned.json()["error"]["code"] == "signature_required"
    assert "X-Mocki-Signature" in unsigned.json()["error"]["message"]

    partial = await client.post(
        "/api/v1/documents/text", json=DOC, headers={**bearer(tokens), "X-Mocki-Nonce": "a" * 32}
    )
    assert partial.status_code == 400 and partial.json()["error"]["code"] == "signature_malformed"
    assert "Missing X-Mocki-Timestamp, X-Mocki-Signature" in partial.json()["error"]["message"]

    # Deletes and patches are signed too; the signature covers the empty body.
    listed = await client.get("/api/v1/documents", headers=bearer(tokens))
    assert listed.status_code == 200  # reads are never signed
    delete = await client.delete(f"/api/v1/interviews/{uuid.uuid4()}", headers=bearer(tokens))
    assert delete.status_code == 400


async def test_unauthenticated_and_sign_in_requests_are_not_asked_for_a_signature(
    secure_settings: Make, open_client: ClientFactory
) -> None:
    client = await open_client(secure_settings(), signed=False)
    anonymous = await client.post("/api/v1/documents/text", json=DOC)
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "not_authenticated"
    garbage = await client.post("/api/v1/documents/text", json=DOC, headers={"Authorization": "Bearer nope"})
    assert garbage.status_code == 401 and garbage.json()["error"]["code"] == "token_invalid"
    tokens = await sign_up(client)
    refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    # The key belongs to the session, so a refresh hands out the same one.
    assert refreshed.json()["signing_key"] == tokens["signing_key"]
    logout = await client.post(
        "/api/v1/auth/logout",
        json={"refresh_token": refreshed.json()["refresh_token"]},
        headers=bearer(tokens),
    )
    assert logout.status_code == 204


async def test_each_session_has_its_own_key(secure_settings: Make, open_client: ClientFactory) -> None:
    settings = secure_settings()
    client = await open_client(settings, signed=False)
    first = await sign_up(client)
    claims = decode_access_token(first["access_token"], settings.secret_key)
    assert claims.session_id is not None
    assert first["signing_key"] == signing.session_signing_key(settings.secret_key, claims.session_id)
    email = f"two-{uuid.uuid4().hex[:6]}@example.com"
    await client.post("/api/v1/auth/register", json={"email": email, "password": "correct horse battery"})
    login = (
        await client.post("/api/v1/auth/login", json={"email": email, "password": "correct horse battery"})
    ).json()
    other = (
        await client.post("/api/v1/auth/login", json={"email": email, "password": "correct horse battery"})
    ).json()
    assert login["signing_key"] != other["signing_key"]
    crossed = _signed(client, login, "/api/v1/documents/text", DOC, key=other["signing_key"])
    assert (await client.send(crossed)).status_code == 401


async def test_a_token_without_a_session_must_sign_in_again(
    secure_settings: Make, open_client: ClientFactory
) -> None:
    settings = secure_settings()
    client = await open_client(settings, signed=False)
    tokens = await sign_up(client)
    claims = decode_access_token(tokens["access_token"], settings.secret_key)
    old_style = issue_access_token(claims.user_id, "user", settings.secret_key, 5)
    resp = await client.post(
        "/api/v1/documents/text", json=DOC, headers={"Authorization": f"Bearer {old_style}"}
    )
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "signing_unavailable"


async def test_enforcement_can_be_switched_off(secure_settings: Make, open_client: ClientFactory) -> None:
    client = await open_client(secure_settings(replay=ReplayGuardSettings(enabled=False)), signed=False)
    tokens = await sign_up(client)
    assert (await client.post("/api/v1/documents/text", json=DOC, headers=bearer(tokens))).status_code == 202


async def test_signed_multipart_upload_passes(secure_settings: Make, open_client: ClientFactory) -> None:
    client = await open_client(secure_settings())  # the test suite's signing hook, as for every test
    tokens = await sign_up(client)
    files = {
        "file": ("cv.txt", b"Backend engineer with Python, Celery and PostgreSQL experience.\n", "text/plain")
    }
    resp = await client.post(
        "/api/v1/documents", headers=bearer(tokens), data={"kind": "resume"}, files=files
    )
    assert resp.status_code == 202, resp.text


async def test_redis_down_fails_closed(secure_settings: Make, open_client: ClientFactory) -> None:
    settings = secure_settings()
    client = await open_client(settings, signed=False)
    tokens = await sign_up(client)
    broken = settings.model_copy(update={"redis_url": "redis://127.0.0.1:9/0"})
    other = await open_client(broken, signed=False)
    resp = await other.send(_signed(other, tokens, "/api/v1/documents/text", DOC))
    assert resp.status_code == 503 and resp.json()["error"]["code"] == "replay_guard_unavailable"


@pytest.fixture
async def redis_client(settings: Settings, prefix: str) -> aioredis.Redis:  # type: ignore[type-arg]
    client = aioredis.Redis.from_url(settings.resolved_redis_url)
    yield client
    keys = [k async for k in client.scan_iter(match=f"{prefix}:*", count=1000)]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_bloom_false_positives_never_reject_a_new_fingerprint(
    redis_client: aioredis.Redis,
    prefix: str,  # type: ignore[type-arg]
) -> None:
    # A filter sized for 50 fingerprints at 10 %, loaded with 3,000: nearly every new one is a
    # Bloom hit, and only the exact check tells them apart from replays.
    guard = ReplayGuard(
        redis_client, ReplayGuardSettings(capacity=50, false_positive_rate=0.1, key_prefix=prefix)
    )
    digests = [signing.fingerprint("session", secrets.token_hex(16)) for _ in range(3_000)]
    verdicts = []
    for start in range(0, len(digests), 500):
        verdicts += await guard.check_many(digests[start : start + 500])
    assert Verdict.REPLAY not in verdicts
    assert verdicts.count(Verdict.BLOOM_FALSE_POSITIVE) > 1_000
    again = await guard.check_many(digests[:500])
    assert set(again) == {Verdict.REPLAY}


async def test_fingerprints_are_remembered_for_two_windows(
    redis_client: aioredis.Redis,
    prefix: str,  # type: ignore[type-arg]
) -> None:
    guard = ReplayGuard(redis_client, ReplayGuardSettings(max_skew_s=300, key_prefix=prefix))
    digest = signing.fingerprint("session", "n" * 20)
    t = 1_800_000_000.0
    assert await guard.check(digest, now=t) is Verdict.NEW
    assert await guard.check(digest, now=t + 1) is Verdict.REPLAY
    # The next window still sees it (as "previous") ...
    assert await guard.check(digest, now=t + guard.window_s) is Verdict.REPLAY
    # ... two windows later it is forgotten; such a timestamp would fail the skew check anyway.
    fresh = signing.fingerprint("session", "m" * 20)
    assert await guard.check(fresh, now=t) is Verdict.NEW
    assert await guard.check(fresh, now=t + 2 * guard.window_s + 1) is Verdict.NEW
    ttl = await redis_client.ttl(guard.keys(t)[0])
    assert 0 < ttl <= 2 * guard.window_s + 60


async def test_the_script_sets_exactly_the_positions_python_computes(
    redis_client: aioredis.Redis,  # type: ignore[type-arg]
    prefix: str,
) -> None:
    guard = ReplayGuard(redis_client, ReplayGuardSettings(capacity=1_000, key_prefix=prefix))
    digest = signing.fingerprint("session", "p" * 20)
    t = 1_800_000_000.0
    assert await guard.check(digest, now=t) is Verdict.NEW
    bloom = guard.keys(t)[0]
    expected = set(positions(digest, guard.sizing))
    assert len(expected) == guard.sizing.hashes
    assert [await redis_client.getbit(bloom, p) for p in sorted(expected)] == [1] * len(expected)
    assert await redis_client.bitcount(bloom) == len(expected)
