"""Turn a musician's free-text answer into a validated value, or a friendly, specific re-ask.

Musicians answer data-input questions in chat, the way they would text a friend: "12.5k",
"about 300 listeners", "€1.200,50", "3:20", "next friday". :func:`parse_answer` accepts the
common ways of writing each :class:`~core.roadmaps.schema.InputType` and, when it cannot use an
answer, raises :class:`InvalidAnswer` whose ``message`` says exactly what to send instead. It is
pure: no I/O, no clock (``today`` is passed in), :class:`~decimal.Decimal` throughout (never
float, so "0.1" stays exact), and for any ``str`` it raises nothing but :class:`InvalidAnswer`.

Decisions on inputs that could be read more than one way (the tests pin each of them):

* **Cleaning.** Control characters (NUL, C0/C1, lone surrogates) are removed; tabs and line
  breaks become spaces, except in ``text`` answers, which keep their line breaks. Outside
  ``text``, invisible format characters (zero-width spaces, bidi marks) are dropped and runs of
  whitespace collapse to one space; ``text`` keeps them, so emoji sequences and RTL text survive.
  Non-ASCII decimal digits (Arabic-Indic, full-width, ...) are read as their ASCII digits in
  numbers, dates and choice numbers.
* **Numbers.** A single dot is always a decimal point ("1.234" is one point two three four, so
  for an ``integer`` it is rejected as not whole, with a hint to drop the dot if it separates
  thousands). A single comma followed by exactly three digits separates thousands ("1,234" is
  1234); followed by one or two digits it is a decimal comma ("12,5"); any other single comma is
  rejected. With two kinds of separator the last one is the decimal mark ("1,234.5",
  "1.234,5"). Spaces and apostrophes only separate thousands ("12 500", "12'500"). Thousands
  groups must have three digits (so Indian "1,23,456" is rejected). Multipliers: only ``k`` /
  "thousand" and ``m`` / "million" / "mio" / "mln"; any other letter straight after a number
  ("2b", "3 bn") is rejected with a message naming k and M. A leading "about", "around",
  "approx.", "roughly", "circa", "~" or "≈" is ignored. One trailing word is allowed only if it
  is the spec's ``unit`` (case-insensitive, with or without a plural "s"); any other trailing
  word is rejected, naming the word. Exponent notation is accepted when the result is finite and
  has at most 15 integer digits ("1e5" is 100000; "1e309", "NaN", "inf" are "too big").
* **Rounding.** ``integer`` has no decimals (and must be whole after k/M expansion); ``money`` is
  rounded half-up to cents; ``decimal`` and ``percent`` keep up to 4 decimals (rounded half-up);
  ``duration`` is rounded half-up to whole seconds.
* **Money.** Symbols and codes are accepted before or after the amount. "$" counts as any dollar
  currency (USD, CAD, AUD, NZD, HKD, SGD, MXN), "¥" as JPY or CNY, "kr" as SEK, NOK, DKK or ISK;
  naming any other currency than ``unit`` is rejected (no conversion). Every currency is shown
  with 2 decimals.
* **Percent.** "15", "15%", "15 percent" are all 15 (never 0.15); "0.15" is 0.15%. The range is
  0-100 unless the spec's min/max say otherwise.
* **Duration.** "m:ss" and "h:mm:ss" clocks ("1:30" is one minute thirty); units h / min / s in
  that order ("1h30" is 90 minutes, "3m20" is 200 seconds). A bare number is in the spec's
  ``unit`` when that is seconds, minutes or hours, otherwise minutes. ``min``/``max`` of a
  duration spec are in seconds, like the stored value; a duration is never negative.
* **Dates.** "friday" and "this friday" mean the next Friday on or after today (today, if it is
  a Friday); "next friday" means the first Friday strictly after today. A date without a year is
  its next occurrence on or after today. "04.12.2026" (dots) is always day first; "4/12/2026" and
  "4-12-2026" are accepted only when unambiguous (one part above 12, or both equal), otherwise
  the musician is asked to write the ISO form; two-digit years ("04.12.26") mean 20xx and are
  only read in these numeric forms. Also "today", "tomorrow", "yesterday", "in 3 weeks",
  "in a week", "10 days from now", "in 2 months" (same day, clamped to the month's end). A
  leading weekday ("Fri 4 Dec 2026", the display form) must match the date. Past dates are
  fine; years must lie between 1900 and 100 years from today.
* **URLs.** Only http(s) with a dotted host and no user/password; a missing scheme gets
  "https://"; scheme and host are lower-cased; trailing sentence punctuation is dropped.
* **Choices.** An exact (case-insensitive) text match wins, then a 1-based number, then a unique
  prefix of at least two characters.
"""

