"""Public view of a user."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    email: str
    name: str
    role: str
    tier: str
    created_at: datetime


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class DeleteAccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Required for accounts with a password; Firebase-only accounts need a sign-in of the last 5 min.
    password: str | None = Field(default=None, max_length=256)
