"""How numbers are shown to a musician: the one place a figure, an amount or a change is
written (:func:`format_value`, :func:`format_number`, :func:`format_signed`,
:func:`format_money`, :func:`format_compact`, :func:`counted`).

Everything goes through Babel with the musician's locale (CLDR's decimal and group marks,
currency symbols and their place, plural rules), so "12,500" reads "12.500" in German and
"€1,200.50" reads "1.200,50 €". Values are :class:`~decimal.Decimal` from the database
(``Numeric(20, 4)``: "400.0000"); nothing here shows those trailing zeros, a "+0", a "-0" or
"1 listeners". Without a locale the coach writes English ("en").
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Final

from babel.numbers import format_compact_decimal, format_currency, format_decimal

from core.progress.parsing.currencies import currency_code, precision
from core.progress.parsing.dates import _MONTH_ABBR, _WEEKDAY_ABBR
from core.progress.parsing.locales import PLAIN, Reading, babel_locale
from core.progress.parsing.rounding import _ONE, _trim4, _zero_sign
from core.roadmaps.schema import NUMERIC_TYPES, InputSpec, InputType

_TWO_PLACES: Final = Decimal("0.01")
#: At or above this size a figure is shown without decimals ("1,814", not "1,814.25").
WHOLE_FROM: Final = Decimal(100)


def _exact(value: Decimal | Fraction | int) -> Decimal:
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    return Decimal(value)


@lru_cache(maxsize=512)
def _pattern(locale: str | None, places: int) -> str:
    """The locale's decimal pattern (its grouping: "#,##,##0" in India) with exactly
    ``places`` decimals."""
    base = str(babel_locale(locale).decimal_formats[None].pattern).split(";", 1)[0]
    whole = base.split(".", 1)[0]
    return whole + ("." + "0" * places if places > 0 else "")


def _plain(value: Decimal, locale: str | None) -> str:
    """``value`` with the locale's marks, every digit it has and none it doesn't ("-14.0"
    stays "-14.0": the exponent says how many decimals are shown)."""
    value = _zero_sign(value)
    exponent = value.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return str(
        format_decimal(
            value,
            format=_pattern(locale, places),
            locale=babel_locale(locale),
            decimal_quantization=False,
        )
    )


def format_number(
    value: Decimal | Fraction | int,
    locale: str | None = None,
    *,
    places: int = 2,
    whole_from: Decimal | None = WHOLE_FROM,
) -> str:
    """A figure as people read it: grouped, at most ``places`` decimals and none from
    ``whole_from`` up (``None``: decimals at any size), no trailing zeros ("1,814", "3.5",
    "0.25"; German "1.814", "3,5")."""
    exact = _exact(value)
    big = whole_from is not None and abs(exact) >= whole_from
    step = _ONE if big or places <= 0 else Decimal(1).scaleb(-places)
    rounded = exact.quantize(step, rounding=ROUND_HALF_UP)
    if rounded == rounded.to_integral_value():
        rounded = rounded.quantize(_ONE)
    else:
        rounded = rounded.normalize()
    return _plain(rounded, locale)


def format_signed(value: Decimal | Fraction | int, locale: str | None = None) -> str:
    """A change with its sign: "+200", "-3.5", "±0" (a change that rounds to nothing)."""
    shown = format_number(value, locale)
    if _exact(value).quantize(_TWO_PLACES, rounding=ROUND_HALF_UP) == 0 or shown in {"0", "-0"}:
        return "±0"
    return shown if _exact(value) < 0 else f"+{shown}"


def format_compact(value: Decimal | int, locale: str | None = None) -> str:
    """A short figure for tight places (a chart's axis, a button): "12.5K", "1.2M"."""
    return str(
        format_compact_decimal(_exact(value), locale=babel_locale(locale), fraction_digits=1)
    )


def format_money(value: Decimal, code: str, locale: str | None = None) -> str:
    """An amount in ``code`` as the locale writes it ("€1,200.50", "1.200,50 €", "¥300")
    with the currency's own decimals (2 for EUR, 0 for JPY)."""
    digits = precision(code)
    amount = _zero_sign(value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))
    return str(format_currency(amount, code, locale=babel_locale(locale)))


