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

from collections.abc import Callable
from datetime import UTC, datetime

#: Returns the current time, aware and in UTC.
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real current time, aware and in UTC (production's clock)."""
    return datetime.now(UTC)
