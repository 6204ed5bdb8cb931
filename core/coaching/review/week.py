"""The review's calendar (pure): the musician's local week, when the weekly review is due, the
stable per-person spread within its hour, and the back-off after silent weeks.

Why here and not in :mod:`core.reminders.schedule`: ``core.coaching`` sits below
``core.reminders`` in the import layers, and ``/review`` (a coaching command) must compute the
next review when the musician changes the day or time. The tick applies quiet hours on top
(:mod:`core.reminders.review_kind`), with the reminders' own rules.

* **This week** is Monday..Sunday in the musician's timezone (their reminder timezone, else
  UTC), counted from the injected clock.
* **The slot**: a weekday and a local time (default Monday 10:00), plus a per-person offset of
  :func:`spread`: the first 4 bytes of SHA-256 of the profile id, modulo 3 600 seconds. So
  100 000 musicians on "Monday 10:00" arrive spread over 10:00–10:59 instead of queueing at
  one second, and each person's offset never changes (the same minute every week).
* **The key** of a review delivery names the ISO week of the slot's local day, so a repeated
  claim, a retry or a quiet-hours delay of the same week's review never sends it twice.
* **Back-off**: after :data:`SILENT_WEEKS` (3) weeks without any activity the review comes
  every 2nd week, after :data:`RARE_WEEKS` (7) every 4th; activity brings it back to weekly.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Final

DAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_DAY: Final = 0
DEFAULT_AT: Final = time(10, 0)
#: Reviews are spread over this window after their slot's time (one hour).
SPREAD: Final = timedelta(hours=1)
#: Weeks without activity before the review comes every 2nd week only.
SILENT_WEEKS: Final = 3
#: Weeks without activity before it comes every 4th week only.
RARE_WEEKS: Final = 7
WEEK: Final = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Week:
    """One local week, Monday..Sunday, and its bounds as UTC instants."""

    monday: date
    start: datetime
    end: datetime

    @property
    def sunday(self) -> date:
        """The week's last day."""
        return self.monday + timedelta(days=6)

    @property
    def label(self) -> str:
        """``2026-W50``: the ISO week (the delivery key names it)."""
        year, number, _ = self.monday.isocalendar()
        return f"{year}-W{number:02d}"


