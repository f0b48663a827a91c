"""HTTP endpoints of the interviews domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/interviews", tags=["interviews"])
