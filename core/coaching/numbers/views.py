"""``/stats``: every metric's figures and the chart of all its samples.

Per metric: the latest value, the change since the sample before, the 30- and 90-day change
and the weekly pace (:mod:`core.progress.projection` says how each is counted), and the goal's
verdict where there is one. The goals come from their summaries on the profile row
(``current_stats[metric]["goal"]``), so ``/stats`` reads one table: the samples.

The chart is drawn off the event loop (``asyncio.to_thread``) with matplotlib's
object-oriented API (:mod:`core.progress.charts`), so twenty musicians asking at once never
stall the bot and never share a pyplot figure.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from decimal import Decimal

from core.coaching.numbers import words
from core.journey.samples import goal_summary
from core.kernel.markup import bold, esc, italic
from core.kernel.turn import Turn
from core.kernel.types import Card, Message, Outbound, Picture
from core.progress.charts import CHARTS, GoalLine
from core.progress.projection import Figures, figures, project

#: How many recent samples ``/stats`` reads for its figures and chart (all metrics together).
STATS_SAMPLES = 2000


def _goal(entry: object) -> tuple[Decimal, date] | None:
    summary = goal_summary(entry)
    if summary is None:
        return None
    try:
        return Decimal(summary["target"]), date.fromisoformat(summary["by"])
    except (KeyError, ValueError, ArithmeticError):
        return None


def _line(metric: str, entry: dict[str, object], shown: Figures | None, today: date) -> str:
    latest = esc(str(entry.get("display", entry.get("value"))))
    head = f"{bold(words.name(metric))}: {bold(latest)}"
    if shown is None:
        return head
    if shown.change is not None:
        head += f" ({words.arrow(shown.change)}{words.signed(shown.change)} since last time)"
    d30 = "—" if shown.change_30d is None else words.signed(shown.change_30d)
    d90 = "—" if shown.change_90d is None else words.signed(shown.change_90d)
    return f"{head}\n   30 days {d30} · 90 days {d90} · pace {words.pace(shown.pace)}"


async def stats(turn: Turn) -> list[Outbound]:
    """The figures of every metric and, when one has two samples, the chart."""
    current = {
        m: e
        for m, e in (turn.rec.current_stats or {}).items()
        if isinstance(e, dict) and "value" in e
    }
    if not current:
        return [
            Message(
                text="No numbers yet. When a task asks for one (listeners, mailing list, …), "
                "or you send /update listeners 1400, I'll keep it here so you can watch it grow."
            )
        ]
    rows = await turn.store.recent_samples(turn.rec.profile_id, STATS_SAMPLES)
    series: dict[str, list[tuple[datetime, Decimal]]] = {}
    for metric, value, at in reversed(rows):
        series.setdefault(metric, []).append((at, value))
    lines = [bold("📈 Your numbers"), ""]
    goals: dict[str, GoalLine] = {}
    for metric in sorted(current):
        samples = series.get(metric, [])
        shown = figures(samples, turn.now)
        lines.append(_line(metric, current[metric], shown, turn.today))
        goal = _goal(current[metric])
        if goal is not None:
            info = turn.catalog.metrics.get(metric)
            projection = project(
                samples,
                target=goal[0],
                due_on=goal[1],
                now=turn.now,
                better=info.spec.better if info else None,
            )
            lines.append("   " + words.goal_verdict(goal[0], goal[1], projection, turn.today))
            goals[metric] = GoalLine(goal[0], goal[1], shown.pace if shown else None)
    lines += [
        "",
        italic("Pace: the trend of your last 90 days. /update adds a number, /goal sets a target."),
    ]
    card = Card(text="\n".join(lines), form="stats")
    title = f"{turn.rec.artist_name or 'Your'} — numbers over time"
    png = await asyncio.to_thread(CHARTS.chart, series, title=title, goals=goals)
    if png is None:
        return [card]
    # the figures as the chart's caption: a stats card drawn as a picture
    return [Picture(text=card.text, image=png, name="stats.png", form="stats")]
