"""What the admin api returns and accepts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mocki.models import DeadLetter


class QueueOut(BaseModel):
    queue: str  # the pool: cpu | io
    lane: str  # high | normal
    depth: int  # messages waiting


class QueuesOut(BaseModel):
    lanes: str  # how the high lane is kept: priority | queues | off
    high_tiers: list[str]
    queues: list[QueueOut]
    unacked: int  # messages held by workers, running or reserved


class WorkerOut(BaseModel):
    name: str
    queues: list[str]
    pool: str
    concurrency: int
    active: int  # tasks running now
    processed: int  # tasks run since the worker started


class WorkersOut(BaseModel):
    workers: list[WorkerOut]


class DeadLetterOut(BaseModel):
    id: uuid.UUID
    task_id: str
    task_name: str
    queue: str
    # The task's arguments, as it was sent.
    task_args: list[Any]
    task_kwargs: dict[str, Any]
    reason: str
    error_type: str
    error: str
    traceback: str
    retries: int
    status: str
    created_at: datetime
    retried_at: datetime | None
    retried_task_id: str | None

    @classmethod
    def of(cls, row: DeadLetter) -> DeadLetterOut:
        fields = {name: getattr(row, name) for name in cls.model_fields if hasattr(row, name)}
        return cls(**fields, task_args=list(row.args), task_kwargs=dict(row.kwargs))


class DeadLetterPage(BaseModel):
    items: list[DeadLetterOut]
    total: int


class AdminUserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    email: str
    name: str
    role: str
    tier: str
    is_active: bool
    created_at: datetime


class UserPage(BaseModel):
    items: list[AdminUserOut]
    total: int
    tiers: list[str]  # the tiers an administrator may give


class TierIn(BaseModel):
    tier: str = Field(min_length=1, max_length=32)


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    at: datetime
    actor_id: uuid.UUID | None
    action: str
    target_type: str | None
    target_id: str | None
    ip: str | None
    meta: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    total: int
