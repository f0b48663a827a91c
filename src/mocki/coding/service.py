"""Coding problems for the candidate, and runs of their code in the sandbox, a few at a time per user."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from mocki import sandbox
from mocki.coding.schemas import ProblemOut, RunIn, RunOut
from mocki.core.errors import DomainError

log = logging.getLogger(__name__)

# Runs one user may have in flight in this api process (queued for a sandbox slot or running).
# The sandbox itself caps all runs of a process at one per CPU.
MAX_RUNS_PER_USER = 2
RUN_LIMITS = sandbox.Limits()


class TooManyRuns(DomainError):
    status_code = 429
    code = "too_many_runs"


class RunsInFlight:
    """Counts each user's runs in flight. In-process only: several api processes each allow
    MAX_RUNS_PER_USER (the Redis rate limits of issue 8 will share the count)."""

    def __init__(self, per_user: int) -> None:
        self.per_user = per_user
        self._counts: dict[uuid.UUID, int] = {}

    def count(self, user_id: uuid.UUID) -> int:
        return self._counts.get(user_id, 0)

    @contextmanager
    def hold(self, user_id: uuid.UUID) -> Iterator[None]:
        # No await between the check and the increment: the event loop makes the pair atomic.
        held = self.count(user_id)
        if held >= self.per_user:
            raise TooManyRuns(
                f"You already have {held} runs in progress (at most {self.per_user} at a time); "
                "wait for one to finish, then run again."
            )
        self._counts[user_id] = held + 1
        try:
            yield
        finally:
            left = self._counts[user_id] - 1
            if left:
                self._counts[user_id] = left
            else:
                del self._counts[user_id]


runs_in_flight = RunsInFlight(MAX_RUNS_PER_USER)


def list_problems() -> list[ProblemOut]:
    return [ProblemOut.of(problem) for problem in sandbox.builtin_problems().values()]


def get_problem(problem_id: str) -> ProblemOut:
    return ProblemOut.of(sandbox.get_problem(problem_id))


async def run(user_id: uuid.UUID, problem_id: str, body: RunIn) -> RunOut:
    """Run the code against the problem's visible tests and, if asked, its hidden ones."""
    problem = sandbox.get_problem(problem_id)
    with runs_in_flight.hold(user_id):
        result = await sandbox.run_submission(
            body.language, body.code, problem, RUN_LIMITS, include_hidden=body.hidden
        )
    # The per-process diagnostics stay here, for operators: the response leaves them out.
    log.info(
        "coding run user=%s problem=%s language=%s verdict=%s passed=%d/%d runs=%s",
        user_id,
        problem.id,
        body.language,
        result.verdict,
        result.passed,
        result.total,
        [run.model_dump() for run in result.runs],
    )
    return RunOut.of(result)
