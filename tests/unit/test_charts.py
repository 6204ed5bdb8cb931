"""The /stats chart: drawn only when there is a trend to see, and a real PNG when it is."""

from __future__ import annotations

import gc
import resource
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from matplotlib.figure import Figure

from core.progress.charts import (
    MAX_PANELS,
    ChartCache,
    GoalLine,
    chartable,
    render_stats_chart,
)
from core.progress.metrics import metric_label

T0 = datetime(2026, 9, 1, tzinfo=UTC)


def _series(n: int, start: int = 100) -> list[tuple[datetime, Decimal]]:
    return [(T0 + timedelta(days=7 * i), Decimal(start + 50 * i)) for i in range(n)]


def test_single_answers_draw_nothing() -> None:
    assert render_stats_chart({"monthly_listeners": _series(1)}, title="x") is None
    assert render_stats_chart({}, title="x") is None


def test_a_trend_is_drawn_as_png() -> None:
    png = render_stats_chart(
        {"monthly_listeners": _series(5), "mailing_list_size": _series(3, 20)}, title="Maya"
    )
    assert png is not None
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 5_000


def test_at_most_six_panels_most_recent_first() -> None:
    series = {
        f"metric_{i}": [
            (T0 + timedelta(days=i), Decimal(1)),
            (T0 + timedelta(days=i + 1), Decimal(2)),
        ]
        for i in range(MAX_PANELS + 3)
    }
    chosen = chartable(series)
    assert len(chosen) == MAX_PANELS
    assert next(iter(chosen)) == f"metric_{MAX_PANELS + 2}"


def test_metric_labels_read_naturally() -> None:
    assert metric_label("master_lufs") == "Master LUFS"
    assert metric_label("followers_tiktok") == "Followers TikTok"
    assert metric_label("monthly_listeners") == "Monthly listeners"


def test_a_goal_and_its_projection_are_drawn() -> None:
    plain = render_stats_chart({"monthly_listeners": _series(5)}, title="Maya")
    with_goal = render_stats_chart(
        {"monthly_listeners": _series(5)},
        title="Maya",
        goals={
            "monthly_listeners": GoalLine(
                Decimal(900), (T0 + timedelta(days=90)).date(), Fraction(50)
            )
        },
    )
    assert plain is not None
    assert with_goal is not None
    assert with_goal != plain


def test_the_chart_uses_no_pyplot_and_memory_stays_flat() -> None:
    """Charts are drawn in worker threads: pyplot's global figure list stays untouched, no
    figure outlives its chart, and 40 more charts do not grow the process's peak memory
    (the benchmark runs 1 000 and prints the RSS)."""
    series = {"monthly_listeners": _series(12), "followers": _series(8, 20)}
    for _ in range(50):  # matplotlib fills its caches (fonts, text layouts) first
        render_stats_chart(series, title="warm-up")
    gc.collect()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    for _ in range(40):
        render_stats_chart(series, title="Maya")
    gc.collect()
    assert [o for o in gc.get_objects() if isinstance(o, Figure)] == []
    if "matplotlib.pyplot" in sys.modules:
        assert sys.modules["matplotlib.pyplot"].get_fignums() == []
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak
    assert grown < 4_000, f"peak RSS grew by {grown} KiB over 40 charts"


def test_the_cache_draws_once_per_content_and_stays_bounded() -> None:
    cache = ChartCache(size=2)
    series = {"monthly_listeners": _series(3)}
    first = cache.chart(series, title="Maya")
    assert first is not None
    assert cache.chart(series, title="Maya") is first, "the same numbers: the same PNG"
    moved = {"monthly_listeners": [*_series(3), (T0 + timedelta(days=30), Decimal(7))]}
    assert cache.chart(moved, title="Maya") is not first, "a new number draws afresh"
    goal = {"monthly_listeners": GoalLine(Decimal(900), T0.date(), None)}
    assert cache.chart(series, title="Maya", goals=goal) is not first, "so does a goal"
    assert len(cache) == 2
