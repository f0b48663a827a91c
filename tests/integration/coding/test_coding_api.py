"""The coding API over HTTP, running real submissions in the real sandbox (real processes)."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from mocki.app import API_PREFIX
from mocki.coding import service
from mocki.coding.schemas import MAX_CODE_CHARS
from mocki.sandbox import builtin_problems, get_problem
from tests.conftest import register
from tests.integration.sandbox.solutions import JAVASCRIPT, PYTHON

API = f"{API_PREFIX}/coding/problems"
REFERENCE = {"python": PYTHON, "javascript": JAVASCRIPT}


def _slow_two_sum(seconds: float) -> str:
    """Passes two-sum's tests after sleeping: long enough that requests sent together overlap."""
    return f"import time\ntime.sleep({seconds})\n" + PYTHON["two-sum"]


def _run_url(problem_id: str) -> str:
    return f"{API}/{problem_id}/run"


async def _run(
    client: httpx.AsyncClient, auth: dict[str, str], problem_id: str, **body: Any
) -> httpx.Response:
    return await client.post(_run_url(problem_id), json=body, headers=auth)


def _hidden_values(problem_id: str) -> list[str]:
    """JSON texts of the hidden tests' arguments that no visible test shares."""
    problem = get_problem(problem_id)
    shown = {json.dumps(arg) for case in problem.visible for arg in case.args}
    found = {json.dumps(arg) for case in problem.hidden for arg in case.args} - shown
    assert found, f"{problem_id} has no hidden argument of its own to look for"
    return sorted(found)


def _assert_no_hidden_values(problem_id: str, text: str) -> None:
    # Lists as their inner text, so a leak formatted another way ("[1,2]" vs "[1, 2]") is still caught.
    for value in _hidden_values(problem_id):
        needle = value.strip("[]").replace(" ", "")
        if len(needle) >= 4:
            assert needle not in text.replace(" ", ""), (problem_id, value)


# ---------------------------------------------------------------- problems


async def test_problems_are_listed_without_their_hidden_tests(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    resp = await client.get(API, headers=auth)
    assert resp.status_code == 200, resp.text
    listed = {p["id"]: p for p in resp.json()}
    assert listed.keys() == builtin_problems().keys()
    for problem_id, shown in listed.items():
        problem = get_problem(problem_id)
        assert shown["examples"] == [{"args": c.args, "expected": c.expected} for c in problem.visible]
        assert shown["hidden_tests"] == len(problem.hidden)
        assert "hidden" not in shown
        _assert_no_hidden_values(problem_id, json.dumps(shown))

    two_sum = listed["two-sum"]
    assert two_sum["title"] == "Two sum" and two_sum["difficulty"] == "easy"
    assert two_sum["languages"] == ["python", "javascript"]
    assert two_sum["function"] == {"python": "two_sum", "javascript": "twoSum"}
    assert two_sum["starter"]["python"].startswith("def two_sum(nums, target):")
    assert two_sum["starter"]["javascript"].startswith("function twoSum(nums, target)")

    one = await client.get(f"{API}/two-sum", headers=auth)
    assert one.status_code == 200 and one.json() == two_sum


async def test_an_unknown_problem_is_404(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    for resp in (
        await client.get(f"{API}/no-such-problem", headers=auth),
        await _run(client, auth, "no-such-problem", language="python", code=PYTHON["two-sum"]),
    ):
        assert resp.status_code == 404, resp.text
        error = resp.json()["error"]
        assert error["code"] == "not_found" and "no-such-problem" in error["message"]


async def test_every_coding_endpoint_needs_a_token(client: httpx.AsyncClient) -> None:
    for method, url in (("GET", API), ("GET", f"{API}/two-sum"), ("POST", _run_url("two-sum"))):
        resp = await client.request(method, url, json={"language": "python", "code": PYTHON["two-sum"]})
        assert resp.status_code == 401, (method, url, resp.text)
        assert resp.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"language": "ruby", "code": "def two_sum(a, b): pass"}, "language: Input should be 'python' or"),
        ({"language": "python", "code": ""}, "code: Value error, the code is empty"),
        ({"language": "python", "code": " \n\t"}, "code: Value error, the code is empty"),
        ({"language": "python"}, "code: Field required"),
        (
            {"language": "python", "code": "x = 1\n" * (MAX_CODE_CHARS // 6 + 1)},
            f"code: String should have at most {MAX_CODE_CHARS} characters",
        ),
        ({"language": "python", "code": "x = 1", "limits": {"cpu_s": 60}}, "limits: Extra inputs"),
        ({"language": "python", "code": "x = '\x00'"}, "the code contains a NUL character"),
    ],
)
async def test_bad_runs_are_422_with_a_message(
    client: httpx.AsyncClient, auth: dict[str, str], body: dict[str, Any], message: str
) -> None:
    resp = await _run(client, auth, "two-sum", **body)
    assert resp.status_code == 422, resp.text
    assert message in resp.json()["error"]["message"]


