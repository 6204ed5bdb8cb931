"""Work per key, done soon in the background: once however often it is asked, and bounded.

Some work is worth doing ahead of time but never required: drawing a musician's ``/stats``
chart right after they sent a number, so the chart is ready when they ask (``/stats`` draws it
anyway when it isn't). :class:`Coalescing` is the machinery for that kind of work:

* **coalesced** — asking for a key that is already waiting does nothing more: five numbers in a
  row are one redraw. A key asked again *while* it is being worked on waits for one more run
  (the work read the data before the new change), and never runs twice at once;
* **bounded** — at most ``capacity`` keys wait; past that a request is dropped and counted
  (:attr:`Coalescing.dropped`), never queued without limit behind a burst;
* **no idle tasks** — up to ``concurrency`` drain tasks exist only while there is work; each
  ends when nothing is left, so a quiet process holds none and a test that asked for nothing
  has nothing to clean up;
* **a failure is logged, never raised** (:func:`~core.jobs.runner.log_failure`): the next
  request for the key tries again;
* **closing** drops what waits and cancels what runs (:meth:`Coalescing.close`); the owner of
  the process's background work (``Coach.close``) calls it.

No clock and no sleeps: nothing here waits for time, only for work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from core.jobs.runner import log_failure

K = TypeVar("K", bound=Hashable)


class Coalescing(Generic[K]):
    """Runs ``work(key)`` in the background for each key asked (see the module docstring).

    Args:
        work: The work for one key. Its exceptions are logged and counted, never raised.
        name: How its tasks and log lines are called.
        capacity: Most keys waiting at once; more are dropped.
        concurrency: Most keys worked on at once.
    """

    def __init__(
        self,
        work: Callable[[K], Awaitable[object]],
        *,
        name: str,
        capacity: int,
        concurrency: int = 1,
    ) -> None:
        if capacity < 1 or concurrency < 1:
            raise ValueError("capacity and concurrency must be at least 1")
        self._work = work
        self.name = name
        self.capacity = capacity
        self.concurrency = concurrency
        self._waiting: dict[K, None] = {}  # insertion-ordered: first asked, first done
        self._running: set[K] = set()
        self._drains: set[asyncio.Task[None]] = set()
        self._closed = False
        #: Keys worked on (successfully), asked again while waiting, dropped, failed.
        self.done = 0
        self.coalesced = 0
        self.dropped = 0
        self.failed = 0

    @property
    def waiting(self) -> int:
        """Keys waiting for their turn (not counting those being worked on)."""
        return len(self._waiting)

    @property
    def busy(self) -> bool:
        """Whether any work waits or runs."""
        return bool(self._drains)

    def ask(self, key: K) -> bool:
        """Have ``key`` worked on soon; ``False`` when it was dropped (full, or closed).

        Call from the event loop; returns at once.
        """
        if self._closed:
            return False
        if key in self._waiting:
            self.coalesced += 1
            return True
        if len(self._waiting) >= self.capacity:
            self.dropped += 1
            return False
        self._waiting[key] = None
        if len(self._drains) < self.concurrency:
            drain = asyncio.get_running_loop().create_task(self._drain(), name=f"{self.name}")
            self._drains.add(drain)
            drain.add_done_callback(self._drains.discard)
        return True

    def _next(self) -> K | None:
        """The first waiting key nobody is working on."""
        return next((key for key in self._waiting if key not in self._running), None)

    async def _drain(self) -> None:
        """Work through the waiting keys; end when none is left for this task."""
        while (key := self._next()) is not None:
            del self._waiting[key]
            self._running.add(key)
            try:
                await self._work(key)
                self.done += 1
            except Exception as exc:
                self.failed += 1
                log_failure(f"{self.name} of {key}", exc)
            finally:
                self._running.discard(key)

    async def idle(self) -> None:
        """Wait until nothing waits or runs (a benchmark's, a test's "the warm-up had its
        chance")."""
        while self._drains:
            await asyncio.wait(set(self._drains))

    async def close(self) -> None:
        """Drop what waits, cancel what runs and wait for it to end; later asks are dropped."""
        self._closed = True
        self._waiting.clear()
        drains = set(self._drains)
        for drain in drains:
            drain.cancel()
        await asyncio.gather(*drains, return_exceptions=True)
