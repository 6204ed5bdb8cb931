"""Currency tables: the symbols, words and ISO codes musicians write, and how each is shown."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Final

from core.roadmaps.schema import InputSpec

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
