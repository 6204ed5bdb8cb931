"""Money answers: an amount with an optional symbol or code, in the spec's currency only."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from core.progress.parsing.bounds import _check_range
from core.progress.parsing.cleaning import _prep
from core.progress.parsing.currencies import (
    _codes_for,
    _currency_code,
    _currency_patterns,
    _money_example,
)
from core.progress.parsing.numbers import _SIGNS, _number, _strip_approx
from core.progress.parsing.results import InvalidAnswer
from core.progress.parsing.rounding import _CENT, _zero_sign
from core.roadmaps.schema import InputSpec


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