from __future__ import annotations

import calendar
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from core.errors import CoachError
from core.roadmaps.schema import NUMERIC_TYPES, InputSpec, InputType

__all__ = [
    "InvalidAnswer",
    "Parsed",
    "example_answer",
    "format_value",
    "is_far_from",
    "parse_answer",
]

#: Longest answer (after cleaning) accepted for any type but ``text``.
MAX_ANSWER_CHARS: Final = 200
#: Length bounds of ``text`` answers when the spec gives no min/max.
TEXT_MIN_DEFAULT: Final = 1
TEXT_MAX_DEFAULT: Final = 500
#: Numbers need at most this many digits before the decimal point (fits ``Numeric(20, 4)``).
MAX_INTEGER_DIGITS: Final = 15

_TOO_BIG_LIMIT: Final = Decimal(10) ** MAX_INTEGER_DIGITS
_ONE: Final = Decimal(1)
_CENT: Final = Decimal("0.01")
_FOUR_PLACES: Final = Decimal("0.0001")

_EMPTY_MESSAGE: Final = "I need an answer here — or send /skip to skip this one."


class InvalidAnswer(CoachError):
    """The answer can't be used; ``message`` is the friendly, specific re-ask shown to the musician.

    It is the only exception :func:`parse_answer` raises, so the conversation engine can catch
    it, show ``message`` and ask again without ever guessing what went wrong.
    """

    message: str

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Parsed:
    """A validated answer: the stored ``value``, the ``numeric`` metric input and its ``display``.

    ``value`` is a :class:`~decimal.Decimal` for integer, decimal, money, percent and duration
    (seconds), a :class:`~datetime.date` for dates and a ``str`` for url, choice and text.
    ``numeric`` is the same Decimal for numeric types (what a stats metric records) and ``None``
    otherwise. ``display`` is how the coach echoes the answer back, so the musician can spot a
    misreading ("12,500 listeners", "Fri 4 Dec 2026").
    """

    value: Decimal | date | str
    numeric: Decimal | None
    display: str

    def to_json(self) -> dict[str, str]:
        """A JSON-safe dict; ``type`` is the Python kind of ``value``: decimal, date or text.

        Decimals are written in plain notation (never "1E+5") and dates in ISO form, so the dict
        can be stored as-is and read back with :meth:`from_json` without losing precision.
        """
        kind, raw = _json_kind_and_value(self.value)
        return {"value": raw, "display": self.display, "type": kind}

    @classmethod
    def from_json(cls, data: Mapping[str, str]) -> Parsed:
        """Rebuild a :class:`Parsed` stored with :meth:`to_json` (``ValueError`` if malformed)."""
        kind, raw, display = data.get("type"), data.get("value"), data.get("display")
        if not isinstance(raw, str) or not isinstance(display, str):
            raise ValueError("a stored answer needs string 'value' and 'display'")
        if kind == "decimal":
            try:
                number = Decimal(raw)
            except InvalidOperation as exc:
                raise ValueError(f"not a decimal: {raw!r}") from exc
            if not number.is_finite():
                raise ValueError(f"not a finite decimal: {raw!r}")
            return cls(value=number, numeric=number, display=display)
        if kind == "date":
            return cls(value=date.fromisoformat(raw), numeric=None, display=display)
        if kind == "text":
            return cls(value=raw, numeric=None, display=display)
        raise ValueError(f"unknown stored answer type: {kind!r}")


