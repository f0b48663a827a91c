"""Run a task's async body with its own engine and one unit of work, inside the task's time limits.

Celery enforces time limits only in a prefork pool (by signal); an io worker runs threads, where
nothing would stop a hung model call. So the task base class (tasks/reliability.py) sets the
current task's deadlines here and every async body run through this module is bounded by them:
until the soft limit it ends with `SoftTimeLimitExceeded` (which tasks already handle), and the
clean-up a task does after that has until the hard limit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from mocki.core.db import make_engine, make_sessionmaker, session_scope
from mocki.settings import get_settings

T = TypeVar("T")


@dataclass(frozen=True)
class Deadlines:
    soft: float | None  # time.monotonic() values
    hard: float | None

    def remaining(self, now: float) -> tuple[float | None, bool]:
        """Seconds left and whether they run to the soft limit (else to the hard one, or none)."""
        if self.soft is not None and now < self.soft:
            return self.soft - now, True
        if self.hard is not None:
            return max(self.hard - now, 0.0), False
        return None, False


_deadlines: ContextVar[Deadlines | None] = ContextVar("mocki_task_deadlines", default=None)


@contextmanager
def task_deadlines(soft_s: float | None, hard_s: float | None) -> Iterator[Deadlines]:
    """The limits of the task being run, counted from now (set by the task base class)."""
    now = time.monotonic()
    limits = Deadlines(now + soft_s if soft_s else None, now + hard_s if hard_s else None)
    token = _deadlines.set(limits)
    try:
        yield limits
    finally:
        _deadlines.reset(token)


async def _bounded(body: Awaitable[T]) -> T:
    limits = _deadlines.get()
    if limits is None:
        return await body
    left, soft = limits.remaining(time.monotonic())
    if left is None:
        return await body
    try:
        return await asyncio.wait_for(body, left)
    except TimeoutError:
        if soft:
            raise SoftTimeLimitExceeded("soft time limit reached inside the task") from None
        raise TimeLimitExceeded("hard time limit reached inside the task") from None


def run_async(body: Callable[[], Awaitable[T]]) -> T:
    """`asyncio.run(body())`, stopped at the current task's time limit."""
    return asyncio.run(_bounded(body()))


def run_in_unit_of_work(body: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Each task call gets a fresh event loop, engine and session; the session commits once."""

    async def main() -> T:
        # NullPool: connections must not outlive this call's event loop.
        engine = make_engine(get_settings().resolved_database_url, poolclass=NullPool)
        try:
            async with session_scope(make_sessionmaker(engine)) as session:
                return await body(session)
        finally:
            await engine.dispose()

    return run_async(main)
