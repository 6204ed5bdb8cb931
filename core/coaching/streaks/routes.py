"""What the streak feature answers: ``/streak`` in a private chat or a group (the musician's own
streak). In a band's server chat ``/streak`` is the bands feature's (core/bands/routes.py): the
band's streak, which only managers freeze."""

from __future__ import annotations

from core.coaching.streaks import flows
from core.kernel.registry import SOLO, Feature, Option
from core.kernel.turn import Turn
from core.kernel.types import Outbound

streaks = Feature("streaks")

STREAK_HELP = (
    "Weeks in a row with a step done; /streak freeze 2w keeps it through a tour or a holiday",
    "[freeze <1d-4w> [from <date>] | unfreeze]",
)
STREAK_OPTIONS = (
    Option(
        "action",
        "freeze 2w, freeze 10d from 2026-12-20, or unfreeze; empty: show it",
        rest=True,
    ),
)


@streaks.command(
    "streak", STREAK_HELP[0], usage=STREAK_HELP[1], options=STREAK_OPTIONS, places=SOLO
)
async def _streak(turn: Turn, args: str) -> list[Outbound]:
    return await flows.run(turn, flows.request_of(turn, args))