# ---------------------------------------------------------------- runs


@pytest.mark.parametrize("language", ["python", "javascript"])
@pytest.mark.parametrize("problem_id", ["two-sum", "group-anagrams"])
async def test_correct_solutions_pass_every_test(
    client: httpx.AsyncClient, auth: dict[str, str], language: str, problem_id: str
) -> None:
    resp = await _run(client, auth, problem_id, language=language, code=REFERENCE[language][problem_id])
    assert resp.status_code == 200, resp.text
    result = resp.json()
    problem = get_problem(problem_id)
    total = len(problem.visible) + len(problem.hidden)
    assert (result["verdict"], result["message"]) == ("passed", f"All {total} tests passed.")
    assert (result["passed"], result["total"]) == (total, total)
    assert (result["language"], result["problem_id"]) == (language, problem_id)
    assert [t["hidden"] for t in result["tests"]] == [False] * len(problem.visible) + [True] * len(
        problem.hidden
    )
    # The sandbox's own diagnostics (uids, exit codes, resource use) are not the candidate's.
    assert "runs" not in result and "uid" not in resp.text


async def test_visible_only_runs_skip_the_hidden_tests(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    resp = await _run(client, auth, "two-sum", language="python", code=PYTHON["two-sum"], hidden=False)
    assert resp.status_code == 200, resp.text
    result = resp.json()
    assert result["verdict"] == "passed"
    assert result["total"] == len(get_problem("two-sum").visible)
    assert not any(t["hidden"] for t in result["tests"])


async def test_a_wrong_solution_fails_with_detail_for_visible_tests_only(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    code = "def two_sum(nums, target):\n    print('nums', nums)\n    return [0, 1]\n"
    resp = await _run(client, auth, "two-sum", language="python", code=code)
    assert resp.status_code == 200, resp.text
    result = resp.json()
    assert result["verdict"] == "failed"
    visible = [t for t in result["tests"] if not t["hidden"]]
    hidden = [t for t in result["tests"] if t["hidden"]]
    assert [t["status"] for t in visible] == ["failed", "failed", "passed"]
    assert visible[0] | {"time_ms": None} == {
        "index": 0,
        "hidden": False,
        "status": "failed",
        "time_ms": None,
        "args": [[3, 9, 14, 21], 23],
        "expected": [1, 2],
        "actual": [0, 1],
        "error": None,
    }
    assert len(hidden) == len(get_problem("two-sum").hidden)
    assert all(t["args"] is None and t["expected"] is None and t["actual"] is None for t in hidden)
    assert result["stdout"] == "nums [3, 9, 14, 21]\nnums [-4, 8, 1, 5]\nnums [5, 5]\n"
    _assert_no_hidden_values("two-sum", resp.text)


@pytest.mark.parametrize(
    ("language", "code"),
    [
        # Right on every visible test (a lookup), and on any other input it shouts the input out.
        (
            "python",
            "import sys\nSEEN = {(3, 9, 14, 21): [1, 2], (-4, 8, 1, 5): [2, 3], (5, 5): [0, 1]}\n"
            "def two_sum(nums, target):\n"
            "    if tuple(nums) in SEEN:\n        return SEEN[tuple(nums)]\n"
            "    print(nums)\n    print(nums, file=sys.stderr)\n"
            "    raise ValueError(f'input {nums} {target}')\n",
        ),
        (
            "javascript",
            'const SEEN = {"3,9,14,21": [1, 2], "-4,8,1,5": [2, 3], "5,5": [0, 1]};\n'
            "function twoSum(nums, target) {\n"
            "  if (String(nums) in SEEN) return SEEN[String(nums)];\n"
            "  console.log(nums); console.error(nums);\n"
            "  throw new Error(`input ${JSON.stringify(nums)} ${target}`);\n}\n",
        ),
    ],
)
async def test_hidden_inputs_never_leak(
    client: httpx.AsyncClient, auth: dict[str, str], language: str, code: str
) -> None:
    resp = await _run(client, auth, "two-sum", language=language, code=code)
    assert resp.status_code == 200, resp.text
    result = resp.json()
    assert result["verdict"] == "error"
    assert result["message"].endswith("first a hidden test.")
    assert [t["status"] for t in result["tests"] if not t["hidden"]] == ["passed"] * 3
    hidden = [t for t in result["tests"] if t["hidden"]]
    assert hidden and {t["status"] for t in hidden} == {"error"}
    assert all(t["error"] is None and t["args"] is None for t in hidden)
    _assert_no_hidden_values("two-sum", resp.text)


@pytest.mark.slow
async def test_an_infinite_loop_times_out(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    code = "def two_sum(nums, target):\n    while True:\n        pass\n"
    resp = await _run(client, auth, "two-sum", language="python", code=code)
    assert resp.status_code == 200, resp.text
    result = resp.json()
    assert result["verdict"] == "timeout", result["message"]
    assert result["message"].startswith("Time limit exceeded")
    # A run that did not get through the visible tests never starts the hidden ones.
    assert {t["status"] for t in result["tests"] if t["hidden"]} == {"not_run"}


async def _user_id(client: httpx.AsyncClient, auth: dict[str, str]) -> uuid.UUID:
    resp = await client.get(f"{API_PREFIX}/users/me", headers=auth)
    assert resp.status_code == 200, resp.text
    return uuid.UUID(resp.json()["id"])


@pytest.mark.slow
async def test_a_user_has_at_most_two_runs_in_flight(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    other = await register(client)
    body = {"language": "python", "code": _slow_two_sum(2), "hidden": False}
    responses = await asyncio.gather(
        *(client.post(_run_url("two-sum"), json=body, headers=auth) for _ in range(3)),
        client.post(_run_url("two-sum"), json=body, headers=other),
    )
    mine, theirs = responses[:3], responses[3]
    assert sorted(r.status_code for r in mine) == [200, 200, 429], [r.text for r in mine]
    refused = next(r for r in mine if r.status_code == 429).json()["error"]
    assert refused["code"] == "too_many_runs"
    assert refused["message"].startswith("You already have 2 runs in progress (at most 2 at a time)")
    assert all(r.json()["verdict"] == "passed" for r in mine if r.status_code == 200)
    # The cap is per user: someone else's run went through meanwhile.
    assert theirs.status_code == 200 and theirs.json()["verdict"] == "passed"
    # Finished runs give their places back.
    assert service.runs_in_flight.count(await _user_id(client, auth)) == 0
    again = await _run(client, auth, "two-sum", language="python", code=PYTHON["two-sum"], hidden=False)
    assert again.status_code == 200, again.text


async def test_a_run_holds_no_database_connection(
    app: FastAPI, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    """Queued and running runs must not keep pooled connections from every other request."""
    user_id = await _user_id(client, auth)
    body = {"language": "python", "code": _slow_two_sum(1), "hidden": False}
    request = asyncio.ensure_future(client.post(_run_url("two-sum"), json=body, headers=auth))
    pool = app.state.engine.pool
    seen_in_flight = seen_no_connection = False
    # Until the run ends: at some moment while it is in flight, no connection may be checked out
    # (the vector-sync loop takes one now and then, so one moment is all we can ask for).
    while not request.done():
        if service.runs_in_flight.count(user_id) == 1:
            seen_in_flight = True
            seen_no_connection = seen_no_connection or pool.checkedout() == 0
        await asyncio.sleep(0.01)
    resp = await request
    assert resp.status_code == 200 and resp.json()["verdict"] == "passed", resp.text
    assert seen_in_flight and seen_no_connection