def _json_kind_and_value(value: Decimal | date | str) -> tuple[str, str]:
    if isinstance(value, Decimal):
        return "decimal", f"{value:f}"
    if isinstance(value, date):
        return "date", value.isoformat()
    return "text", value


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def parse_answer(spec: InputSpec, raw: str, *, today: date, label: str) -> Parsed:
    """Parse ``raw`` for ``spec``; raise :class:`InvalidAnswer` with a re-ask when it can't be used.

    ``label`` is the human subject of the question ("monthly listeners") and appears in every
    message, so the re-ask reads as a reply to what the musician just tried to say. ``today`` is
    the musician's local date: relative dates ("tomorrow") depend on it, and passing it in keeps
    this function pure and testable.
    """
    is_text = spec.type is InputType.TEXT
    text = _clean(raw, text_mode=is_text)
    if not text or all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in text):
        raise InvalidAnswer(_EMPTY_MESSAGE)
    if is_text:
        value = _parse_text(spec, text, label)
        return Parsed(value=value, numeric=None, display=value)
    if len(text) > MAX_ANSWER_CHARS:
        raise InvalidAnswer(
            f"that's too long for {label} — please keep it under {MAX_ANSWER_CHARS} characters."
        )
    match spec.type:
        case InputType.INTEGER:
            number = _parse_integer(spec, text, label)
        case InputType.DECIMAL:
            number = _parse_decimal(spec, text, label)
        case InputType.MONEY:
            number = _parse_money(spec, text, label)
        case InputType.PERCENT:
            number = _parse_percent(spec, text, label)
        case InputType.DURATION:
            number = _parse_duration(spec, text, label)
        case InputType.DATE:
            day = _parse_date(text, today, label)
            return Parsed(value=day, numeric=None, display=format_value(spec, day))
        case InputType.URL:
            url = _parse_url(text, label)
            return Parsed(value=url, numeric=None, display=url)
        case InputType.CHOICE:
            choice = _parse_choice(spec, text, label)
            return Parsed(value=choice, numeric=None, display=choice)
        case _:  # pragma: no cover - every InputType is handled above
            raise InvalidAnswer(f"I can't read answers for {label} yet.")
    return Parsed(value=number, numeric=number, display=format_value(spec, number))


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


def is_far_from(previous: Decimal, new: Decimal, factor: int = 10) -> bool:
    """Whether ``new`` is more than ``factor`` times bigger or smaller than ``previous``.

    The coach uses it to ask "did you mean ...?" before recording a metric that jumped by an
    order of magnitude (a typo like 125000 for 12500). Zero has no ratio, so: both zero is not
    far; one zero and the other beyond ``factor`` in magnitude is far. A sign change between two
    non-zero numbers always counts as far. Non-finite inputs count as far (nothing to vouch for).
    The test is symmetric: ``is_far_from(a, b) == is_far_from(b, a)``.
    """
    if factor < 1:
        raise ValueError("factor must be at least 1")
    if not (previous.is_finite() and new.is_finite()):
        return True
    limit = Decimal(factor)
    a, b = abs(previous), abs(new)
    if a == 0 or b == 0:
        return max(a, b) > limit
    if (previous < 0) != (new < 0):
        return True
    return b > a * limit or a > b * limit


def example_answer(spec: InputSpec, *, today: date) -> str:
    """A valid raw answer for ``spec``, for the coach's "for example ..." hint and for tests.

    Numbers sit at the midpoint of min/max (or a typical value clamped into the allowed range);
    dates are a few days after ``today``; URLs point at example.com; choices pick the first one.
    """
    match spec.type:
        case InputType.INTEGER | InputType.DECIMAL | InputType.PERCENT:
            number = _example_number(spec)
            return f"{number:f}%" if spec.type is InputType.PERCENT else f"{number:f}"
        case InputType.MONEY:
            return _money_example(_currency_code(spec), _example_number(spec))
        case InputType.DURATION:
            return _format_duration(_example_number(spec))
        case InputType.DATE:
            day = today + timedelta(days=3)
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


# --------------------------------------------------------------------------------------------
# Cleaning
# --------------------------------------------------------------------------------------------

_LINE_BREAKS: Final = frozenset("\n\r\u2028\u2029")
_SPACE_CONTROLS: Final = frozenset("\t\x0b\x0c\x1c\x1d\x1e\x1f\x85")


def _clean(raw: str, *, text_mode: bool) -> str:
    """Strip control characters; outside ``text`` also drop invisibles and collapse spaces."""
    out: list[str] = []
    for ch in raw.replace("\r\n", "\n"):
        if ch in _LINE_BREAKS:
            out.append("\n" if text_mode else " ")
        elif ch in _SPACE_CONTROLS:
            out.append(" ")
        else:
            category = unicodedata.category(ch)
            if category in ("Cc", "Cs") or (category == "Cf" and not text_mode):
                continue
            out.append(ch)
    cleaned = "".join(out)
    return cleaned.strip() if text_mode else " ".join(cleaned.split())


def _ascii_digits(text: str) -> str:
    """Read any Unicode decimal digit (Arabic-Indic, full-width, ...) as its ASCII digit."""
    if text.isascii():
        return text
    return "".join(
        str(unicodedata.decimal(ch)) if unicodedata.category(ch) == "Nd" else ch for ch in text
    )


def _prep(text: str) -> str:
    """Case-folded, ASCII-digit, single-spaced form used by the number and date grammars."""
    return " ".join(_ascii_digits(text).casefold().split())


# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------

