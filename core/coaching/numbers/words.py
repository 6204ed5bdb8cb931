"""How the numbers feature says things: figures, changes, paces, dates and goal verdicts.

Pure functions, shared by ``/update``, ``/stats``, ``/goal`` and the check-in card so the same
figure reads the same everywhere (and the golden texts pin them).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

from core.kernel.markup import bold, esc, italic
from core.progress.metrics import metric_label
from core.progress.parsing import format_number, format_signed
from core.progress.projection import Projection

#: How the projection is made, said with every goal reply (the issue: "states how it projects").
HOW = (
    "How I project: a straight line through your numbers of the last 90 days (least squares). "
    "With fewer than 2 numbers a week apart it's too early to say."
)


def number(value: Decimal | Fraction | int, locale: str | None = None) -> str:
    """A figure as people read it: thousands separated, at most two decimals (none from 100);
    the display module's (:func:`core.progress.parsing.format_number`)."""
    return format_number(value, locale)


def signed(value: Decimal | Fraction | int, locale: str | None = None) -> str:
    """A change with its sign (``+200``, ``-3.5``, ``±0``), never "+400.0000"."""
    return format_signed(value, locale)


def arrow(change: Decimal | Fraction) -> str:
    """▲ / ▼ before a change (nothing for none)."""
    return "▲ " if change > 0 else "▼ " if change < 0 else ""


def day(value: date | datetime, today: date) -> str:
    """``3 Nov`` this year, ``3 Nov 2027`` another year."""
    d = value.date() if isinstance(value, datetime) else value
    return f"{d.day} {d:%b}" if d.year == today.year else f"{d.day} {d:%b %Y}"


def name(metric: str) -> str:
    """A metric's name for a reply (escaped)."""
    return esc(metric_label(metric))


def pace(value: Fraction | None, locale: str | None = None) -> str:
    """The weekly pace, or that it is too early to say."""
    return "too early to say" if value is None else f"{signed(value, locale)} a week"


def goal_verdict(
    target: Decimal,
    due_on: date,
    projection: Projection | None,
    today: date,
    locale: str | None = None,
) -> str:
    """One or two lines on a goal: on track / behind / met / too thin, when and how fast;
    figures in ``locale``'s way (a German reads "1.500", not "1,500")."""
    head = f"🎯 {bold(number(target, locale))} by {day(due_on, today)}"
    if projection is None:
        return f"{head}: no numbers yet — /update gives me the first one."
    needed = projection.needed
    need = "" if needed is None else f" You need {signed(needed, locale)} a week."
    if projection.status == "met":
        return f"{head}: ✅ reached."
    if projection.status == "thin":
        return f"{head}: too early to say — I need 2 numbers at least a week apart.{need}"
    at = pace(projection.pace, locale)
    if projection.status == "on_track" and projection.reach_at is not None:
        when = day(projection.reach_at, today)
        return f"{head}: {bold('on track')} — at {at} you get there around {when}.{need}"
    if projection.reach_at is None:
        return f"{head}: {bold('behind')} — at {at} you won't get there.{need}"
    when = day(projection.reach_at, today)
    return f"{head}: {bold('behind')} — at {at} you'd get there around {when}.{need}"


def how() -> str:
    """The projection method, in italics."""
    return italic(HOW)
