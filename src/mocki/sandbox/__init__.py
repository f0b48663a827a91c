"""The code-execution sandbox of the coding interviewer: run a submission against a problem's tests."""

from mocki.sandbox.problems import builtin_problems, get_problem
from mocki.sandbox.runner import SandboxUnavailable, check_available, run_submission
from mocki.sandbox.schemas import CaseResult, Language, Limits, Problem, SandboxResult, Verdict

__all__ = [
    "CaseResult",
    "Language",
    "Limits",
    "Problem",
    "SandboxResult",
    "SandboxUnavailable",
    "Verdict",
    "builtin_problems",
    "check_available",
    "get_problem",
    "run_submission",
]
