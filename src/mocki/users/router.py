"""The signed-in user's own account."""

from __future__ import annotations

from fastapi import APIRouter

from mocki.auth.deps import CurrentUser
from mocki.users.schemas import UserOut

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/me", response_model=UserOut)
async def me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user)
