"""Charts of a musician's numbers: one small line chart per metric, as PNG bytes.

A musician would rather see their listeners climb than read a list of figures, so ``/stats``
attaches this picture whenever a metric has at least two samples: every sample with its date
on the x axis, the goal (if any) as a horizontal line, and the current pace dashed from the
latest sample to the goal's date.

What a chart shows is a :class:`Chart` (plain data: it pickles into a worker process) and its
:attr:`Chart.key` names it, so a chart is drawn once per change and stored
(:mod:`core.coaching.numbers.drawing`). :func:`draw` is the blocking part, run in a worker
process (``coach run``) or thread; :func:`prepare_worker` readies a worker process for it.

Thread safety and memory: only matplotlib's object-oriented API — a
:class:`matplotlib.figure.Figure` with its own :class:`~matplotlib.backends.backend_agg.
FigureCanvasAgg` — never ``pyplot``, whose global figure registry is shared by every thread
(and keeps figures alive until closed); no module of the project imports it
(``tests/unit/test_charts.py``). A figure made this way belongs to nobody else and is freed
with its last reference; :func:`draw` also clears it before returning, so memory stays flat
over thousands of charts (``tests/unit/test_charts.py`` checks it, ``benchmarks/stats_chart.py``
measures it, in the worker processes too). matplotlib is imported lazily (about half a second).
"""

from __future__ import annotations

import hashlib
import io
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from core.progress.metrics import metric_label
from core.progress.parsing.display import format_number
from core.progress.projection import WEEK_SECONDS, deadline

#: At most this many metrics are drawn (the most recently answered ones).
MAX_PANELS = 6
#: The brand colour of the line; a calm, readable violet on white.
LINE_COLOUR = "#6d28d9"
GOAL_COLOUR = "#059669"
#: How charts look, by version: part of every :attr:`Chart.key`, so changing the drawing (and
#: this) redraws the charts stored before.
STYLE = 1

Series = Sequence[tuple[datetime, Decimal]]


@dataclass(frozen=True, slots=True)
class GoalLine:
    """A goal to draw on a metric's panel: the target line, and the pace dashed to its date."""

    target: Decimal
    due_on: date
    #: The weekly pace (``None``: too thin to say, no dashed line).
    pace: Fraction | None = None


def chartable(series: Mapping[str, Series]) -> dict[str, Series]:
    """The metrics worth drawing: two answers or more, most recently answered first."""
    drawable = {m: s for m, s in series.items() if len(s) >= 2}
    ordered = sorted(drawable, key=lambda m: max(t for t, _ in drawable[m]), reverse=True)
    return {m: drawable[m] for m in ordered[:MAX_PANELS]}


def _figure(value: Decimal) -> str:
    """A value as people write it: ``1,814`` — not the database's ``1814.0000`` (the display
    module's, with every decimal a sample has)."""
    return format_number(value, places=4, whole_from=None)


class _Panel:
    """One metric's axes with its artists, made once and updated for every chart it draws.

    Making axes (their ticks, spines, grid) was a third of a chart's time, and clearing a
    figure for the next chart another third; a panel is made once per layout and thread, and
    each chart only sets its data, texts and visibility. Dates are plotted as matplotlib's
    day numbers (``date2num``) under a date locator and formatter, so no unit conversion runs
    per chart; the title and the (empty) axis labels have fixed places, so nothing measures
    the tick labels to place them.
    """

    def __init__(self, ax: Any) -> None:
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter  # noqa: PLC0415
        from matplotlib.ticker import MaxNLocator  # noqa: PLC0415

        self.ax = ax
        (self.line,) = ax.plot([], [], marker="o", color=LINE_COLOUR, linewidth=2)
        self.goal = ax.axhline(0.0, color=GOAL_COLOUR, linewidth=1.2, alpha=0.8)
        (self.ahead,) = ax.plot([], [], linestyle="--", color=LINE_COLOUR)
        self.latest = ax.annotate(
            "", (0.0, 0.0), textcoords="offset points", xytext=(0, 8), ha="center", fontsize=9
        )
        self.goal_label = ax.annotate(
            "", (0.0, 0.0), textcoords="offset points", xytext=(0, 4), fontsize=8,
            color=GOAL_COLOUR,
        )  # fmt: skip
        self.title = ax.set_title("", loc="left", fontsize=11, y=1.02)
        locator = AutoDateLocator(minticks=2, maxticks=6)  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.xaxis.set_label_coords(0.5, -0.2)
        ax.yaxis.set_label_coords(-0.1, 0.5)
        ax.grid(alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)

    def show(self, metric: str, points: Series, goal: GoalLine | None) -> None:
        """Draw ``points`` (and the goal, with the pace dashed to its date) on this panel."""
        from matplotlib.dates import date2num  # noqa: PLC0415

        ordered = sorted(points)
        xs = [float(x) for x in date2num([t for t, _ in ordered])]  # type: ignore[no-untyped-call]
        ys = [float(v) for _, v in ordered]
        self.line.set_data(xs, ys)
        self.title.set_text(metric_label(metric))
        self.latest.set_text(_figure(ordered[-1][1]))
        self.latest.xy = (xs[-1], ys[-1])
        for artist in (self.goal, self.goal_label, self.ahead):
            artist.set_visible(goal is not None)
        if goal is not None:
            target = float(goal.target)
            self.goal.set_ydata([target, target])
            self.goal_label.set_text(f"goal {_figure(goal.target)}")
            self.goal_label.xy = (xs[0], target)
            end, latest_at = deadline(goal.due_on), ordered[-1][0]
            if goal.pace is not None and end > latest_at:
                weeks = (end - latest_at).total_seconds() / WEEK_SECONDS
                ahead = ys[-1] + float(goal.pace) * weeks
                end_x = float(date2num(end))  # type: ignore[no-untyped-call]
                self.ahead.set_data([xs[-1], end_x], [ys[-1], ahead])
            else:
                self.ahead.set_visible(False)
        self.ax.relim(visible_only=True)  # the limits of what this chart shows, nothing before
        self.ax.autoscale_view()
        self.ax.set_visible(True)


