"""What the coding API shows: problems without their hidden tests, and run results without diagnostics."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mocki.sandbox import CaseResult, Language, Problem, SandboxResult, Verdict
from mocki.sandbox.schemas import LANGUAGES, Compare

# Far above any interview answer; the sandbox's own byte limit (64 KiB) stays the last word.
MAX_CODE_CHARS = 20_000


class ExampleOut(BaseModel):
    """A visible test: the arguments the function is called with and the value it must return."""

    args: list[Any]
    expected: Any


class ProblemOut(BaseModel):
    id: str
    title: str
    difficulty: Literal["easy", "medium", "hard"]
    statement: str
    languages: list[Language]
    # The function to write, by name and as starter code (its signature with an empty body).
    function: dict[Language, str]
    starter: dict[Language, str]
    # "unordered": the returned list may come in any order; "unordered_nested": its lists too.
    compare: Compare
    examples: list[ExampleOut]
    hidden_tests: int = Field(description="How many more tests a run checks; they are never shown.")

    @classmethod
    def of(cls, problem: Problem) -> ProblemOut:
        return cls(
            id=problem.id,
            title=problem.title,
            difficulty=problem.difficulty,
            statement=problem.statement,
            languages=list(LANGUAGES),
            function=dict(problem.function),
            starter=dict(problem.starter),
            compare=problem.compare,
            examples=[ExampleOut(args=case.args, expected=case.expected) for case in problem.visible],
            hidden_tests=len(problem.hidden),
        )


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: Language
    code: str = Field(max_length=MAX_CODE_CHARS)
    hidden: bool = Field(default=True, description="Also run the hidden tests (false: visible ones only).")

    @field_validator("code")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the code is empty")
        return value


def case_out(case: CaseResult) -> CaseResult:
    """The sandbox already blanks a hidden test's details; dropping them here too keeps a change
    there from ever leaking a hidden input through the api."""
    if case.hidden:
        return CaseResult(index=case.index, hidden=True, status=case.status, time_ms=case.time_ms)
    return case


class RunOut(BaseModel):
    """A run's verdict and per-test results, and the visible run's output (cut to its start and end)."""

    verdict: Verdict
    message: str
    language: Language
    problem_id: str
    passed: int
    total: int
    tests: list[CaseResult]
    stdout: str
    stderr: str
    stdout_truncated: bool
    stderr_truncated: bool

    @classmethod
    def of(cls, result: SandboxResult) -> RunOut:
        # Not `result.runs`: uids, exit codes and resource use are for the logs, not the candidate.
        return cls(
            verdict=result.verdict,
            message=result.message,
            language=result.language,
            problem_id=result.problem_id,
            passed=result.passed,
            total=result.total,
            tests=[case_out(case) for case in result.tests],
            stdout=result.stdout,
            stderr=result.stderr,
            stdout_truncated=result.stdout_truncated,
            stderr_truncated=result.stderr_truncated,
        )
