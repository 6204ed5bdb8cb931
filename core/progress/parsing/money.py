"""Money answers: an amount with an optional symbol, word or code, in any currency.

An amount without a currency ("300") is in the musician's own currency (the profile's; before
it is settled, the question's). One that names a currency ("$200", "£150", "200 USD", "200
dollars") is in that currency: the profile's own when the symbol can mean it ("$" for a
Canadian is CAD), otherwise another currency, which is kept as typed — the coach ships no
exchange rates, because it could not keep them current. A lone "." or "," before three digits
that the locale does not settle ("€1.500") is asked about, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from core.progress.parsing.bounds import _check_range
from core.progress.parsing.cleaning import _prep
from core.progress.parsing.currencies import (
    UnclearCurrency,
    currency_code,
    precision,
    resolve,
    split_currency,
)
from core.progress.parsing.display import format_money
from core.progress.parsing.locales import Reading
from core.progress.parsing.numbers import (
    _SIGNS,
    AmbiguousNumber,
    Separators,
    _number,
    _strip_approx,
    typed,
)
from core.progress.parsing.results import InvalidAnswer
from core.progress.parsing.rounding import _zero_sign
from core.roadmaps.schema import InputSpec


@dataclass(frozen=True, slots=True)
class Amount:
    """A money answer: the amount and the ISO currency it is in."""

    value: Decimal
    currency: str


def _parse_money(spec: InputSpec, text: str, label: str, reading: Reading, today: date) -> Amount:
    home = reading.currency or currency_code(spec)
    prepared = _strip_approx(_prep(text))
    sign = ""
    if prepared[:1] and prepared[0] in _SIGNS:
        sign, prepared = prepared[0], prepared[1:].lstrip()
    lead, prepared, trail = split_currency(prepared)
    named = [token for token in (lead, trail) if token is not None]
    if not sign and prepared[:1] and prepared[0] in _SIGNS:  # "€-5"
        sign, prepared = prepared[0], prepared[1:].lstrip()
    code = home
    codes: set[str] = set()
    for token in named:
        try:
            codes.add(resolve(token, home=home, locale=reading.locale, today=today))
        except UnclearCurrency as unclear:
            options = " or ".join(unclear.codes) or "a currency code"
            raise InvalidAnswer(
                f"which currency is “{unclear.token}”? Please write the code, like "
                f"300 {unclear.codes[0] if unclear.codes else home} ({options})."
            ) from None
    if len(codes) > 1:
        raise InvalidAnswer(
            f"that names two currencies ({' and '.join(sorted(codes))}) — "
            f"please give {label} in one."
        )
    if codes:
        code = codes.pop()
    ask = f"I need an amount for {label}, like {format_money(Decimal(300), code, reading.locale)}."
    if not prepared:
        raise InvalidAnswer(ask)
    separators = Separators(decimal_comma=reading.decimal_comma, ask=True)
    try:
        value = _number(
            sign + prepared, label=label, ask=ask, unit_words=frozenset(), separators=separators
        )
    except AmbiguousNumber as both:
        big = format_money(both.thousands, code, reading.locale)
        small = format_money(both.decimal, code, reading.locale)
        raise both.reworded(
            f"is “{both.text}” {big} or {small}? Please write "
            f"{typed(both.thousands)} or "
            f"{typed(both.decimal, decimal_comma=reading.decimal_comma)} — "
            "I'd rather ask than guess."
        ) from None
    step = Decimal(1).scaleb(-precision(code))
    value = _zero_sign(value.quantize(step, rounding=ROUND_HALF_UP))
    if code == currency_code(spec):
        _check_range(spec, value, label)
    elif value < 0 and spec.min is not None and spec.min >= 0:
        # another currency: the content's bounds are in its own currency and we don't
        # convert, so only "no negative amounts" still applies
        _check_range(spec, value, label)
    return Amount(value, code)
