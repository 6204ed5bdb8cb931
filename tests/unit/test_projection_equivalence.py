"""The integer least-squares slope of :func:`core.progress.projection.weekly_pace` against the
textbook formula in exact :class:`~fractions.Fraction` arithmetic it replaced (kept here as the
reference): the same Fraction, or the same ``None``, on irregular series — decimals with
differing scales, negatives, duplicate instants, samples outside the 90-day window, one-second
jitter — so ``/stats``, ``/goal`` and the weekly review say exactly what they said before.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from core.progress.projection import (
    MIN_SPAN,
    PACE_WINDOW,
    WEEK_SECONDS,
    Sample,
    ordered,
    weekly_pace,
)

ORIGIN = datetime(2030, 1, 1, 12, tzinfo=UTC)


def reference_pace(samples: Sequence[Sample], now: datetime) -> Fraction | None:
    """The formula as first written: means and deviations, every step a Fraction."""
    window = [s for s in ordered(samples) if now - PACE_WINDOW <= s[0] <= now]
    if len(window) < 2 or window[-1][0] - window[0][0] < MIN_SPAN:
        return None
    xs = [Fraction(int(t.timestamp())) for t, _ in window]
    ys = [Fraction(v) for _, v in window]
    n = len(window)
    mean_x, mean_y = sum(xs, Fraction(0)) / n, sum(ys, Fraction(0)) / n
    spread = sum(((x - mean_x) * (x - mean_x) for x in xs), Fraction(0))
    if spread == 0:
        return None
    slope = (
        sum(((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)), Fraction(0))
        / spread
    )
    return slope * WEEK_SECONDS


values = st.decimals(
    min_value=Decimal("-1e9"), max_value=Decimal("1e12"), places=None, allow_nan=False
).filter(lambda d: d.is_finite())
scaled = st.one_of(
    values,
    st.integers(-(10**9), 10**12).map(Decimal),
    st.tuples(st.integers(-(10**9), 10**9), st.integers(0, 6)).map(
        lambda t: Decimal(t[0]).scaleb(-t[1])
    ),
)
offsets = st.integers(min_value=-200 * 86400, max_value=200 * 86400)
series = st.lists(st.tuples(offsets, scaled), min_size=0, max_size=30)


@settings(max_examples=600)
@given(points=series, now_offset=offsets, micro=st.integers(0, 999_999))
def test_the_integer_slope_is_the_fraction_slope(
    points: list[tuple[int, Decimal]], now_offset: int, micro: int
) -> None:
    samples = [
        (ORIGIN + timedelta(seconds=s, microseconds=micro if i % 2 else 0), v)
        for i, (s, v) in enumerate(points)
    ]
    now = ORIGIN + timedelta(seconds=now_offset)
    got = weekly_pace(samples, now)
    assert got == reference_pace(samples, now)
    assert type(got) is type(reference_pace(samples, now))


@given(
    points=st.lists(
        st.tuples(st.integers(0, 89), scaled), min_size=2, max_size=25, unique_by=lambda p: p[0]
    )
)
def test_dense_windows_agree(points: list[tuple[int, Decimal]]) -> None:
    now = ORIGIN + timedelta(days=90)
    samples = [(ORIGIN + timedelta(days=d, hours=1), v) for d, v in points]
    assert weekly_pace(samples, now) == reference_pace(samples, now)


def test_a_pace_is_still_a_fraction_in_lowest_terms() -> None:
    samples = [(ORIGIN, Decimal("1.5")), (ORIGIN + timedelta(days=7), Decimal("2.25"))]
    pace = weekly_pace(samples, ORIGIN + timedelta(days=7))
    assert pace == Fraction(3, 4)
    assert (pace.numerator, pace.denominator) == (3, 4)
