"""The audit log: who did which sensitive thing, when, from where."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from mocki.core.timeutil import utcnow
from mocki.models.base import Base, IdMixin, UTCDateTime


class AuditEntry(IdMixin, Base):
    """One sensitive action. `actor_id` has no foreign key on purpose: the entry outlives a deleted
    account (its address and details are then wiped, the action and time stay)."""

    __tablename__ = "audit_log"

    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    target_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
