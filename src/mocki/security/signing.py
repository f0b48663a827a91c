"""Request signing: the per-session key, the canonical form of a request and its HMAC-SHA256.

A mutating request of a signed-in client carries three headers (a timestamp, a random nonce and
the signature) computed with a key that belongs to its sign-in session. The key is derived from
the server secret and the session id (the refresh-token family named in the access token), so
the server needs no table to find it and every api process derives the same one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

SCHEME = "MOCKI-HMAC-SHA256"
TIMESTAMP_HEADER = "X-Mocki-Timestamp"
NONCE_HEADER = "X-Mocki-Nonce"
SIGNATURE_HEADER = "X-Mocki-Signature"
SIGNED_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_KEY_CONTEXT = b"mocki/request-signing/v1/"
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class MalformedSignature(ValueError):
    """The signing headers are present but not in the documented form."""


@dataclass(frozen=True)
class SignedHeaders:
    timestamp: int
    nonce: str
    signature: str


def session_signing_key(secret: str, session_id: str) -> str:
    """The session's signing key, as 64 hex characters (the HMAC key is the 32 decoded bytes)."""
    return hmac.new(secret.encode(), _KEY_CONTEXT + session_id.encode(), hashlib.sha256).hexdigest()


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def canonical_request(method: str, path_and_query: str, body_sha256: str, timestamp: int, nonce: str) -> str:
    """The exact text that is signed: six lines joined by a single newline, no trailing newline."""
    return "\n".join((SCHEME, method.upper(), path_and_query, body_sha256, str(timestamp), nonce))


def sign(key_hex: str, method: str, path_and_query: str, body: bytes, timestamp: int, nonce: str) -> str:
    message = canonical_request(method, path_and_query, body_digest(body), timestamp, nonce)
    return hmac.new(bytes.fromhex(key_hex), message.encode(), hashlib.sha256).hexdigest()


def verify(key_hex: str, method: str, path_and_query: str, body: bytes, headers: SignedHeaders) -> bool:
    expected = sign(key_hex, method, path_and_query, body, headers.timestamp, headers.nonce)
    return hmac.compare_digest(expected, headers.signature)


def parse_headers(timestamp: str | None, nonce: str | None, signature: str | None) -> SignedHeaders | None:
    """The three headers checked for form; None when all are absent, MalformedSignature otherwise."""
    if timestamp is None and nonce is None and signature is None:
        return None
    missing = [
        name
        for name, value in (
            (TIMESTAMP_HEADER, timestamp),
            (NONCE_HEADER, nonce),
            (SIGNATURE_HEADER, signature),
        )
        if not value
    ]
    if missing:
        raise MalformedSignature(f"Missing {', '.join(missing)}.")
    assert timestamp is not None and nonce is not None and signature is not None
    if not _TIMESTAMP.fullmatch(timestamp):
        raise MalformedSignature(f"{TIMESTAMP_HEADER} must be whole seconds since 1970 (UTC).")
    if not _NONCE.fullmatch(nonce):
        raise MalformedSignature(f"{NONCE_HEADER} must be 16 to 64 characters of A-Z, a-z, 0-9, '-' or '_'.")
    signature = signature.lower()
    if not _SIGNATURE.fullmatch(signature):
        raise MalformedSignature(f"{SIGNATURE_HEADER} must be the HMAC-SHA256 as 64 hex characters.")
    return SignedHeaders(int(timestamp), nonce, signature)


def fingerprint(session_id: str, nonce: str) -> bytes:
    """What the replay guard remembers: a nonce may be used once per session."""
    return hashlib.sha256(f"{session_id}\n{nonce}".encode()).digest()
