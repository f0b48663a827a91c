"""Deleting an account for real: every row, vector point, cache entry and counter of the user.

Rows go by the foreign keys' ON DELETE CASCADE from `users` (documents and their chunks and pairs,
browser upload keys (also deleted explicitly first), interviews with turns and reports, questions,
mail accounts, emails, applications, todos, reminders, job postings, refresh tokens, interview
participants); the model-call log keeps its
token counts with the user set to NULL. Before that:
- mail accounts are revoked through the tracker (Gmail grants are revoked at Google);
- every vector source of the user is written to the `vector_sync` outbox in the same
  transaction, so the replay deletes the points once the pairs are gone (the same path as deleting
  one document);
- the user's audit entries lose their address and details; one entry records the deletion.
After the commit, Redis keys naming the user (read cache, LLM answer cache of the user's scope,
rate-limit counters) are deleted and the read cache is invalidated in every process.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mocki.auth.passwords import verify_password
from mocki.cache import families, invalidate_on_commit
from mocki.core.db import after_commit, after_commit_async
from mocki.core.errors import Forbidden, NotFound
from mocki.core.timeutil import utcnow
from mocki.documents import service as documents
from mocki.models import Document
from mocki.retrieval import indexing
from mocki.retrieval.sync import VectorSyncer
from mocki.security import audit
from mocki.settings import Settings
from mocki.tracker import service as tracker
from mocki.users import repository

log = logging.getLogger(__name__)

# Without a password (Firebase-only accounts) the sign-in itself must be this recent.
RECENT_LOGIN_S = 300
SCAN_BATCH = 1000


async def delete_account(
    session: AsyncSession,
    settings: Settings,
    user_id: uuid.UUID,
    *,
    password: str | None,
    token_issued_at: int | None,
    redis_clients: Iterable[Redis[bytes]] = (),
    vector_sync: VectorSyncer | None = None,
) -> dict[str, int]:
    """Delete the account after re-checking the password (or a sign-in of the last 5 minutes).
    Returns what was removed, by kind, for the audit entry and the response."""
    user = await repository.get(session, user_id)
    if user is None:
        raise NotFound("User not found.")
    _confirm(user.password_hash, password, token_issued_at)
    # Lock order: the user's documents before anything that locks the user row. An indexing task
    # locks its document first and then takes a key-share lock on the user (its pairs' foreign
    # key); the cascade from `users` taken first would wait on that document while the task waits
    # on the user: a deadlock. Locked here first, the task waits until this transaction ends.
    await session.execute(
        select(Document.id).where(Document.owner_id == user.id).order_by(Document.id).with_for_update()
    )

    mail_accounts = await tracker.list_accounts(session, user.id)
    for account in mail_accounts:
        try:
            await tracker.revoke_account(session, settings, user.id, account.id)
        except Exception as exc:  # a provider that cannot be reached must not keep the data alive
            log.warning("mail account %s not revoked at its provider: %s", account.id, exc)
    sources = await indexing.forget_owner(session, user.id)
    upload_keys = await documents.forget_upload_keys(session, user.id)
    await audit.forget_actor(session, user.id)
    entry = audit.record(
        session,
        user.id,
        audit.ACCOUNT_DELETED,
        target_type="user",
        target_id=user.id,
        meta={"mail_accounts": len(mail_accounts), "vector_sources": sources, "upload_keys": upload_keys},
    )
    entry.ip = None  # the address is personal data too; the entry keeps only the id and counts
    await repository.revoke_all(session, user.id, utcnow())
    await session.delete(user)
    await session.flush()

    invalidate_on_commit(session, families.USER.name, user.id)
    invalidate_on_commit(session, families.INTERVIEWS.name, user.id)
    invalidate_on_commit(session, families.PROGRESS.name, user.id)
    families.applications_changed(session, user.id)
    clients = list(redis_clients)

    async def purge() -> None:
        await purge_redis(clients, user_id)

    after_commit_async(session, purge)
    if vector_sync is not None:
        after_commit(session, vector_sync.poke)
    return {"mail_accounts": len(mail_accounts), "vector_sources": sources}


def _confirm(password_hash: str | None, password: str | None, token_issued_at: int | None) -> None:
    if password_hash is not None:
        if not password or not verify_password(password, password_hash):
            raise Forbidden(
                "Confirm with your current password to delete the account.", code="password_mismatch"
            )
        return
    fresh = token_issued_at is not None and utcnow().timestamp() - token_issued_at <= RECENT_LOGIN_S
    if not fresh:
        raise Forbidden(
            "Sign in again (within the last 5 minutes) to delete this account.", code="recent_login_required"
        )


async def purge_redis(clients: Iterable[Redis[bytes]], user_id: uuid.UUID) -> int:
    """Delete every key whose name holds the user's id (either spelling). A SCAN walks the whole
    keyspace once per client; account deletion is rare enough for that. Returns keys deleted."""
    deleted = 0
    for redis in clients:
        for pattern in (f"*{user_id}*", f"*{user_id.hex}*"):
            try:
                batch: list[bytes] = []
                async for key in redis.scan_iter(match=pattern, count=SCAN_BATCH):
                    batch.append(key)
                    if len(batch) >= SCAN_BATCH:
                        deleted += int(await redis.delete(*batch))
                        batch = []
                if batch:
                    deleted += int(await redis.delete(*batch))
            except (RedisError, OSError) as exc:
                # The entries expire on their own (TTLs); the rows, the truth, are already gone.
                log.warning("Redis keys of a deleted account not purged: %s", exc)
    return deleted
