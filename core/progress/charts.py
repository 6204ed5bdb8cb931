"""Charts of a musician's numbers: one small line chart per metric, as PNG bytes.

A musician would rather see their listeners climb than read a list of figures, so ``/stats``
attaches this picture whenever a metric has at least two answers. matplotlib is imported lazily
(it costs about half a second) and drawn with the non-interactive Agg backend; callers run
:func:`render_stats_chart` in a worker thread so the event loop never waits on it.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from core.progress.metrics import metric_label

#: At most this many metrics are drawn (the most recently answered ones).
MAX_PANELS = 6
#: The brand colour of the line; a calm, readable violet on white.
LINE_COLOUR = "#6d28d9"

Series = Sequence[tuple[datetime, Decimal]]


def chartable(series: Mapping[str, Series]) -> dict[str, Series]:
    """The metrics worth drawing: two answers or more, most recently answered first."""
    drawable = {m: s for m, s in series.items() if len(s) >= 2}
    ordered = sorted(drawable, key=lambda m: max(t for t, _ in drawable[m]), reverse=True)
    return {m: drawable[m] for m in ordered[:MAX_PANELS]}


def render_stats_chart(series: Mapping[str, Series], *, title: str) -> bytes | None:
    """A PNG with one panel per metric, or ``None`` when no metric has two answers yet."""
    panels = chartable(series)
    if not panels:
        return None
    import matplotlib  # noqa: PLC0415 - lazy: only /stats pays the import

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt  # noqa: PLC0415
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter  # noqa: PLC0415

    cols = 1 if len(panels) == 1 else 2
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 2.8 * rows), squeeze=False)
    try:
        for ax, (metric, points) in zip(axes.flat, panels.items(), strict=False):
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
            locator = AutoDateLocator()  # type: ignore[no-untyped-call]
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
            ax.grid(alpha=0.3)
            ax.spines[["top", "right"]].set_visible(False)
        for ax in list(axes.flat)[len(panels) :]:
            ax.set_visible(False)
        fig.suptitle(title, fontsize=13, x=0.02, ha="left")
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110)
        return buffer.getvalue()
    finally:
        plt.close(fig)
