"""One cleaning for every name a person gives or brings: artist names, band names, display names.

Invisible characters make names lie. A zero-width space makes ``Maya`` and ``Ma<U+200B>ya`` two
different names that look the same (an impostor's, for ``/admin grant Maya``); a bidi override
shows ``ayaM`` as ``Maya`` or turns the rest of a line around wherever the name is quoted; a
name of nothing but zero-width characters shows as a blank. So every path that stores a name
(onboarding's question and ``/name``, ``/band create`` and rename, the display name a platform
sends, see ``Inbound``) goes through :func:`clean_name`, and an artist or band name that is
empty afterwards is refused with a clear answer.

What goes:

* **format characters** (Unicode category ``Cf``): zero-width space U+200B, word joiner U+2060,
  U+FEFF, the bidi marks U+200E/U+200F/U+061C, overrides and embeddings U+202A–U+202E,
  isolates U+2066–U+2069, soft hyphen, invisible operators, … — invisible by definition. Kept:
  the few ``Cf`` that are *visible* signs in their scripts (Arabic number signs U+0600–U+0605, …);
* **invisible letters and blanks** that are not ``Cf``: Hangul fillers, the braille blank, the
  combining grapheme joiner, Khmer's invisible vowels;
* whitespace runs, collapsed to one space (line and paragraph separators included).

What stays, though its character is one of the above elsewhere:

* **ZWJ U+200D between two pictographs**: it is what joins emoji sequences (👩‍🎤 is 👩 ZWJ 🎤,
  🏳️‍🌈 is 🏳 VS16 ZWJ 🌈); after a virama it selects Indic conjunct forms (Malayalam, Sinhala).
  A stray ZWJ — between letters, at either end — goes;
* **ZWNJ U+200C between two letters of a joining script** (Arabic, Persian, Syriac, …, where it
  visibly stops two letters joining) or after a virama; elsewhere it goes;
* **tag characters** (U+E0020–U+E007F) right after 🏴, where they spell subdivision flags
  (🏴󠁧󠁢󠁳󠁣󠁴󠁿); anywhere else they are invisible text.

Python's ``unicodedata`` has no emoji properties, so "pictograph" is the ranges of Unicode's
``Extended_Pictographic`` (emoji-data.txt), rounded to whole blocks where a block is almost all
pictographs: keeping a ZWJ between two symbols that are not quite emoji costs nothing.
"""

from __future__ import annotations

import unicodedata
from typing import Final

ZWJ: Final = "\u200d"
ZWNJ: Final = "\u200c"
#: The characters named in the brief of issue #11, for tests and readers; every one is ``Cf``.
ZERO_WIDTH: Final = frozenset("\u200b\u200c\u200d\u2060\ufeff\u180e")
BIDI: Final = frozenset("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

#: ``Cf`` characters that are visible marks in their script (prepended concatenation marks).
_VISIBLE_FORMAT: Final = frozenset(
    "\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891\u08e2\U000110bd\U000110cd"
)
#: Invisible characters that are not ``Cf``: combining grapheme joiner, Khmer inherent vowels,
#: Hangul fillers, the braille blank.
_INVISIBLE: Final = frozenset("\u034f\u17b4\u17b5\u115f\u1160\u3164\uffa0\u2800")

_BLACK_FLAG: Final = 0x1F3F4
_TAGS: Final = range(0xE0020, 0xE0080)
#: Emoji presentation selectors and skin-tone modifiers: part of the emoji before a ZWJ.
_EMOJI_TAIL: Final = frozenset({0xFE0E, 0xFE0F, *range(0x1F3FB, 0x1F400), *_TAGS})

_PICTOGRAPHIC: Final = (
    (0x00A9, 0x00A9),
    (0x00AE, 0x00AE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x2194, 0x21AA),
    (0x2300, 0x23FF),
    (0x24C2, 0x24C2),
    (0x25AA, 0x25FE),
    (0x2600, 0x27BF),
    (0x2934, 0x2935),
    (0x2B05, 0x2B55),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3299),
    (0x1F000, 0x1F1E5),  # up to, not including, the regional indicators (flags have no ZWJ)
    (0x1F200, 0x1F3FA),  # up to the skin-tone modifiers
    (0x1F400, 0x1FAFF),
    (0x1FC00, 0x1FFFD),
)

