"""Duration answers: clocks (3:20), unit forms (1h30, 45 min) and bare numbers, in seconds."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from core.progress.parsing.bounds import _check_range
from core.progress.parsing.cleaning import _prep
from core.progress.parsing.numbers import (
    _SIGNS,
    _TOO_BIG_LIMIT,
    _digits_to_decimal,
    _number,
    _strip_approx,
    _too_big,
)
from core.progress.parsing.results import InvalidAnswer
from core.progress.parsing.rounding import _ONE, _zero_sign
from core.roadmaps.schema import InputSpec

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
