"""Sign-up, sign-in, refresh-token rotation and revocation, Firebase sign-in."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from mocki.auth.firebase import FirebaseIdentity
from mocki.auth.passwords import check_policy, hash_password, verify_password
from mocki.auth.schemas import TokenPair
from mocki.auth.tokens import hash_refresh_token, issue_access_token, new_refresh_token
from mocki.cache import families, invalidate_on_commit
from mocki.core.errors import Forbidden, Unauthorized
from mocki.core.timeutil import as_utc, utcnow
from mocki.models import RefreshToken, User
from mocki.security import audit
from mocki.security.login import LoginThrottle
from mocki.security.signing import session_signing_key
from mocki.settings import Settings
from mocki.users import repository as users


async def login(
    session: AsyncSession,
    settings: Settings,
    email: str,
    password: str,
    *,
    throttle: LoginThrottle | None = None,
    ip: str | None = None,
) -> TokenPair:
    """Sign in. Unknown emails take the same path as wrong passwords (an argon2 check against a
    dummy hash, the same counters and lockouts, the same answer), so neither the status, the
    message nor the time taken tells whether an account exists."""
    if throttle is not None:
        await throttle.check(email, ip)
    user = await users.by_email(session, email)
    if not verify_password(password, user.password_hash if user else None) or user is None:
        locked_for = await throttle.failed(email, ip) if throttle is not None else 0
        meta: dict[str, object] = {"reason": "bad_credentials"}
        if locked_for:
            meta["locked_for_s"] = locked_for
        await _audit_failure(session, user.id if user else None, ip, meta)
        raise Unauthorized("Email or password is wrong.", code="bad_credentials")
    if not user.is_active:
        await _audit_failure(session, user.id, ip, {"reason": "account_disabled"})
        raise Unauthorized("This account is disabled.", code="account_disabled")
    if throttle is not None:
        await throttle.succeeded(email)
    audit.record(session, user.id, audit.LOGIN_SUCCEEDED, target_type="user", target_id=user.id, ip=ip)
    return await issue_tokens(session, settings, user)


async def _audit_failure(
    session: AsyncSession, actor_id: uuid.UUID | None, ip: str | None, meta: dict[str, object]
) -> None:
    # The request's unit of work rolls back on the 401; the entry must stay (as refresh() does
    # with a revoked family, this commits before raising).
    audit.record(session, actor_id, audit.LOGIN_FAILED, ip=ip, meta=meta)
    await session.commit()


async def change_password(
    session: AsyncSession, user_id: uuid.UUID, current: str, new: str, *, ip: str | None = None
) -> None:
    """Check the current password, apply the policy to the new one, and sign out every session."""
    user = await users.get(session, user_id)
    if user is None or not user.is_active:
        raise Unauthorized("Account no longer active.", code="account_disabled")
    if not verify_password(current, user.password_hash):
        raise Forbidden("The current password is wrong.", code="password_mismatch")
    check_policy(new, user.email)
    user.password_hash = hash_password(new)
    await users.revoke_all(session, user.id, utcnow())
    audit.record(session, user.id, audit.PASSWORD_CHANGED, target_type="user", target_id=user.id, ip=ip)


async def issue_tokens(
    session: AsyncSession, settings: Settings, user: User, family_id: uuid.UUID | None = None
) -> TokenPair:
    token, token_hash = new_refresh_token()
    now = utcnow()
    family_id = family_id or uuid.uuid4()
    row = RefreshToken(
        user_id=user.id,
        family_id=family_id,
        token_hash=token_hash,
        created_at=now,
        expires_at=now + timedelta(days=settings.refresh_token_days),
    )
    session.add(row)
    await session.flush()
    # The family is the sign-in session: the access token names it, and the request-signing key is
    # derived from it, so it survives refreshes and needs no table.
    access = issue_access_token(
        user.id, user.role, settings.secret_key, settings.access_token_minutes, session_id=family_id
    )
    return TokenPair(
        access_token=access,
        refresh_token=token,
        expires_in=settings.access_token_minutes * 60,
        signing_key=session_signing_key(settings.secret_key, str(family_id)),
    )


async def refresh(session: AsyncSession, settings: Settings, token: str) -> TokenPair:
    row = await users.refresh_by_hash(session, hash_refresh_token(token))
    now = utcnow()
    if row is None:
        raise Unauthorized("Refresh token is invalid.", code="refresh_invalid")
    if row.revoked_at is not None:
        # A rotated token came back: someone holds a copy. End the whole family.
        await users.revoke_family(session, row.family_id, now)
        await session.commit()
        raise Unauthorized("Refresh token was already used; signed out everywhere.", code="refresh_reused")
    if as_utc(row.expires_at) <= now:
        raise Unauthorized("Refresh token expired; sign in again.", code="refresh_expired")
    user = await users.get(session, row.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("Account no longer active.", code="account_disabled")
    row.revoked_at = now
    return await issue_tokens(session, settings, user, family_id=row.family_id)


async def logout(session: AsyncSession, token: str) -> None:
    row = await users.refresh_by_hash(session, hash_refresh_token(token))
    if row is not None:
        await users.revoke_family(session, row.family_id, utcnow())


async def firebase_login(session: AsyncSession, settings: Settings, identity: FirebaseIdentity) -> TokenPair:
    user = await users.by_firebase_uid(session, identity.uid)
    if user is None:
        user = await users.by_email(session, identity.email)
        if user is None:
            user = User(email=identity.email, name=identity.name, firebase_uid=identity.uid)
            session.add(user)
        else:
            user.firebase_uid = identity.uid
            invalidate_on_commit(session, families.USER.name, user.id)
        await session.flush()
    return await issue_tokens(session, settings, user)
