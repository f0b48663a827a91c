"""Real submissions through the real sandbox: right, wrong and broken code in Python and JavaScript."""

from __future__ import annotations

import asyncio
import json

import pytest

from mocki.sandbox import Limits, builtin_problems, get_problem, run_submission
from tests.integration.sandbox.leftovers import leftovers
from tests.integration.sandbox.solutions import JAVASCRIPT, PYTHON

REFERENCE = {"python": PYTHON, "javascript": JAVASCRIPT}


@pytest.mark.parametrize("language", ["python", "javascript"])
@pytest.mark.parametrize("problem_id", sorted(builtin_problems()))
async def test_reference_solutions_pass_every_test(problem_id: str, language: str) -> None:
    problem = get_problem(problem_id)
    result = await run_submission(language, REFERENCE[language][problem_id], problem)
    assert (result.verdict, result.message) == ("passed", f"All {result.total} tests passed.")
    assert result.total == len(problem.visible) + len(problem.hidden)
    assert [run.phase for run in result.runs] == ["visible", "hidden"]
    assert not leftovers(result)


async def test_wrong_python_fails_and_shows_only_the_visible_tests() -> None:
    problem = get_problem("two-sum")
    code = "def two_sum(nums, target):\n    print('nums', nums)\n    return [0, 1]\n"
    result = await run_submission("python", code, problem)
    visible = [t for t in result.tests if not t.hidden]
    hidden = [t for t in result.tests if t.hidden]
    assert result.verdict == "failed"
    assert [t.status for t in visible] == ["failed", "failed", "passed"]
    assert all(t.actual == [0, 1] for t in visible)
    assert visible[0].args == [[3, 9, 14, 21], 23] and visible[0].expected == [1, 2]
    assert len(hidden) == len(problem.hidden)
    assert all(t.args is None and t.expected is None and t.actual is None for t in hidden)
    # Printed arguments come back from the visible run only: the hidden inputs stay secret.
    assert result.stdout == "nums [3, 9, 14, 21]\nnums [-4, 8, 1, 5]\nnums [5, 5]\n"
    hidden_args = json.dumps(problem.hidden[0].args[0])[1:-1]
    assert hidden_args not in result.stdout


async def test_wrong_javascript_fails() -> None:
    code = "function isValid(s) { return s.length % 2 === 0; }"
    result = await run_submission("javascript", code, get_problem("valid-parentheses"))
    assert result.verdict == "failed"
    assert 0 < result.passed < result.total
    assert result.message == f"{result.total - result.passed} of {result.total} tests failed."


@pytest.mark.parametrize(
    ("language", "code", "message"),
    [
        ("python", "def climb_stairs(n)\n    return n\n", "SyntaxError: expected ':' (line 1)"),
        ("python", "def climb(n):\n    return n\n", "NameError: the solution must define a function"),
        ("python", "import sys\nsys.exit(0)\n", "SystemExit: 0 (line 2)"),
        ("javascript", "function climbStairs(n) {\n  return n +;\n}\n", "SyntaxError: Unexpected token ';'"),
        ("javascript", "function climb(n) { return n; }", "ReferenceError: the solution must define"),
        ("javascript", "export function climbStairs(n) {}", "SyntaxError: Unexpected token 'export'"),
    ],
)
async def test_code_that_does_not_load_is_an_error_with_its_reason(
    language: str, code: str, message: str
) -> None:
    result = await run_submission(language, code, get_problem("climbing-stairs"))
    assert result.verdict == "error"
    assert result.message.startswith(message)
    assert {t.status for t in result.tests} == {"not_run"}
    assert len(result.runs) == 1  # the hidden tests are not run for code that does not load


@pytest.mark.parametrize(
    ("language", "code", "error"),
    [
        ("python", "def climb_stairs(n):\n    return [1][n]\n", "IndexError: list index out of range"),
        ("python", "def climb_stairs(n):\n    return {n}\n", "TypeError: return value: Object of type set"),
        ("javascript", "function climbStairs(n) {\n  return null.x;\n}", "TypeError: Cannot read properties"),
        ("javascript", "function climbStairs(n) {\n  throw 'nope';\n}", "string: nope"),
    ],
)
async def test_an_exception_in_a_test_is_reported_on_that_test(language: str, code: str, error: str) -> None:
    result = await run_submission(language, code, get_problem("climbing-stairs"))
    assert result.verdict == "error"
    first = result.tests[0]
    assert first.status == "error" and first.error is not None and first.error.startswith(error)
    hidden_errors = [t for t in result.tests if t.hidden and t.status == "error"]
    assert hidden_errors and all(t.error is None for t in hidden_errors)


