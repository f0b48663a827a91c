"""The built-in coding problems (package data `problems.json`), validated once and looked up by id."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import TypeAdapter

from mocki.core.errors import NotFound
from mocki.sandbox.schemas import Problem

PROBLEMS_PATH = Path(__file__).resolve().parent / "problems.json"


@lru_cache(maxsize=1)
def builtin_problems() -> dict[str, Problem]:
    problems = TypeAdapter(list[Problem]).validate_json(PROBLEMS_PATH.read_bytes())
    by_id = {p.id: p for p in problems}
    if len(by_id) != len(problems):
        raise ValueError(f"{PROBLEMS_PATH} repeats a problem id")
    return by_id


def get_problem(problem_id: str) -> Problem:
    try:
        return builtin_problems()[problem_id]
    except KeyError:
        raise NotFound(f"no built-in coding problem {problem_id!r}") from None
