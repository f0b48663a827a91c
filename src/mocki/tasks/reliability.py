"""No lost work: the base class of every MOCKI task, and idempotency markers.

- A message is acknowledged only after its task ran (`acks_late`); when the process running it
  dies, the message goes back to the queue (`reject_on_worker_lost`), and a message still held by
  a vanished worker is handed out again after the visibility timeout (tasks/celery_app.py).
- A redelivered message counts its deliveries in Redis: one whose worker died `max_deliveries`
  times (a task that kills its process) is dead-lettered instead of killing the next one.
- Transient errors (database, Redis or model endpoint unreachable) are retried with exponential
  backoff and full jitter; anything else, exhausted retries and hard time limits write a dead
  letter (tasks/deadletters.py) that an administrator can send again.
- Time limits hold inside the task too, even in a thread pool (tasks/runtime.py).
- `run_once` writes a completed-run marker in the task's own transaction, so a re-run of the same
  key finds it and does nothing twice.
"""

from __future__ import annotations

import logging
import os
import traceback as tb
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import redis
import sqlalchemy.exc
from celery import Task, current_task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from sqlalchemy.ext.asyncio import AsyncSession

from mocki.core.timeutil import utcnow
from mocki.llm.base import LLMError
from mocki.models import TaskRun
from mocki.settings import TaskSettings, get_settings
from mocki.tasks import deadletters
from mocki.tasks.runtime import run_in_unit_of_work, task_deadlines

log = logging.getLogger(__name__)
T = TypeVar("T")


class TransientError(Exception):
    """Raised by a task for a failure worth trying again later (it is retried with backoff)."""


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientError,
    ConnectionError,
    TimeoutError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    LLMError,
)
DELIVERY_KEY = "mocki:task:deliveries:{task_id}:{retries}"
DELIVERY_TTL_S = 24 * 3600


class ReliableTask(Task):  # type: ignore[misc]  # celery ships no type hints
    """Every task's base class (the app's `task_cls`); tasks/celery_app.py sets the numbers."""

    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = TRANSIENT_ERRORS
    retry_backoff: int | bool = 2
    retry_backoff_max = 300
    retry_jitter = True
    max_retries: int | None = 5
    max_deliveries = 3

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        request = self.request
        if not (request.called_directly or request.is_eager):
            deliveries = _count_delivery(str(request.id), int(request.retries or 0))
            if deliveries > self.max_deliveries:
                self._dead_letter(
                    "worker_lost",
                    f"its worker died {deliveries - 1} times while running it; not run again",
                    args,
                    kwargs,
                )
                return None
        hard, soft = request.timelimit or (None, None)
        with task_deadlines(soft or self.soft_time_limit, hard or self.time_limit):
            return super().__call__(*args, **kwargs)

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        reason = "timeout" if isinstance(exc, (TimeLimitExceeded, SoftTimeLimitExceeded)) else "failed"
        trace = str(getattr(einfo, "traceback", "") or "".join(tb.format_exception(exc)))
        self._dead_letter(reason, exc, args, kwargs, trace=trace, task_id=task_id)

    def _dead_letter(
        self,
        reason: str,
        error: BaseException | str,
        args: Any,
        kwargs: Any,
        *,
        trace: str = "",
        task_id: str | None = None,
    ) -> None:
        info = self.request.delivery_info or {}
        letter = deadletters.Letter(
            task_id=task_id or str(self.request.id),
            task_name=self.name,
            queue=str(info.get("routing_key") or self.queue or ""),
            args=list(args or []),
            kwargs=dict(kwargs or {}),
            reason=reason,
            error_type=type(error).__name__ if isinstance(error, BaseException) else "WorkerLost",
            error=str(error),
            traceback=trace,
            retries=int(self.request.retries or 0),
        )
        save_letter(letter)


def will_retry(exc: BaseException) -> bool:
    """Whether the running task is retried for `exc`: a transient error with retries left.

    A task that turns every failure into a status the user can see calls this first, so a
    database or model blip is retried with backoff and only the last attempt records the failure.
    """
    task = current_task
    if not task or task.request.called_directly or not isinstance(exc, TRANSIENT_ERRORS):
        return False
    limit = task.max_retries
    return limit is None or int(task.request.retries or 0) < limit


def save_letter(letter: deadletters.Letter) -> None:
    """Write a dead letter from a worker; when even that fails, the log keeps everything."""
    try:
        run_in_unit_of_work(lambda session: deadletters.record(session, letter))
        log.error("dead letter: %s[%s] %s: %s", letter.task_name, letter.task_id, letter.reason, letter.error)
    except Exception:
        log.exception(
            "could not write the dead letter of %s[%s]: %r", letter.task_name, letter.task_id, letter
        )


def configure(task_cls: type[ReliableTask], settings: TaskSettings) -> type[ReliableTask]:
    """A subclass carrying this deployment's retry and delivery numbers."""
    numbers = {
        "retry_backoff": settings.retry_backoff_s,
        "retry_backoff_max": settings.retry_backoff_max_s,
        "max_retries": settings.max_retries,
        "max_deliveries": settings.max_deliveries,
        "__module__": __name__,
    }
    return type("MockiTask", (task_cls,), numbers)


# ---------------------------------------------------------------------------- deliveries

_redis: tuple[int, redis.Redis[bytes]] | None = None


def _client() -> redis.Redis[bytes]:
    # One client per process: prefork children must not share their parent's sockets.
    global _redis
    if _redis is None or _redis[0] != os.getpid():
        _redis = (os.getpid(), redis.Redis.from_url(get_settings().resolved_redis_url))
    return _redis[1]


def _count_delivery(task_id: str, retries: int) -> int:
    """How many times this message (this attempt of the task) has been handed to a worker."""
    key = DELIVERY_KEY.format(task_id=task_id, retries=retries)
    try:
        pipe = _client().pipeline()
        pipe.incr(key)
        pipe.expire(key, DELIVERY_TTL_S)
        count, _ = pipe.execute()
        return int(count)
    except redis.exceptions.RedisError:
        log.warning("could not count deliveries of %s; running it", task_id)
        return 1


# ---------------------------------------------------------------------------- idempotency


@dataclass(frozen=True)
class Once(Generic[T]):
    ran: bool  # False: an earlier run of the same key had committed; nothing was done
    value: T | None = None


def current_key() -> str:
    """The default idempotency key: the task's name and id (a redelivery keeps its id)."""
    task = current_task
    if not task or task.request.id is None:
        raise RuntimeError("run_once needs an explicit key outside a task")
    return f"{task.name}:{task.request.id}"


def run_once(body: Callable[[AsyncSession], Awaitable[T]], key: str | None = None) -> Once[T]:
    """Run `body` in one unit of work together with the key's completed-run marker.

    The marker commits with the body's effects or not at all: a re-run of a committed key does
    nothing, a re-run of one that died half-way starts from scratch, and two runs at once cannot
    both commit (the second meets the first one's marker, or its primary key)."""
    run_key = key or current_key()
    task_name = run_key.split(":", 1)[0][:100]

    async def guarded(session: AsyncSession) -> Once[T]:
        if await session.get(TaskRun, run_key) is not None:
            return Once(ran=False)
        value = await body(session)
        session.add(TaskRun(key=run_key, task=task_name, finished_at=utcnow()))
        await session.flush()
        return Once(ran=True, value=value)

    try:
        return run_in_unit_of_work(guarded)
    except sqlalchemy.exc.IntegrityError:
        log.info("task run %s was completed by a concurrent run", run_key)
        return Once(ran=False)
