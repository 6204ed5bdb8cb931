"""Riding out a database restart: a short bounded back-off, and one log line each way.

Why retry rather than ping: a ping before every transaction is a round trip per chat event,
which the hot path cannot afford (``benchmarks/core.py`` holds it to ≥ 0.45 × bare asyncpg).
Instead the cheap checks happen at checkout (a connection whose socket is known closed is never
handed out) and everything else is found by the transaction itself: when it fails because the
connection was lost (:func:`core.db.failures.connection_lost`), it is run again on a fresh one,
after 0.05, 0.1, 0.2, 0.4, 0.8, 1, 1 … s, until ``budget`` seconds have passed. A restart of a
second or two is then invisible; a longer outage ends in :class:`DatabaseUnavailable`, which
the coach answers with one honest sentence.

Running it again is safe only for work that is one transaction, or whose transactions may be
repeated: chat events are (their update id is recorded in the same transaction, so a repeat of
one that did commit is recognised); see docs/architecture.md for each caller.

The log: the first lost connection of an outage logs one warning, the first success after it
one line saying how long it lasted; everything in between is at debug level. Once the database
has been gone for longer than ``budget``, work gets one attempt instead of a back-off, so a long
outage doesn't leave every event waiting out the budget before its answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.db.failures import describe

logger = logging.getLogger("core.db")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long work keeps trying after a lost connection, and how it waits in between.

    ``sleep`` and ``monotonic`` are the seams tests replace; the real ones wait for real.
    """

    budget: float = 5.0
    first_delay: float = 0.05
    max_delay: float = 1.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    monotonic: Callable[[], float] = time.monotonic

    def delays(self) -> Callable[[], float | None]:
        """A fresh back-off: each call gives the next wait, or ``None`` once the budget is spent."""
        started = self.monotonic()
        delay = self.first_delay

        def next_delay() -> float | None:
            nonlocal delay
            wait = delay
            if self.monotonic() - started + wait > self.budget:
                return None
            delay = min(delay * 2, self.max_delay)
            return wait

        return next_delay


class Outage:
    """Whether this process currently finds the database unreachable, and since when."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self.since: float | None = None
        #: Outages seen so far (a test and an operator's debugger can read it).
        self.count = 0
        self._last: BaseException | None = None

    def lost(self, exc: BaseException) -> None:
        """A connection failed: the first failure of an outage logs one warning.

        The same failure may be reported twice (where it happened, and by the retry around
        it, possibly wrapped): it counts once.
        """
        if self._last is not None and (exc is self._last or exc.__cause__ is self._last):
            return
        self._last = exc
        if self.since is not None:
            logger.debug("database still unreachable: %s", describe(exc))
            return
        self.since = self._monotonic()
        self.count += 1
        logger.warning(
            "database connection lost (%s); retrying quietly until the database answers again",
            describe(exc),
        )

    def back(self) -> None:
        """A transaction succeeded: if an outage was on, say it is over (one line)."""
        if self.since is None:
            return
        lasted = self._monotonic() - self.since
        self.since = None
        self._last = None
        logger.warning("database answering again after %.1f s", lasted)

    def longer_than(self, seconds: float) -> bool:
        """True when an outage is on and has lasted more than ``seconds``."""
        return self.since is not None and self._monotonic() - self.since > seconds
