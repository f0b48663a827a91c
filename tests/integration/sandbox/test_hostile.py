"""Hostile submissions against the real sandbox: each is contained and gets the right verdict.

Every test also checks that no process of the run is left (each run has a uid of its own).
"""

from __future__ import annotations

import os
import socket
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from mocki.sandbox import Limits, SandboxResult, get_problem, run_submission
from tests.integration.sandbox.leftovers import leftovers

# Small limits keep the runaway cases short; still far above what the harness itself needs.
HOSTILE = Limits(cpu_s=1, wall_s=5, memory_mb=64, output_bytes=256 << 10)
PROBLEM = get_problem("climbing-stairs")  # python climb_stairs(n), javascript climbStairs(n); 3 visible tests


async def _run(language: str, code: str, limits: Limits = HOSTILE) -> SandboxResult:
    result = await run_submission(language, textwrap.dedent(code), PROBLEM, limits, include_hidden=False)
    assert not leftovers(result), f"processes of the run survived it: {leftovers(result)}"
    return result


def _returned(result: SandboxResult) -> Any:
    first = result.tests[0]
    assert first.status in ("passed", "failed"), (result.message, first.error, result.stderr)
    return first.actual


# ---------------------------------------------------------------- processes


async def test_python_fork_bomb_hits_the_process_limit() -> None:
    result = await _run("python", "import os\ndef climb_stairs(n):\n    while True:\n        os.fork()\n")
    assert result.verdict == "error"
    assert "BlockingIOError: [Errno 11] Resource temporarily unavailable" in result.message


async def test_python_processes_are_capped_per_run() -> None:
    code = """
        import os, time
        def climb_stairs(n):
            started = 0
            for _ in range(100):
                try:
                    pid = os.fork()
                except OSError:
                    break
                if pid == 0:
                    time.sleep(60)
                    os._exit(0)
                started += 1
            return started
    """
    started = _returned(await _run("python", code))
    # RLIMIT_NPROC holds because the run is not root; the harness itself is one of the processes.
    assert 1 <= started < HOSTILE.processes


async def test_javascript_processes_are_capped_per_run() -> None:
    code = """
        const cp = require("child_process");
        function climbStairs(n) {
          let started = 0;
          for (let i = 0; i < 40; i++) {
            const child = cp.spawn("/usr/bin/sleep", ["60"], { detached: true, stdio: "ignore" });
            if (child.pid) started++;
            child.on("error", () => {});
            child.unref();
          }
          return started;
        }
    """
    started = _returned(await _run("javascript", code))
    assert 1 <= started < HOSTILE.processes


@pytest.mark.parametrize(
    ("language", "code"),
    [
        (
            "python",
            """
            import os, subprocess, time
            def climb_stairs(n):
                sleeper = subprocess.Popen(["/usr/bin/sleep", "300"], start_new_session=True)
                if os.fork() == 0:  # a classic daemon: fork, new session, fork again, parent leaves
                    os.setsid()
                    if os.fork() == 0:
                        time.sleep(300)
                    os._exit(0)
                return sleeper.pid
            """,
        ),
        (
            "javascript",
            """
            const cp = require("child_process");
            function climbStairs(n) {
              const child = cp.spawn("/usr/bin/sleep", ["300"], { detached: true, stdio: "ignore" });
              child.unref();
              return child.pid;
            }
            """,
        ),
    ],
)
async def test_background_processes_do_not_outlive_the_run(language: str, code: str) -> None:
    result = await _run(language, code)  # _run asserts that no process of the run is left
    assert isinstance(_returned(result), int) and _returned(result) > 0  # they did start


async def test_signals_reach_nothing_outside_the_run() -> None:
    code = """
        import os, signal
        def climb_stairs(n):
            out = []
            for target in (os.getppid(), -1):  # its parent (the sandbox's init), every process it can
                try:
                    os.kill(target, signal.SIGKILL)
                    out.append("sent")
                except OSError as exc:
                    out.append(type(exc).__name__)
            return [os.getppid()] + out
    """
    # The parent is PID 1 of the run's own namespace, run by another user; kill(-1) finds no one.
    assert _returned(await _run("python", code)) == [1, "PermissionError", "ProcessLookupError"]
    js = "function climbStairs(n) {\n  try { process.kill(process.ppid, 'SIGKILL'); return 'sent'; }\n"
    js += "  catch (err) { return err.code; }\n}\n"
    assert _returned(await _run("javascript", js)) == "EPERM"


async def test_killing_its_own_group_ends_only_the_run() -> None:
    code = "import os, signal\ndef climb_stairs(n):\n    os.killpg(0, signal.SIGKILL)\n"
    result = await _run("python", code)
    assert (result.verdict, result.message) == (
        "killed",
        "The program was killed by SIGKILL before the tests finished.",
    )


