"""Which processes of a sandboxed run are still alive: each run has a fresh uid of its own."""

from __future__ import annotations

import psutil  # type: ignore[import-untyped]  # no stubs installed

from mocki.sandbox import SandboxResult


def leftovers(result: SandboxResult) -> list[psutil.Process]:
    """Processes still alive under any of the run's uids (each run has a fresh uid of its own)."""
    uids = {run.uid for run in result.runs}
    assert uids, "the submission ran no sandboxed process"
    found = []
    for proc in psutil.process_iter(["uids"]):
        owner = proc.info["uids"]
        if owner is not None and owner.real in uids:
            found.append(proc)
    return found
