"""What the plan feature answers: ``/plan`` (the timeline), ``/plan ics`` (the calendar file),
and its buttons — set or change the date the plan is counted from, send the file."""

from __future__ import annotations

from core.coaching.plan import views
from core.coaching.plan.buttons import CALENDAR, SET_DATE
from core.journey import date_answers
from core.kernel.payloads import Payload
from core.kernel.registry import Feature, Option
from core.kernel.turn import Turn
from core.kernel.types import Message, Outbound

plan = Feature("plan")

#: ``/plan ics``: Discord offers the word as a choice; elsewhere it is typed.
PLAN_OPTIONS = (
    Option("format", "ics: the plan as a calendar file", kind="choice", choices=("ics",)),
)
_CALENDAR_WORDS = frozenset({"ics", "ical", "calendar", "cal"})


@plan.command(
    "plan",
    "Your release plan: every dated task, what's overdue; /plan ics for your calendar",
    usage="[ics]",
    options=PLAN_OPTIONS,
)
async def _plan(turn: Turn, args: str) -> list[Outbound]:
    word = args.strip().casefold()
    if not word:
        return await views.plan_card(turn)
    if word in _CALENDAR_WORDS:
        return await views.calendar(turn)
    return [Message(text="/plan shows your plan; /plan ics sends it as a calendar file.")]


@plan.button(SET_DATE)
async def _set_date(turn: Turn, payload: Payload) -> list[Outbound]:
    return await date_answers.ask_new_date(turn, payload.args[0])


@plan.button(CALENDAR)
async def _calendar(turn: Turn, _payload: Payload) -> list[Outbound]:
    return await views.calendar(turn)
