"""The /stats chart: drawn only when there is a trend to see, a real PNG when it is, named by
a digest of everything it shows (and of nothing else), plain data that pickles into a worker
process, and never through pyplot."""

from __future__ import annotations

import ast
import gc
import pickle
import re
import resource
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from core.progress import charts
from core.progress.charts import (
    MAX_PANELS,
    Chart,
    GoalLine,
    chart_of,
    chartable,
    draw,
    render_stats_chart,
)
from core.progress.metrics import metric_label
from core.progress.projection import WEEK_SECONDS, deadline

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
    """The goal is a horizontal line at its target, the projection a dashed line from the
    latest sample at the current pace to the goal's date, on an axis of dates (issue #13 §3).
    Checked on the figure just drawn: PNG bytes that merely differ from the plain chart's would
    pass with the line at 0 or no projection at all."""
    from matplotlib.dates import ConciseDateFormatter, date2num  # noqa: PLC0415

    plain = render_stats_chart({"monthly_listeners": _series(5)}, title="Maya")
    due = (T0 + timedelta(days=90)).date()
    goal = GoalLine(Decimal(900), due, Fraction(50))
    with_goal = render_stats_chart(
        {"monthly_listeners": _series(5)}, title="Maya", goals={"monthly_listeners": goal}
    )
    assert plain is not None
    assert with_goal is not None
    assert with_goal != plain
    panel = charts._board(1, 1).panels[0]  # the thread's figure that just drew it
    assert panel.goal.get_visible()
    assert [float(y) for y in panel.goal.get_ydata()] == [900.0, 900.0]
    assert panel.goal_label.get_text() == "goal 900"
    assert panel.ahead.get_visible()
    assert panel.ahead.get_linestyle() == "--"
    (x0, x1), (y0, y1) = panel.ahead.get_xdata(), panel.ahead.get_ydata()
    latest_at, latest = _series(5)[-1]
    end = deadline(due)
    assert (x0, y0) == (float(date2num(latest_at)), float(latest))
    assert x1 == pytest.approx(float(date2num(end)))
    weeks = (end - latest_at).total_seconds() / WEEK_SECONDS
    assert y1 == pytest.approx(float(latest) + 50 * weeks)
    assert list(panel.line.get_xdata()) == [float(date2num(t)) for t, _ in _series(5)]
    assert isinstance(panel.ax.xaxis.get_major_formatter(), ConciseDateFormatter), "dates"
    # without a pace (too thin to say) the goal line stays and the dashed line goes
    render_stats_chart(
        {"monthly_listeners": _series(5)},
        title="Maya",
        goals={"monthly_listeners": GoalLine(Decimal(900), due, None)},
    )
    assert panel.goal.get_visible()
    assert not panel.ahead.get_visible()


def test_the_chart_uses_no_pyplot_and_memory_stays_flat() -> None:
    """Charts are drawn in worker processes (or threads): pyplot's global figure list stays
    untouched, the only figures are the thread's reused boards (one per layout), and 40 more
    charts do not grow the process's peak memory (the benchmark runs 1 000 in the worker
    processes and prints their RSS)."""
    series = {"monthly_listeners": _series(12), "followers": _series(8, 20)}
    for _ in range(50):  # matplotlib fills its caches (fonts, text layouts) first
        render_stats_chart(series, title="warm-up")
    gc.collect()
    figures = len([o for o in gc.get_objects() if isinstance(o, Figure)])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    for n in range(40):
        render_stats_chart(
            {"monthly_listeners": _series(12, n), "followers": _series(8, 20 + n)}, title="Maya"
        )
    gc.collect()
    assert len([o for o in gc.get_objects() if isinstance(o, Figure)]) == figures <= 4
    if "matplotlib.pyplot" in sys.modules:
        assert sys.modules["matplotlib.pyplot"].get_fignums() == []
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak
    assert grown < 4_000, f"peak RSS grew by {grown} KiB over 40 charts"


def test_a_reused_figure_draws_exactly_what_a_fresh_one_draws() -> None:
    """Figures are reused from chart to chart of the same layout: nothing of one chart (a goal
    line, a dashed pace, its limits, a hidden fourth panel, a title) may be left in the next."""
    goals = {
        "monthly_listeners": GoalLine(Decimal(5000), (T0 + timedelta(days=400)).date(), None),
        "followers": GoalLine(Decimal(10), T0.date(), Fraction(9)),
        "streams": GoalLine(Decimal(2000), (T0 + timedelta(days=90)).date(), Fraction(80)),
    }
    two = {"monthly_listeners": _series(6), "followers": _series(4, 20)}
    four = {**two, "mailing_list": _series(3, 5), "streams": _series(5, 900)}
    pairs = [  # (a chart, another of the same layout drawn in between)
        (chart_of(two, title="Maya"), chart_of(two, title="Someone else", goals=goals)),
        (
            chart_of(four, title="Maya"),
            chart_of({**two, "streams": _series(7, 10)}, title="Three panels", goals=goals),
        ),
    ]
    drawn = []
    for chart, other in pairs:
        assert chart is not None
        assert other is not None
        first = draw(chart)
        assert draw(other) != first
        assert draw(chart) == first
        drawn.append(first)
    charts._local.__dict__.clear()  # a thread that never drew: fresh figures
    assert [draw(c) for c, _ in pairs if c is not None] == drawn


