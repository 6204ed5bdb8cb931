"""How ``/streak`` is typed: ``/streak``, ``/streak freeze 2w [from 2026-12-20]``,
``/streak unfreeze``. Pure, so every bad input has a tested, friendly answer.

A length is a count and a unit — ``2w``, ``2 weeks``, ``10d``, ``14 days``, ``a week`` — or a
bare count of weeks (``/streak freeze 2``); one day to four weeks. A start is ``from`` and a
date the journey's date parser reads (``from 2026-12-20``, ``from friday``, ``from 20 Dec``),
today at the earliest and at most 90 days ahead; without it the freeze starts today.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from core.kernel.markup import esc
from core.progress.parsing import InvalidAnswer, parse_answer
from core.progress.streaks import MAX_FREEZE_DAYS, MAX_PLAN_AHEAD_DAYS
from core.roadmaps.schema import InputSpec, InputType


def code(text: str) -> str:
    """Already-escaped text as a code span (a command to copy)."""
    return f"`{text}`"


USAGE: Final = (
    f"{code('/streak')} shows your streak; {code('/streak freeze 2w')} keeps it through a tour "
    f"or a holiday (1 day to 4 weeks, e.g. {code('10d')}, {code('2 weeks')}, "
    f"{code('2w from 2026-12-20')}); {code('/streak unfreeze')} ends a freeze."
)
_SHOWN_MAX: Final = 30

_LENGTH_RE: Final = re.compile(
    r"(?P<sign>[-+−])?\s*(?P<n>\d{1,6}|a|an|one|two|three|four)\s*"
    r"(?P<unit>w|wk|wks|week|weeks|d|day|days)?"
)
_FROM_RE: Final = re.compile(r"(?P<length>.*?)\s*\bfrom\b\s*(?P<start>.*)")
_COUNT_WORDS: Final = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4}
_START: Final = InputSpec(type=InputType.DATE, question="From when?")


@dataclass(frozen=True, slots=True)
class Show:
    """``/streak``: show it."""


@dataclass(frozen=True, slots=True)
class Unfreeze:
    """``/streak unfreeze``: end the freeze in force, or drop the one planned."""


@dataclass(frozen=True, slots=True)
class FreezeAsk:
    """``/streak freeze …``: ``days`` long, from ``starts_on``."""

    days: int
    starts_on: date

    @property
    def ends_on(self) -> date:
        """The last frozen day."""
        return self.starts_on + timedelta(days=self.days - 1)


@dataclass(frozen=True, slots=True)
class Refused:
    """Input that means nothing here: what to say back."""

    text: str


Request = Show | Unfreeze | FreezeAsk | Refused


def shown(text: str) -> str:
    """What someone typed, cut and escaped to be quoted back."""
    cut = text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 1] + "…"
    return esc(cut)


def parse(args: str, today: date) -> Request:
    """The request ``/streak <args>`` makes, ``today`` being the profile's local day."""
    text = " ".join(args.split()).casefold()
    if not text:
        return Show()
    head, _, rest = text.partition(" ")
    if head in ("unfreeze", "thaw") and not rest:
        return Unfreeze()
    if head == "freeze" and rest in ("off", "stop", "end", "cancel"):
        return Unfreeze()
    if head != "freeze":
        return Refused(f"I don't know {code('/streak ' + shown(args.strip()))}. {USAGE}")
    if not rest:
        return Refused(f"How long? {USAGE}")
    split = _FROM_RE.fullmatch(rest)
    length, start = (split["length"], split["start"]) if split else (rest, None)
    if not length:
        return Refused(f"How long? {USAGE}")
    days = _days(length)
    if isinstance(days, Refused):
        return days
    starts_on = today
    if start is not None:
        begun = _start(start, today)
        if isinstance(begun, Refused):
            return begun
        starts_on = begun
    return FreezeAsk(days, starts_on)


def _days(text: str) -> int | Refused:
    """A freeze's length in days."""
    match = _LENGTH_RE.fullmatch(text)
    if match is None:
        return Refused(
            f"I didn't get how long {code(shown(text))} is. Try {code('/streak freeze 2w')}, "
            f"{code('10d')} or {code('2 weeks')}."
        )
    raw = match["n"]
    count = int(raw) if raw.isdecimal() else _COUNT_WORDS[raw]
    unit = match["unit"] or "w"
    days = count if unit.startswith("d") else count * 7
    if match["sign"] in ("-", "−") or days <= 0:
        return Refused(f"A freeze is 1 day to 4 weeks long — {code(shown(text))} isn't.")
    if days > MAX_FREEZE_DAYS:
        return Refused(
            f"A freeze is at most 4 weeks ({MAX_FREEZE_DAYS} days). For a longer break, "
            "freeze 4 weeks now and another one later this quarter."
        )
    return days


def _start(text: str, today: date) -> date | Refused:
    """A freeze's first day: today at the earliest, at most 90 days ahead."""
    if not text:
        return Refused(f"From when? {USAGE}")
    try:
        day = parse_answer(_START, text, today=today, label="the freeze's start").value
    except InvalidAnswer as exc:
        return Refused(esc(exc.message))
    if not isinstance(day, date):
        return Refused(f"From when? {USAGE}")
    if day < today:
        return Refused("A freeze can't start in the past: it keeps weeks still to come.")
    if day > today + timedelta(days=MAX_PLAN_AHEAD_DAYS):
        return Refused(f"That's more than {MAX_PLAN_AHEAD_DAYS} days away — plan it nearer.")
    return day
