"""Short-lived JWT access tokens (HS256 pinned) and opaque refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

import jwt

from mocki.core.errors import Unauthorized
from mocki.core.timeutil import utcnow

ALGORITHM = "HS256"
ISSUER = "mocki"


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    role: str
    # The sign-in session (refresh-token family) the token belongs to; request signing keys are
    # derived from it (security/signing.py). None for tokens issued before sessions were named.
    session_id: str | None = None
    # Seconds since the epoch: how fresh the sign-in is (account deletion without a password).
    issued_at: int | None = None
    # Seconds since the epoch: when the token stops being valid (auth.deps keeps verified tokens
    # until then, not longer).
    expires_at: int | None = None


def issue_access_token(
    user_id: uuid.UUID, role: str, secret: str, minutes: int, session_id: uuid.UUID | None = None
) -> str:
    now = utcnow()
    payload: dict[str, object] = {
        "sub": str(user_id),
        "role": role,
        "iss": ISSUER,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=minutes),
        "typ": "access",
    }
    if session_id is not None:
        payload["sid"] = str(session_id)
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def decode_access_token(token: str, secret: str) -> AccessClaims:
    try:
        # The algorithm list is pinned: a token claiming "none", or RS256 with our secret read as
        # a public key (algorithm confusion), is refused before any signature is computed.
        payload = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("Access token expired; refresh it.", code="token_expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("Access token is invalid.", code="token_invalid") from exc
    if payload.get("typ") != "access":
        raise Unauthorized("Not an access token.", code="token_invalid")
    try:
        user_id = uuid.UUID(str(payload["sub"]))
    except ValueError as exc:
        raise Unauthorized("Access token is invalid.", code="token_invalid") from exc
    sid = payload.get("sid")
    iat = payload.get("iat")
    return AccessClaims(
        user_id=user_id,
        role=str(payload.get("role", "user")),
        session_id=str(sid) if sid else None,
        issued_at=int(iat) if isinstance(iat, int | float) else None,
        expires_at=int(exp) if isinstance(exp := payload.get("exp"), int | float) else None,
    )


def new_refresh_token() -> tuple[str, str]:
    """Return (token for the client, hash to store)."""
    token = secrets.token_urlsafe(48)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
