"""Core replies → Telegram: HTML text (user text escaped), inline keyboards, splitting.

The core's markup is parsed into spans and each span is HTML-escaped, so nothing a musician
typed can become a tag. Keyboards keep the core's rows (at most 8 buttons a row, Telegram's
limit) and callback data is the core's payload, which already fits 64 bytes.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.kernel.markup import parse
from core.kernel.types import Button

#: Telegram's limit for a message's text, and for a photo caption.
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_ROW = 8


def to_html(text: str) -> str:
    """The core's markup as Telegram HTML."""
    out: list[str] = []
    for span in parse(text):
        chunk = html.escape(span.text, quote=False)
        if span.code:
            chunk = f"<code>{chunk}</code>"
        if span.italic:
            chunk = f"<i>{chunk}</i>"
        if span.bold:
            chunk = f"<b>{chunk}</b>"
        out.append(chunk)
    return "".join(out)


def telegram_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP is two).

    Measured on the HTML, tags included, which over-counts the visible text: a piece that fits
    by this measure always fits Telegram's limit on the parsed text.
    """
    return len(text.encode("utf-16-le")) // 2


def html_pieces(text: str, limit: int = MAX_TEXT) -> list[str]:
    """The HTML of each message ``text`` is sent as: one piece unless it is over ``limit``.

    The common case renders once; only an oversized text goes through :func:`split_markup`.
    """
    rendered = to_html(text)
    if telegram_length(rendered) <= limit:
        return [rendered]
    return [to_html(piece) for piece in split_markup(text, limit)]


def _fits(text: str, limit: int) -> bool:
    return telegram_length(to_html(text)) <= limit


def split_markup(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split core markup into messages whose HTML fits ``limit``, on paragraph boundaries.

    Paragraphs are packed greedily; a paragraph that alone is too long is split on its line
    breaks, and a line that alone is too long is cut where the escaped HTML still fits.
    """
    if _fits(text, limit):
        return [text]

    def cut_line(line: str) -> list[str]:
        chunks = []
        while not _fits(line, limit):
            cut = _longest_fitting_prefix(line, limit)
            chunks.append(line[:cut])
            line = line[cut:]
        return [*chunks, line]

    def split_paragraph(paragraph: str) -> list[str]:
        return _pack(paragraph.split("\n"), "\n", limit, cut_line)

    return _pack(text.split("\n\n"), "\n\n", limit, split_paragraph)


def _pack(
    parts: list[str], sep: str, limit: int, oversize: Callable[[str], list[str]]
) -> list[str]:
    """Join ``parts`` with ``sep`` into as few pieces as fit; ``oversize`` splits a part that
    alone is too long (its last chunk keeps packing with what follows)."""
    pieces: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current}{sep}{part}" if current else part
        if _fits(candidate, limit):
            current = candidate
            continue
        if current:
            pieces.append(current)
        if _fits(part, limit):
            current = part
        else:
            *done, current = oversize(part)
            pieces.extend(done)
    if current:
        pieces.append(current)
    return pieces


def _longest_fitting_prefix(text: str, limit: int) -> int:
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if _fits(text[:middle], limit):
            low = middle
        else:
            high = middle - 1
    return low


@functools.lru_cache(maxsize=4096)
def keyboard(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    """The core's button rows as an inline keyboard (``None`` when there are none).

    Memoised: the same cards (a checklist in a given state, the roadmap picker) are drawn over
    and over, and PTB's objects are immutable once built, so one instance serves every send.
    """
    if not rows:
        return None
    out: list[list[InlineKeyboardButton]] = []
    for row in rows:
        for start in range(0, len(row), MAX_ROW):
            out.append(
                [
                    InlineKeyboardButton(b.label[:64], callback_data=b.payload)
                    for b in row[start : start + MAX_ROW]
                ]
            )
    return InlineKeyboardMarkup(out)


@functools.lru_cache(maxsize=4096)
def keyboard_json(rows: tuple[tuple[Button, ...], ...]) -> str | None:
    """:func:`keyboard` serialised once: the ``reply_markup`` of ``LeanBot``'s sends.

    Memoised for the same reason: the JSON of a card drawn a thousand times is built once.
    """
    markup = keyboard(rows)
    return None if markup is None else markup.to_json()
