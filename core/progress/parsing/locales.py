"""Whose conventions an answer is read and shown in: the musician's locale and currency.

A platform tells us the language of the person writing (Telegram's ``language_code``, "de" or
"pt-br"; Discord's locale, "en-US" or "de"); the profile keeps the currency its money is
counted in. Both arrive as a :class:`Reading` and decide what "1.500" means and how "€1,500.00"
is written. Babel holds the data (CLDR: decimal and group marks, currency symbols, plurals); this
module only turns a platform's tag into a :class:`babel.Locale` safely — any tag, even garbage,
gives a locale (English when nothing better is known), never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Final

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.numbers import get_decimal_symbol, get_territory_currencies

#: The locale of a musician whose platform gave none (the coach speaks English).
DEFAULT_LOCALE: Final = "en"


@dataclass(frozen=True, slots=True)
class Reading:
    """How to read and show one musician's numbers.

    ``locale`` is the platform's language tag as given ("de", "pt-BR", ``None``: unknown).
    ``currency`` is the profile's ISO 4217 code (``None``: not settled yet — a money answer
    then counts in the question's own currency, and the answer flow settles the profile's).
    """

    locale: str | None = None
    currency: str | None = None

    @property
    def babel(self) -> Locale:
        """The Babel locale for :attr:`locale` (English when unknown or malformed)."""
        return babel_locale(self.locale)

    @property
    def decimal_comma(self) -> bool:
        """Whether this locale writes decimals with a comma ("1,5") and so groups thousands
        with a dot or a space ("1.500", "1 500")."""
        return uses_decimal_comma(self.locale)


#: Nothing known: English conventions, the question's own currency.
PLAIN: Final = Reading()


@lru_cache(maxsize=256)
def babel_locale(tag: str | None) -> Locale:
    """``tag`` ("pt-br", "en_US", "de") as a Babel locale; English for anything unusable."""
    if not tag:
        return Locale.parse(DEFAULT_LOCALE)
    cleaned = tag.strip().replace("-", "_")[:16]
    try:
        return Locale.parse(cleaned)
    except (UnknownLocaleError, ValueError, TypeError):
        language = cleaned.split("_", 1)[0]
        try:
            return Locale.parse(language) if language else Locale.parse(DEFAULT_LOCALE)
        except (UnknownLocaleError, ValueError, TypeError):
            return Locale.parse(DEFAULT_LOCALE)


@lru_cache(maxsize=256)
def uses_decimal_comma(tag: str | None) -> bool:
    """Whether the locale's decimal mark is a comma (de, fr, pt-BR: yes; en, de-CH: no)."""
    if not tag:
        return False
    return get_decimal_symbol(babel_locale(tag)) == ","


@lru_cache(maxsize=256)
def territory_of(tag: str | None) -> str | None:
    """The country a tag names, or the one its language most likely means ("de" → DE,
    "en" → US: CLDR's likely subtags); ``None`` when there is no tag."""
    if not tag:
        return None
    locale = babel_locale(tag)
    if locale.language != tag.strip().replace("-", "_").split("_", 1)[0].casefold():
        return None  # the tag was not understood: English stands in, but guesses nothing
    if locale.territory:
        return str(locale.territory)
    likely = get_global("likely_subtags").get(locale.language)
    if not likely:
        return None
    parts = str(likely).split("_")
    return parts[-1] if len(parts) > 1 and parts[-1].isalpha() and parts[-1].isupper() else None


@lru_cache(maxsize=256)
def region_of(tag: str | None) -> str | None:
    """The country a tag names itself ("en-GB" → GB, "pt-br" → BR), or ``None`` when it
    names only a language ("en", "de") or a region that is no country ("es-419"). Unlike
    :func:`territory_of` nothing is inferred: "de" is spoken in Germany, Austria and
    Switzerland, and a country decides tax advice, so the coach asks rather than guesses."""
    if not tag:
        return None
    parts = tag.strip().replace("-", "_").split("_")
    if len(parts) < 2 or babel_locale(tag).language != parts[0].casefold():
        return None
    region = next((p.upper() for p in parts[1:] if len(p) == 2 and p.isalpha()), None)
    if region is None or babel_locale(tag).territory != region:
        return None
    return region


@lru_cache(maxsize=256)
def currency_guess(tag: str | None, on: date) -> str | None:
    """The currency a locale's country uses ``on`` that day ("de" → EUR, "en-GB" → GBP,
    "pt-BR" → BRL), or ``None`` when the tag names no country we can tell. A guess: the coach
    says it and ``/currency`` changes it. ``on`` is passed in (CLDR knows when countries change
    currency; the core never reads the clock)."""
    territory = territory_of(tag)
    if territory is None:
        return None
    current = get_territory_currencies(territory, start_date=on, tender=True)
    return current[0] if current else None
