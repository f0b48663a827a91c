"""HTTP endpoints of coding rounds: list the built-in problems, show one, run code against it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from mocki.auth.deps import CurrentUser
from mocki.coding import service
from mocki.coding.schemas import ProblemOut, RunIn, RunOut
from mocki.deps import SessionDep
from mocki.models import User

router = APIRouter(prefix="/coding", tags=["coding"])


async def _user_without_connection(user: CurrentUser, session: SessionDep) -> User:
    """The signed-in caller, with the request's database connection handed back to the pool.

    A run needs no database and may wait for a sandbox slot, then take two phases of up to
    10 s each: runs holding pooled connections that long would starve every other request.
    """
    await session.close()  # nothing was written; `user` stays loaded (detached)
    return user


RunningUser = Annotated[User, Depends(_user_without_connection)]


@router.get("/problems", response_model=list[ProblemOut])
async def list_problems(_: CurrentUser) -> list[ProblemOut]:
    return service.list_problems()


@router.get("/problems/{problem_id}", response_model=ProblemOut)
async def get_problem(problem_id: str, _: CurrentUser) -> ProblemOut:
    return service.get_problem(problem_id)


@router.post(
    "/problems/{problem_id}/run",
    response_model=RunOut,
    responses={
        429: {"description": f"{service.MAX_RUNS_PER_USER} runs of this user are already in flight"},
        503: {"description": "This server cannot run code (the sandbox needs root and unshare)."},
    },
)
async def run_code(problem_id: str, body: RunIn, user: RunningUser) -> RunOut:
    """Run the code against the problem's tests: a wrong answer is a 200 with verdict "failed"."""
    return await service.run(user.id, problem_id, body)
