"""The built-in problem set is valid and complete, and a problem's definition is checked."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from mocki.core.errors import NotFound
from mocki.sandbox.problems import builtin_problems, get_problem
from mocki.sandbox.schemas import Problem


def test_the_builtin_set_has_classic_problems_with_visible_and_hidden_tests() -> None:
    problems = builtin_problems()
    assert 6 <= len(problems) <= 10
    assert {"two-sum", "valid-parentheses", "merge-intervals"} <= set(problems)
    for problem in problems.values():
        assert problem.visible and len(problem.hidden) >= 4, problem.id


def test_unknown_problem_is_not_found() -> None:
    assert get_problem("two-sum").function == {"python": "two_sum", "javascript": "twoSum"}
    with pytest.raises(NotFound, match="no built-in coding problem 'nope'"):
        get_problem("nope")


def _definition(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "p1",
        "title": "P",
        "difficulty": "easy",
        "statement": "Return one more than n.",
        "function": {"python": "inc", "javascript": "inc"},
        "starter": {"python": "def inc(n):\n    pass\n", "javascript": "function inc(n) {}\n"},
        "visible": [{"args": [1], "expected": 2}],
    }
    return base | kw


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"function": {"python": "inc;import os", "javascript": "inc"}}, "must be an identifier"),
        ({"function": {"python": "inc"}}, "function name for javascript"),
        ({"starter": {"python": "def other(n): pass", "javascript": "function inc() {}"}}, "must define inc"),
        ({"id": "Two Sum"}, "id must be"),
        ({"visible": []}, "at least 1 item"),
    ],
)
def test_a_bad_problem_is_refused(change: dict[str, Any], message: str) -> None:
    assert Problem.model_validate(_definition()).id == "p1"
    with pytest.raises(ValidationError, match=message):
        Problem.model_validate(_definition(**change))
