"""What the review feature answers: ``/review`` (the week's review, and its weekly delivery's
settings). Its buttons are the existing actions: the journey's Open (``op:<task>``) and the
numbers' Update (``nv:<metric>``), so a focus button acts exactly as ``/today``'s would — and a
stale or double-tapped one gets their answers ("already done", …)."""

from __future__ import annotations

from core.coaching.review.views import USAGE, review_command
from core.kernel.registry import SOLO, Feature, Option
from core.kernel.turn import Turn
from core.kernel.types import Outbound

review = Feature("review")

REVIEW_OPTIONS = (Option("when", "off, on, or a day and 24-hour time (monday 9:00)", rest=True),)


@review.command(
    "review",
    "Your weekly review: done, moved, next week's focus; /review monday 9:00 or off",
    usage=USAGE,
    options=REVIEW_OPTIONS,
    places=SOLO,
)
async def _review(turn: Turn, args: str) -> list[Outbound]:
    return await review_command(turn, args)
