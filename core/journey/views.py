"""Read-only views: ``/progress`` (stages, bars, percentages). ``/stats`` moved to the numbers
feature (core/coaching/numbers/views.py) with goals and projections (issue #13)."""

from __future__ import annotations

from core.journey import cards, cycle_offer
from core.journey.buttons import NEXT_CYCLE
from core.journey.navigation import current_stage, offer_roadmaps
from core.journey.streak import streak_line, streak_of
from core.kernel.markup import bold, esc
from core.kernel.turn import Turn
from core.kernel.types import Button, Outbound


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
    text, buttons = f"{card.text}\n\n{line}", card.buttons
    if roadmap.cycle is not None:  # a repeating release: which one this is, and the ones before
        past = await turn.store.load_cycles(turn.rec.profile_id, roadmap.id)
        number = cycle_offer.cycle_number(past)
        word = cycle_offer.noun(roadmap)
        history = cycle_offer.history_line(roadmap, past)
        if history is not None:
            text += f"\n\n🔁 {bold(f'{word.capitalize()} {number}')} now. Earlier:\n{esc(history)}"
        if cycle_offer.cycle_done(roadmap, rows):
            start = Button(
                label=f"Start {word} {number + 1}", payload=NEXT_CYCLE.encode(str(number + 1))
            )
            buttons = ((start,), *buttons)
    return [card.model_copy(update={"text": text, "buttons": buttons})]
