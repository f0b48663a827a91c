"""Turn what the sandboxed processes reported into per-test results and one verdict.

Pure functions over a `PhaseOutcome` (one sandboxed process: the visible or the hidden tests),
so every verdict rule is testable without starting a process.
"""

from __future__ import annotations

import json
import math
import signal
from dataclasses import dataclass, field
from typing import Any

from mocki.sandbox.schemas import (
    Case,
    CaseResult,
    CaseStatus,
    Compare,
    Language,
    Limits,
    Phase,
    Problem,
    RunInfo,
    SandboxResult,
    Verdict,
)

# Worst first: the verdict of a submission is the worst of its phases.
SEVERITY: tuple[Verdict, ...] = (
    "output_limit",
    "memory_limit",
    "timeout",
    "killed",
    "error",
    "failed",
    "passed",
)
_HIDDEN_STOP: dict[Verdict, str] = {
    "output_limit": "Output limit exceeded in the hidden tests.",
    "timeout": "Time limit exceeded in the hidden tests.",
    "memory_limit": "Memory limit exceeded in the hidden tests.",
    "killed": "The program was killed during the hidden tests.",
    "error": "The program failed during the hidden tests.",
}
_CRASHES = (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGTRAP, signal.SIGILL)
# What Node prints on stderr before it aborts for want of memory (the runner watches for these).
FATAL_MARKERS = (
    "JavaScript heap out of memory",
    "Fatal process out of memory",
    "Fatal JavaScript invalid size",
)


@dataclass
class PhaseOutcome:
    """What one sandboxed process left behind: harness lines, its end, and its (capped) output."""

    phase: Phase
    cases: list[Case]
    uid: int
    results: dict[int, dict[str, Any]] = field(default_factory=dict)
    load_error: dict[str, Any] | None = None
    done: bool = False
    timed_out: bool = False
    output_exceeded: bool = False
    status: dict[str, Any] = field(default_factory=dict)
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    fatal: set[str] = field(default_factory=set)  # FATAL_MARKERS seen anywhere on stderr
    wall_ms: float = 0.0

    @property
    def finished(self) -> bool:
        """Every test reported and the harness said so (a forged early `done` does not count)."""
        return self.done and len(self.results) == len(self.cases)

    def run_info(self) -> RunInfo:
        return RunInfo(
            phase=self.phase,
            uid=self.uid,
            exit_code=self.status.get("exit_code"),
            signal=self.status.get("signal"),
            cpu_s=self.status.get("cpu_s"),
            max_rss_kb=self.status.get("max_rss_kb"),
            wall_ms=round(self.wall_ms, 2),
            setup_ms=self.status.get("setup_ms"),
            timed_out=self.timed_out,
            output_exceeded=self.output_exceeded,
        )


# ---------------------------------------------------------------- comparing values