_SIGNS: Final = "+-−–"
_APPROX_RE: Final = re.compile(
    r"^(?:~|≈|about|around|approx\.?|approximately|roughly|circa|ca\.)\s*"
)
_NONFINITE_RE: Final = re.compile(r"[+\-−–]?\s*(?:s?nan|inf|infinity|∞)")
_NUMBER_RE: Final = re.compile(
    r"(?P<body>[0-9]+(?:[.,' ’][0-9]+)*|[.,][0-9]+)(?:e(?P<exp>[+-]?[0-9]+))?"
)
_SEPARATOR_RE: Final = re.compile(r"[.,' ’]")
_MULTIPLIER_RE: Final = re.compile(r"(k|thousand|m|million|mio|mln)(?![a-z])\s*")
_MULTIPLIERS: Final = {
    "k": Decimal(1000),
    "thousand": Decimal(1000),
    "m": Decimal(1_000_000),
    "million": Decimal(1_000_000),
    "mio": Decimal(1_000_000),
    "mln": Decimal(1_000_000),
}
_OTHER_SUFFIX_RE: Final = re.compile(
    r"[a-z]|bn|tn|mil|mrd|billions?|trillions?|lakhs?|crores?|thousands|millions"
)


def _digits_to_decimal(body: str) -> Decimal | None:
    """Read digits with thousands separators and/or a decimal mark; ``None`` if malformed."""
    if body[0] in ".,":
        return Decimal("0." + body[1:])
    runs = _SEPARATOR_RE.split(body)
    seps = ["'" if sep == "’" else sep for sep in _SEPARATOR_RE.findall(body)]
    if not seps:
        return Decimal(body)
    kinds = set(seps)
    last = seps[-1]
    decimal_mark = False
    if len(kinds) == 1:
        if len(seps) == 1 and last == ".":
            decimal_mark = True
        elif len(seps) == 1 and last == ",":
            if len(runs[-1]) in (1, 2):
                decimal_mark = True
            elif len(runs[-1]) != 3:
                return None
    elif len(kinds) == 2 and last in ".," and seps.count(last) == 1:
        decimal_mark = True
    else:
        return None
    whole = runs[:-1] if decimal_mark else runs
    if len(whole) > 1 and (
        not 1 <= len(whole[0]) <= 3 or any(len(group) != 3 for group in whole[1:])
    ):
        return None
    digits = "".join(whole)
    return Decimal(f"{digits}.{runs[-1]}" if decimal_mark else digits)


def _too_big(label: str) -> InvalidAnswer:
    return InvalidAnswer(
        f"that number is too big for {label} — I can take at most {MAX_INTEGER_DIGITS} digits "
        "before the decimal point."
    )


def _strip_approx(text: str) -> str:
    return _APPROX_RE.sub("", text, count=1)


def _number(
    text: str,
    *,
    label: str,
    ask: str,
    unit_words: frozenset[str],
    allow_multiplier: bool = True,
) -> Decimal:
    """Read one signed number (with optional k/M and unit word) from prepared text.

    ``ask`` is the "I need a number ..." message for text that is not a number at all. The
    result is finite and has at most :data:`MAX_INTEGER_DIGITS` integer digits, but is not yet
    rounded or range-checked.
    """
    text = _strip_approx(text)
    if _NONFINITE_RE.fullmatch(text):
        raise _too_big(label)
    negative = False
    if text[:1] and text[0] in _SIGNS:
        negative = text[0] != "+"
        text = text[1:].lstrip()
    match = _NUMBER_RE.match(text)
    if match is None:
        raise InvalidAnswer(ask)
    value = _digits_to_decimal(match["body"])
    if value is None:
        raise InvalidAnswer(ask)
    if match["exp"] is not None:
        exponent = match["exp"]
        if len(exponent.lstrip("+-")) > 4:
            if not exponent.startswith("-"):
                raise _too_big(label)
            value = Decimal(0)
        else:
            value = value.scaleb(int(exponent))
    rest = text[match.end() :].strip()
    words = rest
    if allow_multiplier and (multiplier := _MULTIPLIER_RE.match(rest)) is not None:
        value *= _MULTIPLIERS[multiplier[1]]
        words = rest[multiplier.end() :].strip()
    if words and words not in unit_words:
        if allow_multiplier and _OTHER_SUFFIX_RE.fullmatch(rest):
            raise InvalidAnswer(
                "I only understand k (thousand) and M (million) after a number — please write "
                f"{label} out in full, like 2500000."
            )
        raise InvalidAnswer(f"{ask} (I'm not sure what “{words[:30]}” means there.)")
    if negative:
        value = -value
    if not value.is_finite() or abs(value) >= _TOO_BIG_LIMIT:
        raise _too_big(label)
    return value


