"""Run a candidate's Python or JavaScript against a problem's tests in a sandboxed process, from asyncio.

Each phase (the visible tests, then the hidden ones) is one process tree started as
`unshare --net --mount --pid --ipc --uts --cgroup --fork --kill-child … launcher.py`: no network,
no host files, its own PIDs, a per-run unprivileged uid with resource limits and a seccomp
filter (see launcher.py). The hidden tests run in a second process whose stdout and stderr are
thrown away, so their inputs can never reach the candidate through the output shown to them;
expected values never enter the sandbox at all (see judge.py).

Output is read with a byte budget; past it, or past the wall time, the namespace's PID 1 (the
launcher, which reports its PID) is killed through a pidfd: the kernel then kills every process
of the run, and `unshare` returns only once they are all gone. Runs in one event loop are
capped at one per CPU.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import json
import marshal
import os
import secrets
import shutil
import signal
import sys
import sysconfig
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from mocki.core.errors import DomainError, Invalid
from mocki.sandbox.judge import FATAL_MARKERS, PhaseOutcome, build_result
from mocki.sandbox.schemas import LANGUAGES, Case, Language, Limits, Phase, Problem, SandboxResult

HERE = Path(__file__).resolve().parent
LAUNCHER = HERE / "launcher.py"
NS_FLAGS = ("--net", "--mount", "--pid", "--ipc", "--uts", "--cgroup", "--fork", "--kill-child")
WORKDIR = "/sandbox"
# Fresh uids far above any real account: RLIMIT_NPROC counts per uid, so each run gets its own.
UID_BASE, UID_SPAN = 1_000_000_000, 1_000_000_000
RESULTS_CAP = 4 << 20
STATUS_CAP = 64 << 10
# Address space beyond the data limit: thread stacks and shared mappings for Python; Node
# reserves about 730 MB of address space before running a line (measured here).
AS_HEADROOM_MB = {"python": 256, "javascript": 1536}
NODE_RUNTIME_MB = 64  # Node's own writable data at start (~48 MB) on top of its heap limit
STACK_BYTES = 8 << 20
REAP_TIMEOUT_S = 30.0
# Appended to solution.cjs so a plain `function twoSum(...) {}` needs no module.exports.
JS_FOOTER = '\n;module.exports = typeof {name} === "undefined" ? module.exports : {{ {name} }};\n'


class SandboxUnavailable(DomainError):
    status_code = 503
    code = "sandbox_unavailable"


@dataclass(frozen=True)
class HostLayout:
    """Where the interpreters live and what of the host the sandbox's root shows (read-only)."""

    unshare: str
    python: str
    node: str | None
    symlinks: dict[str, str]
    binds: tuple[str, ...]
    hide: tuple[str, ...]


def _prefix_of(executable: str) -> str:
    """The install prefix of an interpreter outside /usr, e.g. ~/.pyenv/versions/3.11.7."""
    return str(Path(executable).parent.parent)


@lru_cache(maxsize=1)
def host_layout() -> HostLayout:
    unshare = shutil.which("unshare")
    if unshare is None:
        raise SandboxUnavailable("the code sandbox needs `unshare` (util-linux)")
    python = os.path.realpath(sys.executable)
    node_path = shutil.which("node")
    node = os.path.realpath(node_path) if node_path else None
    symlinks: dict[str, str] = {}
    binds = ["/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = f"/{name}"
        if os.path.islink(path):
            symlinks[name] = os.readlink(path)
        elif os.path.isdir(path):
            binds.append(path)
    for exe in (python, node):
        if exe and not exe.startswith("/usr/") and _prefix_of(exe) not in binds:
            binds.append(_prefix_of(exe))
    if os.path.exists("/etc/ld.so.cache"):
        binds.append("/etc/ld.so.cache")
    # The stdlib is all a submission gets: the interpreter's installed packages stay out of sight.
    site = sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_prefix})["purelib"]
    hide = (site,) if os.path.isdir(site) and any(site.startswith(b + "/") for b in binds) else ()
    clash = [b for b in binds if b == "/tmp" or b.startswith("/tmp/")]
    if clash:
        raise SandboxUnavailable(f"{clash[0]} is under /tmp, where the sandbox mounts its root")
    return HostLayout(unshare, python, node, symlinks, tuple(binds), hide)


def check_available() -> HostLayout:
    """Fail with a clear message when this process cannot build sandboxes (not root, no unshare)."""
    if os.geteuid() != 0:
        raise SandboxUnavailable("the code sandbox needs root (CAP_SYS_ADMIN) to create namespaces")
    return host_layout()


# ---------------------------------------------------------------- what goes in


@lru_cache(maxsize=2)
def _harness(language: Language) -> str:
    name = "harness_python.py" if language == "python" else "harness_node.js"
    return (HERE / name).read_text()


