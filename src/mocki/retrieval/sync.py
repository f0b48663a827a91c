"""Replaying the `vector_sync` outbox into the vector store.

The database is the truth; the store is an index of it. For every source named in the outbox,
the replay deletes the source's points and upserts its current pairs, so replays are idempotent
and their order does not matter. In the embedded default the api process owns the qdrant-edge
shard and runs the replay loop; with a Qdrant server every api process may run it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import undefer

from mocki.core.db import session_scope
from mocki.models import QAPair, VectorSync
from mocki.retrieval.indexing import from_bytes
from mocki.retrieval.store import PUBLIC_OWNER, VectorPoint, VectorStore

log = logging.getLogger(__name__)

BATCH = 200


def _point(pair: QAPair) -> VectorPoint:
    return VectorPoint(
        id=str(pair.id),
        query=from_bytes(pair.query_vec),
        answer=from_bytes(pair.answer_vec),
        owner=str(pair.owner_id) if pair.owner_id is not None else PUBLIC_OWNER,
        kind=pair.kind,
        source=str(pair.source_id),
    )


async def _sync_source(session: AsyncSession, store: VectorStore, source_id: uuid.UUID) -> int:
    rows = await session.scalars(
        select(QAPair)
        .where(QAPair.source_id == source_id)
        .options(undefer(QAPair.query_vec), undefer(QAPair.answer_vec))
    )
    points = [_point(p) for p in rows]
    await asyncio.to_thread(store.delete_source, str(source_id))
    if points:
        await asyncio.to_thread(store.upsert, points)
    return len(points)


async def apply_pending(factory: async_sessionmaker[AsyncSession], store: VectorStore) -> int:
    """Replay up to BATCH outbox rows; returns how many were consumed (0: nothing pending)."""
    async with session_scope(factory) as session:
        rows = (
            await session.execute(
                select(VectorSync.id, VectorSync.source_id).order_by(VectorSync.id).limit(BATCH)
            )
        ).all()
        if not rows:
            return 0
        last = rows[-1][0]
        for source_id in dict.fromkeys(r[1] for r in rows):
            await _sync_source(session, store, source_id)
        # Rows added meanwhile have higher ids and are replayed next time.
        await session.execute(delete(VectorSync).where(VectorSync.id <= last))
    return len(rows)


async def pending_count(factory: async_sessionmaker[AsyncSession]) -> int:
    async with session_scope(factory) as session:
        return int(await session.scalar(select(func.count()).select_from(VectorSync)) or 0)


async def rebuild(factory: async_sessionmaker[AsyncSession], store: VectorStore) -> int:
    """Every source again, from the database (after losing the store or changing engines)."""
    async with session_scope(factory) as session:
        sources = list((await session.scalars(select(QAPair.source_id).distinct())).all())
        count = 0
        for source_id in sources:
            count += await _sync_source(session, store, source_id)
        return count


class VectorSyncer:
    """Background replay loop: drains the outbox, then polls it every `interval_s`."""

    def __init__(
        self, factory: async_sessionmaker[AsyncSession], store: VectorStore, *, interval_s: float = 0.5
    ) -> None:
        self.factory, self.store, self.interval_s = factory, store, interval_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="vector-sync")

    def poke(self) -> None:
        """Replay now (e.g. this process just deleted a document)."""
        self._wake.set()

    async def drain(self) -> None:
        while await apply_pending(self.factory, self.store):
            pass

    async def _run(self) -> None:
        while True:
            try:
                await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database or store is briefly unavailable: try again
                log.exception("vector sync failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval_s)
            self._wake.clear()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
