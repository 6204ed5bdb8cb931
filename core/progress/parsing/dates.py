"""Date answers: ISO and numeric dates, month names, weekdays and relative dates."""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Final

from core.progress.parsing.cleaning import _prep
from core.progress.parsing.results import InvalidAnswer

_MONTH_NAMES: Final = (
    "January February March April May June July August September October November December"
).split()
_MONTH_ABBR: Final = tuple(name[:3] for name in _MONTH_NAMES)
_WEEKDAY_NAMES: Final = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_WEEKDAY_ABBR: Final = tuple(name[:3] for name in _WEEKDAY_NAMES)
_MONTHS: Final[Mapping[str, int]] = {
    **{name.casefold(): i for i, name in enumerate(_MONTH_NAMES, start=1)},
    **{name.casefold(): i for i, name in enumerate(_MONTH_ABBR, start=1)},
    "sept": 9,
}
_WEEKDAYS: Final[Mapping[str, int]] = {
    **{name.casefold(): i for i, name in enumerate(_WEEKDAY_NAMES)},
    **{name.casefold(): i for i, name in enumerate(_WEEKDAY_ABBR)},
    "tues": 1,
    "weds": 2,
    "thur": 3,
    "thurs": 3,
}
_COUNT_WORDS: Final[Mapping[str, int]] = {
    "a": 1,
    "an": 1,
    **{
        word: i
        for i, word in enumerate(
            "one two three four five six seven eight nine ten eleven twelve".split(), start=1
        )
    },
}
_MIN_YEAR: Final = 1900
_YEARS_AHEAD: Final = 100

_LEADING_WEEKDAY_RE: Final = re.compile(r"([a-z]+)\.?,?\s+(.+)")
_FILLER_RE: Final = re.compile(r"\b(?:on|the|of)\b")
_RELATIVE_RE: Final = re.compile(
    r"(?:in\s+(?P<n1>[0-9]{1,5}|[a-z]+)\s+(?P<u1>day|week|month|year)s?(?:\s+time)?)"
    r"|(?:(?P<n2>[0-9]{1,5}|[a-z]+)\s+(?P<u2>day|week|month|year)s?\s+from\s+(?:now|today))"
)
_WEEKDAY_RE: Final = re.compile(r"(?:(?P<which>this|next|coming|this coming)\s+)?(?P<day>[a-z]+)")
_ISO_RE: Final = re.compile(r"([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})")
_NUMERIC_DATE_RE: Final = re.compile(r"([0-9]{1,2})([./-])([0-9]{1,2})(?:\2([0-9]{4}|[0-9]{2}))?")
_ORDINAL_RE: Final = re.compile(r"([0-9]{1,2})(?:st|nd|rd|th)")


def _parse_date(text: str, today: date, label: str) -> date:
    prepared = _prep(text).rstrip(".!")
    prepared = " ".join(_FILLER_RE.sub(" ", prepared).split())
    weekday: int | None = None
    leading = _LEADING_WEEKDAY_RE.fullmatch(prepared)
    if leading is not None and leading[1] in _WEEKDAYS:
        weekday, prepared = _WEEKDAYS[leading[1]], leading[2]
    result = _read_date(prepared, today, label)
    if weekday is not None and result.weekday() != weekday:
        shown = f"{result.day} {_MONTH_ABBR[result.month - 1]} {result.year}"
        raise InvalidAnswer(
            f"{shown} is a {_WEEKDAY_NAMES[result.weekday()]}, not a "
            f"{_WEEKDAY_NAMES[weekday]} — please check the date (like {result.isoformat()})."
        )
    return result


def _read_date(text: str, today: date, label: str) -> date:
    if text in ("today", "tonight"):
        return today
    if text in ("tomorrow", "tmrw", "tmr"):
        return _shift(today, 1, label)
    if text == "yesterday":
        return _shift(today, -1, label)
    if (relative := _RELATIVE_RE.fullmatch(text)) is not None:
        count_text = relative["n1"] or relative["n2"] or ""
        unit = relative["u1"] or relative["u2"] or ""
        count = int(count_text) if count_text.isdecimal() else _COUNT_WORDS.get(count_text)
        if count is not None:
            return _relative(today, count, unit, label)
    if (named_day := _WEEKDAY_RE.fullmatch(text)) is not None and named_day["day"] in _WEEKDAYS:
        target = _WEEKDAYS[named_day["day"]]
        ahead = (target - today.weekday()) % 7
        if named_day["which"] == "next" and ahead == 0:
            ahead = 7
        return _shift(today, ahead, label)
    if (iso := _ISO_RE.fullmatch(text)) is not None:
        return _make_date(int(iso[1]), int(iso[2]), int(iso[3]), today, label)
    if (numeric := _NUMERIC_DATE_RE.fullmatch(text)) is not None:
        return _numeric_date(numeric, today, label)
    if re.search(r"[a-z]", text):
        named = _named_date(text, today, label)
        if named is not None:
            return named
    example = (today + timedelta(days=3)).isoformat()
    raise InvalidAnswer(f"I need a date for {label}, like {example}, 4 Dec or “next friday”.")


