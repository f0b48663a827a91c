"""The current-user dependency: a valid access token for an active account."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mocki.auth.firebase import FirebaseVerifier
from mocki.auth.tokens import AccessClaims, decode_access_token
from mocki.core.errors import Forbidden, Unauthorized, Unavailable
from mocki.deps import SessionDep, SettingsDep
from mocki.models import User
from mocki.users import service as users

_bearer = HTTPBearer(auto_error=False)


# session.info key: {user id: tier} of the request's signed-in user (tasks.routing.tier_in_session).
SIGNED_IN_TIERS = "signed_in_tiers"


class VerifiedTokens:
    """Access tokens already verified by this process, with their claims, each until it expires.

    A client sends the same token for minutes; checking its HMAC and parsing its JSON again on
    every request costs more than the cached user read behind it. An entry is only reused with
    the secret it was verified with and before its `exp`, so the answer is the same as a decode.
    """

    def __init__(self, max_entries: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        self.max_entries = max_entries
        self.clock = clock
        self._claims: dict[tuple[str, str], AccessClaims] = {}

    def decode(self, token: str, secret: str) -> AccessClaims:
        key = (secret, token)
        claims = self._claims.get(key)
        if claims is not None and claims.expires_at is not None and self.clock() < claims.expires_at:
            return claims
        self._claims.pop(key, None)
        claims = decode_access_token(token, secret)  # raises on an invalid or expired token
        if claims.expires_at is not None:
            if len(self._claims) >= self.max_entries:
                del self._claims[next(iter(self._claims))]  # the oldest entry
            self._claims[key] = claims
        return claims


_verified = VerifiedTokens()


async def current_user(
    session: SessionDep,
    settings: SettingsDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise Unauthorized(
            "Sign in first: send 'Authorization: Bearer <access token>'.", code="not_authenticated"
        )
    # Known tokens from memory (VerifiedTokens), unless caching is switched off.
    token, secret = creds.credentials, settings.secret_key
    decode = _verified.decode if settings.read_cache.enabled else decode_access_token
    claims = decode(token, secret)
    # From the cache (mocki.cache): the hottest read of all; the row comes back detached, read-only.
    user = await users.cached_user(session, claims.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("Account no longer active.", code="account_disabled")
    # The cached row is not in the session: leave its tier where task routing looks (no query).
    session.info.setdefault(SIGNED_IN_TIERS, {})[user.id] = user.tier
    return user


async def access_claims(
    settings: SettingsDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AccessClaims:
    """The claims of the request's access token (after current_user has accepted it)."""
    if creds is None or not creds.credentials:
        raise Unauthorized("Sign in first.", code="not_authenticated")
    return decode_access_token(creds.credentials, settings.secret_key)


async def admin_user(user: Annotated[User, Depends(current_user)]) -> User:
    if user.role != "admin":
        raise Forbidden("Administrators only.")
    return user


def firebase_verifier(request: Request) -> FirebaseVerifier:
    settings = request.app.state.settings
    if not settings.firebase_project_id:
        raise Unavailable("Firebase sign-in is not configured on this server.", code="firebase_disabled")
    verifier: FirebaseVerifier | None = getattr(request.app.state, "firebase", None)
    if verifier is None:
        verifier = FirebaseVerifier(settings.firebase_project_id, settings.firebase_jwks_url)
        request.app.state.firebase = verifier
    return verifier


CurrentUser = Annotated[User, Depends(current_user)]
AdminUser = Annotated[User, Depends(admin_user)]
Claims = Annotated[AccessClaims, Depends(access_claims)]
