"""The audit log of sensitive actions: `record(session, actor_id, action, ...)` from any domain.

An entry is written in the caller's transaction, so it exists exactly when the action happened
(a rolled-back change leaves no entry). Actions that fail and roll back, like a wrong password,
commit their entry themselves (see auth/service.py). Entries never carry secrets or free text a
user typed: ids, an action name, the client address and a few small facts in `meta`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Receive, Scope, Send

from mocki.models import AuditEntry

# Action names, one place so the admin view can filter on them.
LOGIN_SUCCEEDED = "auth.login"
LOGIN_FAILED = "auth.login_failed"
PASSWORD_CHANGED = "auth.password_changed"
ACCOUNT_DELETED = "user.deleted"
KEYS_ROTATED = "keys.rotated"
MAIL_CONNECTED = "mail.connected"
MAIL_REVOKED = "mail.revoked"
MAIL_DELETED = "mail.deleted"
INVITE_CREATED = "invite.created"
INVITE_ACCEPTED = "invite.accepted"

# The client address of the request being handled, so callers need not pass it along.
_CLIENT_IP: ContextVar[str | None] = ContextVar("audit_client_ip", default=None)


class AuditContext:
    """Remembers each http request's client address for `record` (uvicorn has already applied
    X-Forwarded-For from trusted proxies)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        token = _CLIENT_IP.set(str(client[0]) if client else None)
        try:
            await self.app(scope, receive, send)
        finally:
            _CLIENT_IP.reset(token)


def record(
    session: AsyncSession,
    actor_id: uuid.UUID | None,
    action: str,
    *,
    target_type: str | None = None,
    target_id: uuid.UUID | str | None = None,
    ip: str | None = None,
    meta: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an entry to the session; it is written when the caller's unit of work commits. `ip`
    defaults to the client address of the request being handled."""
    entry = AuditEntry(
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id) if target_id is not None else None,
        ip=ip if ip is not None else _CLIENT_IP.get(),
        meta=meta or {},
    )
    session.add(entry)
    return entry


async def forget_actor(session: AsyncSession, actor_id: uuid.UUID) -> None:
    """A deleted account's entries keep the action, time and actor id; address and details go."""
    await session.execute(update(AuditEntry).where(AuditEntry.actor_id == actor_id).values(ip=None, meta={}))


async def entries(
    session: AsyncSession,
    *,
    action: str | None = None,
    actor_id: uuid.UUID | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[Sequence[AuditEntry], int]:
    """Newest first, and how many match in all."""
    where = []
    if action is not None:
        where.append(AuditEntry.action == action)
    if actor_id is not None:
        where.append(AuditEntry.actor_id == actor_id)
    rows = await session.scalars(
        select(AuditEntry)
        .where(*where)
        .order_by(AuditEntry.at.desc(), AuditEntry.id)
        .limit(limit)
        .offset(offset)
    )
    total = await session.scalar(select(func.count()).select_from(AuditEntry).where(*where))
    return rows.all(), int(total or 0)
