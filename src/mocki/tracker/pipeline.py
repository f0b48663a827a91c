"""The database side of a sync and of an analysis, each step one short transaction (tasks call these).

- `begin_sync` claims the sync and hands the task the decrypted credentials and the cursor;
- `store_batch` stores one batch's new emails, the cursor after it and the progress counts
  together, so a killed sync resumes after the last stored batch;
- `claim_analyses`/`save_analyses`: an email's analysis is written only while it is still
  pending (a compare-and-set), together with its event and the sync's count, so an email is
  analysed (stored, counted, placed on the timeline) once, however often a task is redelivered.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from celery import Celery
from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from mocki.core.timeutil import utcnow
from mocki.llm import usage as llm_usage
from mocki.llm.base import Usage
from mocki.models.tracker import Email, MailAccount, MailSync
from mocki.settings import Settings
from mocki.tracker import prep, timeline, todos
from mocki.tracker.analysis import MailInput
from mocki.tracker.crypto import CredentialsUnreadable, seal, unseal
from mocki.tracker.parsing import MalformedMessage, ParsedEmail, parse_message
from mocki.tracker.sources import Batch

MAX_PROBLEMS = 200
INSERT_ROWS = 400  # rows per INSERT, well under both backends' bind-parameter limits


@dataclass(frozen=True)
class SyncJob:
    sync_id: uuid.UUID
    owner_id: uuid.UUID
    account_id: uuid.UUID
    kind: str
    config: dict[str, Any]
    address: str
    credentials: dict[str, Any] | None
    cursor: dict[str, Any]
    filename: str
    payload: bytes | None
    resumed: bool  # an earlier delivery of this sync started and did not finish
    fetch_done: bool


def open_credentials(settings: Settings, account: MailAccount) -> dict[str, Any] | None:
    if account.credentials is None:
        return None
    data: dict[str, Any] = json.loads(unseal(settings, account.credentials, str(account.id)))
    return data


def seal_credentials(settings: Settings, account_id: uuid.UUID, credentials: dict[str, Any]) -> bytes:
    return seal(settings, json.dumps(credentials).encode("utf-8"), str(account_id))


async def begin_sync(session: AsyncSession, settings: Settings, sync_id: uuid.UUID) -> SyncJob | None:
    """None when there is nothing to do: finished, failed, or the account was revoked meanwhile."""
    stmt = select(MailSync).where(MailSync.id == sync_id).options(undefer(MailSync.payload)).with_for_update()
    sync = (await session.execute(stmt)).scalar_one_or_none()
    if sync is None or sync.status in ("done", "failed"):
        return None
    account = (
        await session.execute(
            select(MailAccount)
            .where(MailAccount.id == sync.account_id)
            .options(undefer(MailAccount.credentials))
        )
    ).scalar_one()
    if account.status == "revoked":
        fail(sync, "The account's access was revoked before the sync ran.")
        return None
    try:
        credentials = open_credentials(settings, account)
    except CredentialsUnreadable as exc:
        fail(sync, str(exc))
        account.status, account.error = "error", str(exc)
        return None
    resumed = sync.status != "queued"
    if not resumed:
        sync.status, sync.started_at = "fetching", utcnow()
    return SyncJob(
        sync.id, sync.owner_id, account.id, account.kind, dict(account.config), account.address, credentials,
        dict(account.cursor or {}), sync.filename, sync.payload, resumed, sync.fetch_done,
    )  # fmt: skip


def fail(sync: MailSync, message: str) -> None:
    sync.status, sync.error, sync.finished_at = "failed", message[:2000], utcnow()


async def fail_sync(session: AsyncSession, sync_id: uuid.UUID, message: str, *, account_error: bool) -> None:
    sync = await session.get(MailSync, sync_id, with_for_update=True)
    if sync is None or sync.status in ("done", "failed"):
        return
    fail(sync, message)
    if account_error:
        account = await session.get(MailAccount, sync.account_id)
        if account is not None and account.status != "revoked":
            account.status, account.error = "error", message[:2000]


def _parse(batch: Batch) -> tuple[list[tuple[str, ParsedEmail]], list[dict[str, str]]]:
    parsed: list[tuple[str, ParsedEmail]] = []
    problems: list[dict[str, str]] = []
    for raw in batch.messages:
        if raw.data is None:
            problems.append({"ref": raw.ref, "reason": raw.problem or "not fetched"})
            continue
        try:
            parsed.append((raw.ref, parse_message(raw.data, fallback_date=raw.received_at)))
        except MalformedMessage as exc:
            problems.append({"ref": raw.ref, "reason": str(exc)})
    return parsed, problems


def _row(job: SyncJob, ref: str, email: ParsedEmail, now: datetime) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(), "owner_id": job.owner_id, "account_id": job.account_id, "sync_id": job.sync_id,
        "message_key": email.message_key, "message_id": email.message_id, "thread_key": email.thread_key,
        "source_ref": ref[:300], "subject": email.subject, "sender": email.sender[:500],
        "sender_address": email.sender_address, "sent_at": email.sent_at, "body": email.body,
        "links": [link.as_dict() for link in email.links], "size_bytes": email.size_bytes,
        "defects": email.defects, "analysis_status": "pending", "created_at": now,
    }  # fmt: skip


async def store_batch(
    session: AsyncSession, settings: Settings, job: SyncJob, batch: Batch
) -> list[uuid.UUID]:
    """Store the batch's new emails, the account's cursor after it and the sync's counts; returns the
    ids of the emails that were new."""
    parsed, problems = _parse(batch)
    unique: dict[str, tuple[str, ParsedEmail]] = {}
    for ref, email in parsed:
        unique.setdefault(email.message_key, (ref, email))
    now = utcnow()
    rows = [_row(job, ref, email, now) for ref, email in unique.values()]
    new_ids: list[uuid.UUID] = []
    insert = timeline.insert_for(session)
    for start in range(0, len(rows), INSERT_ROWS):
        stmt = insert(Email).values(rows[start : start + INSERT_ROWS])
        stmt = stmt.on_conflict_do_nothing(index_elements=["owner_id", "message_key"]).returning(Email.id)
        new_ids += list((await session.execute(stmt)).scalars())
    account = await session.get(MailAccount, job.account_id, with_for_update=True)
    if account is not None:
        account.cursor = batch.cursor
        if batch.credentials is not None:
            account.credentials = seal_credentials(settings, account.id, batch.credentials)
    sync = await session.get(MailSync, job.sync_id, with_for_update=True)
    if sync is not None:
        sync.fetched += len(batch.messages)
        sync.stored += len(new_ids)
        sync.duplicates += len(parsed) - len(new_ids)
        sync.malformed += len(problems)
        if batch.total is not None:
            sync.total = max(batch.total, sync.fetched)
        if problems and len(sync.problems) < MAX_PROBLEMS:
            sync.problems = [*sync.problems, *problems][:MAX_PROBLEMS]
    return new_ids


async def finish_fetch(session: AsyncSession, job: SyncJob) -> None:
    sync = await session.get(MailSync, job.sync_id, with_for_update=True)
    if sync is None or sync.status in ("done", "failed"):
        return
    sync.fetch_done = True
    sync.payload = None
    sync.total = sync.fetched
    done = sync.analysed + sync.analysis_failed >= sync.stored
    sync.status = "done" if done else "analysing"
    if done:
        sync.finished_at = utcnow()
    account = await session.get(MailAccount, job.account_id)
    if account is not None:
        account.last_synced_at = utcnow()
        if account.status == "error":
            account.status, account.error = "active", None


async def pending_ids(session: AsyncSession, sync_id: uuid.UUID) -> list[uuid.UUID]:
    stmt = select(Email.id).where(Email.sync_id == sync_id, Email.analysis_status == "pending")
    return list((await session.execute(stmt)).scalars())


# ------------------------------------------------------------------------------------- analysis


@dataclass(frozen=True)
class PendingEmail:
    id: uuid.UUID
    owner_id: uuid.UUID
    item: MailInput


async def load_pending(session: AsyncSession, ids: list[uuid.UUID]) -> list[PendingEmail]:
    stmt = (
        select(Email)
        .where(Email.id.in_(ids), Email.analysis_status == "pending")
        .options(undefer(Email.body))
        .order_by(Email.sent_at)
    )
    return [
        PendingEmail(
            e.id,
            e.owner_id,
            MailInput(e.subject, _display_name(e.sender), e.sender_address, e.sent_at, e.body, list(e.links)),
        )
        for e in (await session.execute(stmt)).scalars()
    ]


def _display_name(sender: str) -> str:
    return sender.rsplit("<", 1)[0].strip() if "<" in sender else ("" if "@" in sender else sender)


async def save_analyses(
    session: AsyncSession,
    sync_id: uuid.UUID | None,
    results: list[tuple[uuid.UUID, dict[str, Any]]],
    usages: list[Usage],
    owner_id: uuid.UUID | None,
    *,
    celery: Celery | None = None,
) -> int:
    """Write each analysis if its email is still pending, with its event, its todo and (for an
    invitation) its prep interview; returns how many were written. `celery` indexes a job
    description made for a prep (None: not indexed).

    Emails are placed in company order, so concurrent tasks lock applications in the same order."""
    written = 0
    now = utcnow()
    ordered = sorted(results, key=lambda r: (str(r[1].get("company") or ""), str(r[1].get("position") or "")))
    for email_id, analysis in ordered:
        claimed = await session.execute(
            update(Email)
            .where(Email.id == email_id, Email.analysis_status == "pending")
            .values(analysis_status="done", analysis=analysis, analysed_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult
            continue
        written += 1
        email = (
            await session.execute(
                select(Email).where(Email.id == email_id).execution_options(populate_existing=True)
            )
        ).scalar_one()
        event = await timeline.place(session, email, analysis)
        await todos.add_for_event(session, event)
        await prep.for_event(session, event, celery=celery)
    for usage in usages:
        llm_usage.record(session, usage, purpose="tracker.analyse", user_id=owner_id)
    if sync_id is not None and written:
        await count_analysed(session, sync_id, analysed=written)
    return written


async def mark_failed(
    session: AsyncSession, sync_id: uuid.UUID | None, ids: list[uuid.UUID], reason: str
) -> int:
    result = await session.execute(
        update(Email)
        .where(Email.id.in_(ids), Email.analysis_status == "pending")
        .values(analysis_status="failed", analysis={"error": reason[:500]}, analysed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    failed = int(result.rowcount)  # type: ignore[attr-defined]
    if sync_id is not None and failed:
        await count_analysed(session, sync_id, failed=failed)
    return failed


async def count_analysed(
    session: AsyncSession, sync_id: uuid.UUID, *, analysed: int = 0, failed: int = 0
) -> None:
    """One UPDATE, so concurrent tasks add up (each sees the other's committed count) and the one that
    completes the sync marks it done."""
    total = MailSync.analysed + analysed + MailSync.analysis_failed + failed
    await session.execute(
        update(MailSync)
        .where(MailSync.id == sync_id)
        .values(
            analysed=MailSync.analysed + analysed,
            analysis_failed=MailSync.analysis_failed + failed,
            status=case((MailSync.fetch_done & (total >= MailSync.stored), "done"), else_=MailSync.status),
            finished_at=case(
                (MailSync.fetch_done & (total >= MailSync.stored), utcnow()), else_=MailSync.finished_at
            ),
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
