"""Whether a date answer follows the content's rules, why not, and the nearest dates that do.

A release date 5 days away, or on a Thursday, is a date a professional would push back on: the
stores need weeks to ingest it, the playlists are pitched a week ahead, releases go out on
Fridays, nobody listens in the week between the holidays. The content declares those rules per
date question (:class:`~core.roadmaps.schema.DateRules`); this module says which ones a date
breaks, in words a musician understands, and offers the nearest dates that break none. Pure:
the caller gives ``today`` (the musician's own, from the turn), so tests and the journey agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, Literal

from core.roadmaps.schema import Blackout, DateRules

RuleName = Literal["weekday", "min_days_ahead", "max_days_ahead", "avoid"]

_WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS: Final = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
#: How far past the rules' window (or the asked date) the search for good dates looks when the
#: content sets no ``max_days_ahead``: a year always holds every weekday outside any window
#: that leaves part of the year free.
_OPEN_HORIZON: Final = 400
#: How many good dates are offered by default (three buttons fit every platform's row).
SUGGESTIONS: Final = 3


@dataclass(frozen=True, slots=True)
class BrokenRule:
    """One rule a date breaks, and the reason in the musician's words."""

    rule: RuleName
    reason: str


def weekday_name(day: date) -> str:
    """``Thursday``."""
    return _WEEKDAYS[day.weekday()].capitalize()


def _month_day(text: str) -> tuple[int, int]:
    month, day = text.split("-")
    return int(month), int(day)


def _shown(text: str) -> str:
    """``12-18`` → ``18 Dec``."""
    month, day = _month_day(text)
    return f"{day} {_MONTHS[month - 1]}"


def in_window(window: Blackout, day: date) -> bool:
    """Whether ``day`` lies in the yearly window (both ends included; ``12-18`` to ``01-04``
    wraps the new year). Compared as (month, day), so a ``02-29`` end needs no leap year."""
    start, end, here = _month_day(window.start), _month_day(window.end), (day.month, day.day)
    if start <= end:
        return start <= here <= end
    return here >= start or here <= end


def _weeks(days: int) -> str:
    if days >= 14 and days % 7 == 0:
        return f"{days // 7} weeks"
    return f"{days} day{'s' if days != 1 else ''}"


def _away(day: date, today: date) -> str:
    ahead = (day - today).days
    if ahead < 0:
        return f"{-ahead} day{'s' if ahead != -1 else ''} ago"
    if ahead == 0:
        return "today"
    return f"only {ahead} day{'s' if ahead != 1 else ''} away"


def broken_rules(rules: DateRules, day: date, today: date) -> list[BrokenRule]:
    """Every rule ``day`` breaks, in the order the content lists them (empty: it follows all)."""
    broken: list[BrokenRule] = []
    if rules.weekday is not None and _WEEKDAYS[day.weekday()] != rules.weekday:
        broken.append(
            BrokenRule(
                "weekday",
                f"That's a {weekday_name(day)} — it should be a {rules.weekday.capitalize()}.",
            )
        )
    ahead = (day - today).days
    if rules.min_days_ahead is not None and ahead < rules.min_days_ahead:
        away = _away(day, today)
        broken.append(
            BrokenRule(
                "min_days_ahead",
                f"{away[0].upper()}{away[1:]} — plan at least {_weeks(rules.min_days_ahead)} "
                "ahead.",
            )
        )
    if rules.max_days_ahead is not None and ahead > rules.max_days_ahead:
        broken.append(
            BrokenRule(
                "max_days_ahead",
                f"{ahead} days away is far out — pick a date within "
                f"{_weeks(rules.max_days_ahead)}.",
            )
        )
    for window in rules.avoid:
        if in_window(window, day):
            broken.append(
                BrokenRule(
                    "avoid",
                    f"That's between {_shown(window.start)} and {_shown(window.end)}: {window.why}",
                )
            )
    return broken


def follows(rules: DateRules, day: date, today: date) -> bool:
    """Whether ``day`` breaks no rule."""
    return not broken_rules(rules, day, today)


def nearest_good(rules: DateRules, day: date, today: date, count: int = SUGGESTIONS) -> list[date]:
    """Up to ``count`` dates that follow every rule, nearest to ``day`` first (ties: the
    earlier one), never before ``today``. Fewer (or none) when the rules leave fewer."""
    lo = today + timedelta(days=rules.min_days_ahead or 0)
    if rules.max_days_ahead is not None:
        hi = today + timedelta(days=rules.max_days_ahead)
    else:
        hi = max(day, lo) + timedelta(days=_OPEN_HORIZON)
    if lo > hi:
        return []
    start, step = lo, 1
    if rules.weekday is not None:  # only that weekday can follow the rules: step a week
        start = lo + timedelta(days=(_WEEKDAYS.index(rules.weekday) - lo.weekday()) % 7)
        step = 7
    candidates: list[date] = []
    current = start
    while current <= hi:
        if follows(rules, current, today):
            candidates.append(current)
        current += timedelta(days=step)
    candidates.sort(key=lambda good: (abs((good - day).days), good))
    return candidates[:count]
