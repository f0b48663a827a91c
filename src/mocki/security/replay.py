"""The replay guard: signed mutating requests, each fingerprint accepted once.

Order of checks for a mutating request that presents a bearer token (sign-in, sign-up, refresh,
logout and Firebase sign-in carry no session yet and are left alone): the signing headers are
there and well formed (else 400), the timestamp is within `max_skew_s` of the server clock
(else 401), the HMAC matches (else 401), and the fingerprint (session id + nonce) was not seen
before (else 409). Requests whose bearer token does not decode pass through untouched: the
route's own auth answers them with its usual 401.

Seen fingerprints live in Redis for two time windows of 2 x max_skew_s (the current and the
previous one), which covers every timestamp the skew check still accepts. One Lua script per
check reads the Bloom filters' bits (the fast path: a new fingerprint, the common case, is
answered by bits alone) and confirms a Bloom hit against the exact set of fingerprints, so a
false positive of the filter never rejects a legitimate request; it then records the new
fingerprint in both. When Redis is unreachable the guard fails closed (503).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mocki.auth.tokens import decode_access_token
from mocki.core.errors import Conflict, DomainError, Unauthorized, Unavailable, error_body
from mocki.security import signing
from mocki.security.bloom import BloomSizing, hash_pair, size_for
from mocki.settings import ReplayGuardSettings

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
# Endpoints that create or end a session: they carry no signing key yet (or no longer need one).
UNSIGNED_PATHS = frozenset(
    f"{API_PREFIX}/auth/{name}" for name in ("register", "login", "refresh", "logout", "firebase")
)

# KEYS: current bloom, previous bloom, current exact set, previous exact set.
# ARGV: ttl seconds, k, m (bits), then per fingerprint: its exact member, h1, h2.
# Positions are (h1 + i h2) mod m for i = 0..k-1 (bloom.positions); reading stops at the first
# clear bit (for a new fingerprint, after about two reads). Returns one code per fingerprint:
# 0 new, 1 new but the Bloom filter said "maybe" (a false positive caught by the exact check),
# 2 seen before (a replay).
CHECK_AND_ADD_LUA = """
local ttl = tonumber(ARGV[1])
local k = tonumber(ARGV[2])
local m = tonumber(ARGV[3])
local out = {}
local function all_set(key, bits)
  for j = 1, k do
    if redis.call('GETBIT', key, bits[j]) == 0 then return false end
  end
  return true
end
for i = 4, #ARGV, 3 do
  local member = ARGV[i]
  local pos = tonumber(ARGV[i + 1])
  local step = tonumber(ARGV[i + 2])
  local bits = {}
  for j = 1, k do
    bits[j] = pos
    pos = pos + step
    if pos >= m then pos = pos - m end
  end
  local code = 0
  if all_set(KEYS[1], bits) or all_set(KEYS[2], bits) then
    if redis.call('SISMEMBER', KEYS[3], member) == 1 or redis.call('SISMEMBER', KEYS[4], member) == 1 then
      code = 2
    else
      code = 1
    end
  end
  if code ~= 2 then
    for j = 1, k do redis.call('SETBIT', KEYS[1], bits[j], 1) end
    redis.call('SADD', KEYS[3], member)
  end
  out[#out + 1] = code
end
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[3], ttl)
return out
"""


class Verdict(IntEnum):
    NEW = 0
    BLOOM_FALSE_POSITIVE = 1
    REPLAY = 2


class ReplayGuard:
    """Check-and-remember of request fingerprints in Redis (Bloom filter + exact set per window)."""

    def __init__(self, redis: Redis[bytes], settings: ReplayGuardSettings) -> None:
        self.redis = redis
        self.settings = settings
        self.window_s = 2 * settings.max_skew_s
        self.sizing: BloomSizing = size_for(settings.capacity, settings.false_positive_rate)
        self._script = redis.register_script(CHECK_AND_ADD_LUA)

    def keys(self, now: float) -> list[str]:
        window = int(now // self.window_s)
        # One hash tag, so all four keys sit in one Redis Cluster slot as the script requires.
        base = f"{self.settings.key_prefix}:{{guard}}"
        return [
            f"{base}:bloom:{window}",
            f"{base}:bloom:{window - 1}",
            f"{base}:seen:{window}",
            f"{base}:seen:{window - 1}",
        ]

    def _args(self, digests: Sequence[bytes]) -> list[Any]:
        # Kept for two windows after the last write, plus a minute for clock differences.
        args: list[Any] = [2 * self.window_s + 60, self.sizing.hashes, self.sizing.bits]
        for digest in digests:
            args.append(digest[:16])
            args.extend(hash_pair(digest, self.sizing))
        return args

    async def check(self, digest: bytes, now: float | None = None) -> Verdict:
        return (await self.check_many([digest], now))[0]

    async def check_many(self, digests: Sequence[bytes], now: float | None = None) -> list[Verdict]:
        """Check and remember several fingerprints in one script call (in order)."""
        if not digests:
            return []
        now = time.time() if now is None else now
        codes = await self._script(keys=self.keys(now), args=self._args(digests))
        return [Verdict(int(c)) for c in codes]

    async def queue_check(self, pipe: Any, digests: Sequence[bytes], now: float | None = None) -> None:
        """Queue a check_many on a Redis pipeline (benchmarks send many batches per round trip);
        the pipeline's result for it is the list of codes."""
        now = time.time() if now is None else now
        await self._script(keys=self.keys(now), args=self._args(digests), client=pipe)


