"""Verdict rules over what sandboxed processes reported: comparison, limits, hidden-test secrecy."""

from __future__ import annotations

import signal
from typing import Any

import pytest

from mocki.sandbox.judge import PhaseOutcome, build_result, case_results, matches, stop_verdict
from mocki.sandbox.schemas import Case, Limits, Problem

LIMITS = Limits(cpu_s=2, wall_s=4, memory_mb=128)
OUT_OF_MEMORY = ("memory_limit", "Memory limit exceeded: more than 128 MB.")


def _problem(**kw: Any) -> Problem:
    base: dict[str, Any] = {
        "id": "add-two",
        "title": "Add two",
        "difficulty": "easy",
        "statement": "Return the sum of a and b.",
        "function": {"python": "add", "javascript": "add"},
        "starter": {"python": "def add(a, b):\n    pass\n", "javascript": "function add(a, b) {}\n"},
        "visible": [{"args": [1, 2], "expected": 3}, {"args": [2, 2], "expected": 4}],
        "hidden": [{"args": [40, 2], "expected": 42}],
    }
    return Problem.model_validate(base | kw)


def _outcome(phase: str, cases: list[Case], values: list[Any] | None = None, **kw: Any) -> PhaseOutcome:
    outcome = PhaseOutcome(phase=phase, cases=cases, uid=1_000_000_001, **kw)  # type: ignore[arg-type]
    if values is not None:
        outcome.results = {i: {"i": i, "ok": True, "value": v, "ms": 0.1} for i, v in enumerate(values)}
        outcome.done = True
        outcome.status = {"exit_code": 0, "signal": None, "cpu_s": 0.02, "max_rss_kb": 9000}
    return outcome


# ---------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("expected", "actual", "same"),
    [
        (3, 3, True),
        (3, 3.0, True),  # a Python `/` that lands on a whole number is still the number
        (True, 1, False),  # but a bool is not a number
        (False, 0, False),
        (0.1 + 0.2, 0.3, True),
        ([1, [2, 3]], [1, [2, 3]], True),
        ([1, 2], [2, 1], False),
        ({"a": 1}, {"a": 1.0}, True),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ("1", 1, False),
        (None, None, True),
        (None, [], False),
    ],
)
def test_exact_comparison(expected: Any, actual: Any, same: bool) -> None:
    assert matches(expected, actual, "exact") is same


def test_unordered_ignores_the_order_of_the_outer_list_only() -> None:
    assert matches([[1, 2], [3, 4]], [[3, 4], [1, 2]], "unordered")
    assert not matches([[1, 2], [3, 4]], [[4, 3], [1, 2]], "unordered")
    assert not matches([1, 2], [1, 2, 2], "unordered")
    assert not matches([1], 1, "unordered")


def test_unordered_nested_ignores_the_order_inside_groups_too() -> None:
    expected = [["eat", "tea"], ["bat"]]
    assert matches(expected, [["bat"], ["tea", "eat"]], "unordered_nested")
    assert not matches(expected, [["bat"], ["tea"], ["eat"]], "unordered_nested")
    assert not matches(expected, ["bat", ["tea", "eat"]], "unordered_nested")


# ---------------------------------------------------------------- verdicts of one process


def test_limits_are_reported_in_order_of_severity() -> None:
    cases = [Case(args=[1], expected=1)]
    both = _outcome("visible", cases, output_exceeded=True, timed_out=True)
    assert stop_verdict(both, LIMITS, "python") == (
        "output_limit",
        "Output limit exceeded: more than 1048576 bytes.",
    )
    wall = _outcome("visible", cases, timed_out=True)
    assert stop_verdict(wall, LIMITS, "python") == (
        "timeout",
        "Time limit exceeded: still running after 4 s.",
    )


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        ({"signal": signal.SIGXCPU, "cpu_s": 2.0}, "timeout"),
        ({"signal": signal.SIGKILL, "cpu_s": 3.0}, "timeout"),  # ignored SIGXCPU: the hard limit
        ({"signal": signal.SIGKILL, "cpu_s": 0.1}, "killed"),
        ({"signal": signal.SIGSEGV, "cpu_s": 0.1, "max_rss_kb": 2000}, "killed"),
        ({"signal": signal.SIGSEGV, "cpu_s": 0.4, "max_rss_kb": 127 * 1024}, "memory_limit"),
        ({"exit_code": 3, "signal": None}, "error"),
    ],
)
def test_how_an_unfinished_process_ended_decides(status: dict[str, Any], verdict: str) -> None:
    outcome = _outcome("visible", [Case(args=[1], expected=1)], status=status)
    stopped = stop_verdict(outcome, LIMITS, "python")
    assert stopped is not None and stopped[0] == verdict


