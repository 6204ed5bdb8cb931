"""A per-person limit on inbound events: a burst of about 20 in 10 s, then a pause.

Beyond the limit a person gets one polite "slow down", then silence until their events fall
back under it; nothing they sent meanwhile is handled (it is not queued either — a flood is
not a to-do list).

Why in memory, per worker, and not in the database: the check runs before every event, and a
database counter would add a write (and a hot row) to every message of every musician — the
hot path the benchmarks fight for. The limit guards the coach against floods, not a quota
that must be exact: with Telegram there is one polling process (so the limit is exact), and
with N webhook workers a person can get at most N times the burst through. The memory is
bounded: at most ``max_keys`` people are tracked, the least recently seen forgotten first.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Final

#: What someone over the limit reads, once per flood.
SLOW_DOWN: Final = (
    "Whoa, that's a lot at once! 🙂 Please slow down — I'll answer again in a few seconds."
)


class Verdict(Enum):
    """What to do with one event."""

    ALLOW = "allow"
    WARN = "warn"  # over the limit: answer with SLOW_DOWN, handle nothing
    DROP = "drop"  # still over the limit after the warning: no answer at all


@dataclass(frozen=True, slots=True)
class RateLimit:
    """``events`` per ``seconds``."""

    events: int = 20
    seconds: float = 10.0

    @classmethod
    def parse(cls, text: str) -> RateLimit | None:
        """``"20/10"`` → 20 events per 10 s; ``"off"`` (or ``"0"``) → no limit.

        Raises:
            ValueError: anything else, so a typo stops the process at start.
        """
        cleaned = text.strip().lower()
        if cleaned in {"off", "none", "0", ""}:
            return None
        match = re.fullmatch(r"(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*s?", cleaned)
        if not match or int(match.group(1)) < 1 or float(match.group(2)) <= 0:
            raise ValueError(f"COACH_RATE_LIMIT must look like 20/10 or off, not {text!r}")
        return cls(int(match.group(1)), float(match.group(2)))


@dataclass
class _Window:
    times: deque[float] = field(default_factory=deque)
    warned: bool = False


class RateLimiter:
    """Sliding-window limiter keyed by person (``platform:id``)."""

    def __init__(
        self,
        limit: RateLimit,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.limit = limit
        self.clock = clock
        self.max_keys = max_keys
        self._windows: OrderedDict[str, _Window] = OrderedDict()

    def check(self, key: str) -> Verdict:
        """Count one event of ``key`` and say whether to handle it."""
        now = self.clock()
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = _Window()
            if len(self._windows) > self.max_keys:
                self._windows.popitem(last=False)
        else:
            self._windows.move_to_end(key)
        times = window.times
        while times and now - times[0] >= self.limit.seconds:
            times.popleft()
        if len(times) < self.limit.events:
            times.append(now)
            window.warned = False
            return Verdict.ALLOW
        if window.warned:
            return Verdict.DROP
        window.warned = True
        return Verdict.WARN
