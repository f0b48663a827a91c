"""Inside the sandbox's fresh namespaces: build a tiny read-only root, then run the submission in it.

`runner.py` starts this file as `unshare --net --mount --pid --ipc --uts --cgroup --fork
--kill-child <python> -I -S -B launcher.py`, so it runs as PID 1 of a new PID namespace, still
root, in a private mount namespace and a network namespace whose only interface is a loopback
that is down. It reads one spec on stdin (marshal: json would double this process's start-up
time) and:

1. mounts a small tmpfs as the new root holding only read-only, nosuid binds of what the
   interpreter needs (`/usr`, the Python prefix, `/etc/ld.so.cache`), a few device nodes, a fresh
   `/proc` of the new PID namespace and a size-capped tmpfs work dir (the only writable place),
   then pivots into it and detaches the host's tree, so no host path is reachable at all;
2. forks the submission's interpreter as PID 2 with resource limits, no new privileges, a
   per-run unprivileged uid (so RLIMIT_NPROC holds, which it does not for root, and nothing it
   does can signal this process) and a seccomp filter against new namespaces and other kernel
   attack surface;
3. stays PID 1: reaps orphans, kills the child when the wall-time backstop fires (should the api
   die first), and when the child exits reports its status and rusage on the status fd, which
   the child never had. When PID 1 exits the kernel kills whatever the child left behind, and
   its exit completes only once they are all gone.

The status fd carries two lines: this process's host PID at once, the status dict (a Python
literal) at the end.

Only the standard library: this runs under `-I -S`, before and outside the mocki package.
"""

from __future__ import annotations

import ctypes
import marshal
import os
import resource
import sys
import time

# Imports cost every run's start-up: typing (with re behind it) serves only the annotations,
# and _signal is signal without the enum wrappers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal
    from typing import Any
else:
    import _signal as signal

RESULT_FD = 3  # where the child finds the results pipe; its stdout and stderr are the api's pipes too
STAGE = "/tmp"  # the new root's mount point; private to this mount namespace, so the host's /tmp is untouched
WORKDIR = "/sandbox"
DEVICES = ("null", "zero", "full", "random", "urandom")

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
# pivot_root has no glibc wrapper; its syscall number differs per architecture.
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41}

# Seccomp: syscalls a submission never needs that open kernel attack surface to an unprivileged
# process. Above all new namespaces: in a user namespace of its own it would be "root" again.
EPERM, ENOSYS = 1, 38
CLONE_NEW_ANY = 0x7E020000  # CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET
_GENERIC = {  # asm-generic numbers (aarch64, riscv64)
    "clone": 220, "unshare": 97, "setns": 268, "clone3": 435, "ptrace": 117, "process_vm_readv": 270,
    "process_vm_writev": 271, "bpf": 280, "perf_event_open": 241, "keyctl": 219, "add_key": 217,
    "request_key": 218, "userfaultfd": 282, "io_uring_setup": 425, "io_uring_enter": 426,
    "io_uring_register": 427,
}  # fmt: skip
SYSCALLS = {
    "x86_64": (0xC000003E, {
        "clone": 56, "unshare": 272, "setns": 308, "clone3": 435, "ptrace": 101, "process_vm_readv": 310,
        "process_vm_writev": 311, "bpf": 321, "perf_event_open": 298, "keyctl": 250, "add_key": 248,
        "request_key": 249, "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426,
        "io_uring_register": 427,
    }),
    "aarch64": (0xC00000B7, _GENERIC),
    "riscv64": (0xC00000F3, _GENERIC),
}  # fmt: skip
# ENOSYS makes glibc fall back from clone3 to clone (whose flags can be checked) and libuv from
# io_uring to its thread pool.
UNSUPPORTED = ("clone3", "io_uring_setup", "io_uring_enter", "io_uring_register")

LIMITS = {
    "cpu_s": resource.RLIMIT_CPU,
    "data_bytes": resource.RLIMIT_DATA,
    "as_bytes": resource.RLIMIT_AS,
    "nproc": resource.RLIMIT_NPROC,
    "nofile": resource.RLIMIT_NOFILE,
    "fsize_bytes": resource.RLIMIT_FSIZE,
    "stack_bytes": resource.RLIMIT_STACK,
    "core": resource.RLIMIT_CORE,
    "memlock": resource.RLIMIT_MEMLOCK,
    "msgqueue": resource.RLIMIT_MSGQUEUE,
}

_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = [None if s is None else s.encode() for s in (source, target, fstype, data)]
    _check(_libc.mount(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), enc[3]), f"mount {target}")


def _bind_readonly(path: str, *, device: bool = False) -> None:
    """Bind `path` from the host to the same place under the new root, read-only and nosuid."""
    target = STAGE + path
    if os.path.isdir(path):
        os.makedirs(target, 0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), 0o755, exist_ok=True)
        os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
    _mount(path, target, None, MS_BIND)
    # Device nodes must keep dev; writes to /dev/null still work on a read-only mount.
    extra = MS_NOEXEC if device else MS_NODEV
    _mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | extra)


