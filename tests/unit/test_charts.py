"""The /stats chart: drawn only when there is a trend to see, and a real PNG when it is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from core.progress.charts import MAX_PANELS, chartable, render_stats_chart
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