def _shift(today: date, days: int, label: str) -> date:
    try:
        result = today + timedelta(days=days)
    except OverflowError:
        raise _too_far(label) from None
    return _check_year(result, today, label)


def _too_far(label: str) -> InvalidAnswer:
    return InvalidAnswer(
        f"that's too far away for {label} — please give a date within the next "
        f"{_YEARS_AHEAD} years."
    )


def _check_year(day: date, today: date, label: str) -> date:
    if not _MIN_YEAR <= day.year <= today.year + _YEARS_AHEAD:
        raise _too_far(label)
    return day


def _relative(today: date, count: int, unit: str, label: str) -> date:
    if unit == "day":
        return _shift(today, count, label)
    if unit == "week":
        return _shift(today, 7 * count, label)
    months = count if unit == "month" else 12 * count
    year, month0 = divmod(today.month - 1 + months, 12)
    year += today.year
    if year > today.year + _YEARS_AHEAD:
        raise _too_far(label)
    month = month0 + 1
    return date(year, month, min(today.day, calendar.monthrange(year, month)[1]))


def _make_date(year: int, month: int, day: int, today: date, label: str) -> date:
    if not 1 <= month <= 12:
        raise InvalidAnswer("that date doesn't exist — there are only 12 months.")
    if not _MIN_YEAR <= year <= today.year + _YEARS_AHEAD:
        raise InvalidAnswer(
            f"that year looks off for {label} — please check it (like "
            f"{(today + timedelta(days=3)).isoformat()})."
        )
    days_in_month = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days_in_month:
        raise InvalidAnswer(
            f"that date doesn't exist — {_MONTH_NAMES[month - 1]} {year} has {days_in_month} days."
        )
    return date(year, month, day)


def _next_occurrence(month: int, day: int, today: date, label: str) -> date:
    """The first ``day``/``month`` on or after ``today`` (Feb 29 waits for a leap year)."""
    if not 1 <= month <= 12:
        raise InvalidAnswer("that date doesn't exist — there are only 12 months.")
    longest = calendar.monthrange(2000, month)[1]  # 2000 is a leap year: Feb has 29 days
    if not 1 <= day <= longest:
        raise InvalidAnswer(
            f"that date doesn't exist — {_MONTH_NAMES[month - 1]} has {longest} days."
        )
    for year in range(today.year, today.year + 9):
        if day <= calendar.monthrange(year, month)[1] and date(year, month, day) >= today:
            return _check_year(date(year, month, day), today, label)
    raise _too_far(label)  # pragma: no cover - a leap year comes within 8 years


def _numeric_date(match: re.Match[str], today: date, label: str) -> date:
    first, separator, second, year_text = match.groups()
    a, b = int(first), int(second)
    year: int | None = None
    if year_text is not None:
        year = int(year_text) + (2000 if len(year_text) == 2 else 0)
    if separator == ".":
        day, month = a, b
    else:
        day_first = 1 <= b <= 12 and 1 <= a <= 31
        month_first = 1 <= a <= 12 and 1 <= b <= 31
        if day_first and month_first and a != b:
            example_year = year if year is not None else today.year
            raise InvalidAnswer(
                f"is that {a} {_MONTH_NAMES[b - 1]} or {b} {_MONTH_NAMES[a - 1]}? "
                f"Please write it like {example_year:04d}-{b:02d}-{a:02d}."
            )
        if not (day_first or month_first):
            raise InvalidAnswer("that date doesn't exist — please write it like 2026-12-04.")
        day, month = (a, b) if day_first else (b, a)
    if year is None:
        return _next_occurrence(month, day, today, label)
    return _make_date(year, month, day, today, label)


def _named_date(text: str, today: date, label: str) -> date | None:
    """Dates with a month name: "4 Dec", "December 4 2026", "4th of december"; else ``None``."""
    tokens: list[str] = []
    for token in re.split(r"[\s,./-]+", text):
        if not token:
            continue
        ordinal = _ORDINAL_RE.fullmatch(token)
        tokens.append(ordinal[1] if ordinal else token)
    shape = "".join(_token_kind(t) for t in tokens)
    if shape in ("DM", "MD", "DMY", "MDY"):
        month = _MONTHS[tokens[shape.index("M")]]
        day = int(tokens[shape.index("D")])
        if shape.endswith("Y"):
            return _make_date(int(tokens[2]), month, day, today, label)
        return _next_occurrence(month, day, today, label)
    if shape in ("M", "MY"):
        name = _MONTH_NAMES[_MONTHS[tokens[0]] - 1]
        raise InvalidAnswer(f"which day in {name}? Write it like 4 {name[:3]}.")
    return None


def _token_kind(token: str) -> str:
    if token in _MONTHS:
        return "M"
    if re.fullmatch(r"[0-9]{1,2}", token):
        return "D"
    if re.fullmatch(r"[0-9]{4}", token):
        return "Y"
    return "?"
