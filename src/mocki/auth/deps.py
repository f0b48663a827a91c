"""The current-user dependency: a valid access token for an active account."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mocki.auth.firebase import FirebaseVerifier
from mocki.auth.tokens import decode_access_token
from mocki.core.errors import Forbidden, Unauthorized, Unavailable
from mocki.deps import SessionDep, SettingsDep
from mocki.models import User
from mocki.users import service as users

_bearer = HTTPBearer(auto_error=False)


# session.info key: {user id: tier} of the request's signed-in user (tasks.routing.tier_in_session).
SIGNED_IN_TIERS = "signed_in_tiers"


async def current_user(
    session: SessionDep,
    settings: SettingsDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise Unauthorized(
            "Sign in first: send 'Authorization: Bearer <access token>'.", code="not_authenticated"
        )
    claims = decode_access_token(creds.credentials, settings.secret_key)
    # From the cache (mocki.cache): the hottest read of all; the row comes back detached, read-only.
    user = await users.cached_user(session, claims.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("Account no longer active.", code="account_disabled")
    # The cached row is not in the session: leave its tier where task routing looks (no query).
    session.info.setdefault(SIGNED_IN_TIERS, {})[user.id] = user.tier
    return user


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