#: Scripts whose letters join, where ZWNJ visibly keeps two apart (Arabic and Persian names).
_JOINING: Final = (
    (0x0600, 0x08FF),  # Arabic, Syriac, Arabic Supplement, Thaana, NKo, Samaritan, Mandaic, …
    (0x1800, 0x18AF),  # Mongolian
    (0xA840, 0xA87F),  # Phags-pa
    (0xFB50, 0xFDFF),  # Arabic presentation forms A
    (0xFE70, 0xFEFC),  # Arabic presentation forms B
    (0x10AC0, 0x10AFF),  # Manichaean
    (0x10F30, 0x10F6F),  # Sogdian
)
_VIRAMA: Final = 9  # the canonical combining class of a virama


def _within(ch: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    code = ord(ch)
    return any(low <= code <= high for low, high in ranges)


def _pictograph_before(kept: list[str]) -> bool:
    """Does the name so far end with a pictograph (after its selectors and modifiers)?"""
    for ch in reversed(kept):
        if ord(ch) in _EMOJI_TAIL:
            continue
        return _within(ch, _PICTOGRAPHIC)
    return False


def _letter(ch: str | None) -> bool:
    return ch is not None and unicodedata.category(ch).startswith("L")


def _keep_joiner(ch: str, kept: list[str], following: str | None) -> bool:
    """ZWJ joins two pictographs; ZWNJ parts two letters of a joining script; either may
    follow a virama. Anything else is a stray invisible character."""
    before = kept[-1] if kept else None
    if before is not None and unicodedata.combining(before) == _VIRAMA:
        return True  # a conjunct or half form (a Malayalam chillu even ends a word with one)
    if ch == ZWJ:
        return (
            following is not None and _within(following, _PICTOGRAPHIC) and _pictograph_before(kept)
        )
    base = next((c for c in reversed(kept) if not unicodedata.combining(c)), None)
    return (
        _letter(base)
        and _letter(following)
        and base is not None
        and following is not None
        and _within(base, _JOINING)
        and _within(following, _JOINING)
    )


def _dropped(ch: str) -> bool:
    """Invisible whatever its neighbours (ZWJ, ZWNJ and tags are decided in context), or a
    control character (NUL and friends: PostgreSQL refuses NUL in text). Whitespace stays, to
    be collapsed."""
    if ch in _INVISIBLE:
        return True
    category = unicodedata.category(ch)
    if category in {"Cc", "Cs"}:
        return not ch.isspace()
    return category == "Cf" and ch not in _VISIBLE_FORMAT


def _is_surrogate(ch: str) -> bool:
    return unicodedata.category(ch) == "Cs"  # a lone surrogate cannot even be normalised


def clean_name(raw: str) -> str:
    """``raw`` without control, zero-width and bidi characters, whitespace collapsed.

    May be empty: callers refuse an empty artist or band name, and store no display name.
    """
    if raw.isprintable() and _INVISIBLE.isdisjoint(raw):
        # the common case, on every event that carries a display name: no control, format or
        # separator character but the plain space (that is what isprintable() means)
        return " ".join(unicodedata.normalize("NFC", raw).split())
    name = "".join(ch for ch in raw if not _is_surrogate(ch))
    while True:  # until nothing changes: a removal can change a joiner's neighbours
        cleaner = _one_pass(name)
        if cleaner == name:
            return name
        name = cleaner


def _one_pass(text: str) -> str:
    # first everything that is invisible wherever it stands; joiners and tags wait for context
    text = unicodedata.normalize("NFC", text)
    chars = [ch for ch in text if ch in (ZWJ, ZWNJ) or ord(ch) in _TAGS or not _dropped(ch)]
    kept: list[str] = []
    for i, ch in enumerate(chars):
        following = chars[i + 1] if i + 1 < len(chars) else None
        if ch in (ZWJ, ZWNJ):
            if _keep_joiner(ch, kept, following):
                kept.append(ch)
        elif ord(ch) in _TAGS:
            if kept and (ord(kept[-1]) == _BLACK_FLAG or ord(kept[-1]) in _TAGS):
                kept.append(ch)
        else:
            kept.append(ch)
    return " ".join(unicodedata.normalize("NFC", "".join(kept)).split())


def fit_name(raw: str, limit: int) -> str:
    """:func:`clean_name` cut to ``limit`` characters (a column's size); cleaned again after
    the cut, which may leave a joiner with nothing after it."""
    return clean_name(clean_name(raw)[:limit])
