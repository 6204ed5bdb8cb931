"""When a reminder is due: local wall-clock schedules turned into UTC instants.

A musician says "daily 18:00" in their own timezone; the database keeps ``next_due_at`` in UTC.
The local time is what stays fixed: a 09:30 reminder is at 09:30 local before and after a DST
change, so its UTC instant moves by an hour twice a year. Two wall-clock times need a rule:

* **the spring-forward gap** (02:30 does not exist on that night in Europe/Berlin): the nudge
  moves forward by the length of the gap, to 03:30 — the same instant a clock that was not
  adjusted would show. It still comes that day, never skipped.
* **the fall-back fold** (02:30 happens twice): the nudge comes once, at the first 02:30.

Both rules are exactly what ``datetime.combine(..., tzinfo=zone)`` with ``fold=0`` followed by a
conversion to UTC does (PEP 495), so :func:`local_to_utc` is one line; the tests pin the rules.

Quiet hours (``22:00-08:00``, possibly across midnight) move a nudge that would fall inside the
window to the window's end, in local time.

Everything here is pure: no clock, no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from typing import Any, Literal
from zoneinfo import available_timezones

from core.clock import OFFSET_NAME

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ALL_DAYS = frozenset(range(7))

#: Zones offered by the /timezone picker (one button each).
COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Kyiv",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Africa/Lagos",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
)

_OFFSET_INPUT = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
_TIME = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|h)?$", re.IGNORECASE)


# ------------------------------------------------------------------------------ zones


@cache
def _zone_index() -> tuple[dict[str, str], dict[str, list[str]]]:
    names = available_timezones()
    exact = {n.casefold(): n for n in names}
    cities: dict[str, list[str]] = {}
    for n in names:
        if "/" in n and not n.startswith(("Etc/", "SystemV/")):
            city = n.rsplit("/", 1)[1].replace("_", " ").casefold()
            cities.setdefault(city, []).append(n)
    return exact, cities


def parse_timezone(text: str) -> str | None:
    """A timezone name to store, from what a musician typed; ``None`` when it is not one.

    Accepts IANA names in any case (``europe/berlin``), a city alone when it names one zone
    (``Berlin``, ``new york``), and fixed offsets (``UTC+2``, ``GMT-03:30``, ``+05:30``), which
    are stored as ``UTC+HH:MM`` (they do not follow DST; the reply says so).
    """
    raw = text.strip()
    if not raw or len(raw) > 64:
        return None
    offset = _OFFSET_INPUT.match(raw.replace(" ", ""))
    if offset:
        hours, minutes = int(offset.group(2)), int(offset.group(3) or 0)
        if hours > 14 or minutes >= 60:
            return None
        if hours == 0 and minutes == 0:
            return "UTC"
        return f"UTC{offset.group(1)}{hours:02d}:{minutes:02d}"
    if raw.casefold() in {"utc", "gmt", "z", "zulu"}:
        return "UTC"
    exact, cities = _zone_index()
    key = raw.replace(" ", "_").casefold()
    if key in exact:
        return exact[key]
    matches = cities.get(raw.replace("_", " ").casefold(), [])
    return matches[0] if len(matches) == 1 else None


@cache
def _zone_names() -> tuple[str, ...]:
    return tuple(sorted(n for n in available_timezones() if not n.startswith("SystemV/")))


def zones_matching(typed: str, limit: int) -> list[str]:
    """Timezone names to offer while someone types ``typed`` (Discord's autocomplete on
    ``/timezone``): the common zones for nothing typed; else what the text means as an offset
    (``+2`` → ``UTC+02:00``) first, then zones whose name or city starts with it, then those
    containing it — each group alphabetical, common zones first. ``Etc/GMT+2`` and its kind
    (POSIX signs: two hours *behind* UTC) only when asked for by name. Every value is one
    :func:`parse_timezone` accepts."""
    raw = typed.strip()
    if not raw:
        return list(COMMON_ZONES[:limit])
    key = raw.replace(" ", "_").casefold()
    found: list[tuple[int, str]] = []
    offset = parse_timezone(raw)
    if offset is not None and is_fixed_offset(offset):
        found.append((-1, offset))
    common = frozenset(COMMON_ZONES)
    for name in _zone_names():
        folded = name.casefold()
        if folded.startswith("etc/") and not key.startswith("etc"):
            continue
        city = folded.rsplit("/", 1)[-1]
        if folded.startswith(key) or city.startswith(key):
            found.append((0 if name in common else 1, name))
        elif key in folded:
            found.append((2, name))
    found.sort()
    return [name for _rank, name in found[:limit]]


def is_fixed_offset(name: str) -> bool:
    """True for a ``UTC+HH:MM`` zone (no DST)."""
    return bool(OFFSET_NAME.match(name))


# ------------------------------------------------------------------------------ times


def parse_time(text: str) -> time | None:
    """``18:00``, ``18.00``, ``6pm``, ``9:30am``, ``18h``, ``7`` → a wall-clock time."""
    match = _TIME.match(text.strip())
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    suffix = (match.group(3) or "").casefold()
    if suffix in {"am", "pm"}:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def hhmm(value: time) -> str:
    """``18:00``."""
    return f"{value.hour:02d}:{value.minute:02d}"


def parse_days(text: str) -> frozenset[int] | None:
    """``mon,thu`` / ``mon thu`` / ``monday`` / ``weekdays`` / ``weekends`` → weekday numbers."""
    words = [w for w in re.split(r"[\s,;/+&]+", text.strip().casefold()) if w and w != "and"]
    if not words:
        return None
    days: set[int] = set()
    for word in words:
        if word in {"weekdays", "weekday"}:
            days.update(range(5))
        elif word in {"weekends", "weekend"}:
            days.update({5, 6})
        elif word in {"daily", "everyday"}:
            days.update(ALL_DAYS)
        else:
            hit = [i for i in range(7) if len(word) >= 2 and _FULL_DAYS[i].startswith(word)]
            if len(hit) != 1:  # unknown, or ambiguous ("t", "s")
                return None
            days.add(hit[0])
    return frozenset(days)


def days_text(days: frozenset[int]) -> str:
    """``Mon, Thu`` (or ``every day`` / ``weekdays``)."""
    if days == ALL_DAYS:
        return "every day"
    if days == frozenset(range(5)):
        return "weekdays"
    if days == frozenset({5, 6}):
        return "weekends"
    return ", ".join(DAY_NAMES[d].capitalize() for d in sorted(days))


# ------------------------------------------------------------------------------ schedules


@dataclass(frozen=True, slots=True)
class Schedule:
    """A recurring local time on some weekdays (every day for ``daily``)."""

    kind: Literal["daily", "weekly"]
    at: time
    days: frozenset[int] = ALL_DAYS

    def to_json(self) -> dict[str, Any]:
        """The ``reminders.schedule`` column's form."""
        return {"type": self.kind, "time": hhmm(self.at), "days": sorted(self.days)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Schedule | None:
        """Read the column back; ``None`` for a shape this version does not know."""
        at = parse_time(str(data.get("time", "")))
        kind = data.get("type")
        if at is None or kind not in {"daily", "weekly"}:
            return None
        days = frozenset(int(d) for d in data.get("days", range(7)) if 0 <= int(d) <= 6)
        return cls("daily" if kind == "daily" else "weekly", at, days or ALL_DAYS)

    def describe(self) -> str:
        """``every day at 18:00`` / ``Mon, Thu at 09:30``."""
        return f"{days_text(self.days)} at {hhmm(self.at)}"


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A local window without nudges; ``start > end`` means it spans midnight."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours | None:
        """``22:00-08:00`` / ``22-8`` / ``10pm-7am``."""
        parts = re.split(r"\s*(?:-|–|to)\s*", text.strip(), maxsplit=1)
        if len(parts) != 2:
            return None
        start, end = parse_time(parts[0]), parse_time(parts[1])
        if start is None or end is None or start == end:
            return None
        return cls(start, end)

    @classmethod
    def of(cls, start: str | None, end: str | None) -> QuietHours | None:
        """From the two stored columns (``None`` when unset)."""
        if not start or not end:
            return None
        s, e = parse_time(start), parse_time(end)
        return cls(s, e) if s is not None and e is not None and s != e else None

    def contains(self, local: time) -> bool:
        """True when a local wall-clock time is inside the window."""
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def describe(self) -> str:
        """``22:00–08:00``."""
        return f"{hhmm(self.start)}–{hhmm(self.end)}"


def local_to_utc(day: date, at: time, tz: tzinfo) -> datetime:
    """The UTC instant of a local wall-clock time, with the gap and fold rules above."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def outside_quiet(instant: datetime, tz: tzinfo, quiet: QuietHours | None) -> datetime:
    """``instant``, or the end of the quiet window it falls into (UTC in, UTC out)."""
    if quiet is None:
        return instant
    local = instant.astimezone(tz)
    if not quiet.contains(local.time().replace(tzinfo=None)):
        return instant
    end_day = local.date()
    if quiet.start > quiet.end and local.time() >= quiet.start:
        end_day += timedelta(days=1)  # in the evening part of a window across midnight
    return local_to_utc(end_day, quiet.end, tz)


def _occurrences(
    schedule: Schedule, tz: tzinfo, around: datetime, offsets: range, quiet: QuietHours | None
) -> Iterator[datetime]:
    """Occurrences on the schedule's days, day by day in the order of ``offsets``.

    Quiet hours only ever move an occurrence to the end of its window, never past the next
    day's, so the sequence stays ordered and callers can stop at the first one that fits.
    """
    base = around.astimezone(tz).date()
    for offset in offsets:
        day = base + timedelta(days=offset)
        if day.weekday() in schedule.days:
            yield outside_quiet(local_to_utc(day, schedule.at, tz), tz, quiet)


def next_due(
    schedule: Schedule, tz: tzinfo, after: datetime, quiet: QuietHours | None = None
) -> datetime:
    """The first occurrence strictly after ``after`` (UTC), quiet hours applied."""
    for candidate in _occurrences(schedule, tz, after, range(-1, 9), quiet):
        if candidate > after:
            return candidate
    raise ValueError("a schedule without days")  # pragma: no cover - from_json forbids it


def previous_due(
    schedule: Schedule, tz: tzinfo, at: datetime, quiet: QuietHours | None = None
) -> datetime | None:
    """The last occurrence at or before ``at`` within the past week (``None`` if none)."""
    for candidate in _occurrences(schedule, tz, at, range(1, -9, -1), quiet):
        if candidate <= at:
            return candidate
    return None


def tomorrow_same_time(instant: datetime, tz: tzinfo, quiet: QuietHours | None) -> datetime:
    """The same local wall-clock time tomorrow (the "Tomorrow" button), quiet hours applied."""
    local = instant.astimezone(tz)
    target = local_to_utc(local.date() + timedelta(days=1), local.time().replace(tzinfo=None), tz)
    return outside_quiet(target, tz, quiet)
