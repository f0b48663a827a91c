"""What goes into the code sandbox (a problem, limits) and what comes out (per-test results, a verdict)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mocki.sandbox.complexity import parse_big_o

Language = Literal["python", "javascript"]
LANGUAGES: tuple[Language, ...] = ("python", "javascript")
Verdict = Literal["passed", "failed", "error", "timeout", "memory_limit", "output_limit", "killed"]
CaseStatus = Literal["passed", "failed", "error", "not_run"]
Compare = Literal["exact", "unordered", "unordered_nested"]
Phase = Literal["visible", "hidden"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_PROBLEM_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$")
HINTS = 3


class Limits(BaseModel):
    """Per-run limits; each phase (visible tests, hidden tests) is one run with these limits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cpu_s: int = Field(default=5, ge=1, le=60)
    wall_s: float = Field(default=10.0, gt=0, le=120)
    memory_mb: int = Field(default=256, ge=32, le=4096)
    # Threads count too (RLIMIT_NPROC is per task): Node needs about 7 of its own.
    processes: int = Field(default=16, ge=8, le=256)
    # stdout + stderr together; past this the run is killed and reported as output_limit.
    output_bytes: int = Field(default=1 << 20, ge=1024, le=64 << 20)
    # How much of stdout and of stderr the result keeps (half from the start, half from the end).
    excerpt_bytes: int = Field(default=4096, ge=256, le=1 << 20)
    disk_mb: int = Field(default=8, ge=1, le=256)
    open_files: int = Field(default=64, ge=32, le=1024)
    code_bytes: int = Field(default=64 << 10, ge=1024, le=1 << 20)


class Case(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    args: list[Any]
    expected: Any


class Problem(BaseModel):
    """A coding problem: the function to write in each language, and its visible and hidden tests.

    Expected values never enter the sandbox: the submission's return values come out and are
    compared here, so no output the candidate forges can turn a wrong answer into a pass.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    title: str = Field(min_length=1, max_length=120)
    difficulty: Literal["easy", "medium", "hard"]
    statement: str = Field(min_length=10, max_length=4000)
    function: dict[Language, str]
    starter: dict[Language, str]
    compare: Compare = "exact"
    visible: list[Case] = Field(min_length=1, max_length=50)
    hidden: list[Case] = Field(default_factory=list, max_length=200)
    # Graded hints for the coding interviewer: a nudge, a direction, then nearly the approach.
    hints: list[str] = Field(default_factory=list)
    # The best known time complexity, e.g. "O(n log n)"; the interviewer asks for better code above it.
    complexity: str | None = Field(default=None, max_length=40)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _PROBLEM_ID.fullmatch(value):
            raise ValueError("id must be 2-64 characters of a-z, 0-9 and '-'")
        return value

    @field_validator("hints")
    @classmethod
    def _three_hints(cls, value: list[str]) -> list[str]:
        if value and (len(value) != HINTS or not all(h.strip() for h in value)):
            raise ValueError(
                f"hints must be none or exactly {HINTS} non-empty texts, from a nudge to nearly the approach"
            )
        return value

    @field_validator("complexity")
    @classmethod
    def _big_o(cls, value: str | None) -> str | None:
        if value is not None and parse_big_o(value) is None:
            raise ValueError(f"complexity must be big-O notation such as 'O(n log n)', got {value!r}")
        return value

    @model_validator(mode="after")
    def _every_language(self) -> Problem:
        for lang in LANGUAGES:
            name = self.function.get(lang)
            if name is None or not _IDENTIFIER.fullmatch(name):
                raise ValueError(f"function name for {lang} must be an identifier, got {name!r}")
            if name not in self.starter.get(lang, ""):
                raise ValueError(f"starter code for {lang} must define {name}")
        return self


class CaseResult(BaseModel):
    """One test. Hidden tests carry only their status and time: never input, output or error text."""

    index: int
    hidden: bool
    status: CaseStatus
    time_ms: float | None = None
    args: list[Any] | None = None
    expected: Any = None
    actual: Any = None
    error: str | None = None


class RunInfo(BaseModel):
    """How one sandboxed process ended: for logs and operators, not for the candidate."""

    phase: Phase
    uid: int
    exit_code: int | None
    signal: int | None
    cpu_s: float | None
    max_rss_kb: int | None
    wall_ms: float
    setup_ms: float | None
    timed_out: bool
    output_exceeded: bool


class SandboxResult(BaseModel):
    verdict: Verdict
    message: str
    language: Language
    problem_id: str
    passed: int
    total: int
    tests: list[CaseResult]
    # From the visible-tests run only: the hidden run's output is never shown.
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    runs: list[RunInfo] = Field(default_factory=list)
