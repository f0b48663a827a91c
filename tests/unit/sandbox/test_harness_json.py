"""The Python harness's own JSON writer agrees with the json module the api reads it with."""

from __future__ import annotations

import enum
import json
from typing import Any

import pytest

from mocki.sandbox.harness_python import MAX_DEPTH, Encoded, _encode_value, _json


class Colour(enum.IntEnum):
    RED = 1


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -17,
        2**80,
        1.5,
        -0.0,
        1e300,
        "",
        'quote " backslash \\ tab \t newline \n bell \x07',
        "naïve ☃ 😀",
        "lone \ud800 surrogate",
        [1, [2, [3, []]]],
        (1, "two"),
        {"a": {"b": [None, True]}},
        {1: "one", 2.5: "x", False: "f", None: "n"},
        Colour.RED,
    ],
)
def test_written_json_reads_back_as_the_json_module_writes_it(value: Any) -> None:
    assert json.loads(_json(value)) == json.loads(json.dumps(value))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({1, 2}, "Object of type set is not JSON serializable"),
        (float("nan"), "Out of range float values are not JSON compliant: nan"),
        ({(1, 2): 3}, "keys must be str, int, float, bool or None, not tuple"),
    ],
)
def test_what_json_cannot_hold_is_an_error(value: Any, message: str) -> None:
    outcome = _encode_value(value)
    assert outcome == {
        "ok": False,
        "error": {"type": "TypeError", "message": f"return value: {message}", "line": None},
    }


def test_deep_or_circular_values_are_refused() -> None:
    deep: list[Any] = []
    for _ in range(MAX_DEPTH + 5):
        deep = [deep]
    loop: list[Any] = []
    loop.append(loop)
    for value in (deep, loop):
        error = _encode_value(value)["error"]
        assert error["message"] == f"return value: nested deeper than {MAX_DEPTH} levels"


def test_a_value_is_encoded_once_and_embedded_as_is() -> None:
    outcome = _encode_value([1, "x"])
    assert outcome["ok"] and isinstance(outcome["value"], Encoded)
    assert json.loads(_json({"i": 0, **outcome})) == {"i": 0, "ok": True, "value": [1, "x"]}
