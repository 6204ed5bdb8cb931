"""Number reading: separators, k/M multipliers, exponents, unit words; integer, decimal, percent."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Final

from core.progress.parsing.bounds import _check_range
from core.progress.parsing.cleaning import _prep
from core.progress.parsing.results import InvalidAnswer
from core.progress.parsing.rounding import _ONE, _trim4, _zero_sign
from core.roadmaps.schema import InputSpec

#: Numbers need at most this many digits before the decimal point (fits ``Numeric(20, 4)``).
MAX_INTEGER_DIGITS: Final = 15

_TOO_BIG_LIMIT: Final = Decimal(10) ** MAX_INTEGER_DIGITS


_SIGNS: Final = "+-−–"
#: Words before a number that say it is approximate ("about 300", "like 40", "~500").
_APPROX_RE: Final = re.compile(
    r"^(?:~|≈|±|about|around|approx\.?|approximately|roughly|circa|ca\.|c\.|like|maybe|"
    r"probably|almost|nearly|close to|somewhere around|something like|give or take|"
    r"more or less|round about|roundabout)\s*"
)
#: Words after it ("80 or so", "3ish", "40-odd", "200 give or take"), before any unit word.
_APPROX_SUFFIX_RE: Final = re.compile(
    r"(?<=[0-9kmdn])\s*(?:-\s*)?(?:ish|odd)\b|\s+(?:or so|give or take|more or less|"
    r"approx\.?|roughly|or thereabouts|-ish)(?=\s|$)"
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


@dataclass(frozen=True, slots=True)
class Separators:
    """How the musician's locale writes numbers, for the one case that depends on it.

    ``decimal_comma``: the locale writes "1,5" and groups "1.500" (de, fr, pt-BR). ``ask``:
    a lone separator followed by exactly three digits that the locale does not settle is
    asked about, not guessed (money: "€1.500" is €1.50 or €1,500.00).
    """

    decimal_comma: bool = False
    ask: bool = False


_ENGLISH: Final = Separators()


def typed(amount: Decimal, *, decimal_comma: bool = False) -> str:
    """``amount`` as the musician would type it back without any doubt: no grouping, no
    trailing zeros, the locale's decimal mark ("1500", "1.5"; German "1,5")."""
    text = f"{amount:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",") if decimal_comma else text


class AmbiguousNumber(InvalidAnswer):
    """A number two readings fit ("1.500": 1.5 or 1500); both are kept to ask which."""

    def __init__(
        self, text: str, thousands: Decimal, decimal: Decimal, *, decimal_comma: bool = False
    ) -> None:
        big, small = typed(thousands), typed(decimal, decimal_comma=decimal_comma)
        super().__init__(
            f"“{text}” could be {big} or {small} — please write it again as {big} or "
            f"{small} so I don't guess."
        )
        self.text = text
        self.thousands = thousands
        self.decimal = decimal

    def reworded(self, message: str) -> AmbiguousNumber:
        """The same question in other words (money names its currency in both readings)."""
        self.message = message
        self.args = (message,)
        return self


class _Ambiguous(Exception):
    def __init__(self, thousands: Decimal, decimal: Decimal) -> None:
        super().__init__()
        self.thousands = thousands
        self.decimal = decimal


def _digits_to_decimal(body: str, seps_rule: Separators = _ENGLISH) -> Decimal | None:
    """Read digits with thousands separators and/or a decimal mark; ``None`` if malformed.

    Raises :class:`_Ambiguous` for a lone "." or "," before exactly three digits that the
    locale does not settle, when ``seps_rule.ask`` (see the rule table in the package doc).
    """
    if body[0] in ".,":
        return Decimal("0." + body[1:])
    runs = _SEPARATOR_RE.split(body)
    seps = ["'" if sep == "’" else sep for sep in _SEPARATOR_RE.findall(body)]
    if not seps:
        return Decimal(body)
    kinds = set(seps)
    last = seps[-1]
    decimal_mark = False
    group_mark = "." if seps_rule.decimal_comma else ","
    if (
        len(kinds) == 1
        and len(seps) == 1
        and last in ".,"
        and len(runs[-1]) == 3
        and (
            len(runs[0]) <= 3 and not runs[0].startswith("0")  # "0.005", "1234.500": no groups
        )
    ):
        # "1.500" / "1,500": the locale's group mark groups; the other one is a question
        as_group, as_decimal = Decimal(runs[0] + runs[1]), Decimal(f"{runs[0]}.{runs[1]}")
        if last == group_mark:
            return as_group
        if seps_rule.ask or seps_rule.decimal_comma:
            raise _Ambiguous(as_group, as_decimal)
        return as_decimal  # English "1.500" for a decimal or an integer: the decimal point
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