def test_memory_errors_of_either_runtime_are_memory_limit() -> None:
    cases = [Case(args=[1], expected=1)]
    for err in (
        {"type": "MemoryError", "message": ""},
        {"type": "OSError", "message": "[Errno 12] Cannot allocate memory"},
        {"type": "RangeError", "message": "Array buffer allocation failed"},
    ):
        outcome = _outcome("visible", cases, values=[1])
        outcome.results[0] = {"i": 0, "ok": False, "error": err}
        assert stop_verdict(outcome, LIMITS, "python") == OUT_OF_MEMORY
    node = _outcome("visible", cases, status={"signal": signal.SIGABRT, "max_rss_kb": 1})
    node.fatal = {"JavaScript heap out of memory"}
    assert stop_verdict(node, LIMITS, "javascript") == OUT_OF_MEMORY


def test_a_load_error_names_its_line() -> None:
    outcome = _outcome("visible", [Case(args=[1], expected=1)], status={"exit_code": 0})
    outcome.load_error = {"type": "SyntaxError", "message": "expected ':'", "line": 3}
    assert stop_verdict(outcome, LIMITS, "python") == ("error", "SyntaxError: expected ':' (line 3)")


def test_an_early_done_without_every_result_is_not_finished() -> None:
    cases = [Case(args=[1], expected=1), Case(args=[2], expected=2)]
    outcome = _outcome("visible", cases, values=[1])
    outcome.status = {"exit_code": 0, "signal": None}
    assert outcome.done and not outcome.finished
    stopped = stop_verdict(outcome, LIMITS, "python")
    assert stopped == ("error", "The program exited (code 0) before the tests finished.")


# ---------------------------------------------------------------- results and the whole submission


def test_visible_results_show_the_test_and_hidden_ones_only_a_status() -> None:
    problem = _problem()
    visible = _outcome("visible", list(problem.visible), values=[3, 5])
    hidden = _outcome("hidden", list(problem.hidden))
    error = {"type": "ValueError", "message": "40, 2"}
    hidden.results = {0: {"i": 0, "ok": False, "ms": 0.2, "error": error}}
    hidden.done, hidden.status = True, {"exit_code": 0, "signal": None}
    shown = case_results(visible, "exact")
    assert [(r.status, r.args, r.expected, r.actual) for r in shown] == [
        ("passed", [1, 2], 3, 3),
        ("failed", [2, 2], 4, 5),
    ]
    (secret,) = case_results(hidden, "exact", offset=2)
    assert secret.model_dump() == {
        "index": 2,
        "hidden": True,
        "status": "error",
        "time_ms": 0.2,
        "args": None,
        "expected": None,
        "actual": None,
        "error": None,
    }


def test_submission_verdict_is_the_worst_phase_and_hidden_details_stay_hidden() -> None:
    problem = _problem()
    visible = _outcome("visible", list(problem.visible), values=[3, 4], stdout="hello\n")
    hidden = _outcome("hidden", list(problem.hidden), status={"signal": signal.SIGKILL, "cpu_s": 0.1})
    hidden.stdout = "40 2\n"
    result = build_result(problem, "python", LIMITS, [visible, hidden])
    assert (result.verdict, result.message) == ("killed", "The program was killed during the hidden tests.")
    assert (result.passed, result.total) == (2, 3)
    assert [t.status for t in result.tests] == ["passed", "passed", "not_run"]
    assert result.stdout == "hello\n"  # the hidden run's output is never shown
    assert [r.phase for r in result.runs] == ["visible", "hidden"]


def test_failures_are_counted_over_both_phases() -> None:
    problem = _problem()
    visible = _outcome("visible", list(problem.visible), values=[3, 0])
    hidden = _outcome("hidden", list(problem.hidden), values=[0])
    result = build_result(problem, "javascript", LIMITS, [visible, hidden])
    assert (result.verdict, result.message, result.passed) == ("failed", "2 of 3 tests failed.", 1)


def test_hidden_tests_not_run_after_a_visible_stop() -> None:
    problem = _problem()
    visible = _outcome("visible", list(problem.visible), timed_out=True)
    result = build_result(problem, "python", LIMITS, [visible], list(problem.hidden))
    assert result.verdict == "timeout"
    assert [(t.index, t.hidden, t.status) for t in result.tests] == [
        (0, False, "not_run"),
        (1, False, "not_run"),
        (2, True, "not_run"),
    ]


def test_all_passing_is_passed() -> None:
    problem = _problem()
    visible = _outcome("visible", list(problem.visible), values=[3, 4.0])
    hidden = _outcome("hidden", list(problem.hidden), values=[42])
    result = build_result(problem, "python", LIMITS, [visible, hidden])
    assert (result.verdict, result.message, result.passed, result.total) == (
        "passed",
        "All 3 tests passed.",
        3,
        3,
    )