class _Board:
    """A figure of ``rows`` × ``cols`` panels with its own Agg canvas, kept for reuse."""

    def __init__(self, rows: int, cols: int) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
        from matplotlib.figure import Figure  # noqa: PLC0415

        self.figure = Figure(figsize=(5.2 * cols, 2.8 * rows))
        FigureCanvasAgg(self.figure)  # the figure's own canvas: no pyplot, no global registry
        axes = self.figure.subplots(rows, cols, squeeze=False)
        self.panels = [_Panel(ax) for ax in axes.flat]
        self.title = self.figure.suptitle("", fontsize=13, x=0.02, ha="left")
        # fixed margins, not tight_layout(): that measures every tick label first and was
        # half the time of a chart
        height = 2.8 * rows  # inches: margins of a fixed size whatever the number of rows
        self.figure.subplots_adjust(
            left=0.1, right=0.97, bottom=0.6 / height, top=1 - 0.55 / height, hspace=0.6
        )


#: Each thread's boards by layout (at most four: 1×1, 1×2, 2×2, 3×2): a board is used by one
#: thread at a time — a worker process has one thread; the threads of ``InThread`` have theirs.
_local = threading.local()


def _board(rows: int, cols: int) -> _Board:
    boards: dict[tuple[int, int], _Board] = _local.__dict__.setdefault("boards", {})
    board = boards.get((rows, cols))
    if board is None:
        board = boards[rows, cols] = _Board(rows, cols)
    return board


def draw(chart: Chart) -> bytes:
    """The chart as PNG bytes (blocking, tens of ms: run it through an offload)."""
    panels = chart.panels
    cols = 1 if len(panels) == 1 else 2
    board = _board(math.ceil(len(panels) / cols), cols)
    for panel, (metric, points) in zip(board.panels, panels.items(), strict=False):
        panel.show(metric, points, chart.goals.get(metric))
    for panel in board.panels[len(panels) :]:
        panel.ax.set_visible(False)
    board.title.set_text(chart.title)
    buffer = io.BytesIO()
    # the fastest zlib level: a chart is flat colours, so it is barely larger and ~3× quicker
    board.figure.savefig(buffer, format="png", dpi=100, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


@dataclass(frozen=True, slots=True)
class Chart:
    """Everything a chart shows, and nothing else: the metrics drawn (:func:`chartable`), the
    title, and the goals of those metrics. Plain data, so it pickles into a worker process;
    :attr:`key` names it, so a chart drawn once is served until one of these changes."""

    panels: Mapping[str, Series]
    title: str
    goals: Mapping[str, GoalLine]

    @property
    def key(self) -> str:
        """A digest of everything the chart shows (32 hex digits): every point of every panel,
        the title, each goal's target, date and pace — and :data:`STYLE`, so a change of how
        charts look redraws the stored ones."""
        digest = hashlib.blake2b(f"{STYLE}|{self.title}".encode(), digest_size=16)
        for metric, points in self.panels.items():  # in drawing order: the order is shown too
            digest.update(f"|{metric}:".encode())
            for at, value in points:
                digest.update(f"{at.isoformat()}={value};".encode())
        for metric, goal in sorted(self.goals.items()):
            digest.update(f"|goal {metric}:{goal.target}:{goal.due_on}:{goal.pace}".encode())
        return digest.hexdigest()


def chart_of(
    series: Mapping[str, Series], *, title: str, goals: Mapping[str, GoalLine] | None = None
) -> Chart | None:
    """What a chart of ``series`` would show, or ``None`` when no metric has two samples."""
    panels = chartable(series)
    if not panels:
        return None
    shown = {m: g for m, g in (goals or {}).items() if m in panels}
    return Chart(panels, title, shown)


def render_stats_chart(
    series: Mapping[str, Series],
    *,
    title: str,
    goals: Mapping[str, GoalLine] | None = None,
) -> bytes | None:
    """A PNG with one panel per metric, or ``None`` when no metric has two samples yet."""
    chart = chart_of(series, title=title, goals=goals)
    return None if chart is None else draw(chart)


def prepare_worker() -> None:
    """Ready a fresh worker process for :func:`draw`: import matplotlib and draw one chart, so
    the imports, the font cache and the text layout caches are loaded before the first
    musician's chart (about a second, once per worker, while it starts)."""
    start = datetime(2000, 1, 3, tzinfo=UTC)
    points = [(start + timedelta(days=7 * n), Decimal(n * n)) for n in range(8)]
    goal = GoalLine(Decimal(100), (start + timedelta(days=90)).date(), Fraction(5))
    chart = chart_of(
        {"warm_up": points, "warm_up_too": points}, title="warm-up", goals={"warm_up": goal}
    )
    if chart is not None:
        draw(chart)