def _argv(layout: HostLayout, language: Language, limits: Limits, nonce: str, function: str) -> list[str]:
    if language == "python":
        return [layout.python, "-I", "-S", "-B", "-u", f"{WORKDIR}/harness.py", nonce, function]
    if layout.node is None:
        raise SandboxUnavailable("JavaScript submissions need Node.js (`node` on PATH)")
    heap = f"--max-old-space-size={limits.memory_mb}"
    return [layout.node, heap, f"{WORKDIR}/harness.js", nonce, function]


def _rlimits(language: Language, limits: Limits) -> dict[str, list[int]]:
    data_mb = limits.memory_mb + (NODE_RUNTIME_MB if language == "javascript" else 0)
    fixed = {
        "data_bytes": data_mb << 20,
        "as_bytes": (data_mb + AS_HEADROOM_MB[language]) << 20,
        "nproc": limits.processes,
        "nofile": limits.open_files,
        "fsize_bytes": limits.disk_mb << 20,
        "stack_bytes": STACK_BYTES,
        "core": 0,
        "memlock": 0,
        "msgqueue": 0,
    }
    # SIGXCPU at the soft limit ends the run; SIGKILL a second later if the program catches it.
    return {"cpu_s": [limits.cpu_s, limits.cpu_s + 1], **{k: [v, v] for k, v in fixed.items()}}


def _files(language: Language, code: str, function: str, cases: list[Case]) -> dict[str, str | bytes]:
    """The harness, the code and the arguments (never the expected values) for the work dir."""
    args = [case.args for case in cases]
    if language == "python":
        # marshal: the harness would spend longer importing json than running the tests.
        return {"harness.py": _harness(language), "solution.py": code, "tests.bin": marshal.dumps(args)}
    return {
        "harness.js": _harness(language),
        "solution.cjs": code + JS_FOOTER.format(name=function),
        "tests.json": json.dumps(args),
    }


def _spec(
    layout: HostLayout,
    language: Language,
    code: str,
    function: str,
    cases: list[Case],
    limits: Limits,
    uid: int,
    nonce: str,
    fds: dict[str, int],
) -> dict[str, Any]:
    return {
        "uid": uid,
        "gid": uid,
        "symlinks": layout.symlinks,
        "binds": list(layout.binds),
        "hide": list(layout.hide),
        "disk_bytes": limits.disk_mb << 20,
        "disk_inodes": 1024,
        "files": _files(language, code, function, cases),
        "limits": _rlimits(language, limits),
        "argv": _argv(layout, language, limits, nonce, function),
        "env": {"PATH": "/usr/bin:/bin", "HOME": WORKDIR, "TMPDIR": WORKDIR, "LANG": "C.UTF-8"},
        # The launcher's own deadline, should this process die before it kills the run.
        "wall_s": limits.wall_s + 2,
        "stdout_fd": fds["stdout"],
        "stderr_fd": fds["stderr"],
        "result_fd": fds["result"],
    }


# ---------------------------------------------------------------- what comes out


class _Capture:
    """Keeps the first and last `keep / 2` bytes of a stream, counts the rest and notes which of
    the `watch` phrases went past (a runtime's fatal message may sit in the part that is cut)."""

    def __init__(self, keep: int, watch: tuple[str, ...] = ()) -> None:
        self.half = keep // 2
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self.watch = tuple(w.encode() for w in watch)
        self.seen: set[str] = set()
        self._carry = b""

    def add(self, chunk: bytes) -> None:
        if self.watch:
            window = self._carry + chunk
            self.seen.update(w.decode() for w in self.watch if w in window)
            self._carry = window[-max(len(w) for w in self.watch) :]
        self.total += len(chunk)
        room = self.half - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail = (self.tail + chunk)[-self.half :]

    @property
    def truncated(self) -> bool:
        return self.total > len(self.head) + len(self.tail)

    def text(self) -> str:
        head = self.head.decode(errors="replace")
        tail = self.tail.decode(errors="replace")
        if self.truncated:
            cut = self.total - len(self.head) - len(self.tail)
            return f"{head}\n… [{cut} bytes cut] …\n{tail}"
        return head + tail


class _Budget:
    """Bytes a run may still write; calls `on_exceeded` once when it is spent."""

    def __init__(self, allowed: int, on_exceeded: Callable[[], None]) -> None:
        self.left = allowed
        self.exceeded = False
        self._on_exceeded = on_exceeded

    def spend(self, n: int) -> None:
        self.left -= n
        if self.left < 0 and not self.exceeded:
            self.exceeded = True
            self._on_exceeded()


