"""How stored values are shown to the musician: :func:`format_value`."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from core.progress.parsing.currencies import _DISPLAY_SYMBOLS, _currency_code
from core.progress.parsing.dates import _MONTH_ABBR, _WEEKDAY_ABBR
from core.progress.parsing.rounding import _CENT, _ONE, _trim4, _zero_sign
from core.roadmaps.schema import NUMERIC_TYPES, InputSpec, InputType


def format_value(spec: InputSpec, value: Decimal | date | str) -> str:
    """How the coach shows a stored value: the same text as :attr:`Parsed.display`.

    Kept separate from parsing so summaries and ``/progress`` can render values loaded from the
    database exactly as the musician saw them when answering. A value of the wrong Python type
    for the spec is a programming error and raises ``TypeError``.
    """
    if spec.type in NUMERIC_TYPES:
        if not isinstance(value, Decimal):
            raise TypeError(f"a {spec.type} value must be a Decimal, not {type(value).__name__}")
        return _format_number(spec, value)
    if spec.type is InputType.DATE:
        if not isinstance(value, date):
            raise TypeError(f"a date value must be a date, not {type(value).__name__}")
        return _format_date(value)
    if not isinstance(value, str):
        raise TypeError(f"a {spec.type} value must be a str, not {type(value).__name__}")
    return value


def _format_number(spec: InputSpec, value: Decimal) -> str:
    value = _zero_sign(value)
    unit = f" {spec.unit}" if spec.unit else ""
    match spec.type:
        case InputType.INTEGER:
            return f"{value:,f}{unit}"
        case InputType.DECIMAL:
            exponent = value.as_tuple().exponent
            if isinstance(exponent, int) and exponent >= 0:  # whole: show "-14.0", not "-14"
                value = value.quantize(Decimal("0.1"))
            return f"{value:,f}{unit}"
        case InputType.MONEY:
            code = _currency_code(spec)
            cents = value.quantize(_CENT, rounding=ROUND_HALF_UP)
            sign = "-" if cents < 0 else ""
            amount = f"{abs(cents):,f}"
            symbol = _DISPLAY_SYMBOLS.get(code)
            return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {code}"
        case InputType.PERCENT:
            return f"{_trim4(value):f}%"
        case _:
            return _format_duration(value)


def _format_duration(seconds: Decimal) -> str:
    total = int(seconds.quantize(_ONE, rounding=ROUND_HALF_UP))
    sign = "-" if total < 0 else ""
    hours, rest = divmod(abs(total), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        text
        for amount, text in (
            (hours, f"{hours:,} h"),
            (minutes, f"{minutes} min"),
            (secs, f"{secs} s"),
        )
        if amount
    ]
    return sign + (" ".join(parts) if parts else "0 s")


def _format_date(day: date) -> str:
    return f"{_WEEKDAY_ABBR[day.weekday()]} {day.day} {_MONTH_ABBR[day.month - 1]} {day.year}"