@dataclass(frozen=True)
class _Signed:
    session_id: str
    headers: signing.SignedHeaders
    key: str


class ReplayGuardMiddleware:
    """Verifies signed mutating requests before any route sees them; needs the body, so it sits
    inside the body-size limit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        guard: ReplayGuard | None = (
            getattr(scope["app"].state, "replay_guard", None) if "app" in scope else None
        )
        if scope["type"] != "http" or guard is None or not _needs_signature(scope):
            await self.app(scope, receive, send)
            return
        settings = scope["app"].state.settings
        try:
            signed = _signed_request(scope, settings.secret_key, guard.settings.max_skew_s)
            if signed is None:
                await self.app(scope, receive, send)
                return
            body, replay = await _read_body(receive)
            _check_signature(scope, signed, body)
            await _check_fresh(guard, signed)
        except DomainError as exc:
            await _send_error(send, exc)
            return
        await self.app(scope, replay, send)


def _needs_signature(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    return (
        scope.get("method", "GET") in signing.SIGNED_METHODS
        and path.startswith(API_PREFIX + "/")
        and path not in UNSIGNED_PATHS
    )


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.lower().encode()
    for key, value in scope.get("headers") or []:
        if key == wanted:
            return bytes(value).decode("latin-1")
    return None


def _signed_request(scope: Scope, secret: str, max_skew_s: int) -> _Signed | None:
    """The session and signing headers of a request with a valid bearer token; None when it has
    none (the route's auth decides)."""
    auth = _header(scope, "authorization") or ""
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        claims = decode_access_token(token.strip(), secret)
    except DomainError:
        return None
    if claims.session_id is None:
        raise Unauthorized(
            "This sign-in predates request signing: sign in again to get a signing key.",
            code="signing_unavailable",
        )
    try:
        headers = signing.parse_headers(
            _header(scope, signing.TIMESTAMP_HEADER),
            _header(scope, signing.NONCE_HEADER),
            _header(scope, signing.SIGNATURE_HEADER),
        )
    except signing.MalformedSignature as exc:
        raise DomainError(f"Request signature: {exc}", code="signature_malformed") from exc
    if headers is None:
        raise DomainError(
            f"Changes must be signed: send {signing.TIMESTAMP_HEADER}, {signing.NONCE_HEADER} and "
            f"{signing.SIGNATURE_HEADER} made with the signing_key from sign-in (see docs/security.md).",
            code="signature_required",
        )
    now = int(time.time())
    if abs(now - headers.timestamp) > max_skew_s:
        raise Unauthorized(
            f"The request's timestamp is more than {max_skew_s} s away from the server's clock; "
            "sign it again with the current time.",
            code="request_stale",
            details={"server_time": now, "max_skew_s": max_skew_s},
        )
    return _Signed(claims.session_id, headers, signing.session_signing_key(secret, claims.session_id))


def path_and_query(scope: Scope) -> str:
    """The request target as the client sent it: raw path (query split off), then ?query if any."""
    raw = scope.get("raw_path")
    path = bytes(raw).split(b"?", 1)[0].decode("latin-1") if raw else scope.get("path", "")
    query = bytes(scope.get("query_string") or b"").decode("latin-1")
    return f"{path}?{query}" if query else path


def _check_signature(scope: Scope, signed: _Signed, body: bytes) -> None:
    if not signing.verify(signed.key, scope["method"], path_and_query(scope), body, signed.headers):
        raise Unauthorized(
            "The request signature does not match its method, path, body, timestamp and nonce.",
            code="signature_invalid",
        )


async def _check_fresh(guard: ReplayGuard, signed: _Signed) -> None:
    try:
        verdict = await guard.check(signing.fingerprint(signed.session_id, signed.headers.nonce))
    except (RedisError, OSError) as exc:
        log.error("replay guard unavailable: %s", exc)
        raise Unavailable(
            "Cannot check requests for replays right now; try again.", code="replay_guard_unavailable"
        ) from exc
    if verdict is Verdict.REPLAY:
        raise Conflict(
            "This signed request was already received; sign a new one (new nonce).", code="request_replayed"
        )


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body, and a receive that hands the same messages to the app."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return b"".join(chunks), replay


async def _send_error(send: Send, exc: DomainError) -> None:
    body = json.dumps(error_body(exc.code, exc.message, exc.details)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if exc.status_code == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": exc.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})