async def test_no_new_namespaces_yet_threads_and_processes_work() -> None:
    # In a user namespace of its own the submission would be "root" again, with the kernel's
    # namespace code as attack surface: seccomp refuses every namespace flag.
    code = """
        import ctypes, subprocess, threading
        def climb_stairs(n):
            tool = subprocess.run(["/usr/bin/unshare", "--user", "--map-root-user", "/usr/bin/id"],
                                  capture_output=True, text=True)
            libc = ctypes.CDLL(None, use_errno=True)
            direct = [libc.unshare(0x10000000), ctypes.get_errno()]  # CLONE_NEWUSER
            ran = []
            worker = threading.Thread(target=ran.append, args=["thread"])
            worker.start()
            worker.join()
            echo = subprocess.run(["/usr/bin/echo", "child"], capture_output=True, text=True).stdout
            return [tool.returncode, tool.stderr.strip(), direct, ran, echo]
    """
    assert _returned(await _run("python", code)) == [
        1,
        "unshare: unshare failed: Operation not permitted",
        [-1, 1],  # EPERM
        ["thread"],
        "child\n",
    ]


async def test_host_processes_are_invisible() -> None:
    code = "import os\ndef climb_stairs(n):\n"
    code += "    return sorted(int(p) for p in os.listdir('/proc') if p.isdigit())"
    pids = _returned(await _run("python", code))
    assert pids[:2] == [1, 2] and os.getpid() not in pids and len(pids) < 10


# ---------------------------------------------------------------- time, memory, output


@pytest.mark.parametrize(
    ("language", "code"),
    [
        ("python", "def climb_stairs(n):\n    while True:\n        pass\n"),
        ("javascript", "function climbStairs(n) { for (;;) {} }"),
    ],
)
async def test_an_infinite_loop_times_out(language: str, code: str) -> None:
    result = await _run(language, code)
    assert result.verdict == "timeout"
    assert result.message.startswith("Time limit exceeded")
    assert [t.status for t in result.tests] == ["not_run"] * 3


@pytest.mark.parametrize(
    ("language", "code"),
    [
        ("python", "import time\ndef climb_stairs(n):\n    time.sleep(120)\n"),
        ("javascript", "function climbStairs(n) { return new Promise((ok) => setTimeout(ok, 120000)); }"),
    ],
)
async def test_sleeping_past_the_wall_time_times_out(language: str, code: str) -> None:
    result = await _run(language, code, Limits(wall_s=2))
    assert (result.verdict, result.message) == ("timeout", "Time limit exceeded: still running after 2 s.")
    assert result.runs[0].timed_out


@pytest.mark.parametrize(
    ("language", "code"),
    [
        ("python", "def climb_stairs(n):\n    hog = []\n    while True:\n        hog.append(' ' * 2**20)\n"),
        ("python", "def climb_stairs(n):\n    return len(bytearray(2**33))\n"),
        ("python", "import mmap\ndef climb_stairs(n):\n    return len(mmap.mmap(-1, 2**31))\n"),
        ("javascript", "function climbStairs(n) { const a = []; for (;;) a.push(new Array(1e6).fill(1)); }"),
        ("javascript", "function climbStairs(n) { return Buffer.alloc(2 ** 31).length; }"),
    ],
)
async def test_a_memory_hog_hits_the_memory_limit(language: str, code: str) -> None:
    result = await _run(language, code)
    assert (result.verdict, result.message) == ("memory_limit", "Memory limit exceeded: more than 64 MB.")


@pytest.mark.parametrize(
    ("language", "code"),
    [
        ("python", "def climb_stairs(n):\n    while True:\n        print('spam' * 250)\n"),
        ("javascript", "function climbStairs(n) { for (;;) console.log('spam'.repeat(250)); }"),
        ("javascript", "function climbStairs(n) { for (;;) console.error('spam'.repeat(250)); }"),
    ],
)
async def test_huge_output_is_cut_and_reported(language: str, code: str) -> None:
    result = await _run(language, code)
    assert result.verdict == "output_limit"
    assert result.message == "Output limit exceeded: more than 262144 bytes."
    text, truncated = (result.stdout, result.stdout_truncated)
    if "error" in code:
        text, truncated = (result.stderr, result.stderr_truncated)
    assert truncated and "bytes cut]" in text
    assert text.startswith("spam") and len(text) < HOSTILE.excerpt_bytes + 100


async def test_its_own_dir_is_capped() -> None:
    code = """
        def climb_stairs(n):
            try:
                with open("big.bin", "wb") as fh:
                    for _ in range(64):
                        fh.write(b"x" * (1 << 20))
                return "wrote"
            except OSError as exc:
                return exc.strerror
    """
    # An 8 MB tmpfs (Limits.disk_mb) that the harness's files already share.
    assert _returned(await _run("python", code)) == "No space left on device"


# ---------------------------------------------------------------- files


PROJECT_FILE = str(Path(__file__).resolve())  # this very file: the project's tree must stay out of reach
READ_PATHS = ["/etc/passwd", "/etc/shadow", "/root/.bashrc", PROJECT_FILE, "/proc/1/environ"]


