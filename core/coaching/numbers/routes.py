"""What the numbers feature answers: ``/update``, ``/stats``, ``/goal``, their buttons, the
check-in buttons and the typed values they wait for, declared to the registry.

The flows live in :mod:`~core.coaching.numbers.update`, :mod:`~core.coaching.numbers.goals` and
:mod:`~core.coaching.numbers.views` (``/stats``); this module only says which event reaches
which flow.
"""

from __future__ import annotations

import uuid
from datetime import UTC, tzinfo
from zoneinfo import ZoneInfo

from core.coaching.numbers import goals, update, views
from core.coaching.numbers.buttons import (
    CHECKIN_SNOOZE,
    GOAL_METRIC,
    GOAL_WHEN,
    UPDATE,
    metric_of,
)
from core.coaching.numbers.checkins import at_ten, week_on
from core.coaching.numbers.states import Numbers
from core.coaching.numbers.store import snooze_checkin
from core.coaching.numbers.words import day
from core.kernel.payloads import Payload
from core.kernel.registry import MAX_SUGGESTIONS, Asked, Feature, Option, Suggestion
from core.kernel.turn import Turn
from core.kernel.types import Message, Outbound, Toast
from core.progress.metrics import metric_label
from core.roadmaps.schema import NUMERIC_TYPES

numbers = Feature("numbers")


def _zone(turn: Turn) -> tzinfo:
    """The musician's zone for the snoozed check-in's 10:00 (a fixed-offset name the
    reminders accept, ``UTC+2``, reads as UTC here: the tick re-plans the row in its own zone)."""
    try:
        return ZoneInfo(turn.rec.timezone)
    except (KeyError, ValueError):
        return UTC


@numbers.command("stats", "Your numbers, how they moved, and the chart", bare=True)
async def _stats(turn: Turn, _args: str) -> list[Outbound]:
    return await views.stats(turn)


@numbers.command(
    "update",
    "Record a new number any time (e.g. /update listeners 1400)",
    usage="[number] [value]",
    options=(
        Option("metric", "which number: listeners, followers, …", suggest="metrics"),
        Option("value", "the new value, e.g. 1400 or 1.4k", rest=True),
    ),
)
async def _update(turn: Turn, args: str) -> list[Outbound]:
    return await update.update_command(turn, args)


@numbers.command(
    "goal",
    "Set a goal for a number (e.g. /goal listeners 2000 by 31 March), or list yours",
    usage="[number] [target] [by date | off]",
    options=(
        Option("metric", "which number: listeners, followers, …", suggest="metrics"),
        Option("target", "the value to reach, then 'by <date>' (or 'off')", rest=True),
    ),
)
async def _goal(turn: Turn, args: str) -> list[Outbound]:
    return await goals.goal_command(turn, args)


@numbers.button(UPDATE)
async def _update_button(turn: Turn, payload: Payload) -> list[Outbound]:
    info = turn.catalog.metrics.get(metric_of(payload.args[0]))
    if info is None:
        return [Toast(text="That number isn't in your roadmap any more. /update lists yours.")]
    return update.ask_value(turn, info)


@numbers.button(GOAL_METRIC)
async def _goal_button(turn: Turn, payload: Payload) -> list[Outbound]:
    info = turn.catalog.metrics.get(metric_of(payload.args[0]))
    if info is None:
        return [Toast(text="That number isn't in your roadmap any more. /goal lists yours.")]
    return goals.ask_target(turn, info)


@numbers.button(GOAL_WHEN)
async def _goal_when(turn: Turn, payload: Payload) -> list[Outbound]:
    return await goals.date_button(turn, payload.args[0])


@numbers.button(CHECKIN_SNOOZE)
async def _snooze(turn: Turn, payload: Payload) -> list[Outbound]:
    try:
        reminder_id = uuid.UUID(hex=payload.args[0])
    except ValueError:
        return [Toast(text="That check-in button is broken. /update records a number.")]
    until = at_ten(week_on(turn.now), _zone(turn))
    if not await snooze_checkin(turn.ex, reminder_id, turn.rec.user_id, until):
        return [Toast(text="That check-in isn't yours (or is gone), so I left it alone.")]
    return [Message(text=f"⏰ OK — I'll ask again on {day(until, turn.today)}.", edit=True)]


@numbers.on_text(Numbers.VALUE)
async def _value_text(turn: Turn, text: str) -> list[Outbound]:
    return await update.value_text(turn, text)


@numbers.on_text(Numbers.GOAL_TARGET)
async def _target_text(turn: Turn, text: str) -> list[Outbound]:
    return await goals.target_text(turn, text)


@numbers.on_text(Numbers.GOAL_DATE)
async def _date_text(turn: Turn, text: str) -> list[Outbound]:
    return await goals.date_text(turn, text)


@numbers.on_cancel(Numbers.VALUE)
@numbers.on_cancel(Numbers.GOAL_TARGET)
@numbers.on_cancel(Numbers.GOAL_DATE)
async def _cancelled(turn: Turn) -> list[Outbound]:
    turn.set_state(None)
    return [Message(text="OK, nothing saved.", edit=True)]


@numbers.suggests("metrics")
async def _metrics(asked: Asked) -> list[Suggestion]:
    """The numbers the content knows whose name or alias holds what was typed (Discord's
    autocomplete for /update and /goal); the value is a name ``Catalog.metric_named`` reads."""
    catalog = await asked.catalogs.current(asked.db)
    typed = " ".join(asked.typed.casefold().replace("_", " ").split())
    out: list[Suggestion] = []
    for info in sorted(catalog.metrics.values(), key=lambda i: (not i.tracked, i.name)):
        words = sorted(info.aliases, key=len)
        if info.spec.type not in NUMERIC_TYPES or not any(typed in w for w in words):
            continue
        out.append(Suggestion(metric_label(info.name), info.name.replace("_", " ")))
    return out[:MAX_SUGGESTIONS]
