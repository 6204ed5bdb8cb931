"""Read-only views: ``/progress`` (stages, bars, percentages). ``/stats`` moved to the numbers
feature (core/coaching/numbers/views.py) with goals and projections (issue #13)."""

from __future__ import annotations

from core.journey import cards
from core.journey.navigation import current_stage, offer_roadmaps
from core.journey.streak import streak_line, streak_of
from core.kernel.turn import Turn
from core.kernel.types import Outbound


async def progress(turn: Turn) -> list[Outbound]:
    """Every stage of the current roadmap with a bar, a percentage and its state, and the
    streak in one line (one more read: the streak's history)."""
    roadmap = turn.roadmap
    if roadmap is None:
        return offer_roadmaps(turn, first_time=False)
    stage, _ = await current_stage(turn, roadmap)
    rows = await turn.roadmap_progress(roadmap)
    card = cards.progress_card(roadmap, rows, stage.id if stage else None)
    line = streak_line(await streak_of(turn))
    return [card.model_copy(update={"text": f"{card.text}\n\n{line}"})]