def _unit_words(unit: str | None) -> frozenset[str]:
    """The spellings of ``unit`` accepted after a number: any case, with or without plural s."""
    if not unit:
        return frozenset()
    folded = " ".join(unit.casefold().split())
    return frozenset(w for w in (folded, folded + "s", folded.removesuffix("s")) if w)


def _trim4(value: Decimal) -> Decimal:
    """Round half-up to 4 decimals and drop trailing zeros (12.5000 -> 12.5, 15.0 -> 15)."""
    rounded = value.quantize(_FOUR_PLACES, rounding=ROUND_HALF_UP)
    if rounded == rounded.to_integral_value():
        return rounded.quantize(_ONE)
    return rounded.normalize()


def _bounds(spec: InputSpec) -> tuple[Decimal | None, Decimal | None]:
    """Effective min/max: percent defaults to 0-100, duration to at least 0."""
    low, high = spec.min, spec.max
    if spec.type is InputType.PERCENT:
        return (Decimal(0) if low is None else low), (Decimal(100) if high is None else high)
    if spec.type is InputType.DURATION and low is None:
        return Decimal(0), high
    return low, high


def _check_range(spec: InputSpec, value: Decimal, label: str) -> None:
    low, high = _bounds(spec)
    if low is not None and value < low:
        if value < 0 <= low:
            floor = "0" if low == 0 else format_value(spec, low)
            raise InvalidAnswer(f"that looks negative — {label} can't be below {floor}.")
        raise InvalidAnswer(f"that's below the minimum of {format_value(spec, low)} for {label}.")
    if high is not None and value > high:
        raise InvalidAnswer(f"that's above the maximum of {format_value(spec, high)} for {label}.")


def _zero_sign(value: Decimal) -> Decimal:
    """Turn -0 into 0 so nobody is ever shown "-0"."""
    return abs(value) if value == 0 else value


_NUMBER_ASK: Final = "I need a number for {label}, like 12500 or 12.5k."
_DOT_THOUSANDS_RE: Final = re.compile(r"(?<![0-9.,])([0-9]{1,3})\.([0-9]{3})(?![0-9.,])")


def _parse_integer(spec: InputSpec, text: str, label: str) -> Decimal:
    prepared = _prep(text)
    value = _number(
        prepared,
        label=label,
        ask=_NUMBER_ASK.format(label=label),
        unit_words=_unit_words(spec.unit),
    )
    _check_range(spec, value, label)
    if value != value.to_integral_value():
        low = value.to_integral_value(rounding=ROUND_FLOOR)
        high = value.to_integral_value(rounding=ROUND_CEILING)
        hint = ""
        if (dotted := _DOT_THOUSANDS_RE.search(prepared)) is not None:
            hint = f" (If the dot separates thousands, write {dotted[1]}{dotted[2]}.)"
        raise InvalidAnswer(f"{label} is a whole number — try {low:f} or {high:f}.{hint}")
    return _zero_sign(value.quantize(_ONE))


def _parse_decimal(spec: InputSpec, text: str, label: str) -> Decimal:
    value = _number(
        _prep(text),
        label=label,
        ask=_NUMBER_ASK.format(label=label),
        unit_words=_unit_words(spec.unit),
    )
    value = _zero_sign(_trim4(value))
    _check_range(spec, value, label)
    return value


_PERCENT_SUFFIX_RE: Final = re.compile(r"\s*(?:%|percent|per cent|pct)$")


def _parse_percent(spec: InputSpec, text: str, label: str) -> Decimal:
    prepared = _PERCENT_SUFFIX_RE.sub("", _prep(text), count=1)
    unit = None if spec.unit in (None, "%") else spec.unit
    value = _number(
        prepared,
        label=label,
        ask=f"I need a percentage for {label}, like 15%.",
        unit_words=_unit_words(unit),
        allow_multiplier=False,
    )
    value = _zero_sign(_trim4(value))
    _check_range(spec, value, label)
    return value


# --------------------------------------------------------------------------------------------
# Money
# --------------------------------------------------------------------------------------------

