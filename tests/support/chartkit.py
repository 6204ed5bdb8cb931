"""Offloads for the chart tests: one that counts what it draws (and can hold it back), so a
test sees whether ``/stats`` or a warm-up drew a chart or served the stored one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar, TypeVarTuple, Unpack

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


class CountingOffload:
    """Runs the work inline (no thread, no process) and counts the calls.

    ``hold()`` makes the next calls wait until ``let_go()``: a warm-up caught mid-drawing.
    """

    workers = 1

    def __init__(self) -> None:
        self.calls = 0
        self.closed = 0
        self._open = asyncio.Event()
        self._open.set()
        self._called = asyncio.Event()

    def hold(self) -> None:
        """Calls from now on wait for :meth:`let_go`."""
        self._open.clear()

    def let_go(self) -> None:
        """Let the waiting calls (and later ones) run."""
        self._open.set()

    async def run(self, fn: Callable[[Unpack[Ts]], T], /, *args: *Ts) -> T:
        """``fn(*args)`` right here, counted."""
        self.calls += 1
        self._called.set()
        await self._open.wait()
        return fn(*args)

    async def reached(self, calls: int, *, within: float = 30.0) -> None:
        """Wait until ``calls`` calls have started: a warm-up runs in the background, after
        its event's reply, and reads the database before it draws — on a busy machine it may
        not have reached the drawing yet when the next event is sent. ``within`` bounds only
        how long a failure takes: a CI run once spent over 10 s there with four test workers on
        two cores."""
        async with asyncio.timeout(within):
            while self.calls < calls:
                self._called.clear()
                await self._called.wait()

    async def close(self) -> None:
        """Counted, so a test sees the coach closed it."""
        self.closed += 1
