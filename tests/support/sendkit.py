"""Test helpers for front ends that wait: timers that take no real time.

The Telegram front end reads time and sleeps through a ``Timer`` (``bot/telegram/sending.py``):
a 429's ``retry_after``, the network back-off and the time budgets of sends, and the poller's
back-off, flood-control waits and inbox retries. With these timers those waits take no real
time, and each records the waits asked of it (``waits``), so a test can say how long the code
meant to wait:

* :class:`ManualTimer`: a sleeper waits until the test moves the clock past its wake-up time,
  so a test can hold Telegram's "wait 30 s" open while it presses another button, then let it
  end;
* :class:`SkippingTimer`: every sleep returns at once and moves the clock by its wait — for a
  test that only needs the waits to have been asked for, in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class ManualTimer:
    """Monotonic seconds that move only when the test says so; sleepers wake when passed."""

    def __init__(self, start: float = 1_000.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []
        #: Every wait asked for, in order (zero waits included).
        self.waits: list[float] = []

    def now(self) -> float:
        """The current (virtual) time."""
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Wait until the clock has moved ``seconds`` on (a zero wait only yields)."""
        self.waits.append(seconds)
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self._now + seconds, waiter))
        try:
            await waiter
        finally:
            self._sleepers = [(t, w) for t, w in self._sleepers if w is not waiter]

    @property
    def sleepers(self) -> int:
        """How many tasks are sleeping now."""
        return sum(1 for _, w in self._sleepers if not w.done())

    def advance(self, seconds: float) -> None:
        """Move the clock on and wake every sleeper whose time has come."""
        self._now += seconds
        for wake_at, waiter in self._sleepers:
            if wake_at <= self._now and not waiter.done():
                waiter.set_result(None)

    def skip_to_next(self) -> bool:
        """Move the clock to the earliest sleeper's wake-up time; False when nobody sleeps."""
        pending = [t for t, w in self._sleepers if not w.done()]
        if not pending:
            return False
        self.advance(max(0.0, min(pending) - self._now))
        return True

    async def run_until(
        self,
        predicate: Callable[[], bool],
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 - real seconds, a polling helper's API
        most: float = 3_600.0,
    ) -> float:
        """Keep waking the next sleeper until ``predicate`` holds; return the virtual seconds
        that passed. Fails after ``timeout`` real seconds, or ``most`` virtual ones."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        started = self._now
        while not predicate():
            if loop.time() > deadline:
                raise AssertionError(f"still false after {timeout} real seconds")
            if self._now - started > most:
                raise AssertionError(f"still false after {most} virtual seconds")
            await asyncio.sleep(0.01)
            if not predicate():
                self.skip_to_next()
        return self._now - started

    async def until_sleeping(self, count: int = 1, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait (real time) until at least ``count`` tasks sleep on this timer."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.sleepers < count:
            if loop.time() > deadline:
                raise AssertionError(f"{self.sleepers} sleepers after {timeout}s, wanted {count}")
            await asyncio.sleep(0.01)


class SkippingTimer:
    """Monotonic seconds that move only by sleeping: each sleep is recorded, moves the clock by
    its wait and returns at once (after letting other tasks run)."""

    def __init__(self, start: float = 1_000.0) -> None:
        self._now = start
        #: Every wait asked for, in order.
        self.waits: list[float] = []

    def now(self) -> float:
        """The current (virtual) time."""
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Record the wait, move the clock past it, yield once."""
        self.waits.append(seconds)
        self._now += max(0.0, seconds)
        await asyncio.sleep(0)
