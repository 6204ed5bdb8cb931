"""``/streak``: show the streak, freeze it, end a freeze — on the turn's profile (a musician's,
or in a server chat the band's; :mod:`core.bands.routes` lets only managers change a band's).

Limits (docs/coaching.md, "Streaks"): one freeze at a time (in force or planned), at most
:data:`~core.progress.streaks.FREEZES_PER_QUARTER` starting in one calendar quarter, each 1 day
to 4 weeks, starting today or up to 90 days ahead. The turn holds the profile's lock, so two
``/streak freeze`` at once are counted one after the other.
"""

from __future__ import annotations

from datetime import timedelta

from core.clock import zone
from core.coaching.streaks import store
from core.coaching.streaks.words import (
    USAGE,
    FreezeAsk,
    Refused,
    Request,
    Show,
    Unfreeze,
    code,
    parse,
)
from core.journey.streak import streak_line, streak_of, weeks, zone_of
from core.kernel.markup import bold, italic
from core.kernel.turn import Turn
from core.kernel.types import Message, Outbound
from core.progress.streaks import FREEZES_PER_QUARTER, Freeze, Streak, local_day, quarter_of
from core.progress.timeline import show_date


def request_of(turn: Turn, args: str) -> Request:
    """What ``/streak <args>`` asks, read against the profile's own today."""
    return parse(args, local_day(turn.now, zone(zone_of(turn))))


async def run(turn: Turn, request: Request) -> list[Outbound]:
    """Answer a parsed ``/streak`` request on the turn's profile."""
    match request:
        case Show():
            return [Message(text=card_text(await streak_of(turn)))]
        case FreezeAsk():
            return [Message(text=await _freeze(turn, request))]
        case Unfreeze():
            return [Message(text=await _unfreeze(turn))]
        case Refused(text=text):
            return [Message(text=text)]
    return [Message(text=USAGE)]  # pragma: no cover - the match is exhaustive


def _span(freeze: Freeze) -> str:
    if freeze.starts_on == freeze.ends_on:
        return show_date(freeze.starts_on)
    return f"{show_date(freeze.starts_on)} – {show_date(freeze.ends_on)}"


def card_text(streak: Streak) -> str:
    """``/streak``: the streak, the best run, the freeze, what is left this quarter."""
    lines = [streak_line(streak)]
    if streak.best > streak.weeks:
        lines.append(f"🏆 Best so far: {weeks(streak.best)}.")
    freeze = streak.freeze
    if freeze is not None and streak.frozen_now:
        lines.append(f"🧊 Frozen {_span(freeze)} — {code('/streak unfreeze')} ends it early.")
    elif freeze is not None:
        lines.append(f"🧊 Freeze planned: {_span(freeze)} — {code('/streak unfreeze')} drops it.")
    left = streak.freezes_left
    lines.append(
        f"Freezes left this quarter: {left} of {FREEZES_PER_QUARTER}"
        + (
            f" — {code('/streak freeze 2w')} keeps your streak through a tour or a holiday."
            if left and freeze is None
            else "."
        )
    )
    lines.append(
        italic("A week counts when you complete a task, tick a checklist item or record a number.")
    )
    return "\n".join(lines)


async def _freeze(turn: Turn, ask: FreezeAsk) -> str:
    pid = turn.rec.profile_id
    today = local_day(turn.now, zone(zone_of(turn)))
    stored = await store.freezes_of(turn.ex, pid)
    held = next((f for f in stored if f.ends_on >= today), None)
    if held is not None:
        what = "in force" if held.starts_on <= today else "planned"
        return (
            f"You already have a freeze {what}: {_span(Freeze(held.starts_on, held.ends_on))}. "
            f"One at a time — {code('/streak unfreeze')} first to change it."
        )
    quarter = quarter_of(ask.starts_on)
    used = sum(1 for f in stored if quarter_of(f.starts_on) == quarter)
    if used >= FREEZES_PER_QUARTER:
        return (
            f"You've used both freezes of this quarter ({FREEZES_PER_QUARTER} per quarter). "
            "A new quarter brings new ones."
            if quarter == quarter_of(today)
            else f"That quarter already has its {FREEZES_PER_QUARTER} freezes planned."
        )
    await store.add_freeze(
        turn.ex, pid, ask.starts_on, ask.ends_on, by=turn.rec.user_id, now=turn.now
    )
    left = FREEZES_PER_QUARTER - used - 1
    span = _span(Freeze(ask.starts_on, ask.ends_on))
    streak = await streak_of(turn)
    kept = f"Your {bold(f'{streak.weeks}-week')} streak waits for you. " if streak.weeks else ""
    return (
        f"🧊 Frozen: {span}. {kept}A week without a step in it won't break your streak; a "
        f"step still counts. Freezes left {'this' if quarter == quarter_of(today) else 'that'} "
        f"quarter: {left}."
    )


async def _unfreeze(turn: Turn) -> str:
    pid = turn.rec.profile_id
    today = local_day(turn.now, zone(zone_of(turn)))
    held = next((f for f in await store.freezes_of(turn.ex, pid) if f.ends_on >= today), None)
    if held is None:
        return f"There's no freeze to end. {code('/streak freeze 2w')} starts one."
    if held.starts_on >= today:
        await store.drop_freeze(turn.ex, pid, held.id)
        return "Freeze dropped — it doesn't count against this quarter's."
    await store.end_freeze(turn.ex, pid, held.id, today - timedelta(days=1))
    return "Freeze ended — welcome back! A step this week keeps your streak going."