def week_of(day: date, tz: tzinfo) -> Week:
    """The local week holding ``day``."""
    monday = day - timedelta(days=day.weekday())
    start = datetime.combine(monday, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(monday + WEEK, time(0), tzinfo=tz).astimezone(UTC)
    return Week(monday, start, end)


def this_week(now: datetime, tz: tzinfo) -> Week:
    """The musician's current local week."""
    return week_of(now.astimezone(tz).date(), tz)


def spread(profile_id: uuid.UUID) -> timedelta:
    """A stable offset in ``[0, 1 h)``: SHA-256 of the profile id, first 4 bytes, mod 3 600 s."""
    digest = hashlib.sha256(profile_id.bytes).digest()
    return timedelta(seconds=int.from_bytes(digest[:4], "big") % int(SPREAD.total_seconds()))


@dataclass(frozen=True, slots=True)
class Slot:
    """When the weekly review comes: a weekday (0 = Monday) at a local time."""

    day: int = DEFAULT_DAY
    at: time = DEFAULT_AT

    def to_json(self) -> dict[str, Any]:
        """The ``reminders.schedule`` column's form (the shape of a weekly schedule)."""
        return {"type": "weekly", "time": f"{self.at:%H:%M}", "days": [self.day]}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Slot:
        """Read the column back; the default slot for anything unreadable."""
        data = data or {}
        try:
            days = [int(d) for d in data.get("days", [DEFAULT_DAY])]
            at = time.fromisoformat(str(data.get("time", "10:00")))
        except (TypeError, ValueError):
            return cls()
        day = days[0] if days and 0 <= days[0] <= 6 else DEFAULT_DAY
        return cls(day, at.replace(second=0, microsecond=0, tzinfo=None))

    def describe(self) -> str:
        """``Monday 10:00``."""
        return f"{DAYS[self.day].capitalize()} {self.at:%H:%M}"

    def occurrence(self, week: date, tz: tzinfo, offset: timedelta) -> datetime:
        """The instant of this slot in the week of ``week`` (UTC), the spread added."""
        monday = week - timedelta(days=week.weekday())
        local = datetime.combine(monday + timedelta(days=self.day), self.at, tzinfo=tz)
        return local.astimezone(UTC) + offset

    def next_after(self, instant: datetime, tz: tzinfo, offset: timedelta) -> datetime:
        """The first occurrence strictly after ``instant``."""
        day = instant.astimezone(tz).date()
        for weeks in (-1, 0, 1, 2):
            at = self.occurrence(day + WEEK * weeks, tz, offset)
            if at > instant:
                return at
        raise AssertionError("unreachable: a weekly slot recurs within two weeks")

    def latest_at(self, instant: datetime, tz: tzinfo, offset: timedelta) -> datetime:
        """The last occurrence at or before ``instant``."""
        day = instant.astimezone(tz).date()
        for weeks in (1, 0, -1, -2):
            at = self.occurrence(day + WEEK * weeks, tz, offset)
            if at <= instant:
                return at
        raise AssertionError("unreachable: a weekly slot recurs within two weeks")


def next_weekly(
    slot: Slot,
    tz: tzinfo,
    offset: timedelta,
    now: datetime,
    last_sent: datetime | None = None,
) -> datetime:
    """When a weekly message (the review, a band's digest) is next due — the tick moves it out
    of quiet hours: the next slot, or next week's when this week's already went out (one a
    week, whatever day the slot was moved to)."""
    week = this_week(now, tz)
    after = now
    if last_sent is not None and this_week(last_sent, tz) == week:
        after = max(now, week.end - timedelta(microseconds=1))
    return slot.next_after(after, tz, offset)


def silent_weeks(last_activity: datetime | None, now: datetime) -> int:
    """Whole weeks since the musician's last activity (0 when unknown: a new row)."""
    if last_activity is None or last_activity >= now:
        return 0
    return (now - last_activity) // WEEK


def every(silent: int) -> int:
    """Every how many weeks a review comes after ``silent`` weeks without activity."""
    if silent >= RARE_WEEKS:
        return 4
    if silent >= SILENT_WEEKS:
        return 2
    return 1


def sends_now(silent: int, held_back: int) -> bool:
    """Whether this week's review goes out, ``held_back`` reviews having been skipped in a row
    by the back-off (the reminder row's ``stage`` keeps that count)."""
    return held_back + 1 >= every(silent)


_DAY_WORD = re.compile(r"^[a-z]+$")
_TIME_WORD = re.compile(r"^(\d{1,2})(?::(\d{2}))?$")


def parse_slot(text: str, current: Slot | None = None, *, command: str = "/review") -> Slot | str:
    """``monday 9:00`` / ``mon 09:30`` / ``friday`` / ``18:00`` → a slot, or what's wrong.

    A day alone keeps the ``current`` slot's time, a time alone its day. ``command`` is the
    command the example in an error names (``/band digest`` for a band's digest).

    Day names (a prefix of 2+ letters that names one day) and 24-hour times only: "9pm" is
    refused with an example rather than guessed.
    """
    words = text.strip().casefold().replace(",", " ").split()
    if not words or len(words) > 2:
        return f"Tell me a day and a 24-hour time, like {command} monday 9:00."
    day: int | None = None
    at: time | None = None
    for word in words:
        if _DAY_WORD.match(word):
            hits = [i for i, name in enumerate(DAYS) if len(word) >= 2 and name.startswith(word)]
            if len(hits) != 1 or day is not None:
                return f"I don't know the day “{word[:20]}”. Try monday … sunday."
            day = hits[0]
            continue
        match = _TIME_WORD.match(word)
        if match is None or at is not None:
            return f"“{word[:20]}” isn't a 24-hour time. Try 9:00 or 18:30."
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if hour > 23 or minute > 59:
            return f"“{word[:20]}” isn't a time of day. Use 00:00 to 23:59."
        at = time(hour, minute)
    base = current or Slot()
    return Slot(base.day if day is None else day, base.at if at is None else at)
