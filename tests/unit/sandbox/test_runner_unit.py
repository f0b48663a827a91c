"""The runner's pure parts: what enters the sandbox, how output is capped, how results are read."""

from __future__ import annotations

import json
import marshal

import pytest

from mocki.core.errors import Invalid
from mocki.sandbox import runner
from mocki.sandbox.judge import PhaseOutcome
from mocki.sandbox.problems import get_problem
from mocki.sandbox.schemas import Case, Limits

LAYOUT = runner.HostLayout(
    unshare="/usr/bin/unshare",
    python="/opt/py/bin/python3.11",
    node="/usr/bin/node",
    symlinks={"bin": "usr/bin"},
    binds=("/usr", "/opt/py"),
    hide=("/opt/py/lib/python3.11/site-packages",),
)
FDS = {"stdout": 11, "stderr": 12, "result": 13, "status": 14}


def test_expected_values_never_enter_the_sandbox() -> None:
    problem = get_problem("two-sum")
    cases = list(problem.hidden)
    spec = runner._spec(LAYOUT, "python", "x = 1", "two_sum", cases, Limits(), 1_000_000_007, "n" * 32, FDS)
    # The files are the fixed harness, the code and the arguments: nothing else goes in.
    assert set(spec["files"]) == {"harness.py", "solution.py", "tests.bin"}
    assert marshal.loads(spec["files"]["tests.bin"]) == [c.args for c in cases]
    assert spec["files"]["harness.py"] == (runner.HERE / "harness_python.py").read_text()
    assert spec["argv"][:5] == ["/opt/py/bin/python3.11", "-I", "-S", "-B", "-u"]
    assert (spec["uid"], spec["gid"]) == (1_000_000_007, 1_000_000_007)
    assert (spec["stdout_fd"], spec["stderr_fd"], spec["result_fd"]) == (11, 12, 13)


def test_javascript_gets_its_heap_limit_and_an_export_footer() -> None:
    cases, limits = [Case(args=[], expected=0)], Limits(memory_mb=200)
    spec = runner._spec(LAYOUT, "javascript", "function f() {}", "f", cases, limits, 5, "n", FDS)
    assert spec["argv"][:2] == ["/usr/bin/node", "--max-old-space-size=200"]
    assert set(spec["files"]) == {"harness.js", "solution.cjs", "tests.json"}
    assert json.loads(spec["files"]["tests.json"]) == [[]]
    assert spec["files"]["solution.cjs"].startswith("function f() {}\n")
    assert "module.exports" in spec["files"]["solution.cjs"]
    limits = spec["limits"]
    assert limits["data_bytes"] == [(200 + runner.NODE_RUNTIME_MB) << 20] * 2
    assert limits["cpu_s"] == [5, 6]  # soft then hard: SIGXCPU first, SIGKILL a second later
    assert limits["nproc"] == [16, 16] and limits["core"] == [0, 0]


def test_capture_keeps_head_and_tail_and_says_what_it_cut() -> None:
    capture = runner._Capture(keep=10)
    for chunk in (b"abc", b"defghij", b"klmnopqrst", b"uvwxyz"):
        capture.add(chunk)
    assert capture.truncated and capture.total == 26
    assert capture.text() == "abcde\n… [16 bytes cut] …\nvwxyz"
    small = runner._Capture(keep=10)
    small.add(b"hi\n")
    assert (small.text(), small.truncated) == ("hi\n", False)


def test_capture_sees_a_watched_phrase_even_across_chunks_and_in_the_cut_part() -> None:
    capture = runner._Capture(keep=8, watch=("heap out of memory",))
    for chunk in (b"x" * 100, b"FATAL: JavaScript heap out of", b" memory\n", b"y" * 100):
        capture.add(chunk)
    assert capture.seen == {"heap out of memory"}
    assert "memory" not in capture.text()


def test_budget_fires_once_when_spent() -> None:
    calls: list[int] = []
    budget = runner._Budget(10, lambda: calls.append(1))
    for _ in range(4):
        budget.spend(4)
    assert budget.exceeded and calls == [1]


def test_only_lines_with_the_nonce_count_and_the_first_per_test_wins() -> None:
    outcome = PhaseOutcome(phase="visible", cases=[Case(args=[1], expected=1)] * 2, uid=1)
    raw = b"\n".join(
        [
            b'{"i": 0, "ok": true, "value": 1}',  # no nonce: the submission wrote this itself
            b'nonce {"i": 0, "ok": true, "value": 7}',
            b'nonce {"i": 0, "ok": true, "value": 1}',
            b'nonce {"i": 5, "ok": true, "value": 1}',  # no such test
            b"nonce not json",
            b'nonce {"i": 1, "ok": false, "error": {"type": "KeyError", "message": "x", "line": 2}}',
            b'nonce {"done": true}',
        ]
    )
    runner._parse_results(raw, "nonce", outcome)
    assert outcome.results[0]["value"] == 7
    assert outcome.results[1]["error"]["type"] == "KeyError"
    assert set(outcome.results) == {0, 1} and outcome.finished


def test_status_is_the_launchers_last_line() -> None:
    assert runner._parse_status(b"1234\n{'exit_code': 0, 'signal': None}") == {"exit_code": 0, "signal": None}
    assert runner._parse_status(b"1234\n") == {}
    with pytest.raises(runner.SandboxUnavailable, match="could not be set up: mount /tmp"):
        runner._parse_status(b"1234\n{'setup_error': 'mount /tmp: Operation not permitted'}")


@pytest.mark.parametrize(
    ("language", "code", "message"),
    [
        ("ruby", "x", "language must be one of python, javascript, got 'ruby'"),
        ("python", "x" * 2000, "the code is 2000 bytes; at most 1024"),
        ("python", "a\x00b", "the code contains a NUL character"),
        ("javascript", "s = '\ud800'", "the code is not valid text (it holds a lone surrogate)"),
    ],
)
def test_submissions_are_checked_before_anything_runs(language: str, code: str, message: str) -> None:
    with pytest.raises(Invalid) as info:
        runner._validate(language, code, Limits(code_bytes=1024))
    assert info.value.message == message


def test_without_root_the_sandbox_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner.os, "geteuid", lambda: 1000)
    with pytest.raises(runner.SandboxUnavailable, match="needs root"):
        runner.check_available()
