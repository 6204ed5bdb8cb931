"""Where CPU-bound work runs while the event loop keeps answering: a thread, or worker processes.

Drawing a chart is 25–90 ms of pure Python and C (matplotlib) that holds the GIL nearly all the
time. In a worker *thread* it still blocks the bot's own thread for that long, and twenty charts
at once queue on one core: that is how ``/stats`` came to p95 ≈ 2 s with 20 musicians asking.
In worker *processes* each chart has a GIL of its own, every core draws, and the event loop only
waits for the bytes. A flow that needs such work asks ``turn.offload.run(fn, *args)`` and does
not know which of the two it got:

* :class:`InThread` (``asyncio.to_thread``): the default of a :class:`~core.app.engine.Coach`
  built without one — library use, tests, the in-memory coach (the unit layer starts no
  processes);
* :class:`InProcesses`: what ``coach run`` and ``coach chat`` use. A
  :class:`~concurrent.futures.ProcessPoolExecutor` with one worker per core this process may
  use, created on the first call (a process that never draws starts none) and shut down by
  :meth:`InProcesses.close` (``Coach.close``). Workers are *spawned* (a fresh interpreter), not
  forked: forking a process that has threads (the default executor's, aiosqlite's) can copy a
  lock held mid-operation into a child that then waits for ever, which is why Python 3.12
  warns about it and 3.14 stopped forking by default.

``fn`` and its arguments cross a process boundary, so they must pickle: a module-level function
and plain data (``core.progress.charts.draw`` and its ``Chart``).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol, TypeVar, TypeVarTuple, Unpack

logger = logging.getLogger(__name__)

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


def usable_cores() -> int:
    """How many cores this process may run on (its CPU affinity where the system says so,
    e.g. in a container limited to a set of CPUs; else every core)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)  # pragma: no cover - Linux has sched_getaffinity


class Offload(Protocol):
    """Runs a CPU-bound function away from the event loop and awaits its result."""

    #: How many calls make progress at once (more just queue).
    workers: int

    async def run(self, fn: Callable[[Unpack[Ts]], T], /, *args: *Ts) -> T:
        """``fn(*args)``, run elsewhere; its exception, if any, is raised here."""
        ...

    async def close(self) -> None:
        """Release what runs the work (idempotent; a later :meth:`run` starts afresh)."""
        ...


class InThread:
    """The work in the default thread executor (``asyncio.to_thread``): no processes.

    One worker as far as progress goes: the GIL lets one thread of Python run at a time.
    """

    workers = 1

    async def run(self, fn: Callable[[Unpack[Ts]], T], /, *args: *Ts) -> T:
        """``fn(*args)`` in a worker thread."""
        return await asyncio.to_thread(fn, *args)

    async def close(self) -> None:
        """Nothing to release: the loop owns its default executor."""


class InProcesses:
    """The work in a pool of worker processes, one per usable core unless ``workers`` says.

    Args:
        workers: How many processes (default: :func:`usable_cores`).
        initializer: Run once in each worker as it starts, before its first task (the charts
            import matplotlib and draw a first figure there, so that cost is not a musician's).
    """

    def __init__(
        self, workers: int | None = None, *, initializer: Callable[[], object] | None = None
    ) -> None:
        self.workers = workers or usable_cores()
        self._initializer = initializer
        self._pool: ProcessPoolExecutor | None = None

    @property
    def started(self) -> bool:
        """Whether the pool exists (created by the first :meth:`run`, gone after :meth:`close`)."""
        return self._pool is not None

    def pids(self) -> list[int]:
        """The worker processes' ids (the benchmark reads their memory)."""
        pool = self._pool
        return [] if pool is None else sorted((pool._processes or {}).keys())

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=self._initializer,
            )
        return self._pool

    async def run(self, fn: Callable[[Unpack[Ts]], T], /, *args: *Ts) -> T:
        """``fn(*args)`` in a worker process (the pool is created on the first call).

        A worker that died (killed, out of memory) breaks the whole pool: the call raises
        :class:`~concurrent.futures.process.BrokenProcessPool`, and the next one gets a fresh
        pool instead of the same error for ever.
        """
        pool = self._executor()
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)
        except BrokenProcessPool:
            if self._pool is pool:
                self._pool = None
                logger.warning("a worker process died; starting a fresh pool on the next call")
                pool.shutdown(wait=False, cancel_futures=True)
            raise

    async def close(self) -> None:
        """Cancel the work not started yet, wait for the rest, and end the worker processes."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
