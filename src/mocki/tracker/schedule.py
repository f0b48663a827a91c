"""Periodic mail sync: beat queues an incremental sync of every connected mailbox every N minutes.

An account gets a new sync only when none is queued or fetching (the cursor belongs to one sync at
a time), checked under a row lock on the account, so two beat runs (or a beat run and a user's
click) never queue two. Beat itself fires once per interval across processes (tasks/beat.py).

A scheduled sync task expires after one interval: if the io workers were down or busy that long,
the next beat run queues a fresh one instead of letting old ones pile up. Its sync row, still
`queued`, is marked failed then (the task that would have run it is gone), so it never blocks the
account.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mocki.core.db import after_commit, session_scope
from mocki.core.timeutil import as_utc, utcnow
from mocki.models.tracker import MailAccount, MailSync
from mocki.tracker import repository
from mocki.tracker.pipeline import fail

SYNCED_KINDS = ("imap", "gmail")  # uploads are read when uploaded
# A queued sync older than its task's expiry plus this margin has no task left to run it.
STALE_MARGIN = timedelta(minutes=1)

Send = Callable[[uuid.UUID, float], None]  # (sync id, expires in seconds)


def expires_s(every_minutes: float) -> float:
    return max(60.0, every_minutes * 60)


async def accounts(session: AsyncSession) -> list[uuid.UUID]:
    """Mailboxes to keep in sync: IMAP and Gmail accounts not revoked (an `error` one is tried again)."""
    stmt = select(MailAccount.id).where(MailAccount.kind.in_(SYNCED_KINDS), MailAccount.status != "revoked")
    return list((await session.execute(stmt)).scalars())


async def queue_one(
    session: AsyncSession, account_id: uuid.UUID, send: Send, expires: float, now: datetime
) -> MailSync | None:
    """Queue an incremental sync for the account unless one is queued or fetching; the new sync or None."""
    stmt = select(MailAccount).where(MailAccount.id == account_id).with_for_update()
    account = (await session.execute(stmt)).scalar_one_or_none()
    if account is None or account.status == "revoked" or account.kind not in SYNCED_KINDS:
        return None
    running = await repository.running_sync(session, account.id)
    if running is not None:
        stale = (
            running.status == "queued"
            and as_utc(running.created_at) < now - timedelta(seconds=expires) - STALE_MARGIN
        )
        if not stale:
            return None
        fail(running, "This scheduled sync waited in the queue past its expiry and never ran.")
    sync = MailSync(
        id=uuid.uuid4(), owner_id=account.owner_id, account_id=account.id, status="queued", problems=[]
    )
    session.add(sync)
    await session.flush()
    after_commit(session, lambda: send(sync.id, expires))
    return sync


async def schedule_syncs(
    factory: async_sessionmaker[AsyncSession], send: Send, every_minutes: float, now: datetime | None = None
) -> dict[str, int]:
    """The beat job: one transaction per account, so one locked account never holds up the rest."""
    now = now or utcnow()
    async with session_scope(factory) as session:
        ids = await accounts(session)
    queued = 0
    for account_id in ids:
        async with session_scope(factory) as session:
            queued += await queue_one(session, account_id, send, expires_s(every_minutes), now) is not None
    return {"accounts": len(ids), "queued": queued}
