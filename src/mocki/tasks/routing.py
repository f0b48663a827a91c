"""One way to send a task: its pool from its name, its lane from the user's tier or urgency,
`expires` on every message, and (given a session) only after the database commit.

Lanes (settings.tasks.lanes; `mocki bench priority` measured both ways, within 2 ms of each other):
- "queues" (the default, slightly ahead in both runs): the high lane is its own queue,
  `cpu.high` / `io.high`, which every worker of the pool also consumes, listed first
  (tasks/celery_app.py).
- "priority": one queue per pool; the high lane is Redis message priority 0, the normal lane 6,
  and a worker always takes the lowest number first.
- "off": everything on the normal lane.

A follow-up sent while a task runs (chunking → pair building) keeps that task's lane when the
sender does not know the user's tier, so urgent work stays urgent down its chain.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any

from celery import Celery, current_task
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

from mocki.core.db import after_commit
from mocki.models import User
from mocki.tasks.names import (
    HIGH_SUFFIX,
    PRIORITY_HIGH,
    PRIORITY_NORMAL,
    TASK_QUEUES,
    Lane,
    high_queue,
)

DEFAULT_LANES = "queues"
DEFAULT_HIGH_TIERS: tuple[str, ...] = ("vip",)


def lane_for(
    tier: str | None, *, urgent: bool = False, high_tiers: Collection[str] = DEFAULT_HIGH_TIERS
) -> Lane:
    return "high" if urgent or (tier is not None and tier in high_tiers) else "normal"


def delivery(lanes: str, queue: str, lane: Lane) -> dict[str, Any]:
    """The queue and priority a message of this pool and lane is sent with."""
    high = lane == "high" and lanes != "off"
    if lanes == "queues":
        return {"queue": high_queue(queue) if high else queue, "priority": PRIORITY_NORMAL}
    return {"queue": queue, "priority": PRIORITY_HIGH if high else PRIORITY_NORMAL}


def lane_of_message(delivery_info: dict[str, Any] | None) -> Lane | None:
    """The lane a received message came on (None when it does not say)."""
    if not delivery_info:
        return None
    if str(delivery_info.get("routing_key") or "").endswith(HIGH_SUFFIX):
        return "high"
    priority = delivery_info.get("priority")
    if priority is None:
        return None
    return "high" if int(priority) == PRIORITY_HIGH else "normal"


def current_lane() -> Lane | None:
    """The lane of the task this process is running, if any."""
    task = current_task
    if not task or task.request.id is None:
        return None
    return lane_of_message(task.request.delivery_info)


def send(
    celery: Celery,
    name: str,
    args: Sequence[Any],
    *,
    expires: float,
    kwargs: dict[str, Any] | None = None,
    tier: str | None = None,
    urgent: bool = False,
    queue: str | None = None,
    task_id: str | None = None,
) -> str:
    """Send now; returns the task id. `queue` names the pool for tasks not in TASK_QUEUES."""
    pool = queue or TASK_QUEUES[name]
    high_tiers = celery.conf.get("mocki_high_tiers") or DEFAULT_HIGH_TIERS
    lanes = str(celery.conf.get("mocki_lanes") or DEFAULT_LANES)
    lane: Lane = lane_for(tier, urgent=urgent, high_tiers=high_tiers)
    if tier is None and not urgent:
        lane = current_lane() or "normal"
    task_id = task_id or str(uuid.uuid4())
    celery.send_task(
        name,
        args=list(args),
        kwargs=kwargs or {},
        expires=expires,
        task_id=task_id,
        **delivery(lanes, pool, lane),
    )
    return task_id


def tier_in_session(session: AsyncSession, user_id: uuid.UUID | None) -> str | None:
    """The tier of a user this session has loaded (a request's signed-in user always is); no query."""
    if user_id is None:
        return None
    user = session.sync_session.identity_map.get(identity_key(User, user_id))
    if isinstance(user, User):
        return user.tier
    # The signed-in user comes from the read cache, detached: auth.deps leaves its tier here.
    tiers: dict[uuid.UUID, str] = session.info.get("signed_in_tiers", {})
    return tiers.get(user_id)


def send_after_commit(
    session: AsyncSession,
    celery: Celery,
    name: str,
    args: Sequence[Any],
    *,
    expires: float,
    owner_id: uuid.UUID | None = None,
    kwargs: dict[str, Any] | None = None,
    tier: str | None = None,
    urgent: bool = False,
    queue: str | None = None,
    task_id: str | None = None,
) -> None:
    """Send once this session's transaction has committed, on the lane of the owner's tier."""
    tier = tier or tier_in_session(session, owner_id)
    after_commit(
        session,
        lambda: send(
            celery,
            name,
            args,
            expires=expires,
            kwargs=kwargs,
            tier=tier,
            urgent=urgent,
            queue=queue,
            task_id=task_id,
        ),
    )
