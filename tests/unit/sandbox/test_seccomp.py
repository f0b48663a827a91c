"""The launcher's seccomp program, run on a small classic-BPF interpreter for each architecture."""

from __future__ import annotations

import struct

import pytest

from mocki.sandbox.launcher import CLONE_NEW_ANY, ENOSYS, EPERM, SYSCALLS, _seccomp_program

ALLOW, KILL = 0x7FFF0000, 0x80000000
ERRNO = 0x50000


def run_bpf(program: list[tuple[int, int, int, int]], nr: int, arch: int, arg0: int = 0) -> int:
    """Evaluate the opcodes the launcher uses over a seccomp_data record."""
    data = struct.pack("<iIQ6Q", nr, arch, 0, arg0, 0, 0, 0, 0, 0)
    acc, pc = 0, 0
    while True:
        code, jt, jf, k = program[pc]
        pc += 1
        if code == 0x20:  # ld [k]
            acc = struct.unpack_from("<I", data, k)[0]
        elif code == 0x06:  # ret k
            return k
        else:
            taken = {0x15: acc == k, 0x35: acc >= k, 0x45: bool(acc & k)}[code]
            pc += jt if taken else jf


@pytest.mark.parametrize("machine", sorted(SYSCALLS))
def test_namespaces_and_kernel_attack_surface_are_refused(machine: str) -> None:
    arch, numbers = SYSCALLS[machine]
    program = _seccomp_program(arch, numbers)
    for name in ("unshare", "setns", "ptrace", "bpf", "userfaultfd", "keyctl", "perf_event_open"):
        assert run_bpf(program, numbers[name], arch) == ERRNO | EPERM, name
    for name in ("clone3", "io_uring_setup"):
        assert run_bpf(program, numbers[name], arch) == ERRNO | ENOSYS, name
    clone = numbers["clone"]
    assert run_bpf(program, clone, arch, 0x10000000) == ERRNO | EPERM  # CLONE_NEWUSER
    assert run_bpf(program, clone, arch, 0x40000000 | 0x11) == ERRNO | EPERM  # CLONE_NEWNET
    assert CLONE_NEW_ANY & 0x3D0F00 == 0  # no thread or fork flag is a namespace flag
    assert run_bpf(program, clone, arch, 0x3D0F00) == ALLOW  # pthread_create's flags
    assert run_bpf(program, clone, arch, 0x1200011) == ALLOW  # fork's flags
    for nr in (0, 1, 59, 60, 231):  # read, write, execve on x86_64, ...: everything else runs
        assert run_bpf(program, nr, arch) == ALLOW


def test_other_abis_are_killed_or_refused() -> None:
    arch, numbers = SYSCALLS["x86_64"]
    program = _seccomp_program(arch, numbers)
    assert run_bpf(program, 0, 0x40000003) == KILL  # i386 via int 0x80
    assert run_bpf(program, 0x40000000 | 272, arch) == ERRNO | EPERM  # x32 unshare
