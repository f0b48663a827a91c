"""Administrators only: task queues and workers, failed tasks (dead letters) with retry, users' tiers."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from mocki.admin import service
from mocki.admin.schemas import (
    AdminUserOut,
    AuditEntryOut,
    AuditPage,
    DeadLetterOut,
    DeadLetterPage,
    QueuesOut,
    TierIn,
    UserPage,
    WorkersOut,
)
from mocki.auth.deps import AdminUser
from mocki.core.db import MAX_OFFSET
from mocki.deps import CeleryDep, SessionDep, SettingsDep
from mocki.security import audit
from mocki.tasks import deadletters
from mocki.users import service as users

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/queues", response_model=QueuesOut)
async def queues(_: AdminUser, request: Request, settings: SettingsDep) -> QueuesOut:
    return await service.queues(request.app.state.redis, settings)


@router.get("/workers", response_model=WorkersOut)
async def workers(_: AdminUser, celery: CeleryDep) -> WorkersOut:
    return WorkersOut(workers=await service.workers(celery))


@router.get("/dead-letters", response_model=DeadLetterPage)
async def dead_letters(
    _: AdminUser,
    session: SessionDep,
    status: Literal["open", "retried", "all"] = "open",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> DeadLetterPage:
    rows, total = await deadletters.list_letters(
        session, status=None if status == "all" else status, limit=limit, offset=offset
    )
    return DeadLetterPage(items=[DeadLetterOut.of(r) for r in rows], total=total)


@router.post("/dead-letters/{letter_id}/retry", response_model=DeadLetterOut, status_code=202)
async def retry_dead_letter(
    _: AdminUser, session: SessionDep, celery: CeleryDep, letter_id: uuid.UUID
) -> DeadLetterOut:
    """Send the failed task again (a new task id, on the high lane) once this request commits."""
    return DeadLetterOut.of(await deadletters.retry(session, celery, letter_id))


@router.get("/users", response_model=UserPage)
async def list_users(
    _: AdminUser,
    session: SessionDep,
    settings: SettingsDep,
    q: Annotated[str, Query(max_length=200, description="part of the email or name")] = "",
    tier: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> UserPage:
    rows, total = await users.search_users(session, text=q, tier=tier, limit=limit, offset=offset)
    return UserPage(
        items=[AdminUserOut.model_validate(r) for r in rows], total=total, tiers=list(settings.tasks.tiers)
    )


@router.patch("/users/{user_id}", response_model=AdminUserOut)
async def set_tier(
    _: AdminUser, session: SessionDep, settings: SettingsDep, user_id: uuid.UUID, body: TierIn
) -> AdminUserOut:
    user = await users.set_tier(session, user_id, body.tier, settings.tasks.tiers)
    return AdminUserOut.model_validate(user)


@router.get("/audit", response_model=AuditPage)
async def audit_log(
    _: AdminUser,
    session: SessionDep,
    action: Annotated[str | None, Query(max_length=64, description="e.g. auth.login_failed")] = None,
    actor: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> AuditPage:
    """Sensitive actions, newest first: sign-ins, passwords, deletions, keys, mail accounts, invites."""
    rows, total = await audit.entries(session, action=action, actor_id=actor, limit=limit, offset=offset)
    return AuditPage(items=[AuditEntryOut.model_validate(r) for r in rows], total=total)
