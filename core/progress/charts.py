"""Charts of a musician's numbers: one small line chart per metric, as PNG bytes.

A musician would rather see their listeners climb than read a list of figures, so ``/stats``
attaches this picture whenever a metric has at least two samples: every sample with its date
on the x axis, the goal (if any) as a horizontal line, and the current pace dashed from the
latest sample to the goal's date.

Thread safety and memory: charts are drawn in worker threads (``asyncio.to_thread``), several
at once, so this module uses matplotlib's object-oriented API only — a
:class:`matplotlib.figure.Figure` with its own :class:`~matplotlib.backends.backend_agg.
FigureCanvasAgg` — never ``pyplot``, whose global figure registry is shared by every thread
(and keeps figures alive until closed). A figure made this way belongs to nobody else and is
freed with its last reference; :func:`render_stats_chart` also clears it before returning, so
memory stays flat over thousands of charts (``tests/unit/test_charts.py`` checks it,
``benchmarks/stats_chart.py`` measures it). matplotlib is imported lazily (about half a second).
"""

from __future__ import annotations

import hashlib
import io
import math
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from core.progress.metrics import metric_label
from core.progress.projection import WEEK_SECONDS, deadline

#: At most this many metrics are drawn (the most recently answered ones).
MAX_PANELS = 6
#: The brand colour of the line; a calm, readable violet on white.
LINE_COLOUR = "#6d28d9"
GOAL_COLOUR = "#059669"

#: Charts kept by what they show (about 30 KB each): bounded, so memory stays flat.
CACHE_SIZE = 256

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


def _panel(ax: Any, metric: str, points: Series, goal: GoalLine | None) -> None:
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter  # noqa: PLC0415

    ordered = sorted(points)
    times = [t for t, _ in ordered]
    values = [float(v) for _, v in ordered]
    ax.plot(times, values, marker="o", color=LINE_COLOUR, linewidth=2)
    ax.set_title(metric_label(metric), loc="left", fontsize=11)
    ax.annotate(
        f"{ordered[-1][1]:,}",
        (times[-1], values[-1]),
        textcoords="offset points",
        xytext=(0, 8),
        ha="center",
        fontsize=9,
    )
    if goal is not None:
        ax.axhline(float(goal.target), color=GOAL_COLOUR, linewidth=1.2, alpha=0.8)
        ax.annotate(
            f"goal {goal.target:,}",
            (times[0], float(goal.target)),
            textcoords="offset points",
            xytext=(0, 4),
            fontsize=8,
            color=GOAL_COLOUR,
        )
        end = deadline(goal.due_on)
        if goal.pace is not None and end > times[-1]:
            weeks = (end - times[-1]).total_seconds() / WEEK_SECONDS
            ahead = values[-1] + float(goal.pace) * weeks
            ax.plot([times[-1], end], [values[-1], ahead], linestyle="--", color=LINE_COLOUR)
    locator = AutoDateLocator(maxticks=5)  # type: ignore[no-untyped-call]  # fewer labels: faster
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.grid(alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)


def render_stats_chart(
    series: Mapping[str, Series],
    *,
    title: str,
    goals: Mapping[str, GoalLine] | None = None,
) -> bytes | None:
    """A PNG with one panel per metric, or ``None`` when no metric has two samples yet."""
    panels = chartable(series)
    if not panels:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    cols = 1 if len(panels) == 1 else 2
    rows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(5.2 * cols, 2.8 * rows))
    FigureCanvasAgg(fig)  # the figure's own canvas: no pyplot, no global registry
    try:
        axes = fig.subplots(rows, cols, squeeze=False)
        for ax, (metric, points) in zip(axes.flat, panels.items(), strict=False):
            _panel(ax, metric, points, (goals or {}).get(metric))
        for ax in list(axes.flat)[len(panels) :]:
            ax.set_visible(False)
        fig.suptitle(title, fontsize=13, x=0.02, ha="left")
        # fixed margins, not tight_layout(): that measures every tick label first and was
        # half the time of a chart
        height = 2.8 * rows  # inches: margins of a fixed size whatever the number of rows
        fig.subplots_adjust(
            left=0.1, right=0.97, bottom=0.6 / height, top=1 - 0.55 / height, hspace=0.6
        )
        buffer = io.BytesIO()
        # the fastest zlib level: a chart is flat colours, so it is barely larger and ~3× quicker
        fig.savefig(buffer, format="png", dpi=100, pil_kwargs={"compress_level": 1})
        return buffer.getvalue()
    finally:
        fig.clear()


class ChartCache:
    """The last :data:`CACHE_SIZE` charts by what they show: a musician asking ``/stats`` again
    before a new number or goal gets the same PNG without drawing it again (drawing is the
    whole cost of ``/stats``). Keyed by a digest of the title, every point and every goal, so
    any change draws afresh; a lock because charts are drawn in worker threads."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._png: OrderedDict[bytes, bytes | None] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(
        series: Mapping[str, Series], title: str, goals: Mapping[str, GoalLine] | None
    ) -> bytes:
        """A digest of everything the chart shows."""
        digest = hashlib.blake2b(title.encode(), digest_size=16)
        for metric in sorted(series):
            digest.update(f"|{metric}:".encode())
            for at, value in series[metric]:
                digest.update(f"{at.isoformat()}={value};".encode())
        for metric, goal in sorted((goals or {}).items()):
            digest.update(f"|goal {metric}:{goal.target}:{goal.due_on}:{goal.pace}".encode())
        return digest.digest()

    def chart(
        self,
        series: Mapping[str, Series],
        *,
        title: str,
        goals: Mapping[str, GoalLine] | None = None,
    ) -> bytes | None:
        """The chart from the cache, or drawn (and kept)."""
        key = self.key(series, title, goals)
        with self._lock:
            if key in self._png:
                self._png.move_to_end(key)
                return self._png[key]
        png = render_stats_chart(series, title=title, goals=goals)
        with self._lock:
            self._png[key] = png
            while len(self._png) > self.size:
                self._png.popitem(last=False)
        return png

    def __len__(self) -> int:
        return len(self._png)


#: The process's chart cache (``/stats``).
CHARTS = ChartCache()
