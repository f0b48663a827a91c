"""Firebase sign-in: RS256 ID tokens verified against a JWKS served on 127.0.0.1 by the test."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from mocki.app import create_app
from mocki.settings import Settings

PROJECT = "mocki-test-project"


def _keypair() -> tuple[rsa.RSAPrivateKey, dict[str, Any]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "test-key-1", "alg": "RS256", "use": "sig"})
    return key, jwk


KEY, JWK = _keypair()
OTHER_KEY, _ = _keypair()


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    body = json.dumps({"keys": [JWK]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    server.shutdown()
    server.server_close()


def _token(key: rsa.RSAPrivateKey = KEY, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": f"https://securetoken.google.com/{PROJECT}",
        "aud": PROJECT,
        "sub": "firebase-uid-1",
        "iat": now,
        "exp": now + 600,
        "email": "fb@example.com",
        "email_verified": True,
        "name": "Fire Base",
    }
    claims.update(overrides)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "test-key-1"})


@pytest.fixture
async def fb_client(settings: Settings, jwks_url: str, client: httpx.AsyncClient) -> Any:
    configured = settings.model_copy(update={"firebase_project_id": PROJECT, "firebase_jwks_url": jwks_url})
    application = create_app(configured)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


async def test_valid_token_signs_in_and_links_one_account(fb_client: httpx.AsyncClient) -> None:
    first = await fb_client.post("/api/v1/auth/firebase", json={"id_token": _token()})
    assert first.status_code == 200, first.text
    me = await fb_client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {first.json()['access_token']}"}
    )
    assert me.json()["email"] == "fb@example.com"
    second = await fb_client.post("/api/v1/auth/firebase", json={"id_token": _token()})
    me2 = await fb_client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {second.json()['access_token']}"}
    )
    assert me2.json()["id"] == me.json()["id"]


@pytest.mark.parametrize(
    ("token", "code"),
    [
        (lambda: _token(OTHER_KEY), "firebase_token_invalid"),
        (lambda: _token(aud="someone-else"), "firebase_token_invalid"),
        (lambda: _token(iss="https://securetoken.google.com/other"), "firebase_token_invalid"),
        (lambda: _token(exp=int(time.time()) - 10), "firebase_token_invalid"),
        (lambda: _token(email_verified=False), "email_unverified"),
        (
            lambda: jwt.encode(
                {"sub": "x", "aud": PROJECT},
                "shared-secret-000000000000000000",
                algorithm="HS256",
                headers={"kid": "test-key-1"},
            ),
            "firebase_token_invalid",
        ),
    ],
    ids=["wrong-key", "wrong-audience", "wrong-issuer", "expired", "unverified-email", "hs256"],
)
async def test_bad_tokens_are_401(fb_client: httpx.AsyncClient, token: Any, code: str) -> None:
    resp = await fb_client.post("/api/v1/auth/firebase", json={"id_token": token()})
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == code


async def test_firebase_disabled_without_project(client: httpx.AsyncClient) -> None:
    resp = await client.post("/api/v1/auth/firebase", json={"id_token": _token()})
    assert resp.status_code == 503
    assert resp.json()["error"]["code"] == "firebase_disabled"