def _chart(**changes: object) -> Chart:
    series = {"monthly_listeners": _series(4), "followers": _series(3, 20)}
    goals = {"monthly_listeners": GoalLine(Decimal(900), (T0 + timedelta(days=90)).date(), None)}
    chart = chart_of(series, title="Maya", goals=goals)
    assert chart is not None
    return Chart(**{"panels": chart.panels, "title": chart.title, "goals": chart.goals, **changes})


def test_the_key_names_everything_shown_and_nothing_else() -> None:
    base = _chart()
    assert base.key == _chart().key, "the same content, the same key"
    assert re.fullmatch(r"[0-9a-f]{32}", base.key)
    moved = dict(base.panels)
    moved["monthly_listeners"] = [*moved["monthly_listeners"][:-1], (T0, Decimal(1))]
    one_more = dict(base.panels)
    one_more["followers"] = [*one_more["followers"], (T0 + timedelta(days=60), Decimal(9))]
    goal = GoalLine(Decimal(900), (T0 + timedelta(days=90)).date(), None)
    others = [
        _chart(panels=moved),
        _chart(panels=one_more),
        _chart(title="Maya B"),
        _chart(goals={}),
        _chart(goals={"monthly_listeners": GoalLine(Decimal(901), goal.due_on, None)}),
        _chart(goals={"monthly_listeners": GoalLine(goal.target, T0.date(), None)}),
        _chart(goals={"monthly_listeners": GoalLine(goal.target, goal.due_on, Fraction(3))}),
    ]
    keys = {base.key, *(c.key for c in others)}
    assert len(keys) == 1 + len(others), "each change of what is shown changes the key"


def test_only_what_is_drawn_counts() -> None:
    """A metric with one sample is not drawn, nor is a goal of a metric not drawn: neither
    changes the chart, nor its key."""
    series = {"monthly_listeners": _series(4)}
    plain = chart_of(series, title="Maya")
    more = chart_of(
        {**series, "followers": _series(1)},
        title="Maya",
        goals={"followers": GoalLine(Decimal(5), T0.date(), None)},
    )
    assert plain is not None
    assert more is not None
    assert more == plain
    assert more.key == plain.key
    assert chart_of({"followers": _series(1)}, title="Maya") is None


def test_a_chart_pickles_into_a_worker_and_draws_the_same_there() -> None:
    chart = _chart(goals={"monthly_listeners": GoalLine(Decimal(900), T0.date(), Fraction(7, 3))})
    copy = pickle.loads(pickle.dumps(chart))  # noqa: S301 - our own bytes, as the pool sends them
    assert copy == chart
    assert copy.key == chart.key
    assert draw(copy) == draw(chart), "drawing is deterministic: a stored chart is the chart"
    assert pickle.loads(pickle.dumps(draw)) is draw, "by name"  # noqa: S301 - our own bytes


def _imports_pyplot(source: str) -> bool:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import) and any(
            a.name.startswith("matplotlib.pyplot") for a in node.names
        ):
            return True
        if isinstance(node, ast.ImportFrom) and (
            (node.module or "").startswith("matplotlib.pyplot")
            or (node.module == "matplotlib" and any(a.name == "pyplot" for a in node.names))
        ):
            return True
    return False


def test_no_module_imports_pyplot() -> None:
    """pyplot keeps one global list of figures for the whole process: charts drawn in threads
    would share it. Every chart of the project (``/stats``, ``/admin stats``) uses the
    object-oriented API instead, in functions too (imports are found anywhere in a module)."""
    root = Path(__file__).resolve().parents[2]
    assert _imports_pyplot("def f():\n    from matplotlib import pyplot as plt\n")
    offenders = [
        str(path.relative_to(root))
        for folder in ("core", "bot", "benchmarks", "scripts", "migrations")
        for path in (root / folder).rglob("*.py")
        if _imports_pyplot(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_values_read_as_people_write_them_whatever_the_database_kept() -> None:
    """PostgreSQL keeps samples as NUMERIC(20, 4): 1814 comes back as 1814.0000, and the chart
    labels it 1,814 all the same."""
    kept = [(at, value.quantize(Decimal("0.0001"))) for at, value in _series(5, 1_700)]
    plain = render_stats_chart({"monthly_listeners": _series(5, 1_700)}, title="Maya")
    assert render_stats_chart({"monthly_listeners": kept}, title="Maya") == plain
    assert charts._figure(Decimal("1814.0000")) == "1,814"
    assert charts._figure(Decimal("-9.5000")) == "-9.5"
    assert charts._figure(Decimal("1E+3")) == "1,000"


@pytest.mark.parametrize("days", [1, 6, 30, 200, 365, 700, 706, 730, 760, 1500, 3650])
def test_any_span_of_dates_gets_its_ticks_without_a_warning(days: int) -> None:
    """Two years of samples made matplotlib's date locator give up with a warning (the suite
    turns warnings into errors; it showed when the clock ran a year ahead)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    series = {
        "monthly_listeners": [(start, Decimal(1)), (start + timedelta(days=days), Decimal(9))]
    }
    assert render_stats_chart(series, title="Span")
