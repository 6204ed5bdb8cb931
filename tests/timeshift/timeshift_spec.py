"""Reading ``COACH_TEST_TIME_SHIFT`` (365d, -30d, 12h, 90m, or a number of days) and moving
the clock by it."""

from __future__ import annotations

import re
from datetime import timedelta

_SHIFT = re.compile(r"^([+-]?\d+)\s*([dhm]?)$")
_UNITS = {"": "days", "d": "days", "h": "hours", "m": "minutes"}
#: True once this process's clock is moved (moving it twice would double the shift).
_started = False


def parse_shift(text: str) -> timedelta:
    """``"365d"`` → ``timedelta(days=365)``; anything else is a ``ValueError`` that says why."""
    match = _SHIFT.match(text.strip().lower())
    if match is None:
        raise ValueError(
            f"COACH_TEST_TIME_SHIFT={text!r}: give a whole number with d, h or m, e.g. 365d"
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def start_shifted_clock(text: str) -> None:
    """Move this process's wall clock by ``text`` from now on, ticking at real speed.

    time-machine anchors a ticking clock at the first time it is *read*, not when it starts:
    left alone, a process that first asks for the time after a slow import lags behind the
    others by that import's duration (reminder workers sharing a fake clock then disagree by
    a second, and the one that is ahead takes all the work). Reading it at once pins every
    process to the same real instant plus the shift.
    """
    global _started  # noqa: PLW0603 - once per process
    if _started:  # a process started by a shifted one: sitecustomize moved it already
        return
    import time  # noqa: PLC0415 - only in a shifted run
    from datetime import UTC, datetime  # noqa: PLC0415

    import time_machine  # noqa: PLC0415

    delta = parse_shift(text)
    time_machine.travel(datetime.now(UTC) + delta, tick=True).start()
    time.time()  # anchor the ticking clock now (see above)
    _started = True