async def _drain(reader: asyncio.StreamReader, sink: Callable[[bytes], None], budget: _Budget) -> None:
    """Read to EOF; past the budget nothing more is kept (the run is being killed)."""
    while chunk := await reader.read(65536):
        budget.spend(len(chunk))
        if not budget.exceeded:
            sink(chunk)


async def _pipe_reader(fd: int) -> tuple[asyncio.StreamReader, asyncio.BaseTransport]:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0)
    )
    return reader, transport


async def _feed(stream: asyncio.StreamWriter | None, data: bytes) -> None:
    assert stream is not None
    try:
        stream.write(data)
        await stream.drain()
        stream.close()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the launcher died before reading its spec; its status or stderr says why


def _parse_results(raw: bytes, nonce: str, outcome: PhaseOutcome) -> None:
    prefix = nonce.encode() + b" "
    for line in raw.splitlines():
        if not line.startswith(prefix):
            continue  # not the harness: the submission wrote to fd 3 itself
        try:
            item = json.loads(line[len(prefix) :])
        except ValueError:
            continue
        if not isinstance(item, dict):
            continue
        index = item.get("i")
        if isinstance(index, int) and 0 <= index < len(outcome.cases):
            outcome.results.setdefault(index, item)
        elif "load_error" in item and outcome.load_error is None and isinstance(item["load_error"], dict):
            outcome.load_error = item["load_error"]
        elif item.get("done") is True:
            outcome.done = True


def _parse_status(raw: bytes) -> dict[str, Any]:
    """The launcher's final line (after its PID line), a dict literal; empty when it was killed."""
    _, _, last = raw.partition(b"\n")
    try:
        status = ast.literal_eval(last.decode()) if last.strip() else {}
    except (ValueError, SyntaxError):
        status = {}
    if not isinstance(status, dict):
        return {}
    if "setup_error" in status:
        raise SandboxUnavailable(f"the sandbox could not be set up: {status['setup_error']}")
    return status


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the parenthesised command name: state, ppid, ...
    return int(stat.rpartition(")")[2].split()[1])


