"""Numbers over time: the figures of one metric and where its pace leads (pure).

``/stats``, ``/update``, ``/goal`` and the check-ins all say the same things about a metric —
the latest value, the change since the sample before, the 30- and 90-day change, the weekly
pace, and for a goal: when it is reached at that pace, the weekly pace it needs, on track or
behind. They agree because they all ask this module. No I/O, no clock: ``now`` is passed in.

How it counts (the replies say so, and the property tests pin it):

* **change over 30 / 90 days** — the latest value minus the last sample recorded at or before
  ``now`` − 30 (90) days. No sample that old: no figure (we do not guess what it was then).
* **weekly pace** — the least-squares slope of every sample of the last 90 days (before
  ``now``), per week. A straight line through all of them, so one odd reading moves it a little,
  not a lot.
* **too thin to say** — fewer than 2 samples in those 90 days, or the first and last of them
  less than :data:`MIN_SPAN` (7 days) apart: a pace from two readings a day apart is noise.
* **projection** — from the latest sample, at the weekly pace, a straight line: the moment it
  crosses the target. A pace of zero or away from the target never reaches it.
* **needed pace** — (target − latest) ÷ the weeks from the latest sample to the end of the
  goal's date (midnight UTC after it), so that ``needed × weeks + latest == target`` exactly.
* **on track** — the projection reaches the target by the end of the goal's date; **met** —
  the latest value is at the target or beyond it, in the goal's direction.

Arithmetic is exact (:class:`~fractions.Fraction` over whole seconds), so a perfectly linear
series projects to the second, and rounding happens only where figures are shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from math import lcm
from typing import Literal

Sample = tuple[datetime, Decimal]
Status = Literal["met", "on_track", "behind", "thin"]

#: The pace window: samples of the last 90 days.
PACE_WINDOW = timedelta(days=90)
#: Samples closer together than this say nothing about a pace.
MIN_SPAN = timedelta(days=7)
WEEK_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Figures:
    """What ``/stats`` shows for one metric."""

    latest: Decimal
    latest_at: datetime
    #: Latest minus the sample before it (``None``: only one sample).
    change: Decimal | None
    change_30d: Decimal | None
    change_90d: Decimal | None
    #: Per week (``None``: too thin to say).
    pace: Fraction | None
    samples: int


@dataclass(frozen=True, slots=True)
class Projection:
    """Where a goal stands."""

    status: Status
    pace: Fraction | None
    #: When the target is reached at the current pace (``None``: never, or too thin to say).
    reach_at: datetime | None
    #: The weekly pace that reaches the target by the goal's date (``None``: the date passed).
    needed: Fraction | None
    #: Weeks from the latest sample to the end of the goal's date.
    weeks_left: Fraction


def ordered(samples: Sequence[Sample]) -> list[Sample]:
    """Samples oldest first (ties keep their order)."""
    return sorted(samples, key=lambda s: s[0])


def _seconds(at: datetime) -> int:
    return int(at.timestamp())


def weekly_pace(samples: Sequence[Sample], now: datetime) -> Fraction | None:
    """The least-squares slope of the last 90 days' samples, per week; ``None`` when too thin."""
    window = [s for s in ordered(samples) if now - PACE_WINDOW <= s[0] <= now]
    if len(window) < 2 or window[-1][0] - window[0][0] < MIN_SPAN:
        return None
    # The least-squares slope n·Σxy − Σx·Σy over n·Σx² − (Σx)², in whole integers: seconds
    # counted from the first sample (a shift leaves the slope as it is) and every value over
    # one common denominator. Exactly the Fraction the textbook formula gives (the property
    # test tests/unit/test_projection_equivalence.py holds it to the old one), without the
    # hundreds of Fraction normalisations that cost the weekly review a quarter of its time.
    origin = _seconds(window[0][0])
    xs = [_seconds(t) - origin for t, _ in window]
    ratios = [v.as_integer_ratio() for _, v in window]
    scale = lcm(*(d for _, d in ratios))
    ys = [num * (scale // den) for num, den in ratios]
    n = len(window)
    sum_x, sum_y = sum(xs), sum(ys)
    spread = n * sum(x * x for x in xs) - sum_x * sum_x
    if spread == 0:
        return None
    covariance = n * sum(x * y for x, y in zip(xs, ys, strict=True)) - sum_x * sum_y
    return Fraction(covariance * WEEK_SECONDS, spread * scale)


def _change_since(series: list[Sample], cutoff: datetime) -> Decimal | None:
    before = [v for t, v in series if t <= cutoff]
    return None if not before else series[-1][1] - before[-1]


def figures(samples: Sequence[Sample], now: datetime) -> Figures | None:
    """The figures of one metric (``None``: no sample)."""
    series = ordered(samples)
    if not series:
        return None
    latest_at, latest = series[-1]
    return Figures(
        latest=latest,
        latest_at=latest_at,
        change=latest - series[-2][1] if len(series) > 1 else None,
        change_30d=_change_since(series, now - timedelta(days=30)),
        change_90d=_change_since(series, now - timedelta(days=90)),
        pace=weekly_pace(series, now),
        samples=len(series),
    )


def deadline(due_on: date) -> datetime:
    """The end of a goal's date: midnight UTC after it."""
    return datetime.combine(due_on + timedelta(days=1), time(0), tzinfo=UTC)


def aims_up(target: Decimal, baseline: Decimal | None, better: str | None) -> bool:
    """Whether the goal is to go up: the content's ``better`` decides, else where the target
    lies from the baseline (no baseline: up)."""
    if better in {"higher", "lower"}:
        return better == "higher"
    return baseline is None or target >= baseline


def reached(value: Decimal, target: Decimal, up: bool) -> bool:
    """Whether ``value`` is at the target or beyond it in the goal's direction."""
    return value >= target if up else value <= target


def reach_at(
    latest: Decimal, latest_at: datetime, target: Decimal, pace: Fraction
) -> datetime | None:
    """When a straight line from the latest sample at ``pace`` per week crosses the target
    (``None``: it never does — no pace, or a pace away from it)."""
    gap = Fraction(target) - Fraction(latest)
    if gap == 0:
        return latest_at
    if pace == 0 or (gap > 0) != (pace > 0):
        return None
    seconds = gap / pace * WEEK_SECONDS
    if seconds > 100 * 365 * 24 * 3600:  # a century away: never, for a musician
        return None
    return latest_at + timedelta(seconds=round(seconds))


def needed_pace(latest: Decimal, target: Decimal, weeks: Fraction) -> Fraction | None:
    """The weekly pace that goes from ``latest`` to ``target`` in ``weeks`` (``None``: no time
    left)."""
    if weeks <= 0:
        return None
    return (Fraction(target) - Fraction(latest)) / weeks


def project(
    samples: Sequence[Sample],
    *,
    target: Decimal,
    due_on: date,
    now: datetime,
    baseline: Decimal | None = None,
    better: str | None = None,
) -> Projection | None:
    """Where a goal stands, from the metric's samples (``None``: no sample)."""
    series = ordered(samples)
    if not series:
        return None
    latest_at, latest = series[-1]
    up = aims_up(target, baseline if baseline is not None else series[0][1], better)
    pace = weekly_pace(series, now)
    end = deadline(due_on)
    weeks = Fraction(_seconds(end) - _seconds(latest_at), WEEK_SECONDS)
    needed = needed_pace(latest, target, weeks)
    if reached(latest, target, up):
        return Projection("met", pace, latest_at, needed, weeks)
    if pace is None:
        return Projection("thin", None, None, needed, weeks)
    when = reach_at(latest, latest_at, target, pace)
    status: Status = "on_track" if when is not None and when <= end else "behind"
    return Projection(status, pace, when, needed, weeks)
