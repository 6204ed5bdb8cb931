"""A tiny, platform-neutral markup for reply text, and the escape for user-supplied text.

The core writes ``*bold*``, ``_italic_`` and `` `code` ``; a backslash escapes any of ``*_`\\``.
Anything a person typed (an artist name, an answer) goes through :func:`esc` before it is put
into a reply, so a name like ``*DJ_Snake*`` or ``<b>x</b>`` is shown literally on every platform.
Front ends turn the text into spans with :func:`parse` and render them their own way (HTML for
Telegram, Markdown for Discord, plain or ANSI for the terminal).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPECIAL = "*_`\\"


_MARKERS = re.compile(r"[*_`\\]")
_TOKEN = re.compile(r"\\[*_`\\]|[*_`]")
_ESCAPES = str.maketrans({ch: "\\" + ch for ch in _SPECIAL})


def esc(text: str) -> str:
    """Escape user text so none of it is read as markup."""
    return text.translate(_ESCAPES)


def bold(text: str) -> str:
    """Bold already-escaped text."""
    return f"*{text}*"


def italic(text: str) -> str:
    """Italic already-escaped text."""
    return f"_{text}_"


@dataclass(frozen=True, slots=True)
class Span:
    """A run of text with its style."""

    text: str
    bold: bool = False
    italic: bool = False
    code: bool = False


def parse(text: str) -> list[Span]:
    """Split markup into styled spans. Unbalanced markers are closed at the end of the text.

    A regex finds the markers and escapes; the text between them is sliced, not walked one
    character at a time (this runs for every message a front end renders).
    """
    if not _MARKERS.search(text):
        return [Span(text)] if text else []
    spans: list[Span] = []
    buf: list[str] = []
    is_bold = is_italic = is_code = False
    pos = 0
    for match in _TOKEN.finditer(text):
        if match.start() > pos:
            buf.append(text[pos : match.start()])
        pos = match.end()
        marker = match.group()
        if len(marker) == 2:  # an escaped special character stands for itself
            buf.append(marker[1])
            continue
        if marker != "`" and is_code:  # inside code, * and _ are just characters
            buf.append(marker)
            continue
        if buf:
            spans.append(Span("".join(buf), is_bold, is_italic, is_code))
            buf.clear()
        if marker == "`":
            is_code = not is_code
        elif marker == "*":
            is_bold = not is_bold
        else:
            is_italic = not is_italic
    if pos < len(text):
        buf.append(text[pos:])
    if buf:
        spans.append(Span("".join(buf), is_bold, is_italic, is_code))
    return spans


def to_plain(text: str) -> str:
    """The text with markup removed (terminal, toasts, logs)."""
    return "".join(span.text for span in parse(text))
