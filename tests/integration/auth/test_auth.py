"""Accounts end to end over HTTP on real PostgreSQL and SQLite."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import jwt
import pytest

from mocki.auth.tokens import issue_access_token
from mocki.core.timeutil import utcnow
from tests.conftest import register

pytestmark = pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)

PASSWORD = "correct horse battery"


async def test_register_login_me(client: httpx.AsyncClient) -> None:
    headers = await register(client, "ada@example.com")
    me = await client.get("/api/v1/users/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["email"] == "ada@example.com"

    login = await client.post("/api/v1/auth/login", json={"email": "ADA@example.com", "password": PASSWORD})
    assert login.status_code == 200
    body = login.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0


async def test_wrong_password_and_unknown_email_look_the_same(client: httpx.AsyncClient) -> None:
    await register(client, "bob@example.com")
    wrong = await client.post(
        "/api/v1/auth/login", json={"email": "bob@example.com", "password": "nope nope nope"}
    )
    unknown = await client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.com", "password": PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"]["code"] == unknown.json()["error"]["code"] == "bad_credentials"


async def test_duplicate_email_is_409(client: httpx.AsyncClient) -> None:
    await register(client, "dup@example.com")
    again = await client.post(
        "/api/v1/auth/register", json={"email": "dup@example.com", "password": PASSWORD}
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "email_taken"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "x@example.com"}, "password"),
        ({"email": "x@example.com", "password": 12345}, "password"),
        ({"email": "x@example.com", "password": PASSWORD, "admin": True}, "admin"),
    ],
)
async def test_malformed_register_is_422_with_field(
    client: httpx.AsyncClient, body: dict, field: str
) -> None:
    resp = await client.post("/api/v1/auth/register", json=body)
    assert resp.status_code == 422
    err = resp.json()["error"]
    assert err["code"] == "validation_error"
    assert any(field in p["field"] for p in err["details"])


async def test_weak_password_is_422(client: httpx.AsyncClient) -> None:
    resp = await client.post("/api/v1/auth/register", json={"email": "w@example.com", "password": "short"})
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "weak_password"


async def test_body_that_is_not_json_is_422(client: httpx.AsyncClient) -> None:
    resp = await client.post(
        "/api/v1/auth/login", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert resp.status_code == 422


async def test_refresh_rotates_and_reuse_revokes_family(client: httpx.AsyncClient) -> None:
    reg = await client.post("/api/v1/auth/register", json={"email": "r@example.com", "password": PASSWORD})
    first = reg.json()["refresh_token"]

    rotated = await client.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert rotated.status_code == 200
    second = rotated.json()["refresh_token"]
    assert second != first

    # The old token is spent; presenting it again ends the whole family, the new one too.
    reuse = await client.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert reuse.status_code == 401
    assert reuse.json()["error"]["code"] == "refresh_reused"
    after = await client.post("/api/v1/auth/refresh", json={"refresh_token": second})
    assert after.status_code == 401


async def test_logout_revokes_refresh_token(client: httpx.AsyncClient) -> None:
    reg = await client.post("/api/v1/auth/register", json={"email": "l@example.com", "password": PASSWORD})
    token = reg.json()["refresh_token"]
    assert (await client.post("/api/v1/auth/logout", json={"refresh_token": token})).status_code == 204
    assert (await client.post("/api/v1/auth/refresh", json={"refresh_token": token})).status_code == 401


async def test_missing_expired_tampered_and_foreign_tokens(client: httpx.AsyncClient, settings) -> None:  # type: ignore[no-untyped-def]
    headers = await register(client)
    token = headers["Authorization"].split()[1]

    missing = await client.get("/api/v1/users/me")
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "not_authenticated"

    expired = issue_access_token(uuid.uuid4(), "user", settings.secret_key, minutes=-1)
    resp = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {expired}"})
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "token_expired"

    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    resp = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {tampered}"})
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "token_invalid"

    forged = jwt.encode(
        {"sub": str(uuid.uuid4()), "iss": "mocki", "typ": "access", "exp": utcnow() + timedelta(minutes=5)},
        "some-other-secret-that-is-long-enough-000",
        algorithm="HS256",
    )
    resp = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {forged}"})
    assert resp.status_code == 401

    unsigned = jwt.encode({"sub": str(uuid.uuid4()), "iss": "mocki", "typ": "access"}, None, algorithm="none")
    resp = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {unsigned}"})
    assert resp.status_code == 401

    # A valid token for an account that no longer exists.
    ghost = issue_access_token(uuid.uuid4(), "user", settings.secret_key, minutes=5)
    resp = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {ghost}"})
    assert resp.status_code == 401


async def test_unknown_api_route_is_json_404(client: httpx.AsyncClient) -> None:
    resp = await client.get("/api/v1/nope")
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "not_found"