_DOLLARS: Final = frozenset({"USD", "CAD", "AUD", "NZD", "HKD", "SGD", "MXN"})
_CURRENCY_TOKENS: Final[Mapping[str, frozenset[str]]] = {
    "€": frozenset({"EUR"}),
    "euro": frozenset({"EUR"}),
    "euros": frozenset({"EUR"}),
    "$": _DOLLARS,
    "dollar": _DOLLARS,
    "dollars": _DOLLARS,
    "bucks": _DOLLARS,
    "us$": frozenset({"USD"}),
    "a$": frozenset({"AUD"}),
    "au$": frozenset({"AUD"}),
    "c$": frozenset({"CAD"}),
    "ca$": frozenset({"CAD"}),
    "nz$": frozenset({"NZD"}),
    "hk$": frozenset({"HKD"}),
    "s$": frozenset({"SGD"}),
    "mx$": frozenset({"MXN"}),
    "r$": frozenset({"BRL"}),
    "£": frozenset({"GBP"}),
    "pound": frozenset({"GBP"}),
    "pounds": frozenset({"GBP"}),
    "quid": frozenset({"GBP"}),
    "¥": frozenset({"JPY", "CNY"}),
    "yen": frozenset({"JPY"}),
    "cn¥": frozenset({"CNY"}),
    "₹": frozenset({"INR"}),
    "₩": frozenset({"KRW"}),
    "₦": frozenset({"NGN"}),
    "₪": frozenset({"ILS"}),
    "₴": frozenset({"UAH"}),
    "₺": frozenset({"TRY"}),
    "₱": frozenset({"PHP"}),
    "₫": frozenset({"VND"}),
    "zł": frozenset({"PLN"}),
    "kr": frozenset({"SEK", "NOK", "DKK", "ISK"}),
    "fr": frozenset({"CHF"}),
    "franc": frozenset({"CHF"}),
    "francs": frozenset({"CHF"}),
}
_ISO_CODES: Final = frozenset(
    (
        "AED ARS AUD BGN BRL CAD CHF CLP CNY COP CZK DKK EGP EUR GBP GHS HKD HUF IDR ILS INR ISK "
        "JPY KES KRW MAD MXN MYR NGN NOK NZD PEN PHP PKR PLN RON RSD RUB SAR SEK SGD THB TRY TWD "
        "UAH USD VND ZAR"
    ).split()
)
_DISPLAY_SYMBOLS: Final[Mapping[str, str]] = {
    "EUR": "€",
    "USD": "$",
    "GBP": "£",
    "JPY": "¥",
    "CNY": "CN¥",
    "INR": "₹",
    "KRW": "₩",
    "NGN": "₦",
    "ILS": "₪",
    "UAH": "₴",
    "TRY": "₺",
    "PHP": "₱",
    "BRL": "R$",
    "AUD": "A$",
    "CAD": "CA$",
    "NZD": "NZ$",
    "HKD": "HK$",
    "MXN": "MX$",
}


def _currency_code(spec: InputSpec) -> str:
    return (spec.unit or "").strip().upper()


def _currency_patterns(code: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    tokens = set(_CURRENCY_TOKENS) | {c.casefold() for c in _ISO_CODES}
    if code:
        tokens.add(code.casefold())
    ordered = sorted(tokens, key=len, reverse=True)
    # A word-like token must not be glued to another word ("300eur" is fine, "300keur" is not);
    # a symbol may touch anything ("1.2k€").
    lead = "|".join(re.escape(t) + ("(?![a-z])" if t[-1].isalpha() else "") for t in ordered)
    trail = "|".join(("(?<![a-z])" if t[0].isalpha() else "") + re.escape(t) for t in ordered)
    return re.compile(rf"({lead})\s*"), re.compile(rf"\s*({trail})$")


def _codes_for(token: str, code: str) -> frozenset[str]:
    if token.upper() == code or token.upper() in _ISO_CODES:
        return frozenset({token.upper()})
    return _CURRENCY_TOKENS.get(token, frozenset())


def _money_example(code: str, amount: Decimal) -> str:
    text = f"{abs(amount):f}".removesuffix(".00")
    sign = "-" if amount < 0 else ""
    symbol = _DISPLAY_SYMBOLS.get(code)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {code}"


def _parse_money(spec: InputSpec, text: str, label: str) -> Decimal:
    code = _currency_code(spec)
    prepared = _strip_approx(_prep(text))
    sign = ""
    if prepared[:1] and prepared[0] in _SIGNS:
        sign, prepared = prepared[0], prepared[1:].lstrip()
    lead, trail = _currency_patterns(code)
    named: list[str] = []
    if (found := lead.match(prepared)) is not None:
        named.append(found[1])
        prepared = prepared[found.end() :]
    if (found := trail.search(prepared)) is not None:
        named.append(found[1])
        prepared = prepared[: found.start()]
    for token in named:
        if code not in _codes_for(token, code):
            raise InvalidAnswer(f"please give it in {code} — I can't convert currencies.")
    ask = f"I need an amount for {label}, like {_money_example(code, Decimal(300))}."
    if not prepared:
        raise InvalidAnswer(ask)
    value = _number(sign + prepared, label=label, ask=ask, unit_words=frozenset())
    value = _zero_sign(value.quantize(_CENT, rounding=ROUND_HALF_UP))
    _check_range(spec, value, label)
    return value


# --------------------------------------------------------------------------------------------
# Durations
# --------------------------------------------------------------------------------------------

_DURATION_NUM: Final = r"[0-9]+(?:[.,][0-9]+)*|[.,][0-9]+"
_DURATION_RE: Final = re.compile(
    rf"(?:(?P<h>{_DURATION_NUM})\s*(?:hours?|hrs?|h)\s*)?"
    rf"(?:(?P<m>{_DURATION_NUM})\s*(?:minutes?|mins?|m|'|′)\s*)?"
    rf"(?:(?P<s>{_DURATION_NUM})\s*(?:seconds?|secs?|s|\"|″)\s*)?"
    r"(?P<tail>[0-9]{1,2})?"
)
_CLOCK_RE: Final = re.compile(r"([0-9]{1,6}):([0-9]{2})(?::([0-9]{2}))?")
_DURATION_JOINERS_RE: Final = re.compile(r"\s*(?:\band\b|,\s)\s*")
_UNIT_SECONDS: Final[Mapping[str, int]] = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
}


