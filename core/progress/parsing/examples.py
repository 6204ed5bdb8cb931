"""Valid sample answers for the coach's "for example ..." hints: :func:`example_answer`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Final

from core.progress.date_rules import nearest_good
from core.progress.parsing.bounds import _bounds
from core.progress.parsing.currencies import currency_code, precision
from core.progress.parsing.dates import _MONTH_ABBR
from core.progress.parsing.dispatch import parse_answer
from core.progress.parsing.display import _format_duration, format_money_short
from core.progress.parsing.locales import PLAIN, Reading
from core.progress.parsing.results import InvalidAnswer
from core.progress.parsing.rounding import _CENT, _ONE, _trim4, _zero_sign
from core.progress.parsing.text import _text_bounds
from core.roadmaps.schema import DateRules, InputSpec, InputType


def example_answer(spec: InputSpec, *, today: date, reading: Reading = PLAIN) -> str:
    """A valid raw answer for ``spec``, for the coach's "for example ..." hint and for tests.

    The content's own ``example`` comes first (a realistic answer for the musician's stage, which
    no formula over the bounds can give); the content tests check that it parses. Without one,
    numbers are the target, the midpoint of min/max or a typical value, clamped into the allowed
    range; URLs point at example.com; choices pick the first one. Dates are always a few days
    after ``today``: a date written in the content would go stale. A money example is shown
    in the musician's currency and locale (the content's "€300" reads "$300" for a dollar
    profile: the same figure, not a conversion — an order of magnitude is what it conveys).
    """
    if spec.type is InputType.MONEY:
        return _money_sample(spec, reading)
    if spec.example is not None and spec.type is not InputType.DATE:
        return spec.example
    match spec.type:
        case InputType.INTEGER | InputType.DECIMAL | InputType.PERCENT:
            number = _example_number(spec)
            return f"{number:f}%" if spec.type is InputType.PERCENT else f"{number:f}"
        case InputType.DURATION:
            return _format_duration(_example_number(spec))
        case InputType.DATE:
            day = _example_date(spec, today)
            return f"{day.day} {_MONTH_ABBR[day.month - 1]} {day.year}"
        case InputType.URL:
            return "https://example.com/your-page"
        case InputType.CHOICE:
            return spec.choices[0] if spec.choices else ""
        case _:
            low, high = _text_bounds(spec)
            for sample in _TEXT_SAMPLES:
                if low <= len(sample) <= high:
                    return sample
            return "x" * low


def _money_sample(spec: InputSpec, reading: Reading) -> str:
    code = reading.currency or currency_code(spec)
    if spec.example is not None and code == currency_code(spec) and reading.locale is None:
        return spec.example
    amount = _example_number(spec)
    if spec.example is not None:
        try:
            parsed = parse_answer(spec, spec.example, today=date(2000, 1, 1), label="the example")
        except InvalidAnswer:  # the content test reports it; the computed amount stands in
            parsed = None
        if parsed is not None and parsed.numeric is not None:
            amount = parsed.numeric
    # in the currency's own steps (no cents in yen), inside the bounds when they allow it
    step = Decimal(1).scaleb(-precision(code))
    low, high = _bounds(spec)
    shown = amount.quantize(step, rounding=ROUND_HALF_UP)
    if low is not None and shown < low:
        shown = amount.quantize(step, rounding=ROUND_CEILING)
    if high is not None and shown > high:
        shown = amount.quantize(step, rounding=ROUND_FLOOR)
    return format_money_short(_zero_sign(shown), code, reading.locale)


def _example_date(spec: InputSpec, today: date) -> date:
    """A few days ahead; with the content's date rules, the nearest date that follows them all
    (a release date example is a Friday 6 weeks out, never one the coach would question)."""
    if spec.rules is None:
        return today + timedelta(days=3)
    return _good_example(spec.rules, today)


@lru_cache(maxsize=64)
def _good_example(rules: DateRules, today: date) -> date:
    """The rules' first good date from their earliest allowed day (every card of a dated
    question shows it: worked out once a day per rule set)."""
    start = today + timedelta(days=rules.min_days_ahead or 3)
    good = nearest_good(rules, start, today, count=1)
    return good[0] if good else today + timedelta(days=3)


_TEXT_SAMPLES: Final = (
    "Played two new songs at the open mic.",
    "New single is out",
    "Great gig",
    "ok",
    "y",
)


_EXAMPLE_DEFAULTS: Final[Mapping[InputType, Decimal]] = {
    InputType.INTEGER: Decimal(12500),
    InputType.DECIMAL: Decimal("12.5"),
    InputType.MONEY: Decimal(25),
    InputType.PERCENT: Decimal(15),
    InputType.DURATION: Decimal(200),
}


def _example_number(spec: InputSpec) -> Decimal:
    """The content's target, else the midpoint of an explicit min/max, else a typical value —
    each clamped into the allowed range — whichever comes first that the content does not mark
    as a probable typo (a ``suspect`` band would question the coach's own example)."""
    candidates = [spec.target] if spec.target is not None else []
    if spec.min is not None and spec.max is not None:
        candidates.append((spec.min + spec.max) / 2)
    candidates.append(_EXAMPLE_DEFAULTS[spec.type])
    shaped = [_shaped(spec, value) for value in candidates]
    for value in shaped:
        if not any(band.holds(value) for band in spec.suspect):
            return value
    return shaped[0]


def _shaped(spec: InputSpec, value: Decimal) -> Decimal:
    """``value`` clamped into the allowed range and rounded the way the type stores it."""
    low, high = _bounds(spec)
    if low is not None:
        value = max(value, low)
    if high is not None:
        value = min(value, high)
    if spec.type in (InputType.INTEGER, InputType.DURATION):
        value = value.quantize(_ONE, rounding=ROUND_HALF_UP)
        if low is not None and value < low:
            value = low.to_integral_value(rounding=ROUND_CEILING)
        if high is not None and value > high:
            value = high.to_integral_value(rounding=ROUND_FLOOR)
        return _zero_sign(value.quantize(_ONE))
    if spec.type is InputType.MONEY:
        return _zero_sign(value.quantize(_CENT, rounding=ROUND_HALF_UP))
    return _zero_sign(_trim4(value))