class _Run:
    """The processes of one run, named by pidfds so a kill can never hit a reused PID."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.unshare: int | None = None
        with contextlib.suppress(ProcessLookupError):  # it already ended: nothing to kill
            self.unshare = os.pidfd_open(proc.pid)
        self.init: int | None = None
        self.status = bytearray()

    def on_status(self, chunk: bytes) -> None:
        had_line = b"\n" in self.status
        self.status += chunk
        if not had_line and b"\n" in self.status:
            self._adopt_init(bytes(self.status.partition(b"\n")[0]))

    def _adopt_init(self, line: bytes) -> None:
        """Open a pidfd on the namespace's PID 1 once it told us its PID and is unshare's child."""
        try:
            pid = int(line)
            fd = os.pidfd_open(pid)
        except (ValueError, OSError):
            return
        if _parent_of(pid) == self.proc.pid:
            self.init = fd
        else:
            os.close(fd)

    def kill(self) -> None:
        """Kill PID 1 of the namespace: its exit takes every process of the run with it, and unshare
        returns only after that. Before PID 1 is known, kill unshare (its --kill-child follows)."""
        target = self.init if self.init is not None else self.unshare
        if target is not None:
            with contextlib.suppress(ProcessLookupError):  # already gone
                signal.pidfd_send_signal(target, signal.SIGKILL)

    def close(self) -> None:
        for fd in (self.unshare, self.init):
            if fd is not None:
                os.close(fd)


# ---------------------------------------------------------------- one process


async def _run_phase(
    layout: HostLayout,
    phase: Phase,
    language: Language,
    code: str,
    problem: Problem,
    cases: list[Case],
    limits: Limits,
) -> PhaseOutcome:
    uid = UID_BASE + secrets.randbelow(UID_SPAN)
    nonce = secrets.token_hex(16)
    outcome = PhaseOutcome(phase=phase, cases=cases, uid=uid)
    # The submission's stdout, stderr and results, and the launcher's status: each its own pipe,
    # so nothing unshare or the launcher prints ever mixes with what the candidate sees.
    pipes = {name: os.pipe() for name in ("stdout", "stderr", "result", "status")}
    writes = {name: w for name, (_, w) in pipes.items()}
    spec = _spec(layout, language, code, problem.function[language], cases, limits, uid, nonce, writes)
    started = time.perf_counter()
    try:
        proc = await asyncio.create_subprocess_exec(
            layout.unshare, *NS_FLAGS, layout.python, "-I", "-S", "-B", str(LAUNCHER), str(writes["status"]),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            pass_fds=tuple(writes.values()),
            start_new_session=True,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        )  # fmt: skip
    except OSError as exc:
        for r, _ in pipes.values():
            os.close(r)
        raise SandboxUnavailable(f"cannot start the sandbox: {exc}") from exc
    finally:
        for w in writes.values():
            os.close(w)
    run = _Run(proc)
    try:
        reads = {name: r for name, (r, _) in pipes.items()}
        results, diagnostics = await _collect(run, reads, marshal.dumps(spec), limits, outcome)
    finally:
        run.close()
    outcome.wall_ms = (time.perf_counter() - started) * 1000
    outcome.status = _parse_status(bytes(run.status))
    if not outcome.status and not (outcome.timed_out or outcome.output_exceeded):
        raise SandboxUnavailable(f"the sandbox ended without a status: {diagnostics[-500:]}")
    _parse_results(results, nonce, outcome)
    return outcome


async def _collect(
    run: _Run, reads: dict[str, int], spec: bytes, limits: Limits, outcome: PhaseOutcome
) -> tuple[bytes, str]:
    """Feed the spec and read every pipe within its budget until the run ends or is killed."""
    proc = run.proc
    assert proc.stdout is not None
    results = bytearray()
    stdout, stderr = _Capture(limits.excerpt_bytes), _Capture(limits.excerpt_bytes, FATAL_MARKERS)
    diagnostics = _Capture(STATUS_CAP)
    output = _Budget(limits.output_bytes, run.kill)
    result_budget = _Budget(RESULTS_CAP, run.kill)
    readers: dict[str, asyncio.StreamReader] = {}
    transports: list[asyncio.BaseTransport] = []
    try:
        for name, fd in reads.items():
            readers[name], transport = await _pipe_reader(fd)
            transports.append(transport)
        work: Awaitable[Any] = asyncio.gather(
            _feed(proc.stdin, spec),
            _drain(readers["stdout"], stdout.add, output),
            _drain(readers["stderr"], stderr.add, output),
            _drain(readers["result"], results.extend, result_budget),
            _drain(readers["status"], run.on_status, _Budget(STATUS_CAP, run.kill)),
            _drain(proc.stdout, diagnostics.add, _Budget(STATUS_CAP * 16, run.kill)),
            proc.wait(),
        )
        try:
            await asyncio.wait_for(asyncio.shield(work), timeout=limits.wall_s)
        except TimeoutError:
            outcome.timed_out = True
            run.kill()
            await asyncio.wait_for(work, timeout=REAP_TIMEOUT_S)
    except TimeoutError:
        raise SandboxUnavailable(f"a sandbox run outlived its kill by {REAP_TIMEOUT_S:g} s") from None
    finally:
        if proc.returncode is None:
            run.kill()
        for transport in transports:
            transport.close()
        for name, fd in reads.items():
            if name not in readers:
                os.close(fd)
    outcome.output_exceeded = output.exceeded or result_budget.exceeded
    outcome.stdout, outcome.stdout_truncated = stdout.text(), stdout.truncated
    outcome.stderr, outcome.stderr_truncated = stderr.text(), stderr.truncated
    outcome.fatal = stderr.seen
    return bytes(results), diagnostics.text()


# ---------------------------------------------------------------- the API

MAX_CONCURRENT = max(1, os.cpu_count() or 1)
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _slot() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    if loop not in _slots:
        _slots[loop] = asyncio.Semaphore(MAX_CONCURRENT)
    return _slots[loop]


def _validate(language: str, code: str, limits: Limits) -> Language:
    if language not in LANGUAGES:
        raise Invalid(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}")
    try:
        size = len(code.encode())
    except UnicodeEncodeError:
        raise Invalid("the code is not valid text (it holds a lone surrogate)") from None
    if size > limits.code_bytes:
        raise Invalid(f"the code is {size} bytes; at most {limits.code_bytes}")
    if "\x00" in code:
        raise Invalid("the code contains a NUL character")
    return language


async def run_submission(
    language: str,
    code: str,
    problem: Problem,
    limits: Limits | None = None,
    *,
    include_hidden: bool = True,
) -> SandboxResult:
    """Run `code` against the problem's visible tests and, unless told not to, its hidden ones.

    The hidden tests run only when the visible run got through every test (a submission that
    does not load, or hits a limit, has its hidden tests reported as not run).
    """
    limits = limits or Limits()
    lang = _validate(language, code, limits)
    layout = check_available()
    async with _slot():
        visible = await _run_phase(layout, "visible", lang, code, problem, list(problem.visible), limits)
        outcomes = [visible]
        skipped: list[Case] = []
        if include_hidden and problem.hidden:
            if visible.finished:
                hidden = list(problem.hidden)
                outcomes.append(await _run_phase(layout, "hidden", lang, code, problem, hidden, limits))
            else:
                skipped = list(problem.hidden)
    return build_result(problem, lang, limits, outcomes, skipped)
