"""The ``/stats`` chart of a profile: what it shows, and where its PNG comes from.

Drawing is the whole cost of ``/stats`` (matplotlib: 25–90 ms a chart, holding the GIL), so a
chart is drawn once per change of what it shows and kept in ``stats_charts`` under a digest of
it (:attr:`core.progress.charts.Chart.key`):

* ``/stats`` (:func:`stats_chart`) computes what the chart would show from the rows it reads
  anyway, serves the stored PNG when the digests match, and otherwise draws it (in a worker
  process: ``turn.offload``) and stores it;
* right after an event changed a profile's numbers, goals or name, the coach redraws the chart
  in the background (:mod:`core.coaching.numbers.warmup`), so the ``/stats`` that usually
  follows a new number finds it ready.

Both compute what is shown with :func:`chart_for`, from the profile's ``current_stats`` (the
goals' summaries), its samples and its name, so they agree on the digest.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal

from core.journey.samples import goal_summary
from core.kernel.offload import InProcesses
from core.kernel.turn import Turn
from core.progress.charts import Chart, GoalLine, Series, chart_of, draw, prepare_worker
from core.progress.projection import figures

logger = logging.getLogger(__name__)

#: How many recent samples ``/stats`` reads for its figures and chart (all metrics together).
STATS_SAMPLES = 2000


def chart_workers() -> InProcesses:
    """The worker processes ``coach run`` and ``coach chat`` draw charts in: one per core,
    started on the first chart, each importing matplotlib and drawing a first figure as it
    starts (:func:`~core.progress.charts.prepare_worker`)."""
    return InProcesses(initializer=prepare_worker)


def numbers_in(current_stats: Mapping[str, object] | None) -> dict[str, dict[str, object]]:
    """The entries of ``current_stats`` that hold a number (``/stats`` shows these)."""
    return {m: e for m, e in (current_stats or {}).items() if isinstance(e, dict) and "value" in e}


def series_of(
    rows: Sequence[tuple[str, Decimal, datetime]],
) -> dict[str, list[tuple[datetime, Decimal]]]:
    """Samples as read (newest first, all metrics) → each metric's points, oldest first."""
    series: dict[str, list[tuple[datetime, Decimal]]] = {}
    for metric, value, at in reversed(rows):
        series.setdefault(metric, []).append((at, value))
    return series


def goal_of(entry: object) -> tuple[Decimal, date] | None:
    """A ``current_stats`` entry's goal (target, date), if it has a readable one."""
    summary = goal_summary(entry)
    if summary is None:
        return None
    try:
        return Decimal(summary["target"]), date.fromisoformat(summary["by"])
    except (KeyError, ValueError, ArithmeticError):
        return None


def title_of(artist_name: str | None) -> str:
    """The chart's title."""
    return f"{artist_name or 'Your'} — numbers over time"


def chart_for(
    current: Mapping[str, object],
    series: Mapping[str, Series],
    artist_name: str | None,
    now: datetime,
) -> Chart | None:
    """What the profile's chart shows now (``None``: no metric has two samples yet).

    The goals come from their summaries in ``current_stats``, each with the metric's weekly
    pace of the last 90 days (the dashed projection) — so the chart also changes when a
    sample leaves that window, and its digest with it.
    """
    goals: dict[str, GoalLine] = {}
    for metric, entry in current.items():
        goal = goal_of(entry)
        if goal is None:
            continue
        shown = figures(series.get(metric, []), now)
        goals[metric] = GoalLine(goal[0], goal[1], shown.pace if shown else None)
    return chart_of(series, title=title_of(artist_name), goals=goals)


async def stats_chart(turn: Turn, chart: Chart) -> bytes | None:
    """The PNG of ``chart`` for the turn's profile: the stored one when it shows exactly this,
    else drawn off the event loop and stored. ``None`` when drawing failed (``/stats`` then
    answers with its figures alone, and the next ``/stats`` tries again)."""
    profile_id = turn.rec.profile_id
    key = chart.key
    png = await turn.store.stored_chart(profile_id, key)
    if png is not None:
        return png
    try:
        png = await turn.offload.run(draw, chart)
    except Exception:
        logger.exception("could not draw the /stats chart")
        return None
    await turn.store.save_chart(profile_id, key, png, turn.now)
    return png
