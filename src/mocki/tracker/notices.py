"""Status-change notices: when synced mail moves an application (applied → interview, → offer,
→ rejected), its owner gets one short mail per sync listing every change, never a change twice.

`timeline.place` records each change (`status_changes`, same transaction as the event). The beat
job (every minute) takes the changes of syncs that have finished, one batch per (user, sync):

1. claim: insert the batch's `notifications` row (unique on user, kind and key) and set the
   changes' `notification_id` where it is still null (a compare-and-set), then commit;
2. send the one message; on success the row says `sent`, on failure the row is deleted and the
   changes are freed, so the next run tries again.

A change is thus in at most one sent notice. Changes the user set by hand are never noticed (they
know); changes from old mail (a first import) are claimed but not listed (`notice_max_age_days`);
a user who turned notices off has their batches claimed as `skipped`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import ColumnElement, and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mocki.core.db import session_scope
from mocki.core.timeutil import as_utc, utcnow
from mocki.models.tracker import Application, MailSync, Notification, StatusChange
from mocki.tracker import mailer, reminders
from mocki.tracker.config import TrackerSettings
from mocki.tracker.timeline import insert_for
from mocki.users import repository as users

log = logging.getLogger(__name__)

NOTICE = "notice"
LABELS = {
    "applied": "applied", "assessment": "assessment", "interview": "interview", "offer": "offer",
    "rejected": "rejected", "recruiter_outreach": "recruiter outreach",
}  # fmt: skip


@dataclass(frozen=True)
class Batch:
    owner_id: uuid.UUID
    sync_id: uuid.UUID | None


@dataclass(frozen=True)
class Line:
    company: str
    position: str
    before: str | None
    after: str


# ----------------------------------------------------------------------------------- selection


def _unclaimed() -> ColumnElement[bool]:
    return and_(StatusChange.notification_id.is_(None), StatusChange.source == "email")


async def ready_batches(session: AsyncSession) -> list[Batch]:
    """(user, sync) pairs with unclaimed changes whose sync has finished (or that came from no sync)."""
    stmt = (
        select(StatusChange.owner_id, StatusChange.sync_id)
        .outerjoin(MailSync, MailSync.id == StatusChange.sync_id)
        .where(_unclaimed(), or_(StatusChange.sync_id.is_(None), MailSync.status.in_(("done", "failed"))))
        .distinct()
    )
    return [Batch(owner, sync) for owner, sync in (await session.execute(stmt)).all()]


async def claim(session: AsyncSession, batch: Batch, now: datetime) -> tuple[uuid.UUID, str] | None:
    """Claim the batch's unclaimed changes under a new notification: its id and key, or None if none
    were left."""
    same_sync = StatusChange.sync_id == batch.sync_id if batch.sync_id else StatusChange.sync_id.is_(None)
    stmt = select(StatusChange.id).where(StatusChange.owner_id == batch.owner_id, same_sync, _unclaimed())
    ids = sorted((await session.execute(stmt)).scalars(), key=str)
    if not ids:
        return None
    # A change is in one batch only, so the batch's first change names it: two runs that saw the
    # same changes insert the same key, and one of them wins.
    key = f"sync:{batch.sync_id}:{ids[0]}" if batch.sync_id else f"change:{ids[0]}"
    notification_id = uuid.uuid4()
    values = {
        "id": notification_id, "owner_id": batch.owner_id, "kind": NOTICE, "key": key,
        "status": "claimed", "claimed_at": now,
    }  # fmt: skip
    stmt_insert = insert_for(session)(Notification).values(**values)
    inserted = await session.execute(
        stmt_insert.on_conflict_do_nothing(index_elements=["owner_id", "kind", "key"])
    )
    if not inserted.rowcount:  # type: ignore[attr-defined]  # a CursorResult
        return None
    taken = await session.execute(
        update(StatusChange)
        .where(StatusChange.id.in_(ids), StatusChange.notification_id.is_(None))
        .values(notification_id=notification_id)
        .execution_options(synchronize_session=False)
    )
    if not taken.rowcount:  # type: ignore[attr-defined]
        await session.execute(delete(Notification).where(Notification.id == notification_id))
        return None
    return notification_id, key


async def release(session: AsyncSession, notification_id: uuid.UUID) -> None:
    """Undo a claim whose mail could not be sent: the next run claims the changes again."""
    await session.execute(
        update(StatusChange)
        .where(StatusChange.notification_id == notification_id)
        .values(notification_id=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(delete(Notification).where(Notification.id == notification_id))


async def lines(
    session: AsyncSession, notification_id: uuid.UUID, config: TrackerSettings, now: datetime
) -> list[Line]:
    """One line per application: where it was before the batch and where it is now (recent changes only)."""
    stmt = (
        select(StatusChange, Application)
        .join(Application, Application.id == StatusChange.application_id)
        .where(StatusChange.notification_id == notification_id)
        .order_by(StatusChange.occurred_at, StatusChange.created_at)
    )
    oldest = now - timedelta(days=config.notice_max_age_days) if config.notice_max_age_days else None
    first: dict[uuid.UUID, tuple[Application, str | None, str]] = {}
    for change, app in (await session.execute(stmt)).all():
        if oldest is not None and as_utc(change.occurred_at) < oldest:
            continue
        before = first[app.id][1] if app.id in first else change.from_status
        first[app.id] = (app, before, change.to_status)
    return [
        Line(app.company, app.position, before, after)
        for app, before, after in first.values()
        if before != after
    ]


# -------------------------------------------------------------------------------------- message


def _describe(line: Line) -> str:
    name = f"{line.company} ({line.position})" if line.position else line.company
    after = LABELS.get(line.after, line.after)
    if line.before is None:
        return f"- {name}: new application, {after}"
    return f"- {name}: {LABELS.get(line.before, line.before)} → {after}"


def compose(config: TrackerSettings, to: str, items: list[Line], token: str) -> EmailMessage:
    msg = EmailMessage()
    link = reminders.unsubscribe_url(config, token, "notices")
    if len(items) == 1:
        msg["Subject"] = (
            f"Application update: {items[0].company} — {LABELS.get(items[0].after, items[0].after)}"
        )
    else:
        msg["Subject"] = f"{len(items)} application updates"
    msg["From"] = config.mail_from
    msg["To"] = to
    msg["List-Unsubscribe"] = f"<{link}>"
    body = ["Your latest mail moved these applications:", "", *(_describe(i) for i in items)]
    body += ["", f"Stop these notices: {link}"]
    msg.set_content("\n".join(body) + "\n")
    return msg


# -------------------------------------------------------------------------------------- sending


async def _claim(
    factory: async_sessionmaker[AsyncSession], batch: Batch, now: datetime
) -> tuple[uuid.UUID, str, bool, str] | None:
    async with session_scope(factory) as session:
        pref = await reminders.preference(session, batch.owner_id)
        claimed = await claim(session, batch, now)
        if claimed is None:
            return None
        return *claimed, pref.notices_enabled, pref.unsubscribe_token


async def _send_batch(
    factory: async_sessionmaker[AsyncSession], config: TrackerSettings, batch: Batch, now: datetime
) -> bool:
    claimed = await _claim(factory, batch, now)
    if claimed is None:
        return False
    notification_id, key, enabled, token = claimed
    async with session_scope(factory) as session:
        notification = await session.get(Notification, notification_id)
        assert notification is not None
        user = await users.get(session, batch.owner_id)
        items = await lines(session, notification_id, config, now) if enabled else []
        if user is None or not items:
            notification.status = "skipped"  # turned off, or nothing new enough to tell
            return False
        to = user.email
    try:
        msg = compose(config, to, items, token)
        await asyncio.to_thread(mailer.deliver, config, msg, f"{batch.owner_id}:{NOTICE}:{key}")
    except mailer.MailNotSent as exc:
        log.warning("status notice %s not sent, released for the next run: %s", notification_id, exc)
        async with session_scope(factory) as session:
            await release(session, notification_id)
        return False
    async with session_scope(factory) as session:
        await session.execute(
            update(Notification)
            .where(Notification.id == notification_id)
            .values(status="sent", sent_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    return True


async def send_notices(
    factory: async_sessionmaker[AsyncSession], config: TrackerSettings, now: datetime | None = None
) -> dict[str, int]:
    """The beat job: one notice per finished sync with new status changes."""
    now = now or utcnow()
    async with session_scope(factory) as session:
        batches = await ready_batches(session)
    sent = 0
    for batch in batches:
        sent += await _send_batch(factory, config, batch, now)
    return {"batches": len(batches), "sent": sent}
