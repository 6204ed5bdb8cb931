"""Projections of a metric (core/progress/projection.py): property tests over generated series,
and the documented rules (too thin, change windows, on track / behind / met) by example.

Dates are built from a fixed instant far from any calendar edge only as an origin for relative
offsets; nothing here compares with the wall clock.
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.progress.projection import (
    WEEK_SECONDS,
    deadline,
    figures,
    needed_pace,
    project,
    reach_at,
    weekly_pace,
)

ORIGIN = datetime(2030, 1, 1, 12, tzinfo=UTC)
paces = st.integers(min_value=1, max_value=5000)
starts = st.integers(min_value=0, max_value=100_000)


def _linear(start: int, per_week: int, weeks: int) -> list[tuple[datetime, Decimal]]:
    return [(ORIGIN + timedelta(weeks=w), Decimal(start + per_week * w)) for w in range(weeks + 1)]


@given(start=starts, per_week=st.integers(-5000, 5000), weeks=st.integers(2, 12))
def test_a_linear_series_has_its_exact_pace(start: int, per_week: int, weeks: int) -> None:
    series = _linear(start, per_week, weeks)
    now = series[-1][0]
    assert weekly_pace(series, now) == per_week


@given(start=starts, per_week=paces, weeks=st.integers(2, 12), ahead=st.integers(1, 50))
def test_a_linear_series_projects_exactly(
    start: int, per_week: int, weeks: int, ahead: int
) -> None:
    series = _linear(start, per_week, weeks)
    now = series[-1][0]
    latest = series[-1][1]
    target = latest + per_week * ahead
    result = project(series, target=target, due_on=(now + timedelta(weeks=ahead)).date(), now=now)
    assert result is not None
    assert result.reach_at == now + timedelta(weeks=ahead)
    assert result.status == "on_track"


@given(
    latest=starts,
    gap=st.integers(1, 100_000),
    slow=st.fractions(min_value=Fraction(1, 10), max_value=1000),
    extra=st.fractions(min_value=0, max_value=1000),
)
def test_more_pace_never_makes_the_projected_date_later(
    latest: int, gap: int, slow: Fraction, extra: Fraction
) -> None:
    early = reach_at(Decimal(latest), ORIGIN, Decimal(latest + gap), slow + extra)
    late = reach_at(Decimal(latest), ORIGIN, Decimal(latest + gap), slow)
    if late is not None:
        assert early is not None
        assert early <= late
    # and going down, a faster fall is never later either
    down_early = reach_at(Decimal(latest + gap), ORIGIN, Decimal(latest), -(slow + extra))
    down_late = reach_at(Decimal(latest + gap), ORIGIN, Decimal(latest), -slow)
    if down_late is not None:
        assert down_early is not None
        assert down_early <= down_late


@given(
    latest=st.decimals(min_value=-1000, max_value=10**6, places=2),
    target=st.decimals(min_value=-1000, max_value=10**6, places=2),
    seconds=st.integers(1, 400 * 24 * 3600),
)
def test_needed_pace_times_weeks_plus_latest_is_the_target(
    latest: Decimal, target: Decimal, seconds: int
) -> None:
    weeks = Fraction(seconds, WEEK_SECONDS)
    needed = needed_pace(latest, target, weeks)
    assert needed is not None
    assert needed * weeks + Fraction(latest) == Fraction(target)


def test_project_needed_pace_counts_to_the_end_of_the_goal_day() -> None:
    series = _linear(100, 10, 4)
    now = series[-1][0]
    due = (now + timedelta(days=30)).date()
    result = project(series, target=Decimal(1000), due_on=due, now=now)
    assert result is not None
    assert result.needed is not None
    assert result.needed * result.weeks_left + 140 == 1000
    assert result.weeks_left == Fraction(
        int((deadline(due) - series[-1][0]).total_seconds()), WEEK_SECONDS
    )
    assert result.status == "behind"  # 10 a week will not make 860 in a month


def test_too_thin_with_one_sample_or_samples_under_a_week_apart() -> None:
    one = [(ORIGIN, Decimal(5))]
    assert weekly_pace(one, ORIGIN) is None
    close = [(ORIGIN, Decimal(5)), (ORIGIN + timedelta(days=6), Decimal(50))]
    assert weekly_pace(close, ORIGIN + timedelta(days=6)) is None
    result = project(
        close,
        target=Decimal(100),
        due_on=ORIGIN.date() + timedelta(days=60),
        now=ORIGIN + timedelta(days=6),
    )
    assert result is not None
    assert result.status == "thin"
    assert result.reach_at is None
    week = [(ORIGIN, Decimal(5)), (ORIGIN + timedelta(days=7), Decimal(12))]
    assert weekly_pace(week, ORIGIN + timedelta(days=7)) == 7


def test_old_samples_leave_the_pace_window() -> None:
    series = [
        (ORIGIN, Decimal(0)),
        (ORIGIN + timedelta(days=200), Decimal(1000)),
        (ORIGIN + timedelta(days=210), Decimal(1000)),
    ]
    assert weekly_pace(series, ORIGIN + timedelta(days=210)) == 0


def test_changes_since_the_last_sample_and_over_30_and_90_days() -> None:
    now = ORIGIN + timedelta(days=100)
    series = [
        (ORIGIN, Decimal(100)),  # before the 90-day cutoff
        (ORIGIN + timedelta(days=50), Decimal(300)),  # before the 30-day cutoff
        (ORIGIN + timedelta(days=95), Decimal(420)),
        (ORIGIN + timedelta(days=99), Decimal(400)),
    ]
    shown = figures(series, now)
    assert shown is not None
    assert shown.latest == 400
    assert shown.change == -20
    assert shown.change_30d == 100
    assert shown.change_90d == 300
    young = figures(series[2:], now)
    assert young is not None
    assert young.change_30d is None
    assert young.change_90d is None
    assert figures([], now) is None


def test_met_and_direction() -> None:
    series = _linear(100, 50, 3)
    now = series[-1][0]
    due = (now + timedelta(days=10)).date()
    met = project(series, target=Decimal(200), due_on=due, now=now)
    assert met is not None
    assert met.status == "met"
    # lower is better (loudness, costs): below the target is met, a falling line is on track
    falling = [(t, -v) for t, v in series]
    lower = project(falling, target=Decimal(-200), due_on=due, now=now, better="lower")
    assert lower is not None
    assert lower.status == "met"
    down = project(falling, target=Decimal(-400), due_on=(now + timedelta(weeks=4)).date(), now=now)
    assert down is not None
    assert down.status == "on_track"
    away = project(series, target=Decimal(0), due_on=due, now=now, better="lower")
    assert away is not None
    assert away.status == "behind"
    assert away.reach_at is None


def test_the_pace_is_the_least_squares_slope_not_the_ends() -> None:
    """The reply says how it projects: "a straight line through your numbers of the last 90
    days (least squares)". Every series above is a straight line, on which the slope between
    the first and last sample, the mean of the steps and least squares all agree; this one is
    not: 0, 10, 10, 30 a week apart is +9 a week by least squares (+10 from end to end)."""
    series = [(ORIGIN + timedelta(weeks=w), Decimal(v)) for w, v in enumerate((0, 10, 10, 30))]
    assert weekly_pace(series, series[-1][0]) == 9


@given(
    values=st.lists(st.integers(-10_000, 10_000), min_size=3, max_size=12),
    # at most 8 days apart: eleven gaps stay inside the 90-day window, so every sample counts
    gaps=st.lists(st.integers(3600, 8 * 24 * 3600), min_size=11, max_size=11),
)
def test_the_pace_matches_an_independent_least_squares_fit(
    values: list[int], gaps: list[int]
) -> None:
    at = ORIGIN
    series = []
    for value, gap in zip(values, [0, *gaps], strict=False):
        at += timedelta(seconds=gap)
        series.append((at, Decimal(value)))
    pace = weekly_pace(series, at)
    if series[-1][0] - series[0][0] < timedelta(days=7):
        assert pace is None, "under a week of numbers: too thin to say"
        return
    xs = [(t - ORIGIN).total_seconds() / WEEK_SECONDS for t, _ in series]
    fit = statistics.linear_regression(xs, [float(v) for _, v in series])
    assert pace is not None
    assert float(pace) == pytest.approx(fit.slope, rel=1e-6, abs=1e-6)
