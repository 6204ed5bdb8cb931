"""What a numeric answer means: the content's verdict on it, how it moved, how far the goal is.

The coach reacts to every number it is told (issue #13). The content says, per question, what
values mean (:class:`~core.roadmaps.schema.Reference` bands with a verdict, what it says and one
piece of advice), which way is better, and which values are probably typos
(:class:`~core.roadmaps.schema.Suspect`). This module turns a value and those marks into words.
It is pure — content and numbers in, words out; no I/O, no clock (``today`` is passed in) — so
every rule is a row of a table test.

Placeholders in ``says``, ``advice`` and a suspect's ``ask``:

* ``{value}`` — the answer as the musician saw it echoed ("-9.5 LUFS", "€1,200.00");
* ``{gap}`` — ``|value − target|`` as a plain number with at most two decimals ("4.5",
  "1,200"); money and durations as amounts ("€50.00", "2 min 30 s"); empty without a target;
* ``{ratio}`` — for a reference with ``of``: the answer ÷ the musician's latest value of that
  metric, as a percentage ("23%", "4.2%"); empty otherwise.

An unknown placeholder is left as written (a content typo never breaks a reply).

References with ``of``: the band holds the *ratio* (a fraction: ``at_least: 0.9`` is 90 % of
capacity), not the raw answer; the ``of`` metric's value is the latest one in the profile's
``current_stats``. While the musician has no value of that metric yet (or it is zero), the
reference is skipped and the next one is tried.

The goal contract (goals are set by ``/goal``, another feature): a metric's goal, when it has
one, is read from the profile's stats entry of that metric as
``current_stats[metric]["goal"] == {"target": "2000", "by": "2027-03-31"}`` (a decimal string
and an ISO date). A missing or malformed goal means no goal line. Whoever writes the stats entry
keeps the ``goal`` key (the answer flow does: it updates the entry, never replaces it).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from core.progress.parsing import PLAIN, format_number, format_value
from core.progress.parsing import Reading as Conventions
from core.progress.parsing.display import plural_noun
from core.roadmaps.schema import InputSpec, InputType, Verdict

#: The emoji a verdict is shown with.
VERDICT_EMOJI: Mapping[Verdict, str] = {
    Verdict.GOOD: "🎯",
    Verdict.OK: "👍",
    Verdict.WARN: "⚠️",
    Verdict.BAD: "🛑",
}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_CENT = Decimal("0.01")
_TENTH = Decimal("0.1")


# ------------------------------------------------------------------------------ formatting


def _trimmed(number: Decimal, places: Decimal, reading: Conventions = PLAIN) -> str:
    """``number`` rounded to ``places``, grouped, no trailing zeros (the display module's)."""
    digits = -int(places.as_tuple().exponent)
    return format_number(number, reading.locale, places=digits, whole_from=None)


def amount(
    spec: InputSpec, magnitude: Decimal, *, unit: bool = False, reading: Conventions = PLAIN
) -> str:
    """A distance between two values of ``spec``, as a musician reads it.

    Money and durations are shown as amounts ("€50.00", "2 min 30 s"); other numbers with at
    most two decimals ("4.5", "1,200"), followed by the unit when ``unit`` is asked for (a
    percentage's distance is in "points").
    """
    magnitude = abs(magnitude)
    if spec.type in {InputType.MONEY, InputType.DURATION}:
        return format_value(spec, magnitude, reading=reading)
    shown = _trimmed(magnitude, _CENT, reading)
    if not unit:
        return shown
    if spec.type is InputType.PERCENT:
        return f"{shown} points"
    return counted_text(shown, magnitude, spec.unit)


def counted_text(shown: str, magnitude: Decimal, unit: str | None) -> str:
    """A shown figure with its unit in the right number ("1 listener", "3 listeners")."""
    return f"{shown} {plural_noun(magnitude, unit)}" if unit else shown


def percentage(fraction: Decimal) -> str:
    """``0.234`` → ``"23%"``, ``0.042`` → ``"4.2%"``: whole numbers from 10 % up."""
    pct = fraction * 100
    return f"{_trimmed(pct, Decimal(1) if abs(pct) >= 10 else _TENTH)}%"


def short_date(day: date, today: date) -> str:
    """``3 Nov`` this year, ``3 Nov 2025`` another year."""
    month = _MONTHS[day.month - 1]
    return f"{day.day} {month}" if day.year == today.year else f"{day.day} {month} {day.year}"


class _Blanks(dict[str, str]):
    """Placeholders for ``str.format_map``; an unknown one stays as it was written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(template: str, fields: Mapping[str, str]) -> str:
    """``template`` with its placeholders filled; never raises on content typos."""
    try:
        return string.Formatter().vformat(template, (), _Blanks(fields))
    except (ValueError, IndexError, KeyError, AttributeError):  # a stray "{" or "{0}"
        return template


def _fields(
    spec: InputSpec, value: Decimal, display: str, ratio: Decimal | None = None
) -> dict[str, str]:
    gap = "" if spec.target is None else amount(spec, value - spec.target)
    return {
        "value": display,
        "gap": gap,
        "ratio": "" if ratio is None else percentage(ratio),
    }


# ------------------------------------------------------------------------------ references


def latest(stats: Mapping[str, Any], metric: str) -> Decimal | None:
    """The musician's latest value of ``metric`` in ``current_stats`` (``None``: unknown)."""
    entry = stats.get(metric)
    if not isinstance(entry, Mapping):
        return None
    try:
        number = Decimal(str(entry.get("value")))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


@dataclass(frozen=True, slots=True)
class Reading:
    """The verdict on a value: how it reads, what the content says, and the one next step."""

    verdict: Verdict
    says: str
    advice: str

    @property
    def emoji(self) -> str:
        """The verdict's emoji."""
        return VERDICT_EMOJI[self.verdict]


def assess(
    spec: InputSpec, value: Decimal, display: str, stats: Mapping[str, Any]
) -> Reading | None:
    """The first reference of ``spec`` whose band holds ``value`` (or its ratio), in words.

    ``stats`` is the profile's ``current_stats`` (for references ``of`` another metric).
    ``None`` when no reference holds, or the spec has none.
    """
    for reference in spec.references:
        ratio: Decimal | None = None
        subject = value
        if reference.of is not None:
            base = latest(stats, reference.of)
            if base is None or base == 0:
                continue
            ratio = subject = value / base
        if reference.holds(subject):
            fields = _fields(spec, value, display, ratio)
            return Reading(
                reference.verdict, fill(reference.says, fields), fill(reference.advice, fields)
            )
    return None


def suspect(spec: InputSpec, value: Decimal, display: str) -> str | None:
    """The question to ask before saving a value that is probably a typo (``None``: fine)."""
    for band in spec.suspect:
        if band.holds(value):
            return fill(band.ask, _fields(spec, value, display))
    return None


# ------------------------------------------------------------------------------ comparisons


@dataclass(frozen=True, slots=True)
class Change:
    """How a value moved since the previous one, judged by which way is ``better``."""

    direction: Literal["up", "down", "flat"]
    #: "12%", "4.5 LUFS", "3 points", "€50.00"; empty when flat.
    by: str
    since: str | None
    judged: Literal["better", "worse"] | None

    def text(self) -> str:
        """``Up 12% since 3 Nov — nice.`` (one sentence)."""
        when = f"since {self.since}" if self.since else "since last time"
        if self.direction == "flat":
            return f"Same as on {self.since}." if self.since else "Same as last time."
        tail = {"better": " — nice.", "worse": " — the wrong way.", None: "."}[self.judged]
        return f"{self.direction.capitalize()} {self.by} {when}{tail}"


def compare(
    spec: InputSpec,
    value: Decimal,
    previous: Decimal,
    *,
    since: date | None,
    today: date,
    reading: Conventions = PLAIN,
) -> Change:
    """``value`` against the ``previous`` value of the same metric (or task).

    A relative change ("12%") when both are non-negative, the previous one positive and the
    change shows as at least 1 %; otherwise the distance itself ("4.5 LUFS", "3 points": a
    percentage moves in points). Up is better when ``better`` is ``higher``, worse when it is
    ``lower``; without ``better`` the change is not judged.
    """
    when = short_date(since, today) if since is not None else None
    if value == previous:
        return Change("flat", "", when, None)
    direction: Literal["up", "down"] = "up" if value > previous else "down"
    by = amount(spec, value - previous, unit=True, reading=reading)
    relative = spec.type is not InputType.PERCENT and previous > 0 and value >= 0
    if relative:
        fraction = abs(value - previous) / previous
        if fraction * 100 >= Decimal("0.95"):
            by = percentage(fraction)
    judged: Literal["better", "worse"] | None = None
    if spec.better is not None:
        good = (direction == "up") == (spec.better == "higher")
        judged = "better" if good else "worse"
    return Change(direction, by, when, judged)


# ------------------------------------------------------------------------------ goals


@dataclass(frozen=True, slots=True)
class Goal:
    """A metric's goal, as ``/goal`` stores it in the stats entry (see the module docstring)."""

    target: Decimal
    by: date


def goal_of(stats: Mapping[str, Any], metric: str) -> Goal | None:
    """The goal of ``metric`` in ``current_stats``, if there is a well-formed one."""
    entry = stats.get(metric)
    goal = entry.get("goal") if isinstance(entry, Mapping) else None
    if not isinstance(goal, Mapping):
        return None
    try:
        target = Decimal(str(goal.get("target")))
        by = date.fromisoformat(str(goal.get("by")))
    except (InvalidOperation, ValueError):
        return None
    return Goal(target, by) if target.is_finite() else None


def versus_goal(
    spec: InputSpec, value: Decimal, goal: Goal, *, today: date, reading: Conventions = PLAIN
) -> str:
    """One sentence: how far ``value`` is from ``goal`` (``better`` lower: the goal is a
    ceiling; higher or not said: a floor to reach)."""
    target = format_value(spec, goal.target, reading=reading)
    lower = spec.better == "lower"
    met = value <= goal.target if lower else value >= goal.target
    if met:
        return f"That meets your goal of {target}."
    left = amount(spec, value - goal.target, unit=True, reading=reading)
    by = short_date(goal.by, today)
    if goal.by < today:
        return f"Your goal was {target} by {by}: {left} to go."
    return f"Goal: {target} by {by} — {left} to go."
