"""HTTP endpoints of the questions domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/questions", tags=["questions"])