def _parse_duration(spec: InputSpec, text: str, label: str) -> Decimal:
    ask = f"I need a duration for {label}, like 3:20, 45 min or 1h30."
    prepared = _strip_approx(_prep(text))
    if prepared[:1] and prepared[0] in _SIGNS:
        if prepared[0] != "+" and any(ch.isdigit() for ch in prepared):
            raise InvalidAnswer(f"that looks negative — {label} can't be below 0.")
        prepared = prepared[1:].lstrip()
    seconds = _duration_seconds(spec, prepared, label, ask)
    if not seconds.is_finite() or seconds >= _TOO_BIG_LIMIT:
        raise _too_big(label)
    value = _zero_sign(seconds.quantize(_ONE, rounding=ROUND_HALF_UP))
    _check_range(spec, value, label)
    return value


def _duration_seconds(spec: InputSpec, text: str, label: str, ask: str) -> Decimal:
    clock = _CLOCK_RE.fullmatch(text)
    if clock is not None:
        first, second, third = clock.groups()
        if int(second) > 59 or (third is not None and int(third) > 59):
            raise InvalidAnswer(
                "that doesn't look like a time — minutes and seconds go up to 59 "
                "(write 3:20 or 1:02:03)."
            )
        if third is None:
            return Decimal(int(first) * 60 + int(second))
        return Decimal(int(first) * 3600 + int(second) * 60 + int(third))
    joined = _DURATION_JOINERS_RE.sub(" ", text).strip()
    parts = _DURATION_RE.fullmatch(joined)
    if parts is not None and (parts["h"] or parts["m"] or parts["s"]):
        total = Decimal(0)
        for group, factor in (("h", 3600), ("m", 60), ("s", 1)):
            if parts[group] is not None:
                amount = _digits_to_decimal(parts[group])
                if amount is None:
                    raise InvalidAnswer(ask)
                total += amount * factor
        if parts["tail"] is not None:
            if parts["s"] is not None or int(parts["tail"]) > 59:
                raise InvalidAnswer(ask)
            total += int(parts["tail"]) * (60 if parts["m"] is None else 1)
        return total
    unit = _UNIT_SECONDS.get((spec.unit or "").strip().casefold(), 60)
    amount = _number(text, label=label, ask=ask, unit_words=frozenset(), allow_multiplier=False)
    return amount * unit


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------

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


def _format_date(day: date) -> str:
    return f"{_WEEKDAY_ABBR[day.weekday()]} {day.day} {_MONTH_ABBR[day.month - 1]} {day.year}"


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
        count = int(count_text) if count_text.isdigit() else _COUNT_WORDS.get(count_text)
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


# --------------------------------------------------------------------------------------------
# URLs, choices, text
# --------------------------------------------------------------------------------------------

_SCHEME_RE: Final = re.compile(r"([a-z][a-z0-9+.\-]*)://", re.IGNORECASE)
_BARE_SCHEME_RE: Final = re.compile(r"[a-z][a-z0-9+\-]*:(?![0-9])", re.IGNORECASE)


