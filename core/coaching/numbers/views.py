"""``/stats``: every metric's figures and the chart of all its samples.

Per metric: the latest value, the change since the sample before, the 30- and 90-day change
and the weekly pace (:mod:`core.progress.projection` says how each is counted), and the goal's
verdict where there is one. The goals come from their summaries on the profile row
(``current_stats[metric]["goal"]``), so ``/stats`` reads one table: the samples.

The chart comes from :mod:`core.coaching.numbers.drawing`: the stored PNG when it shows exactly
what this ``/stats`` would draw (usually: it was redrawn in the background right after the last
new number), else drawn in a worker process with matplotlib's object-oriented API and stored.
"""

from __future__ import annotations

from core.coaching.numbers import words
from core.coaching.numbers.drawing import (
    STATS_SAMPLES,
    chart_for,
    goal_of,
    numbers_in,
    series_of,
    stats_chart,
)
from core.kernel.markup import bold, esc, italic
from core.kernel.turn import Turn
from core.kernel.types import Card, Message, Outbound, Picture
from core.progress.projection import Figures, figures, project


def _line(metric: str, entry: dict[str, object], shown: Figures | None, locale: str | None) -> str:
    latest = esc(str(entry.get("display", entry.get("value"))))
    head = f"{bold(words.name(metric))}: {bold(latest)}"
    if shown is None:
        return head
    if shown.change is not None:
        change = words.signed(shown.change, locale)
        head += f" ({words.arrow(shown.change)}{change} since last time)"
    d30 = "—" if shown.change_30d is None else words.signed(shown.change_30d, locale)
    d90 = "—" if shown.change_90d is None else words.signed(shown.change_90d, locale)
    return f"{head}\n   30 days {d30} · 90 days {d90} · pace {words.pace(shown.pace, locale)}"


async def stats(turn: Turn) -> list[Outbound]:
    """The figures of every metric and, when one has two samples, the chart."""
    current = numbers_in(turn.rec.current_stats)
    if not current:
        return [
            Message(
                text="No numbers yet. When a task asks for one (listeners, mailing list, …), "
                "or you send /update listeners 1400, I'll keep it here so you can watch it grow."
            )
        ]
    rows = await turn.store.recent_samples(
        turn.rec.profile_id, STATS_SAMPLES, currency=turn.rec.currency
    )
    series = series_of(rows)
    lines = [bold("📈 Your numbers"), ""]
    for metric in sorted(current):
        samples = series.get(metric, [])
        shown = figures(samples, turn.now)
        lines.append(_line(metric, current[metric], shown, turn.reading.locale))
        goal = goal_of(current[metric])
        if goal is not None:
            info = turn.catalog.metrics.get(metric)
            projection = project(
                samples,
                target=goal[0],
                due_on=goal[1],
                now=turn.now,
                better=info.spec.better if info else None,
            )
            verdict = words.goal_verdict(
                goal[0], goal[1], projection, turn.today, turn.reading.locale
            )
            lines.append("   " + verdict)
    lines += [
        "",
        italic("Pace: the trend of your last 90 days. /update adds a number, /goal sets a target."),
    ]
    card = Card(text="\n".join(lines), form="stats")
    chart = chart_for(current, series, turn.rec.artist_name, turn.now)
    png = None if chart is None else await stats_chart(turn, chart)
    if png is None:
        return [card]
    # the figures as the chart's caption: a stats card drawn as a picture
    return [Picture(text=card.text, image=png, name="stats.png", form="stats")]
