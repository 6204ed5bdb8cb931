"""The coach's one clock: what "now" is, injected once and shared by reference.

Every part that needs the time (the conversation engine, the admin desk, the reminder tick,
housekeeping, the broadcast sender) receives the *same* :data:`Clock` from whoever builds the
process (``coach run``, ``coach chat``, a test) and reads it through a read-only attribute.
Why so strict: a part that took its own copy at construction, or fell back to the wall clock
by default, disagreed with the rest as soon as a test (or a replay tool) moved time — that is
how ``/admin stats`` came to read the wall clock while the reminders it counted ran on a test's
clock. Only :class:`~core.app.engine.Coach` defaults to the system clock; everything
it builds is handed the coach's clock, and the other long-lived parts take it as a required
argument, so forgetting to pass it is a type error, not a silent second clock.

Durations that never meet a stored timestamp (rate limits, the catalog's TTL) use
``time.monotonic`` seams of their own: they measure intervals, not dates.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: Returns the current time, aware and in UTC.
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real current time, aware and in UTC (production's clock)."""
    return datetime.now(UTC)


#: A fixed-offset zone as stored: ``UTC+05:30`` (what ``/timezone UTC+5:30`` saves).
OFFSET_NAME = re.compile(r"^UTC([+-])(\d{2}):(\d{2})$")


def zone(name: str | None) -> tzinfo:
    """The tzinfo of a stored timezone name (an IANA name or ``UTC+05:30``); UTC when empty or
    unknown (a stored name is validated on the way in; this only protects readers from a zone a
    newer tzdata dropped). The one reader of stored zones: reminders, reviews and streaks count
    a musician's days the same way.
    """
    return _zone(name or "UTC")


@cache
def _zone(name: str) -> tzinfo:
    match = OFFSET_NAME.match(name)
    if match:
        sign = 1 if match.group(1) == "+" else -1
        delta = timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
        return timezone(sign * delta, name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC
