"""Security headers, strict CORS, pinned JWTs, the password policy, login throttling and log
redaction, on real PostgreSQL and Redis through the whole middleware stack."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import subprocess
import uuid
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
import redis

from mocki.auth.tokens import issue_access_token
from mocki.core.timeutil import utcnow
from mocki.security.login import account_key
from mocki.settings import LoginThrottleSettings, Settings
from tests.conftest import ROOT
from tests.integration.security.conftest import ClientFactory, bearer, sign_up
from tests.support.processes import PYTHON

PASSWORD = "correct horse battery"


def _with_security(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update={"security": settings.security.model_copy(update=changes)})


# ------------------------------------------------------------------------------------ headers


async def test_every_response_carries_the_security_headers(
    open_client: ClientFactory, settings: Settings
) -> None:
    client = await open_client(settings)
    tokens = await sign_up(client)
    health = await client.get("/api/v1/health")
    me = await client.get("/api/v1/users/me", headers=bearer(tokens))
    missing = await client.get("/api/v1/no-such-route", headers=bearer(tokens))
    for resp in (health, me, missing):
        h = resp.headers
        csp = h["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp and "media-src 'self' blob:" in csp
        assert "connect-src 'self' ws: wss:" in csp
        assert h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "no-referrer"
        assert h["x-frame-options"] == "DENY"
        assert "microphone=(self)" in h["permissions-policy"] and "camera=()" in h["permissions-policy"]
        assert h["cross-origin-opener-policy"] == "same-origin"
        # Plain http here: HSTS would lock browsers out of a site without TLS.
        assert "strict-transport-security" not in h
    # Personal data is never stored by the browser or a proxy; the health probe may be.
    assert me.headers["cache-control"] == "no-store"
    assert "no-store" not in health.headers.get("cache-control", "")


async def test_only_the_api_docs_page_may_run_its_inline_script(
    open_client: ClientFactory, settings: Settings
) -> None:
    client = await open_client(settings)
    docs = await client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert "script-src 'self' 'unsafe-inline' https:" in docs.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]
    other = await client.get("/api/v1/openapi.json")
    assert "unsafe-inline" not in other.headers["content-security-policy"]


async def test_hsts_only_behind_tls(open_client: ClientFactory, settings: Settings) -> None:
    client = await open_client(_with_security(settings, behind_tls=True, hsts_max_age_s=600))
    resp = await client.get("/api/v1/health")
    assert resp.headers["strict-transport-security"] == "max-age=600; includeSubDomains"
    # Behind TLS the socket may only be wss.
    assert "connect-src 'self' wss:" in resp.headers["content-security-policy"]


async def test_the_built_web_app_loads_under_its_policy(
    open_client: ClientFactory, settings: Settings
) -> None:
    """The page itself: no inline script in index.html, everything it loads from /assets."""
    dist = ROOT / "web" / "dist"
    if not (dist / "index.html").exists():
        pytest.skip("web/dist is not built (cd web && npm run build)")
    client = await open_client(settings.model_copy(update={"web_dist": dist}))
    page = await client.get("/")
    assert page.status_code == 200 and "content-security-policy" in page.headers
    html = page.text
    assert "<script>" not in html and "onload=" not in html.lower() and "<style" not in html
    asset = html.split('src="', 1)[1].split('"', 1)[0]
    assert asset.startswith("/assets/")
    assert (await client.get(asset)).status_code == 200


# --------------------------------------------------------------------------------------- CORS

PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, x-mocki-timestamp, x-mocki-nonce, "
    "x-mocki-signature",
}


async def test_same_origin_only_by_default(open_client: ClientFactory, settings: Settings) -> None:
    client = await open_client(settings)
    evil = await client.options("/api/v1/interviews", headers={"Origin": "https://evil.example", **PREFLIGHT})
    assert evil.status_code == 403
    assert evil.json()["error"]["code"] == "cors_refused"
    assert "access-control-allow-origin" not in evil.headers
    # A simple cross-origin read gets its answer, but no header that lets the page read it.
    read = await client.get("/api/v1/health", headers={"Origin": "https://evil.example"})
    assert read.status_code == 200 and "access-control-allow-origin" not in read.headers
    # The app's own origin is not cross-origin.
    own = await client.get("/api/v1/health", headers={"Origin": "http://test"})
    assert own.status_code == 200


async def test_configured_origins_get_credentials_and_the_signing_headers(
    open_client: ClientFactory, settings: Settings
) -> None:
    app_origin = "https://app.example"
    client = await open_client(_with_security(settings, cors_origins=[app_origin + "/"]))
    pre = await client.options("/api/v1/interviews", headers={"Origin": app_origin, **PREFLIGHT})
    assert pre.status_code == 204, pre.text
    assert pre.headers["access-control-allow-origin"] == app_origin
    assert pre.headers["access-control-allow-credentials"] == "true"
    allowed = pre.headers["access-control-allow-headers"]
    for name in ("x-mocki-timestamp", "x-mocki-nonce", "x-mocki-signature", "authorization"):
        assert name in allowed
    assert "DELETE" in pre.headers["access-control-allow-methods"]

    tokens = await sign_up(client)
    me = await client.get("/api/v1/users/me", headers={"Origin": app_origin, **bearer(tokens)})
    assert me.status_code == 200
    assert me.headers["access-control-allow-origin"] == app_origin
    assert "retry-after" in me.headers["access-control-expose-headers"]

    other = await client.options(
        "/api/v1/interviews", headers={"Origin": "https://evil.example", **PREFLIGHT}
    )
    assert other.status_code == 403
    odd = await client.options(
        "/api/v1/interviews",
        headers={
            "Origin": app_origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-something-else",
        },
    )
    assert odd.status_code == 403


# ---------------------------------------------------------------------------------------- JWT


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forged(header: dict[str, Any], payload: dict[str, Any], key: bytes | None) -> str:
    head = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(payload).encode())
    sig = _b64(hmac.new(key, head.encode(), hashlib.sha256).digest()) if key is not None else ""
    return head + "." + sig


async def test_tokens_with_another_algorithm_key_or_age_are_refused(
    open_client: ClientFactory, settings: Settings
) -> None:
    client = await open_client(settings)
    tokens = await sign_up(client)
    good = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    payload = {**good, "exp": int(good["exp"]), "iat": int(good["iat"]), "nbf": int(good["nbf"])}
    secret = settings.secret_key.encode()
    cases = {
        "alg none": _forged({"alg": "none", "typ": "JWT"}, payload, None),
        "RS256 header, HMAC with the secret (algorithm confusion)": _forged(
            {"alg": "RS256", "typ": "JWT"}, payload, secret
        ),
        "HS512 with the right secret": _forged({"alg": "HS512", "typ": "JWT"}, payload, secret),
        "another key": jwt.encode(payload, "some-other-secret-that-is-long-enough-000", algorithm="HS256"),
        "expired": issue_access_token(uuid.UUID(good["sub"]), "user", settings.secret_key, minutes=-1),
    }
    for name, token in cases.items():
        resp = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 401, name
        expected = "token_expired" if name == "expired" else "token_invalid"
        assert resp.json()["error"]["code"] == expected, name
    # The untouched token still works, and lives 15 minutes.
    assert (await client.get("/api/v1/users/me", headers=bearer(tokens))).status_code == 200
    assert tokens["expires_in"] == 15 * 60
    assert timedelta(seconds=good["exp"] - good["iat"]) == timedelta(minutes=settings.access_token_minutes)
    assert utcnow().timestamp() < good["exp"]


# ------------------------------------------------------------------------------- password policy


async def test_weak_passwords_are_refused_with_every_reason(
    open_client: ClientFactory, settings: Settings
) -> None:
    client = await open_client(settings)
    cases = {
        "short": "at least 10",
        "Password123!": "most common",
        "qwertyuiop": "most common",
        "jo.weak@example.com": "email",
    }
    for password, reason in cases.items():
        resp = await client.post(
            "/api/v1/auth/register", json={"email": "jo.weak@example.com", "password": password}
        )
        assert resp.status_code == 422, password
        body = resp.json()["error"]
        assert body["code"] == "weak_password"
        assert any(reason in p for p in body["details"]), (password, body)
    both = await client.post("/api/v1/auth/register", json={"email": "jo@example.com", "password": "123456"})
    assert len(both.json()["error"]["details"]) >= 2  # too short and too common, both said
    ok = await client.post("/api/v1/auth/register", json={"email": "jo@example.com", "password": PASSWORD})
    assert ok.status_code == 201


# ------------------------------------------------------------------------------ login throttling


async def _login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


async def test_account_lockout_grows_and_unknown_emails_look_the_same(
    open_client: ClientFactory, settings: Settings
) -> None:
    login = LoginThrottleSettings(
        account_threshold=3, ip_threshold=1000, base_lockout_s=30, key_prefix=f"t-{uuid.uuid4().hex[:8]}"
    )
    client = await open_client(_with_security(settings, login=login))
    real = f"real-{uuid.uuid4().hex[:6]}@example.com"
    await client.post("/api/v1/auth/register", json={"email": real, "password": PASSWORD})
    ghost = f"ghost-{uuid.uuid4().hex[:6]}@example.com"
    r = redis.Redis.from_url(settings.resolved_redis_url)

    answers: dict[str, list[tuple[int, str, str | None]]] = {}
    for email in (real, ghost):
        seen = []
        for _ in range(3):
            resp = await _login(client, email, "wrong password 123")
            seen.append((resp.status_code, resp.json()["error"]["code"], resp.headers.get("retry-after")))
        # Locked now: even the right password is not checked.
        resp = await _login(client, email, PASSWORD)
        seen.append((resp.status_code, resp.json()["error"]["code"], resp.headers.get("retry-after")))
        # The lock expires (as if 30 s passed); the next failure locks twice as long.
        r.delete(f"{login.key_prefix}:acct:{account_key(email)}:lock")
        await _login(client, email, "wrong password 123")
        resp = await _login(client, email, PASSWORD)
        seen.append((resp.status_code, resp.json()["error"]["code"], resp.headers.get("retry-after")))
        answers[email] = seen
    expected = [(401, "bad_credentials", None)] * 3 + [
        (429, "login_locked", "30"),
        (429, "login_locked", "60"),
    ]
    # No user enumeration: the account that exists and the one that does not answer alike.
    assert answers[real] == answers[ghost] == expected
    # Redis holds a hash of the email, never the email.
    assert not [k for k in r.scan_iter(match=f"{login.key_prefix}:*") if b"example.com" in k]

    # After the lock, the right password works and clears the account's count.
    r.delete(f"{login.key_prefix}:acct:{account_key(real)}:lock")
    assert (await _login(client, real, PASSWORD)).status_code == 200
    assert (await _login(client, real, "wrong password 123")).status_code == 401
    assert (await _login(client, real, PASSWORD)).status_code == 200
    r.close()


async def test_one_address_is_locked_after_many_failures_on_any_accounts(
    open_client: ClientFactory, settings: Settings
) -> None:
    login = LoginThrottleSettings(
        account_threshold=100, ip_threshold=4, key_prefix=f"t-{uuid.uuid4().hex[:8]}"
    )
    attacker = await open_client(_with_security(settings, login=login), ip="198.51.100.7")
    bystander = await open_client(_with_security(settings, login=login), ip="198.51.100.8")
    email = f"ip-{uuid.uuid4().hex[:6]}@example.com"
    await bystander.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    codes = [
        (await _login(attacker, f"victim{n}@example.com", "wrong password 123")).status_code for n in range(5)
    ]
    assert codes == [401, 401, 401, 401, 429]
    locked = await _login(attacker, email, PASSWORD)
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    # Another address signs in to the same account as usual.
    assert (await _login(bystander, email, PASSWORD)).status_code == 200


# ---------------------------------------------------------------------------------- log redaction

_LOG_SCRIPT = """
import logging, logging.config
from uvicorn.config import LOGGING_CONFIG
logging.config.dictConfig(LOGGING_CONFIG)
from mocki.app import create_app
from mocki.settings import Settings
create_app(Settings(env="test"))  # installs the redaction, as `mocki api` does
log = logging.getLogger("uvicorn.error")
headers = {"authorization": "Bearer SECRET-TOKEN-1", "x-mocki-signature": "SECRET-SIG-2"}
log.warning("request headers %r", headers)
log.warning("login body %s", '{"email": "a@example.com", "password": "SECRET-PASSWORD-3"}')
log.warning("imap app_password=SECRET-APP-4 for a@example.com")
log.warning("llm call api_key=%s", "SECRET-KEY-5")
log.warning("signing_key: SECRET-SIGNKEY-6")
log.warning("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJTRUNSRVQtSldULTcifQ.c2lnbmF0dXJlLTc")
logging.getLogger("uvicorn.access").info(
    '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", "/api/v1/x?token=SECRET-QUERY-8&page=2", "1.1", 200
)
try:
    raise RuntimeError("vault refused token=SECRET-EXC-9")
except RuntimeError:
    logging.getLogger("mocki.test").exception("failed")
logging.getLogger("mocki.test").warning("kept: user 42 signed in from 203.0.113.9")
"""


def test_secrets_never_reach_the_log_output() -> None:
    """Through uvicorn's real logging config in a fresh process, as `mocki api` logs."""
    out = subprocess.run(
        [PYTHON, "-c", _LOG_SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    text = out.stdout + out.stderr
    assert "[REDACTED]" in text
    leaked = [
        s
        for s in (
            "SECRET-TOKEN-1",
            "SECRET-SIG-2",
            "SECRET-PASSWORD-3",
            "SECRET-APP-4",
            "SECRET-KEY-5",
            "SECRET-SIGNKEY-6",
            "eyJzdWIiOiJTRUNSRVQtSldULTcifQ",
            "SECRET-QUERY-8",
            "SECRET-EXC-9",
        )
        if s in text
    ]
    assert leaked == [], text
    # What is not secret stays readable.
    assert "kept: user 42 signed in from 203.0.113.9" in text and "page=2" in text
    assert "GET /api/v1/x?token=[REDACTED]&page=2" in text
    assert logging.getLogRecordFactory() is not None