async def test_hidden_errors_keep_their_message_to_themselves() -> None:
    code = "def climb_stairs(n):\n    raise ValueError(f'the input was {n}')\n"
    result = await run_submission("python", code, get_problem("climbing-stairs"))
    assert result.verdict == "error"
    first = "first test 1: ValueError: the input was 2 (line 2)."
    assert result.message == f"9 of 9 tests raised an error; {first}"
    dumped = result.model_dump_json()
    assert "the input was 70" not in dumped and "the input was 2" in dumped


async def test_commonjs_exports_and_async_functions_work_in_javascript() -> None:
    code = "module.exports = { climbStairs: async (n) => { let a = 1, b = 1; for (let i = 0; i < n; i++) "
    code += "[a, b] = [b, a + b]; return a; } };"
    result = await run_submission("javascript", code, get_problem("climbing-stairs"))
    assert result.verdict == "passed"


async def test_visible_only_runs_one_process() -> None:
    result = await run_submission("python", PYTHON["two-sum"], get_problem("two-sum"), include_hidden=False)
    assert result.verdict == "passed"
    assert result.total == len(get_problem("two-sum").visible)
    assert [run.phase for run in result.runs] == ["visible"]


async def test_submissions_run_side_by_side() -> None:
    problem = get_problem("binary-search")
    results = await asyncio.gather(
        run_submission("python", PYTHON["binary-search"], problem),
        run_submission("javascript", JAVASCRIPT["binary-search"], problem),
        run_submission("python", "def binary_search(nums, target):\n    return -1\n", problem),
    )
    assert [r.verdict for r in results] == ["passed", "passed", "failed"]
    uids = [run.uid for r in results for run in r.runs]
    assert len(set(uids)) == len(uids)  # every process had a uid of its own


@pytest.mark.parametrize(
    ("language", "code", "listing"),
    [
        (
            "python",
            "import marshal, os\ndef two_sum(nums, target):\n"
            "    return [sorted(os.listdir('.')), marshal.loads(open('tests.bin', 'rb').read())]\n",
            ["harness.py", "solution.py", "tests.bin"],
        ),
        (
            "javascript",
            "const fs = require('fs');\nfunction twoSum(nums, target) {\n"
            "  return [fs.readdirSync('.').sort(), JSON.parse(fs.readFileSync('tests.json', 'utf8'))];\n}\n",
            ["harness.js", "solution.cjs", "tests.json"],
        ),
    ],
)
async def test_the_submission_sees_arguments_but_never_expected_values(
    language: str, code: str, listing: list[str]
) -> None:
    problem = get_problem("two-sum")
    result = await run_submission(language, code, problem, include_hidden=False)
    assert result.tests[0].actual == [listing, [case.args for case in problem.visible]]


async def test_forged_result_lines_cannot_pass_a_test() -> None:
    # The harness's nonce is in its argv: a submission can read it and write result lines itself.
    code = (
        "import json, os\n"
        "nonce = open('/proc/self/cmdline').read().split('\\0')[-3]\n"
        "for i in range(20):\n"
        "    line = {'i': i, 'ok': True, 'value': [0, 1]}\n"
        "    os.write(3, (nonce + ' ' + json.dumps(line) + '\\n').encode())\n"
        "os.write(3, (nonce + ' ' + json.dumps({'done': True}) + '\\n').encode())\n"
        "def two_sum(nums, target):\n"
        "    return [0, 1]\n"
    )
    result = await run_submission("python", code, get_problem("two-sum"), Limits())
    # Forged lines can only claim return values, and the expected ones never entered the sandbox.
    assert result.verdict == "failed"
    assert [t.actual for t in result.tests if not t.hidden] == [[0, 1]] * 3