def _parse_url(text: str, label: str) -> str:
    not_a_link = (
        f"that doesn't look like a web link — I need something like "
        f"https://open.spotify.com/artist/... for {label}."
    )
    candidate = text.strip().removeprefix("<").removesuffix(">").rstrip(".,;:!?")
    if any(ch.isspace() for ch in candidate):
        raise InvalidAnswer(f"a link can't contain spaces — please send just the link for {label}.")
    scheme_match = _SCHEME_RE.match(candidate)
    if scheme_match is not None:
        if scheme_match[1].lower() not in ("http", "https"):
            raise InvalidAnswer(f"I can only use http:// or https:// links for {label}.")
    elif _BARE_SCHEME_RE.match(candidate):
        raise InvalidAnswer(f"I can only use http:// or https:// links for {label}.")
    elif candidate.startswith("//"):
        candidate = "https:" + candidate
    else:
        candidate = "https://" + candidate
    try:
        parts = urlsplit(candidate)
        host = parts.hostname
        port = parts.port
        has_credentials = parts.username is not None or parts.password is not None
    except ValueError:
        raise InvalidAnswer(not_a_link) from None
    if has_credentials:
        raise InvalidAnswer("please send the link without a username or password in it.")
    host = (host or "").rstrip(".")
    labels = host.split(".")
    if len(labels) < 2 or not all(_valid_host_label(part) for part in labels):
        raise InvalidAnswer(not_a_link)
    netloc = host if port is None else f"{host}:{port}"
    url = urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, parts.fragment))
    if len(url) > MAX_ANSWER_CHARS:
        raise InvalidAnswer(
            f"that's too long for {label} — please keep it under {MAX_ANSWER_CHARS} characters."
        )
    return url


def _valid_host_label(part: str) -> bool:
    return (
        bool(part)
        and not part.startswith("-")
        and not part.endswith("-")
        and all(ch.isalnum() or ch == "-" for ch in part)
    )


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _parse_choice(spec: InputSpec, text: str, label: str) -> str:
    choices = spec.choices or ()
    folded = [_fold(choice) for choice in choices]
    key = _fold(text)
    trimmed = key.strip("\"'“”‘’").rstrip(".!?").strip()
    for candidate in (key, trimmed):
        if candidate in folded:
            return choices[folded.index(candidate)]
    number = re.fullmatch(r"#?\s*([0-9]{1,3})\s*[.)]?", _ascii_digits(trimmed))
    if number is not None and 1 <= int(number[1]) <= len(choices):
        return choices[int(number[1]) - 1]
    if len(trimmed) >= 2:
        hits = [c for c, f in zip(choices, folded, strict=True) if f.startswith(trimmed)]
        if len(hits) == 1:
            return hits[0]
    raise InvalidAnswer(f"for {label}, pick one of: {', '.join(choices)} (or its number).")


_TEXT_SAMPLES: Final = (
    "Played two new songs at the open mic.",
    "New single is out",
    "Great gig",
    "ok",
    "y",
)


def _text_bounds(spec: InputSpec) -> tuple[int, int]:
    low = TEXT_MIN_DEFAULT if spec.min is None else max(TEXT_MIN_DEFAULT, math.ceil(spec.min))
    high = TEXT_MAX_DEFAULT if spec.max is None else math.floor(spec.max)
    return low, high


def _parse_text(spec: InputSpec, text: str, label: str) -> str:
    low, high = _text_bounds(spec)
    if len(text) > high:
        raise InvalidAnswer(
            f"that's too long for {label} — please keep it to {high} characters "
            f"(yours has {len(text)})."
        )
    if len(text) < low:
        raise InvalidAnswer(
            f"that's a bit short for {label} — please write at least {low} characters."
        )
    return text


# --------------------------------------------------------------------------------------------
# Display and examples
# --------------------------------------------------------------------------------------------


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


_EXAMPLE_DEFAULTS: Final[Mapping[InputType, Decimal]] = {
    InputType.INTEGER: Decimal(12500),
    InputType.DECIMAL: Decimal("12.5"),
    InputType.MONEY: Decimal(25),
    InputType.PERCENT: Decimal(15),
    InputType.DURATION: Decimal(200),
}


def _example_number(spec: InputSpec) -> Decimal:
    """Midpoint of an explicit min/max, else a typical value clamped into the allowed range."""
    low, high = _bounds(spec)
    value = _EXAMPLE_DEFAULTS[spec.type]
    if spec.min is not None and spec.max is not None:
        value = (spec.min + spec.max) / 2
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