def _approximate(text: str) -> tuple[str, bool]:
    """``text`` without the words that say a number is approximate, and whether it had any."""
    stripped = _APPROX_RE.sub("", text, count=1)
    stripped = _APPROX_SUFFIX_RE.sub("", stripped, count=1).strip()
    return stripped, stripped != text.strip()


def _strip_approx(text: str) -> str:
    return _approximate(text)[0]


def _number(
    text: str,
    *,
    label: str,
    ask: str,
    unit_words: frozenset[str],
    allow_multiplier: bool = True,
    separators: Separators = _ENGLISH,
) -> Decimal:
    """Read one signed number (with optional k/M and unit word) from prepared text.

    ``ask`` is the "I need a number ..." message for text that is not a number at all. The
    result is finite and has at most :data:`MAX_INTEGER_DIGITS` integer digits, but is not yet
    rounded or range-checked. A number two readings fit raises :class:`AmbiguousNumber`.
    """
    text = _strip_approx(text)
    try:
        return _read_number(
            text,
            label=label,
            ask=ask,
            unit_words=unit_words,
            allow_multiplier=allow_multiplier,
            separators=separators,
        )
    except _Ambiguous as both:
        shown = text.lstrip(_SIGNS).strip()[:30]
        negative = text[:1] in _SIGNS and text[:1] != "+"
        scale = Decimal(-1 if negative else 1)
        raise AmbiguousNumber(
            shown,
            both.thousands * scale,
            both.decimal * scale,
            decimal_comma=separators.decimal_comma,
        ) from None


def _read_number(
    text: str,
    *,
    label: str,
    ask: str,
    unit_words: frozenset[str],
    allow_multiplier: bool,
    separators: Separators,
) -> Decimal:
    if _NONFINITE_RE.fullmatch(text):
        raise _too_big(label)
    negative = False
    if text[:1] and text[0] in _SIGNS:
        negative = text[0] != "+"
        text = text[1:].lstrip()
    match = _NUMBER_RE.match(text)
    if match is None:
        raise InvalidAnswer(ask)
    value = _digits_to_decimal(match["body"], separators)
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


_NUMBER_ASK: Final = "I need a number for {label}, like 12500 or 12.5k."
_DOT_THOUSANDS_RE: Final = re.compile(r"(?<![0-9.,])([0-9]{1,3})\.([0-9]{3})(?![0-9.,])")


def _parse_integer(
    spec: InputSpec, text: str, label: str, separators: Separators = _ENGLISH
) -> Decimal:
    prepared = _prep(text)
    value = _number(
        prepared,
        label=label,
        ask=_NUMBER_ASK.format(label=label),
        unit_words=_unit_words(spec.unit),
        separators=separators,
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


def _parse_decimal(
    spec: InputSpec, text: str, label: str, separators: Separators = _ENGLISH
) -> Decimal:
    value = _number(
        _prep(text),
        label=label,
        ask=_NUMBER_ASK.format(label=label),
        unit_words=_unit_words(spec.unit),
        separators=separators,
    )
    value = _zero_sign(_trim4(value))
    _check_range(spec, value, label)
    return value


_PERCENT_SUFFIX_RE: Final = re.compile(r"\s*(?:%|percent|per cent|pct)$")


def _parse_percent(
    spec: InputSpec, text: str, label: str, separators: Separators = _ENGLISH
) -> Decimal:
    prepared = _PERCENT_SUFFIX_RE.sub("", _prep(text), count=1)
    unit = None if spec.unit in (None, "%") else spec.unit
    value = _number(
        prepared,
        label=label,
        ask=f"I need a percentage for {label}, like 15%.",
        unit_words=_unit_words(unit),
        allow_multiplier=False,
        separators=separators,
    )
    value = _zero_sign(_trim4(value))
    _check_range(spec, value, label)
    return value
