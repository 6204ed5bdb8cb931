"""Input cleaning: control and invisible characters, whitespace, non-ASCII digits."""

from __future__ import annotations

import unicodedata
from typing import Final

#: Longest answer (after cleaning) accepted for any type but ``text``.
MAX_ANSWER_CHARS: Final = 200

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