def _build_root(spec: dict[str, Any]) -> None:
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", STAGE, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=4096,mode=0755")
    for name, target in spec["symlinks"].items():
        os.symlink(target, f"{STAGE}/{name}")
    for path in spec["binds"]:
        _bind_readonly(path)
    for path in spec["hide"]:
        os.makedirs(STAGE + path, 0o755, exist_ok=True)
        flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC
        _mount("tmpfs", STAGE + path, "tmpfs", flags, "size=4k,mode=0555")
    for name in DEVICES:
        _bind_readonly(f"/dev/{name}", device=True)
    os.makedirs(STAGE + "/proc", 0o555)
    _mount("proc", STAGE + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _make_workdir(spec)
    _mount(None, STAGE, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.chdir(STAGE)
    nr = SYS_PIVOT_ROOT.get(os.uname().machine)
    if nr is None or os.uname().machine not in SYSCALLS:
        raise OSError(f"unsupported architecture {os.uname().machine}")
    # pivot_root(".", ".") stacks the old root on the new one; detaching it leaves only the new tree.
    _check(_libc.syscall(nr, b".", b"."), "pivot_root")
    _check(_libc.umount2(b".", MNT_DETACH), "umount old root")
    os.chdir("/")


def _make_workdir(spec: dict[str, Any]) -> None:
    uid, gid = spec["uid"], spec["gid"]
    target = STAGE + WORKDIR
    os.makedirs(target, 0o755)
    opts = f"size={spec['disk_bytes']},nr_inodes={spec['disk_inodes']},mode=0700,uid={uid},gid={gid}"
    _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts)
    for name, content in spec["files"].items():
        path = f"{target}/{name}"
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            data = content if isinstance(content, bytes) else content.encode()
            while data:
                data = data[os.write(fd, data) :]
            os.fchown(fd, uid, gid)
        finally:
            os.close(fd)


class _SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    ]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_SockFilter))]


def _seccomp_program(arch: int, numbers: dict[str, int]) -> list[tuple[int, int, int, int]]:
    """Classic BPF over seccomp_data (nr at 0, arch at 4, args from 16): deny, else allow."""
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    allow, kill = 0x7FFF0000, 0x80000000
    prog = [(ld, 0, 0, 4), (jeq, 1, 0, arch), (ret, 0, 0, kill), (ld, 0, 0, 0)]
    prog += [(jge, 0, 1, 0x40000000), (ret, 0, 0, 0x50000 | EPERM)]  # x32 calls on x86_64
    for name, nr in numbers.items():
        if name != "clone":
            errno = ENOSYS if name in UNSUPPORTED else EPERM
            prog += [(jeq, 0, 1, nr), (ret, 0, 0, 0x50000 | errno)]
    # clone last: loading its flags (args[0], low half) replaces the syscall number in A.
    prog += [(jeq, 0, 3, numbers["clone"]), (ld, 0, 0, 16), (jset, 0, 1, CLONE_NEW_ANY)]
    prog += [(ret, 0, 0, 0x50000 | EPERM), (ret, 0, 0, allow)]
    return prog


def _install_seccomp() -> None:
    arch, numbers = SYSCALLS[os.uname().machine]
    prog = _seccomp_program(arch, numbers)
    filters = (_SockFilter * len(prog))(*(_SockFilter(*ins) for ins in prog))
    fprog = _SockFprog(len(prog), filters)
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0), "seccomp")


def _exec_child(spec: dict[str, Any]) -> None:
    """In the forked child: limits, drop to the run's uid for good, then exec the interpreter."""
    try:
        for name, (soft, hard) in spec["limits"].items():
            resource.setrlimit(LIMITS[name], (soft, hard))
        os.umask(0o077)
        _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
        os.setgroups([])
        os.setresgid(spec["gid"], spec["gid"], spec["gid"])
        os.setresuid(spec["uid"], spec["uid"], spec["uid"])
        os.chdir(WORKDIR)
        _install_seccomp()
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        # The api passed its pipes as fds >= 3; fd 3 goes last since a source may be numbered 3.
        pipes = (spec["stdout_fd"], spec["stderr_fd"], spec["result_fd"])
        for target, source in zip((1, 2, RESULT_FD), pipes, strict=True):
            os.dup2(source, target)
        for source in set(pipes) - {RESULT_FD}:
            os.close(source)
        os.execve(spec["argv"][0], spec["argv"], spec["env"])
    except BaseException as exc:
        os.write(2, f"sandbox: cannot start the program: {exc}\n".encode())
    finally:
        os._exit(127)


def _kill(pid: int) -> None:
    try:  # noqa: SIM105  (contextlib would add an import to every run's start-up)
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # it ended as the deadline came


def _supervise(child: int, wall_s: float) -> dict[str, Any]:
    """Reap everything until the child itself exits; kill it if the backstop deadline passes."""
    signal.signal(signal.SIGALRM, lambda *_: _kill(child))
    signal.setitimer(signal.ITIMER_REAL, wall_s)
    while True:
        pid, status, usage = os.wait4(-1, 0)
        if pid == child:
            break
    signal.setitimer(signal.ITIMER_REAL, 0)
    return {
        "exit_code": os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 4),
        "max_rss_kb": usage.ru_maxrss,
    }


def main() -> int:
    status_fd = int(sys.argv[1])
    # The child must never hold the status pipe: only this process may report how the run ended.
    os.set_inheritable(status_fd, False)
    # /proc is still the host's here, so this is our PID as the api sees it: the api kills the run
    # by killing this process, the namespace's init, whose exit waits until all the run is gone.
    os.write(status_fd, os.readlink("/proc/self").encode() + b"\n")
    started = time.perf_counter()
    try:
        spec = marshal.loads(sys.stdin.buffer.read())
        _build_root(spec)
    except (OSError, ValueError, KeyError, EOFError, TypeError) as exc:
        os.write(status_fd, repr({"setup_error": str(exc)}).encode())
        return 70
    setup_ms = round((time.perf_counter() - started) * 1000, 2)
    child = os.fork()
    if child == 0:
        _exec_child(spec)
    status = _supervise(child, spec["wall_s"])
    status["setup_ms"] = setup_ms
    os.write(status_fd, repr(status).encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
