"""Queues, workers, dead letters and tiers for administrators; the task system is read through
its own modules (Redis for queue depth, Celery's remote control for workers)."""

from __future__ import annotations

import asyncio
from typing import Any

from celery import Celery
from redis.asyncio import Redis
from redis.exceptions import RedisError

from mocki.admin.schemas import QueueOut, QueuesOut, WorkerOut
from mocki.core.errors import Unavailable
from mocki.settings import Settings
from mocki.tasks.monitoring import UNACKED_KEY, queue_keys
from mocki.tasks.names import BASE_QUEUES

# Workers that do not answer within this long are left out of the list.
INSPECT_TIMEOUT_S = 1.0


async def queues(redis: Redis[bytes], settings: Settings) -> QueuesOut:
    prefix = settings.tasks.key_prefix
    plan = [(pool, lane, keys) for pool in BASE_QUEUES for lane, keys in queue_keys(pool, prefix).items()]
    try:
        async with redis.pipeline(transaction=False) as pipe:
            for _, _, keys in plan:
                for key in keys:
                    pipe.llen(key)
            pipe.hlen(prefix + UNACKED_KEY)
            lengths = await pipe.execute()
    except RedisError as exc:
        raise Unavailable(
            f"The task broker (Redis) is unreachable: {exc}", code="broker_unavailable"
        ) from exc
    rows, at = [], 0
    for pool, lane, keys in plan:
        rows.append(QueueOut(queue=pool, lane=lane, depth=sum(int(n) for n in lengths[at : at + len(keys)])))
        at += len(keys)
    return QueuesOut(
        lanes=settings.tasks.lanes,
        high_tiers=list(settings.tasks.high_tiers),
        queues=rows,
        unacked=int(lengths[-1]),
    )


def _ask(celery: Celery, method: str) -> dict[str, Any]:
    replies = getattr(celery.control.inspect(timeout=INSPECT_TIMEOUT_S), method)()
    return dict(replies or {})


async def workers(celery: Celery) -> list[WorkerOut]:
    """Every worker that answers within a second, with its queues, pool and load."""
    stats, queues_of, active = await asyncio.gather(
        *(asyncio.to_thread(_ask, celery, method) for method in ("stats", "active_queues", "active"))
    )
    found = []
    for name in sorted(set(stats) | set(queues_of)):
        info = stats.get(name) or {}
        pool = info.get("pool") or {}
        found.append(
            WorkerOut(
                name=name,
                queues=sorted(q.get("name", "") for q in queues_of.get(name) or []),
                pool=_pool_name(str(pool.get("implementation", ""))),
                concurrency=int(pool.get("max-concurrency") or 0),
                active=len(active.get(name) or []),
                processed=sum(int(n) for n in (info.get("total") or {}).values()),
            )
        )
    return found


def _pool_name(implementation: str) -> str:
    """ "celery.concurrency.prefork:TaskPool" -> "prefork"."""
    return implementation.split(":", 1)[0].rsplit(".", 1)[-1]
