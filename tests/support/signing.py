"""Sign a test client's mutating requests as the web app does, with the key its sign-in returned.

Installed on the `client` fixture as httpx event hooks, so every test passes the replay guard
without knowing about it; a request that already carries signing headers is left as it is.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

import httpx

from mocki.security import signing

SIGN_IN_PATHS = ("/auth/register", "/auth/login", "/auth/refresh", "/auth/firebase")


class SessionSigner:
    def __init__(self) -> None:
        # access token -> the signing key issued with it
        self.keys: dict[str, str] = {}

    def hooks(self) -> dict[str, list[Callable[..., Any]]]:
        return {"request": [self.on_request], "response": [self.on_response]}

    async def on_response(self, response: httpx.Response) -> None:
        if response.request.url.path.endswith(SIGN_IN_PATHS) and response.status_code in (200, 201):
            await response.aread()
            tokens = response.json()
            if "signing_key" in tokens:
                self.keys[tokens["access_token"]] = tokens["signing_key"]

    async def on_request(self, request: httpx.Request) -> None:
        if request.method not in signing.SIGNED_METHODS or signing.SIGNATURE_HEADER in request.headers:
            return
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        key = self.keys.get(token) if scheme.lower() == "bearer" else None
        if key is None:
            return
        sign_request(request, key, await request.aread())


def sign_request(request: httpx.Request, key: str, body: bytes, *, timestamp: int | None = None) -> None:
    ts = int(time.time()) if timestamp is None else timestamp
    nonce = secrets.token_hex(16)
    target = request.url.raw_path.decode("ascii")
    request.headers[signing.TIMESTAMP_HEADER] = str(ts)
    request.headers[signing.NONCE_HEADER] = nonce
    request.headers[signing.SIGNATURE_HEADER] = signing.sign(key, request.method, target, body, ts, nonce)
