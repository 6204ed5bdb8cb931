"""What the reminders feature answers: /remind, /timezone, /quiet, their buttons, the
Done / Snooze / Tomorrow buttons under a nudge (the flows are in :mod:`core.reminders.chat`),
and the timezone names offered while someone types a ``/timezone`` (``timezones``).

In a band's server chat the same commands and settings buttons act on the band's reminder:
the bands feature declares those for the ``band`` place (core/bands/routes.py).
"""

from __future__ import annotations

from core.kernel.payloads import Payload
from core.kernel.registry import (
    EVERYWHERE,
    MAX_SUGGESTIONS,
    SOLO,
    Asked,
    Feature,
    Option,
    Suggestion,
)
from core.kernel.turn import Turn
from core.kernel.types import Outbound
from core.reminders import chat
from core.reminders.buttons import NUDGE, SETTING
from core.reminders.schedule import zones_matching

reminders = Feature("reminders")

#: The options of the three commands, shared with the band's versions (same words, same parser).
REMIND_OPTIONS = (
    Option(
        "when",
        "daily 18:00, weekly mon,thu 09:30, off or on",
        rest=True,
    ),
)
TIMEZONE_OPTIONS = (
    Option(
        "zone", "a city, an IANA name (Europe/Berlin) or an offset (UTC+2)", suggest="timezones"
    ),
)
QUIET_OPTIONS = (Option("hours", "22:00-08:00, or off"),)

#: (help, usage) of the three commands, shared with the band's versions.
REMIND_HELP = ("Reminders: daily/weekly nudges, or off", "[daily 18:00 | off]")
TIMEZONE_HELP = ("Set your timezone for reminders", "[Europe/Berlin | UTC+2]")
QUIET_HELP = ("Quiet hours: no nudges in this window", "[22:00-08:00 | off]")


@reminders.command(
    "remind", REMIND_HELP[0], usage=REMIND_HELP[1], options=REMIND_OPTIONS, places=SOLO
)
async def _remind(turn: Turn, args: str) -> list[Outbound]:
    return await chat.remind_command(turn, args)


@reminders.command(
    "timezone", TIMEZONE_HELP[0], usage=TIMEZONE_HELP[1], options=TIMEZONE_OPTIONS, places=SOLO
)
async def _timezone(turn: Turn, args: str) -> list[Outbound]:
    return await chat.timezone_command(turn, args)


@reminders.command("quiet", QUIET_HELP[0], usage=QUIET_HELP[1], options=QUIET_OPTIONS, places=SOLO)
async def _quiet(turn: Turn, args: str) -> list[Outbound]:
    return await chat.quiet_command(turn, args)


@reminders.button(NUDGE, places=EVERYWHERE)
@reminders.button(SETTING, places=SOLO)
async def _button(turn: Turn, payload: Payload) -> list[Outbound]:
    return await chat.button(turn, payload)


@reminders.suggests("timezones")
async def _zones(asked: Asked) -> list[Suggestion]:
    return [Suggestion(name, name) for name in zones_matching(asked.typed, MAX_SUGGESTIONS)]
