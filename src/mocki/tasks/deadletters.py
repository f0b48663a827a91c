"""Dead letters: tasks that will not run again by themselves, listed for administrators, who may
send one again (a new task id, on the high lane: somebody is waiting for it now)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from celery import Celery
from sqlalchemy.ext.asyncio import AsyncSession

from mocki.core.errors import Conflict, NotFound
from mocki.core.timeutil import utcnow
from mocki.models import DeadLetter
from mocki.tasks import repository, routing
from mocki.tasks.names import base_queue

# A task sent again from the admin view waits at most this long in its queue.
RETRY_EXPIRES_S = 6 * 3600
_TRACEBACK_CHARS = 8000


@dataclass
class Letter:
    task_id: str
    task_name: str
    queue: str
    reason: str  # failed | timeout | worker_lost | expired
    error_type: str = ""
    error: str = ""
    traceback: str = ""
    retries: int = 0
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)


async def record(session: AsyncSession, letter: Letter) -> DeadLetter:
    values = asdict(letter)
    values["error"] = letter.error[:2000]
    values["error_type"] = letter.error_type[:200]
    values["traceback"] = letter.traceback[-_TRACEBACK_CHARS:]
    values["queue"] = letter.queue[:32]
    row = DeadLetter(**values, status="open", created_at=utcnow())
    session.add(row)
    await session.flush()
    return row


async def list_letters(
    session: AsyncSession, *, status: str | None = "open", limit: int = 50, offset: int = 0
) -> tuple[Sequence[DeadLetter], int]:
    return await repository.dead_letters(session, status=status, limit=limit, offset=offset)


async def open_count(session: AsyncSession) -> int:
    return (await repository.count_by_status(session)).get("open", 0)


async def retry(session: AsyncSession, celery: Celery, letter_id: uuid.UUID) -> DeadLetter:
    """Send the task again after this transaction commits; a letter is retried once."""
    letter = await repository.lock_dead_letter(session, letter_id)
    if letter is None:
        raise NotFound("No such failed task.")
    if letter.status != "open":
        raise Conflict("This task was already sent again.", code="already_retried")
    task_id = str(uuid.uuid4())
    routing.send_after_commit(
        session,
        celery,
        letter.task_name,
        letter.args,
        kwargs=letter.kwargs,
        expires=RETRY_EXPIRES_S,
        queue=base_queue(letter.queue) or None,
        task_id=task_id,
        urgent=True,
    )
    letter.status, letter.retried_at, letter.retried_task_id = "retried", utcnow(), task_id
    return letter


async def prune(session: AsyncSession, *, retried_days: int, run_days: int) -> dict[str, int]:
    """Forget letters retried long ago and completed-run markers no redelivery can need any more."""
    now = utcnow()
    return {
        "dead_letters": await repository.delete_retried_before(session, now - timedelta(days=retried_days)),
        "task_runs": await repository.delete_runs_before(session, now - timedelta(days=run_days)),
    }