async def test_python_cannot_read_host_files() -> None:
    code = f"""
        import os
        def climb_stairs(n):
            seen = {{"/": sorted(os.listdir("/"))}}
            for path in {READ_PATHS!r}:
                try:
                    with open(path) as fh:
                        seen[path] = fh.read()
                except OSError as exc:
                    seen[path] = type(exc).__name__
            return seen
    """
    seen = _returned(await _run("python", code))
    assert seen.pop("/") == ["bin", "dev", "etc", "lib", "lib64", "proc", "root", "sandbox", "sbin", "usr"]
    assert seen.pop("/proc/1/environ") == "PermissionError"  # the sandbox's init runs as another user
    assert set(seen.values()) == {"FileNotFoundError"}


async def test_javascript_cannot_read_host_files() -> None:
    code = f"""
        const fs = require("fs");
        function climbStairs(n) {{
          const seen = {{}};
          for (const path of {READ_PATHS!r}) {{
            try {{ seen[path] = fs.readFileSync(path, "utf8"); }} catch (err) {{ seen[path] = err.code; }}
          }}
          return seen;
        }}
    """
    seen = _returned(await _run("javascript", code))
    assert seen.pop("/proc/1/environ") == "EACCES"
    assert set(seen.values()) == {"ENOENT"}


@pytest.mark.parametrize("language", ["python", "javascript"])
async def test_nothing_outside_its_dir_is_writable(language: str, tmp_path: Path) -> None:
    name = f"mocki-sandbox-probe-{uuid.uuid4().hex}"
    host_targets = [Path("/tmp") / name, tmp_path / name, Path.cwd() / name, Path("/root") / name]
    paths = [str(p) for p in host_targets] + [f"/{name}", f"/usr/{name}", f"/etc/{name}", f"/dev/{name}"]
    if language == "python":
        code = f"""
            def climb_stairs(n):
                out = {{}}
                for path in {paths!r} + ["/sandbox/mine.txt"]:
                    try:
                        with open(path, "w") as fh:
                            fh.write("x")
                        out[path] = "wrote"
                    except OSError as exc:
                        out[path] = type(exc).__name__
                return out
        """
    else:
        code = f"""
            const fs = require("fs");
            function climbStairs(n) {{
              const out = {{}};
              for (const path of {paths!r}.concat(["/sandbox/mine.txt"])) {{
                try {{ fs.writeFileSync(path, "x"); out[path] = "wrote"; }}
                catch (err) {{ out[path] = err.code; }}
              }}
              return out;
            }}
        """
    out = _returned(await _run(language, code))
    assert out.pop("/sandbox/mine.txt") == "wrote"
    assert "wrote" not in out.values() and len(out) == len(paths)
    assert not [p for p in host_targets if p.exists()]


# ---------------------------------------------------------------- network


@pytest.fixture
def listener() -> Any:
    """A real TCP server on the host's loopback: were the network shared, connecting would work."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.setblocking(False)
        yield server
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody connected


async def test_python_has_no_network(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    code = f"""
        import socket
        def attempt(address):
            try:
                with socket.create_connection(address, timeout=2):
                    return "connected"
            except OSError as exc:
                return exc.strerror
        def climb_stairs(n):
            interfaces = [name for _, name in socket.if_nameindex()]
            routes = open("/proc/net/route").read().splitlines()[1:]
            if interfaces != ["lo"] or routes:
                return ["network present", interfaces, routes]
            # With no interface but a down loopback and no route, no packet can leave: this
            # documentation-only address (TEST-NET-1) fails at the route lookup.
            return [attempt(("127.0.0.1", {port})), attempt(("192.0.2.1", 80)), attempt(("localhost", 80))]
    """
    returned = _returned(await _run("python", code))
    assert returned[:2] == ["Network is unreachable", "Network is unreachable"]
    # No /etc/hosts: the name goes to the resolver, whose query to 127.0.0.1:53 cannot leave either.
    assert returned[2] == "Temporary failure in name resolution"


async def test_javascript_has_no_network(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    code = f"""
        const fs = require("fs");
        const net = require("net");
        function attempt(host, port) {{
          return new Promise((resolve) => {{
            const s = net.connect(port, host);
            s.on("connect", () => {{ s.destroy(); resolve("connected"); }});
            s.on("error", (err) => resolve(err.code));
          }});
        }}
        async function climbStairs(n) {{
          const devices = fs.readFileSync("/proc/net/dev", "utf8").split("\\n").slice(2)
            .map((l) => l.split(":")[0].trim()).filter(Boolean);
          const routes = fs.readFileSync("/proc/net/route", "utf8").trim().split("\\n").slice(1);
          if (devices.join() !== "lo" || routes.length) return ["network present", devices, routes];
          return [await attempt("127.0.0.1", {port}), await attempt("192.0.2.1", 80)];
        }}
    """
    assert _returned(await _run("javascript", code)) == ["ENETUNREACH", "ENETUNREACH"]
