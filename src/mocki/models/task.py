"""Task bookkeeping: completed-run markers (idempotency keys) and dead letters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mocki.models.base import Base, IdMixin, UTCDateTime


class TaskRun(Base):
    """A task run whose effects committed: written in the same transaction as those effects, so a
    re-run (a redelivery after a worker died) finds it and does nothing twice."""

    __tablename__ = "task_runs"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    task: Mapped[str] = mapped_column(String(100))
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class DeadLetter(IdMixin, Base):
    """A task that will not run again by itself: retries exhausted, a permanent error, a hard time
    limit, too many worker losses, or expired in the queue. An administrator may send it again."""

    __tablename__ = "dead_letters"

    task_id: Mapped[str] = mapped_column(String(64), index=True)
    task_name: Mapped[str] = mapped_column(String(100))
    queue: Mapped[str] = mapped_column(String(32))
    args: Mapped[list[Any]] = mapped_column(JSON, default=list)
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(String(16))  # failed | timeout | worker_lost | expired
    error_type: Mapped[str] = mapped_column(String(200), default="")
    error: Mapped[str] = mapped_column(String(2000), default="")
    traceback: Mapped[str] = mapped_column(Text, default="")
    retries: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | retried
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    retried_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    retried_task_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
