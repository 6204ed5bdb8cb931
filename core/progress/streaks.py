"""Streaks: how many weeks in a row a musician did at least one step, and the freezes that keep
a streak through a tour or a holiday (issue #14 §3a). Pure: the rows come in, a
:class:`Streak` comes out; the SQL is ``core.kernel.store.streak_history``.

The rules (docs/coaching.md, "Streaks"):

* A **week** is an ISO week, Monday to Sunday, in the musician's own timezone (a band's: UTC —
  its members live in different zones, and UTC is the one they share). Weeks are keyed by their
  Monday, so a year with an ISO week 53 and the turn of the year need no special case.
* A **step** is a task completed (``user_task_progress.completed_at`` of a completed row), a
  checklist item ticked (its time in the row's ``task_data.ticked_at``, kept while the item
  stays ticked) or a number recorded (a ``stat_samples`` row: an answer, ``/update``, a
  check-in). Skips and postponements are not steps; an untick or an ``/undo`` takes its step
  back.
* The **current streak** is the run of weeks with a step that ends this week — or last week
  while this week has no step yet: the streak is still alive, "keep it alive this week".
* A week without a step that a **freeze** touches neither breaks the run nor adds to it; a
  week with a step always counts, frozen or not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Final

from core.clock import zone

#: Freezes a profile may start per calendar quarter (counted by the quarter they start in).
FREEZES_PER_QUARTER: Final = 2
#: The longest one freeze may be, in days (four weeks).
MAX_FREEZE_DAYS: Final = 28
#: How far ahead a freeze may be planned, in days.
MAX_PLAN_AHEAD_DAYS: Final = 90

_WEEK: Final = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Freeze:
    """A stored freeze: the days it covers, both included."""

    starts_on: date
    ends_on: date

    def covers(self, day: date) -> bool:
        """Whether ``day`` is one of the freeze's days."""
        return self.starts_on <= day <= self.ends_on

    @property
    def days(self) -> int:
        """How many days it covers."""
        return (self.ends_on - self.starts_on).days + 1


@dataclass(frozen=True, slots=True)
class History:
    """What a streak is computed from: when each step was done (aware datetimes, any order)
    and the profile's freezes."""

    steps: tuple[datetime, ...] = ()
    freezes: tuple[Freeze, ...] = ()


@dataclass(frozen=True, slots=True)
class Streak:
    """Where a profile's streak stands today.

    ``weeks`` is the current run (0: no streak); ``this_week_done`` says whether this week
    already counts in it (when not, and ``weeks`` > 0, the streak needs a step this week to
    stay alive — unless ``this_week_frozen``). ``best`` is the longest run ever, this one
    included. ``freeze`` is the freeze in force today, or else the next one planned.
    """

    weeks: int
    best: int
    this_week_done: bool
    this_week_frozen: bool
    freeze: Freeze | None
    freezes_left: int
    today: date

    @property
    def at_risk(self) -> bool:
        """A streak that ends unless a step is done this week."""
        return self.weeks > 0 and not self.this_week_done and not self.this_week_frozen

    @property
    def frozen_now(self) -> bool:
        """A freeze covers today."""
        return self.freeze is not None and self.freeze.covers(self.today)


def monday_of(day: date) -> date:
    """The Monday that starts ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def quarter_of(day: date) -> tuple[int, int]:
    """(year, quarter 1–4) of a day: freezes are limited per calendar quarter."""
    return day.year, (day.month - 1) // 3 + 1


def week_zone(timezone: str | None, *, band: bool) -> str:
    """The timezone a profile's weeks are counted in: a band's are UTC, a musician's their own."""
    return "UTC" if band or not timezone else timezone


def local_day(moment: datetime, tz: tzinfo) -> date:
    """The calendar day of an aware moment in ``tz``."""
    return moment.astimezone(tz).date()


def freezes_started_in(freezes: Iterable[Freeze], day: date) -> int:
    """How many freezes start in ``day``'s quarter."""
    quarter = quarter_of(day)
    return sum(1 for f in freezes if quarter_of(f.starts_on) == quarter)


def current_freeze(freezes: Iterable[Freeze], today: date) -> Freeze | None:
    """The freeze covering today, else the first one still to come."""
    ahead = sorted((f for f in freezes if f.ends_on >= today), key=lambda f: f.starts_on)
    for freeze in ahead:
        if freeze.covers(today):
            return freeze
    return ahead[0] if ahead else None


def _frozen_weeks(freezes: Iterable[Freeze], until: date) -> set[date]:
    """Mondays of the weeks (up to ``until``'s) that a freeze touches."""
    weeks: set[date] = set()
    for freeze in freezes:
        week = monday_of(freeze.starts_on)
        last = min(monday_of(freeze.ends_on), until)
        while week <= last:
            weeks.add(week)
            week += _WEEK
    return weeks


def compute(history: History, timezone: str | None, now: datetime) -> Streak:
    """The streak as of ``now`` (aware), with weeks counted in ``timezone``."""
    tz = zone(timezone)
    today = local_day(now, tz)
    this_week = monday_of(today)
    # a step dated after now (a clock moved back) counts in no week yet
    done = {monday_of(local_day(m, tz)) for m in history.steps if m <= now}
    frozen = _frozen_weeks(history.freezes, this_week)
    this_done = this_week in done
    this_frozen = this_week in frozen

    current = 0
    week = this_week if this_done else this_week - _WEEK
    earliest = min(done | frozen, default=this_week)
    while week >= earliest:
        if week in done:
            current += 1
        elif week not in frozen:
            break
        week -= _WEEK

    best = current
    run = 0
    week = earliest
    while week < this_week:
        if week in done:
            run += 1
            best = max(best, run)
        elif week not in frozen:
            run = 0
        week += _WEEK

    return Streak(
        weeks=current,
        best=best,
        this_week_done=this_done,
        this_week_frozen=this_frozen,
        freeze=current_freeze(history.freezes, today),
        freezes_left=max(0, FREEZES_PER_QUARTER - freezes_started_in(history.freezes, today)),
        today=today,
    )
