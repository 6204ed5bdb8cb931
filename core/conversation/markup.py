"""A tiny, platform-neutral markup for reply text, and the escape for user-supplied text.

The core writes ``*bold*``, ``_italic_`` and `` `code` ``; a backslash escapes any of ``*_`\\``.
Anything a person typed (an artist name, an answer) goes through :func:`esc` before it is put
into a reply, so a name like ``*DJ_Snake*`` or ``<b>x</b>`` is shown literally on every platform.
Front ends turn the text into spans with :func:`parse` and render them their own way (HTML for
Telegram, Markdown for Discord, plain or ANSI for the terminal).
"""

from __future__ import annotations

from dataclasses import dataclass

_SPECIAL = "*_`\\"


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
    """Split markup into styled spans. Unbalanced markers are closed at the end of the text."""
    spans: list[Span] = []
    buf: list[str] = []
    is_bold = is_italic = is_code = False

    def flush() -> None:
        if buf:
            spans.append(Span("".join(buf), is_bold, is_italic, is_code))
            buf.clear()

    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in _SPECIAL:
            buf.append(text[i + 1])
            i += 2
            continue
        if ch == "`":
            flush()
            is_code = not is_code
        elif ch == "*" and not is_code:
            flush()
            is_bold = not is_bold
        elif ch == "_" and not is_code:
            flush()
            is_italic = not is_italic
        else:
            buf.append(ch)
        i += 1
    flush()
    return spans


def to_plain(text: str) -> str:
    """The text with markup removed (terminal, toasts, logs)."""
    return "".join(span.text for span in parse(text))