def _normal(value: Any) -> Any:
    """JSON value with whole floats as ints, so 2 and 2.0 compare and sort alike."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    return value


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        if isinstance(expected, int) and isinstance(actual, int):
            return expected == actual
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(expected, list) and isinstance(actual, list):
        pairs = zip(expected, actual, strict=False)
        return len(expected) == len(actual) and all(_same(e, a) for e, a in pairs)
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(_same(expected[k], actual[k]) for k in expected)
    return type(expected) is type(actual) and bool(expected == actual)


def _sorted(values: list[Any]) -> list[Any]:
    return sorted(values, key=lambda v: json.dumps(_normal(v), sort_keys=True))


def matches(expected: Any, actual: Any, compare: Compare) -> bool:
    """Whether a returned value is right: exactly, or as a list in any order (and its lists too)."""
    if compare == "exact":
        return _same(expected, actual)
    if not isinstance(expected, list) or not isinstance(actual, list):
        return False
    if compare == "unordered_nested":
        if not all(isinstance(v, list) for v in actual):
            return False
        expected = [_sorted(v) if isinstance(v, list) else v for v in expected]
        actual = [_sorted(v) for v in actual]
    return _same(_sorted(expected), _sorted(actual))


# ---------------------------------------------------------------- verdicts


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _errors(outcome: PhaseOutcome) -> list[dict[str, Any]]:
    found = [r["error"] for r in outcome.results.values() if isinstance(r.get("error"), dict)]
    return [outcome.load_error, *found] if outcome.load_error else found


def _out_of_memory(outcome: PhaseOutcome, language: Language, limits: Limits) -> bool:
    for err in _errors(outcome):
        kind, message = str(err.get("type")), str(err.get("message"))
        if kind == "MemoryError" or (kind == "RangeError" and "allocation failed" in message):
            return True
        if kind == "OSError" and "Cannot allocate memory" in message:  # mmap past the address-space limit
            return True
    if outcome.finished:
        return False
    if language == "javascript" and outcome.fatal:
        return True
    # A runtime that cannot get memory inside its own allocator aborts or crashes instead of raising.
    rss_kb = outcome.status.get("max_rss_kb") or 0
    return outcome.status.get("signal") in _CRASHES and rss_kb >= 0.9 * limits.memory_mb * 1024


def _cpu_exhausted(outcome: PhaseOutcome, limits: Limits) -> bool:
    sig = outcome.status.get("signal")
    cpu = outcome.status.get("cpu_s") or 0.0
    return sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= limits.cpu_s)


def _error_text(err: dict[str, Any]) -> str:
    line = err.get("line")
    where = f" (line {line})" if isinstance(line, int) else ""
    return f"{err.get('type', 'Error')}: {err.get('message', '')}{where}"


def stop_verdict(outcome: PhaseOutcome, limits: Limits, language: Language) -> tuple[Verdict, str] | None:
    """The verdict of a process that did not simply run every test, with a message; else None."""
    if outcome.output_exceeded:
        return "output_limit", f"Output limit exceeded: more than {limits.output_bytes} bytes."
    if outcome.timed_out:
        return "timeout", f"Time limit exceeded: still running after {limits.wall_s:g} s."
    if _cpu_exhausted(outcome, limits):
        return "timeout", f"Time limit exceeded: more than {limits.cpu_s} s of CPU time."
    if _out_of_memory(outcome, language, limits):
        return "memory_limit", f"Memory limit exceeded: more than {limits.memory_mb} MB."
    if outcome.load_error is not None:
        return "error", _error_text(outcome.load_error)
    if outcome.finished:
        return None
    sig = outcome.status.get("signal")
    if sig is not None:
        return "killed", f"The program was killed by {_signal_name(sig)} before the tests finished."
    code = outcome.status.get("exit_code")
    return "error", f"The program exited (code {code}) before the tests finished."


def _case_result(index: int, case: Case, raw: dict[str, Any] | None, compare: Compare) -> CaseResult:
    def result(status: CaseStatus, **found: Any) -> CaseResult:
        shown = {"args": case.args, "expected": case.expected}
        return CaseResult(index=index, hidden=False, status=status, **shown, **found)

    if raw is None:
        return result("not_run")
    if raw.get("ok"):
        actual = raw.get("value")
        status: CaseStatus = "passed" if matches(case.expected, actual, compare) else "failed"
        return result(status, time_ms=raw.get("ms"), actual=actual)
    error = _error_text(raw["error"]) if isinstance(raw.get("error"), dict) else "Error"
    return result("error", time_ms=raw.get("ms"), error=error)


def case_results(outcome: PhaseOutcome, compare: Compare, offset: int = 0) -> list[CaseResult]:
    """One result per test; hidden ones keep only status and time, so they reveal nothing."""
    out: list[CaseResult] = []
    for i, case in enumerate(outcome.cases):
        item = _case_result(offset + i, case, outcome.results.get(i), compare)
        if outcome.phase == "hidden":
            item = CaseResult(index=item.index, hidden=True, status=item.status, time_ms=item.time_ms)
        out.append(item)
    return out


def _tests_verdict(results: list[CaseResult]) -> tuple[Verdict, str]:
    errors = [r for r in results if r.status == "error"]
    failed = [r for r in results if r.status == "failed"]
    if errors:
        first = errors[0]
        detail = f"test {first.index + 1}: {first.error}" if not first.hidden else "a hidden test"
        return "error", f"{len(errors)} of {len(results)} tests raised an error; first {detail}."
    if failed:
        return "failed", f"{len(failed)} of {len(results)} tests failed."
    return "passed", f"All {len(results)} tests passed."


def build_result(
    problem: Problem,
    language: Language,
    limits: Limits,
    outcomes: list[PhaseOutcome],
    skipped_hidden: list[Case] | None = None,
) -> SandboxResult:
    """Results of all tests, the worst phase's verdict, and the visible run's output excerpts."""
    tests: list[CaseResult] = []
    verdicts: list[tuple[Verdict, str]] = []
    for outcome in outcomes:
        tests.extend(case_results(outcome, problem.compare, offset=len(tests)))
        stopped = stop_verdict(outcome, limits, language)
        if stopped is not None and outcome.phase == "hidden":
            # Details could carry a hidden input out (an exception's text, a chosen signal or exit code).
            stopped = stopped[0], _HIDDEN_STOP[stopped[0]]
        if stopped is not None:
            verdicts.append(stopped)
    for _ in skipped_hidden or []:
        tests.append(CaseResult(index=len(tests), hidden=True, status="not_run"))
    verdicts.append(_tests_verdict(tests))
    verdict, message = min(verdicts, key=lambda v: SEVERITY.index(v[0]))
    visible = outcomes[0]  # always run first; its output is the only output shown
    return SandboxResult(
        verdict=verdict,
        message=message,
        language=language,
        problem_id=problem.id,
        passed=sum(t.status == "passed" for t in tests),
        total=len(tests),
        tests=tests,
        stdout=visible.stdout,
        stderr=visible.stderr,
        stdout_truncated=visible.stdout_truncated,
        stderr_truncated=visible.stderr_truncated,
        runs=[o.run_info() for o in outcomes],
    )
