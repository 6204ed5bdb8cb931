"""Which country a musician means: ISO codes and names in many languages from Babel (CLDR),
the everyday words by hand.

``/country`` and the one country question (core/journey/country.py) accept what people type:
an ISO 3166-1 alpha-2 code ("GB", "de"), a country's name in any of the languages below
("United Kingdom", "Deutschland", "Allemagne", "Países Bajos"), accents optional, and the
everyday words CLDR does not list as names ("UK", "USA", "England", "Holland"). "Other",
"elsewhere" and the like mean *somewhere the coach has no country advice for*: :data:`OTHER`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from typing import Final

from babel import Locale, UnknownLocaleError

from core.progress.parsing.locales import babel_locale
from core.roadmaps.schema import COUNTRY_CODES

#: The stored value of "Other": CLDR's "Unknown Region". Such a profile sees the general advice.
OTHER: Final = "ZZ"
#: The languages whose country names are read (the coach's musicians' likely languages).
_NAME_LOCALES: Final = (
    "en de fr es it nl pt pt_PT sv nb da fi pl cs hu ro tr el ru uk ja ko zh ga cy"
).split()
#: Words for a country that CLDR does not give as its name (casefolded, accents stripped).
_WORDS: Final[Mapping[str, str]] = {
    "uk": "GB",
    "u.k.": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "usa": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "america": "US",
    "united states of america": "US",
    "the states": "US",
    "holland": "NL",
    "the netherlands": "NL",
    "republic of ireland": "IE",
    "eire": "IE",
    "deu": "DE",
    "gbr": "GB",
    "fra": "FR",
    "can": "CA",
    "aus": "AU",
    "nld": "NL",
    "irl": "IE",
}
#: Answers that mean "none of those": the general advice.
_OTHER_WORDS: Final = frozenset(
    {"other", "others", "elsewhere", "somewhere else", "another country", "none", "zz", "rest"}
)


def _fold(text: str) -> str:
    """Casefolded, accents stripped, spaces squeezed, a leading "the" kept (names have it)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.replace("’", "'").strip(" .!?").split())


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    """Every country name in :data:`_NAME_LOCALES` (folded) → its code. Built on first use
    (the territory data of ~25 locales), never at import."""
    table: dict[str, str] = {}
    for tag in _NAME_LOCALES:
        try:
            territories = Locale.parse(tag).territories
        except (UnknownLocaleError, ValueError):  # pragma: no cover - a Babel without it
            continue
        for code, name in territories.items():
            if code in COUNTRY_CODES:
                table.setdefault(_fold(name), code)
    for word, code in _WORDS.items():
        table[_fold(word)] = code
    return table


def country_code(text: str) -> str | None:
    """The ISO 3166-1 alpha-2 code ``text`` names (:data:`OTHER` for "other"), or ``None``
    when it names no country we know."""
    folded = _fold(text)
    if not folded:
        return None
    if folded in _OTHER_WORDS:
        return OTHER
    if len(folded) == 2 and folded.upper() in COUNTRY_CODES:
        return folded.upper()
    names = _names()
    if folded in names:
        return names[folded]
    if folded.startswith("the ") and folded[4:] in names:
        return names[folded[4:]]
    return None


def country_name(code: str) -> str:
    """The country's name in the coach's language ("United Kingdom"); "somewhere else" for
    :data:`OTHER`; the code itself for one Babel does not name."""
    if code == OTHER:
        return "somewhere else"
    return str(babel_locale(None).territories.get(code, code))


#: Short words that name a country in running text even in lower case ("tax in the uk").
_LOOSE: Final = frozenset({"uk", "u.k.", "usa", "u.s.", "u.s.a."})
_WORD_RE: Final = re.compile(r"[^\W\d_][\w.'’-]*", re.UNICODE)


def named_in(text: str) -> str | None:
    """The country a sentence names ("grants for musicians in Canada" → CA, "tax in the uk"
    → GB), or ``None``. Names of three letters or more are read in any case; a two- or
    three-letter code only as typed in capitals ("US", "GB") or as one of the everyday
    abbreviations, so "us", "it" and "can" stay words."""
    words = _WORD_RE.findall(text[:300])
    names = _names()
    for size in (3, 2, 1):
        for start in range(len(words) - size + 1):
            typed = " ".join(words[start : start + size]).strip(".'’-")
            folded = _fold(typed)
            short = size == 1 and len(folded.replace(".", "")) <= 3
            if short:
                if folded in _LOOSE:
                    return names.get(folded)
                if typed.isupper() and folded.upper() in COUNTRY_CODES:
                    return folded.upper()
                continue
            if folded in names:
                return names[folded]
    return None