def format_money_short(value: Decimal, code: str, locale: str | None = None) -> str:
    """An amount as typed in an example: whole amounts without cents ("€300", "300 €")."""
    if value != value.to_integral_value():
        return format_money(value, code, locale)
    babel = babel_locale(locale)
    pattern = babel.currency_formats["standard"].pattern.replace(".00", "")
    return str(
        format_currency(
            value.quantize(_ONE), code, locale=babel, format=pattern, currency_digits=False
        )
    )


def counted(amount: Decimal | int, noun: str, locale: str | None = None) -> str:
    """``amount`` with an English count noun in the right number: "1 listener", "2 listeners",
    "1.5 listeners" (CLDR's English plural rule: only exactly 1 is singular)."""
    return f"{format_number(amount, locale, places=4)} {plural_noun(amount, noun)}"


#: English plurals that don't just add an "s" (content units are English).
_IRREGULAR: Final = {"people": "person", "children": "child", "men": "man", "women": "woman"}


def plural_noun(amount: Decimal | int | Fraction, noun: str) -> str:
    """The content's plural unit ("listeners", "shows") made singular for exactly one.

    Content units are English plurals; only a plain trailing "s" is dropped (not "ss": a unit
    like "access" stays), and units that are not words ("LUFS", "%", "saves/listener") never
    change.
    """
    if _exact(amount) != 1:
        return noun
    if noun in _IRREGULAR:
        return _IRREGULAR[noun]
    if noun.isalpha() and noun.islower() and noun.endswith("s") and not noun.endswith("ss"):
        return noun[:-1]
    return noun


def format_value(
    spec: InputSpec,
    value: Decimal | date | str,
    *,
    reading: Reading = PLAIN,
    currency: str | None = None,
) -> str:
    """How the coach shows a stored value: the same text as :attr:`Parsed.display`.

    Kept separate from parsing so summaries and ``/progress`` can render values loaded from the
    database exactly as the musician saw them when answering. ``currency`` is the amount's own
    currency (stored with it); without it, the profile's (``reading.currency``), else the
    question's. A value of the wrong Python type for the spec is a programming error and
    raises ``TypeError``.
    """
    if spec.type in NUMERIC_TYPES:
        if not isinstance(value, Decimal):
            raise TypeError(f"a {spec.type} value must be a Decimal, not {type(value).__name__}")
        return _format_number(spec, value, reading, currency)
    if spec.type is InputType.DATE:
        if not isinstance(value, date):
            raise TypeError(f"a date value must be a date, not {type(value).__name__}")
        return _format_date(value)
    if not isinstance(value, str):
        raise TypeError(f"a {spec.type} value must be a str, not {type(value).__name__}")
    return value


def _format_number(spec: InputSpec, value: Decimal, reading: Reading, currency: str | None) -> str:
    value = _zero_sign(value)
    locale = reading.locale
    unit = f" {plural_noun(value, spec.unit)}" if spec.unit else ""
    match spec.type:
        case InputType.INTEGER:
            return f"{_plain(value.quantize(_ONE), locale)}{unit}"
        case InputType.DECIMAL:
            trimmed = _trim4(value)
            if trimmed == trimmed.to_integral_value():  # whole: "-14.0", not "-14"
                trimmed = trimmed.quantize(Decimal("0.1"))
            return f"{_plain(trimmed, locale)}{unit}"
        case InputType.MONEY:
            code = currency or reading.currency or currency_code(spec)
            return format_money(value, code, locale)
        case InputType.PERCENT:
            return f"{_plain(_trim4(value), locale)}%"
        case _:
            return _format_duration(value, locale)


def _format_duration(seconds: Decimal, locale: str | None = None) -> str:
    total = int(seconds.quantize(_ONE, rounding=ROUND_HALF_UP))
    sign = "-" if total < 0 else ""
    hours, rest = divmod(abs(total), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        text
        for amount, text in (
            (hours, f"{_plain(Decimal(hours), locale)} h"),
            (minutes, f"{minutes} min"),
            (secs, f"{secs} s"),
        )
        if amount
    ]
    return sign + (" ".join(parts) if parts else "0 s")


def _format_date(day: date) -> str:
    return f"{_WEEKDAY_ABBR[day.weekday()]} {day.day} {_MONTH_ABBR[day.month - 1]} {day.year}"
