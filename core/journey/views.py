"""Read-only views: ``/progress`` (stages, bars, percentages) and ``/stats`` (numbers, chart)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal

from core.journey import cards
from core.journey.navigation import current_stage, offer_roadmaps
from core.kernel.turn import Turn
from core.kernel.types import Outbound, Picture
from core.progress.charts import render_stats_chart

#: How many recent samples ``/stats`` reads for its figures and chart.
STATS_SAMPLES = 2000


async def progress(turn: Turn) -> list[Outbound]:
    """Every stage of the current roadmap with a bar, a percentage and its state."""
    roadmap = turn.roadmap
    if roadmap is None:
        return offer_roadmaps(turn, first_time=False)
    stage, _ = await current_stage(turn, roadmap)
    rows = await turn.roadmap_progress(roadmap)
    return [cards.progress_card(roadmap, rows, stage.id if stage else None)]


async def stats(turn: Turn) -> list[Outbound]:
    """The latest figure of every metric, its change since the first answer, and a chart."""
    current = turn.rec.current_stats or {}
    if not current:
        return [cards.stats_card(current, {})]
    rows = await turn.store.recent_samples(turn.rec.profile_id, STATS_SAMPLES)
    series: dict[str, list[tuple[datetime, Decimal]]] = {}
    for metric, value, at in reversed(rows):
        series.setdefault(metric, []).append((at, value))
    firsts = {metric: points[0][1] for metric, points in series.items()}
    card = cards.stats_card(current, firsts)
    title = f"{turn.rec.artist_name or 'Your'} — numbers over time"
    png = await asyncio.to_thread(render_stats_chart, series, title=title)
    if png is not None:
        # the figures as the chart's caption: a stats card drawn as a picture
        return [
            Picture(text=card.text, buttons=card.buttons, image=png, name="stats.png", form="stats")
        ]
    return [card]
