"""A process pool that loads one model per process, so inference never runs in the event loop."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

_T = TypeVar("_T")


class ModelPoolError(Exception):
    """The model process died or the pool is closed."""


class ModelPool:
    """`processes` spawned workers, each running `loader(*loader_args)` once at start.

    "spawn", not fork: forking a process that has threads (the event loop's executor, the
    Redis client) can deadlock the child. A pool whose process died is replaced for the next call.
    """

    def __init__(
        self, what: str, loader: Callable[..., None], loader_args: tuple[Any, ...], processes: int = 1
    ) -> None:
        self._what = what
        self._loader = loader
        self._loader_args = loader_args
        self._processes = processes
        self._pool: ProcessPoolExecutor | None = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self._processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=self._loader,
            initargs=self._loader_args,
        )

    async def run(self, work: Callable[..., _T], *args: Any) -> _T:
        pool = self._pool
        if pool is None:
            raise ModelPoolError(f"The {self._what} pool is closed.")
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, work, *args)
        except BrokenProcessPool as exc:
            if self._pool is pool:
                pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
            raise ModelPoolError(
                f"The {self._what} process died; it is restarted for the next call "
                "(its log shows why, e.g. out of memory or a model that failed to load)."
            ) from exc

    async def aclose(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            # A thread, as shutting down only waits on the children.
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
