"""A profile's streak as the chat shows it: read in one statement, computed by
:mod:`core.progress.streaks`, said in one line (``/progress``, the weekly review, ``/streak``).

Here, in the journey, because ``/progress`` is the journey's and the coaching features above it
(``/streak``, the weekly review) read the same figure: one reader, one wording.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from core.db.executor import Executor
from core.kernel.markup import bold
from core.kernel.store import streak_history
from core.kernel.turn import Turn
from core.progress.streaks import Streak, compute, week_zone
from core.progress.timeline import show_date


def is_band_turn(turn: Turn) -> bool:
    """Whether the turn acts on a band's profile (events from a server chat do)."""
    return turn.inbound.chat_type == "guild"


def zone_of(turn: Turn) -> str:
    """The timezone the turn's profile counts its weeks in: the musician's, a band's UTC."""
    return week_zone(turn.rec.timezone, band=is_band_turn(turn))


async def streak_of(turn: Turn) -> Streak:
    """The turn's profile's streak as of the turn's clock (one read, through ``turn.store``)."""
    history = await turn.store.streak_history(turn.rec.profile_id)
    return compute(history, zone_of(turn), turn.now)


async def streak_at(ex: Executor, profile_id: uuid.UUID, timezone: str, now: datetime) -> Streak:
    """A profile's streak outside a turn (a job: the weekly review), one read on ``ex``.
    ``timezone`` is what :func:`core.progress.streaks.week_zone` says for the profile."""
    return compute(await streak_history(ex, profile_id), timezone, now)


def weeks(n: int) -> str:
    """``1 week``, ``3 weeks``."""
    return f"{n} week" if n == 1 else f"{n} weeks"


def streak_line(streak: Streak) -> str:
    """The streak in one line (``/progress``, the weekly review)."""
    if streak.frozen_now and streak.freeze is not None:
        held = f"{weeks(streak.weeks)}, " if streak.weeks else ""
        return f"🧊 Streak: {bold(held + 'frozen')} until {show_date(streak.freeze.ends_on)}."
    if streak.weeks == 0:
        return "🔥 Streak: none yet — one step this week starts it."
    if streak.this_week_done:
        return f"🔥 Streak: {bold(weeks(streak.weeks))} — this week's done."
    if streak.this_week_frozen:
        return f"🔥 Streak: {bold(weeks(streak.weeks))} — this week is frozen."
    return f"🔥 Streak: {bold(weeks(streak.weeks))} — keep it alive this week."
