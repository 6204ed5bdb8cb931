"""Which currency an amount names: symbols and ISO codes from Babel (CLDR), words by hand.

The symbols people type ("$", "€", "£", "kr", "zł", "R$", "CA$") and the ISO 4217 codes come
from CLDR through Babel, read on the first money answer: a symbol as the locales of the
countries that use a currency write it. A symbol several currencies share ("$", "kr", "¥") names
all of them; :func:`resolve` then picks the musician's own currency if it is among them, else
their locale's, else a conventional default ("$" alone is US dollars), and asks when none
applies. Words ("euros", "bucks", "quid") are not in CLDR's symbol data and are kept here,
short.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from typing import Final

from babel import Locale, UnknownLocaleError
from babel.numbers import get_currency_precision, get_currency_symbol, list_currencies

from core.progress.parsing.locales import currency_guess
from core.roadmaps.schema import InputSpec

#: Currencies whose symbols are read (the ones musicians are likely to be paid in); any ISO
#: code Babel knows is read as a code ("300 XOF").
_COMMON: Final = (
    "EUR USD GBP JPY CNY INR KRW NGN ILS UAH TRY PHP VND PLN SEK NOK DKK ISK CHF CAD AUD NZD "
    "HKD SGD MXN BRL ZAR CZK HUF RON BGN RSD RUB AED SAR EGP MAD KES GHS ARS CLP COP PEN TWD "
    "THB MYR IDR PKR"
).split()
#: The locales each common currency's symbol is read in (its own countries' and English).
_SYMBOL_LOCALES: Final = (
    "en en_US en_GB en_CA en_AU en_NZ en_IN en_SG en_HK en_ZA en_NG en_KE en_GH de de_CH fr fr_CH "
    "it es es_MX es_AR es_CO es_CL pt pt_BR pt_PT nl sv nb da is pl cs hu ro bg sr uk ru tr he "
    "ar ja zh zh_Hant_TW ko hi vi th ms id fil"
).split()
#: Words that name a currency (casefolded); several codes: ambiguous, resolved like "$".
_WORDS: Final[Mapping[str, tuple[str, ...]]] = {
    "euro": ("EUR",),
    "euros": ("EUR",),
    "eur": ("EUR",),
    "dollar": ("USD", "CAD", "AUD", "NZD", "SGD", "HKD"),
    "dollars": ("USD", "CAD", "AUD", "NZD", "SGD", "HKD"),
    "bucks": ("USD", "CAD", "AUD", "NZD"),
    "pound": ("GBP",),
    "pounds": ("GBP",),
    "quid": ("GBP",),
    "yen": ("JPY",),
    "yuan": ("CNY",),
    "rupees": ("INR", "PKR"),
    "rupee": ("INR", "PKR"),
    "franc": ("CHF",),
    "francs": ("CHF",),
    "fr": ("CHF",),
    "fr.": ("CHF",),
    "reais": ("BRL",),
    "real": ("BRL",),
    "rand": ("ZAR",),
    "naira": ("NGN",),
    "złoty": ("PLN",),
    "zloty": ("PLN",),
    "kronor": ("SEK",),
    "kroner": ("NOK", "DKK"),
    "krona": ("SEK", "ISK"),
    "krone": ("NOK", "DKK"),
}
#: A symbol or word several currencies share, read alone (no profile or locale currency among
#: them): the one most people mean. "kr" and "rupees" have none: the musician is asked.
_CONVENTIONAL: Final[Mapping[str, str]] = {
    "$": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "bucks": "USD",
    "¥": "JPY",
    "￥": "JPY",
}


_ISO_CODES: Final = frozenset(list_currencies())


@lru_cache(maxsize=1)
def _symbol_table() -> dict[str, tuple[str, ...]]:
    """CLDR's currency symbols (casefolded) → the currencies that write them, their own
    countries' first ("$" is USD before CAD). Built on the first money answer, not at import:
    it loads the symbol data of ~50 locales (0.1-0.3 s), which no other answer needs."""
    table: dict[str, list[str]] = {}
    for tag in _SYMBOL_LOCALES:
        try:
            locale = Locale.parse(tag)
        except (UnknownLocaleError, ValueError):  # pragma: no cover - a Babel without it
            continue
        for code in _COMMON:
            symbol = get_currency_symbol(code, locale).casefold()
            if symbol == code.casefold() or not symbol:
                continue
            codes = table.setdefault(symbol, [])
            if code not in codes:
                codes.append(code)
    return {symbol: tuple(codes) for symbol, codes in table.items()}


@lru_cache(maxsize=1)
def _tokens() -> dict[str, tuple[str, ...]]:
    """Every symbol, word and ISO code (casefolded) → the currencies it may mean."""
    tokens: dict[str, tuple[str, ...]] = {code.casefold(): (code,) for code in _ISO_CODES}
    tokens.update(_symbol_table())
    tokens.update(_WORDS)
    return tokens


#: The characters around a number that may be a currency: not digits, separators or signs.
_HEAD_RE: Final = re.compile(r"^[^0-9\s.,'’+\-−–]+")
_TAIL_RE: Final = re.compile(r"[^0-9\s.,'’+\-−–]+$")


def split_currency(text: str) -> tuple[str | None, str, str | None]:
    """``text`` (casefolded) as (currency before, the rest, currency after): "€300" →
    ("€", "300", None), "1.2k€" → (None, "1.2k", "€"), "300 usd" → (None, "300", "usd").

    The longest token wins; a word-like token must not be glued to another word ("300eur"
    is fine, "300keur" is not), while a symbol may touch anything ("1.2k€"). Dictionary
    look-ups over the text's ends, not a regex of ~400 alternatives tried at every position.
    """
    tokens = _tokens()
    lead: str | None = None
    if (head := _HEAD_RE.match(text)) is not None:
        run = head.group()
        for end in range(len(run), 0, -1):
            token = run[:end]
            glued = token[-1].isalpha() and end < len(text) and text[end].isalpha()
            if token in tokens and not glued:
                lead, text = token, text[end:].lstrip()
                break
    trail: str | None = None
    if (tail := _TAIL_RE.search(text)) is not None:
        run, start = tail.group(), tail.start()
        for cut in range(len(run)):
            token = run[cut:]
            at = start + cut
            glued = token[0].isalpha() and at > 0 and text[at - 1].isalpha()
            if token in tokens and not glued:
                trail, text = token, text[:at].rstrip()
                break
    return lead, text, trail


def currency_code(spec: InputSpec) -> str:
    """The currency a money question is written in (its ``unit``: "EUR")."""
    return (spec.unit or "").strip().upper()


def precision(code: str) -> int:
    """Decimal places an amount in ``code`` is kept and shown with (EUR 2, JPY 0)."""
    try:
        return int(get_currency_precision(code))
    except (KeyError, ValueError):  # pragma: no cover - Babel knows every ISO code it lists
        return 2


def is_code(text: str) -> bool:
    """Whether ``text`` is an ISO 4217 currency code Babel knows ("usd", "EUR")."""
    return text.strip().upper() in _ISO_CODES


def codes_for(token: str) -> tuple[str, ...]:
    """The currencies a typed symbol, word or code may mean (most likely first)."""
    folded = token.casefold()
    tokens = _tokens()
    if folded in tokens:
        return tokens[folded]
    upper = token.upper()
    return (upper,) if upper in _ISO_CODES else ()


class UnclearCurrency(ValueError):
    """A symbol several currencies share, with nothing to pick one ("300 kr")."""

    def __init__(self, token: str, codes: tuple[str, ...]) -> None:
        super().__init__(token)
        self.token = token
        self.codes = codes


def resolve(token: str, *, home: str, locale: str | None, today: date) -> str:
    """The one currency ``token`` means for a musician who counts in ``home``.

    ``home`` wins when the token can mean it ("$" for a Canadian is CAD), then the locale's
    own currency ("kr" from a Danish phone is DKK), then the conventional reading ("$" alone
    is USD). Raises :class:`UnclearCurrency` when none applies ("kr" for a euro musician with
    an English phone).
    """
    codes = codes_for(token)
    if not codes:
        raise UnclearCurrency(token, ())
    if len(codes) == 1:
        return codes[0]
    if home in codes:
        return home
    guess = currency_guess(locale, today)
    if guess in codes:
        return str(guess)
    conventional = _CONVENTIONAL.get(token.casefold())
    if conventional is not None:
        return conventional
    raise UnclearCurrency(token, codes)
