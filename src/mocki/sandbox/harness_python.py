"""Runs inside the sandbox as `harness.py`: loads solution.py, calls the function once per test.

Each result goes to fd 3 as one line `<nonce> <json>`, apart from the candidate's stdout and
stderr. Return values go out, never expected ones come in: the api judges. Standard library
only, and only built-in modules at start: it runs under `python -I -S`, and importing `json`
(with `re` and `enum` behind it) took longer than everything else the harness does, so the
arguments come in as marshal (written by the api) and results go out through `_json` below.
"""

from __future__ import annotations

import builtins
import marshal
import os
import sys
import time

# Annotations only: importing typing (and re behind it) would cost every run's start-up.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

RESULT_FD = 3
MAX_LINE = 64 << 10
MAX_DEPTH = 100
SOLUTION = "solution.py"
# Control characters, quote, backslash and lone surrogates escaped; other text stays UTF-8.
_ESCAPES = {i: f"\\u{i:04x}" for i in (*range(0x20), *range(0xD800, 0xE000))}
_ESCAPES |= {ord('"'): '\\"', ord("\\"): "\\\\"}


class Encoded(str):
    """JSON text already encoded, inserted as it is."""


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, int | float):
        return _json(key)  # as the json module does: 1 -> "1", True -> "true", None -> "null"
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _json(value: Any, depth: int = 0) -> str:
    """The JSON of a return value, as `json.dumps` would write it (less ASCII escaping)."""
    if depth > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    if value is None or value is True or value is False:
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, Encoded):
        return value
    if isinstance(value, str):
        return '"' + value.translate(_ESCAPES) + '"'
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
        return float.__repr__(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_json(v, depth + 1) for v in value) + "]"
    if isinstance(value, dict):
        items = (f'"{_key(k).translate(_ESCAPES)}": {_json(v, depth + 1)}' for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _write(nonce: str, payload: dict[str, Any]) -> None:
    data = f"{nonce} {_json(payload)}\n".encode()
    while data:
        data = data[os.write(RESULT_FD, data) :]


def _describe(exc: BaseException) -> dict[str, Any]:
    import traceback  # only on an error: it would cost every run's start-up

    line = None
    if isinstance(exc, SyntaxError) and exc.filename == SOLUTION:
        line = exc.lineno
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == SOLUTION:
            line = frame.lineno
    message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    return {"type": type(exc).__name__, "message": str(message)[:500], "line": line}


def _encode_value(value: Any) -> dict[str, Any]:
    try:
        text = _json(value)
    except (TypeError, ValueError, RecursionError) as exc:
        return {"ok": False, "error": {"type": "TypeError", "message": f"return value: {exc}", "line": None}}
    if len(text) > MAX_LINE:
        message = f"return value is {len(text)} characters of JSON; at most {MAX_LINE}"
        return {"ok": False, "error": {"type": "ValueError", "message": message, "line": None}}
    return {"ok": True, "value": Encoded(text)}


def main() -> None:
    nonce, name = sys.argv[1], sys.argv[2]
    main_pid = os.getpid()
    with open("tests.bin", "rb") as fh:
        tests: list[list[Any]] = marshal.loads(fh.read())
    with open(SOLUTION, encoding="utf-8") as fh:
        source = fh.read()
    namespace: dict[str, Any] = {"__name__": "solution", "__builtins__": builtins}
    try:
        exec(compile(source, SOLUTION, "exec"), namespace)
        function = namespace.get(name)
        if not callable(function):
            raise NameError(f"the solution must define a function named {name}")
    except BaseException as exc:
        if os.getpid() != main_pid:
            os._exit(0)
        _write(nonce, {"load_error": _describe(exc)})
        return
    for index, args in enumerate(tests):
        started = time.perf_counter()
        try:
            outcome = _encode_value(function(*args))
        except BaseException as exc:
            outcome = {"ok": False, "error": _describe(exc)}
        elapsed = round((time.perf_counter() - started) * 1000, 3)
        if os.getpid() != main_pid:
            # A process the submission forked returned into the harness: only the original reports.
            os._exit(0)
        _write(nonce, {"i": index, "ms": elapsed, **outcome})
    _write(nonce, {"done": True})


if __name__ == "__main__":
    main()
    for stream in (sys.stdout, sys.stderr):
        try:  # noqa: SIM105  (contextlib would cost every run's start-up)
            stream.flush()
        except (OSError, ValueError):
            pass  # the submission closed it
    # Leave now: threads or atexit hooks the submission left behind must not hold the run open.
    os._exit(0)
