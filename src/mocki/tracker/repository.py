"""Queries of the tracker; every read on behalf of a user filters by its owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from mocki.models.jobs import SHARED_SCOPE, JobImport, JobPosting
from mocki.models.tracker import Application, ApplicationEvent, Email, MailAccount, MailSync


async def account(
    session: AsyncSession, owner_id: uuid.UUID, account_id: uuid.UUID, *, with_credentials: bool = False
) -> MailAccount | None:
    stmt = select(MailAccount).where(MailAccount.id == account_id, MailAccount.owner_id == owner_id)
    if with_credentials:
        stmt = stmt.options(undefer(MailAccount.credentials)).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def accounts(session: AsyncSession, owner_id: uuid.UUID) -> Sequence[MailAccount]:
    stmt = select(MailAccount).where(MailAccount.owner_id == owner_id).order_by(MailAccount.created_at)
    return (await session.execute(stmt)).scalars().all()


async def upload_account(session: AsyncSession, owner_id: uuid.UUID) -> MailAccount | None:
    stmt = select(MailAccount).where(MailAccount.owner_id == owner_id, MailAccount.kind == "upload").limit(1)
    return (await session.execute(stmt)).scalar_one_or_none()


async def running_sync(session: AsyncSession, account_id: uuid.UUID) -> MailSync | None:
    stmt = (
        select(MailSync)
        .where(MailSync.account_id == account_id, MailSync.status.in_(("queued", "fetching")))
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def sync(session: AsyncSession, owner_id: uuid.UUID, sync_id: uuid.UUID) -> MailSync | None:
    stmt = select(MailSync).where(MailSync.id == sync_id, MailSync.owner_id == owner_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def syncs(session: AsyncSession, owner_id: uuid.UUID, limit: int) -> Sequence[MailSync]:
    stmt = (
        select(MailSync)
        .where(MailSync.owner_id == owner_id)
        .order_by(MailSync.created_at.desc(), MailSync.id)
        .limit(limit)
    )
    return (await session.execute(stmt)).scalars().all()


async def application(
    session: AsyncSession, owner_id: uuid.UUID, application_id: uuid.UUID, *, for_update: bool = False
) -> Application | None:
    stmt = select(Application).where(Application.id == application_id, Application.owner_id == owner_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def applications(
    session: AsyncSession, owner_id: uuid.UUID, status: str | None = None
) -> Sequence[Application]:
    stmt = select(Application).where(Application.owner_id == owner_id)
    if status is not None:
        stmt = stmt.where(Application.status == status)
    stmt = stmt.order_by(Application.last_event_at.desc().nulls_last(), Application.created_at.desc())
    return (await session.execute(stmt)).scalars().all()


async def events(session: AsyncSession, application_id: uuid.UUID) -> Sequence[ApplicationEvent]:
    stmt = (
        select(ApplicationEvent)
        .where(ApplicationEvent.application_id == application_id)
        .order_by(ApplicationEvent.occurred_at, ApplicationEvent.created_at)
    )
    return (await session.execute(stmt)).scalars().all()


async def emails(
    session: AsyncSession,
    owner_id: uuid.UUID,
    *,
    thread_key: str | None,
    application_id: uuid.UUID | None,
    limit: int,
    offset: int,
) -> Sequence[Email]:
    stmt = select(Email).where(Email.owner_id == owner_id)
    if thread_key is not None:
        stmt = stmt.where(Email.thread_key == thread_key)
    if application_id is not None:
        stmt = stmt.where(Email.application_id == application_id)
    stmt = stmt.order_by(Email.sent_at.desc().nulls_last(), Email.id).limit(limit).offset(offset)
    return (await session.execute(stmt)).scalars().all()


async def threads(
    session: AsyncSession, owner_id: uuid.UUID, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Threads newest first, each with its message count, latest date and first subject."""
    stmt = (
        select(
            Email.thread_key,
            func.count(Email.id),
            func.max(Email.sent_at),
            func.min(Email.subject),
        )
        .where(Email.owner_id == owner_id)
        .group_by(Email.thread_key)
        .order_by(func.max(Email.sent_at).desc().nulls_last(), Email.thread_key)
        .limit(limit)
        .offset(offset)
    )
    return [
        {"thread_key": key, "emails": count, "last_at": last, "subject": subject or ""}
        for key, count, last, subject in (await session.execute(stmt)).all()
    ]


async def job_import(session: AsyncSession, owner_id: uuid.UUID, import_id: uuid.UUID) -> JobImport | None:
    stmt = select(JobImport).where(JobImport.id == import_id, JobImport.owner_id == owner_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def job_postings(
    session: AsyncSession, owner_id: uuid.UUID, limit: int, offset: int
) -> Sequence[JobPosting]:
    """The user's postings and the shared ones, newest first."""
    stmt = (
        select(JobPosting)
        .where(or_(JobPosting.scope == str(owner_id), JobPosting.scope == SHARED_SCOPE))
        .order_by(JobPosting.posted_at.desc().nulls_last(), JobPosting.created_at.desc(), JobPosting.id)
        .limit(limit)
        .offset(offset)
    )
    return (await session.execute(stmt)).scalars().all()
