"""Core replies → Telegram: HTML text (user text escaped), inline keyboards, splitting.

The core's markup is parsed into spans and each span is HTML-escaped, so nothing a musician
typed can become a tag. Keyboards keep the core's rows (at most 8 buttons a row, Telegram's
limit) and callback data is the core's payload, which already fits 64 bytes.
"""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.conversation.markup import parse
from core.conversation.types import Button

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


def _fits(text: str, limit: int) -> bool:
    return len(to_html(text)) <= limit


def split_markup(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split core markup into messages whose HTML fits ``limit``, on paragraph boundaries.

    Paragraphs are packed greedily; a paragraph that alone is too long is split on its line
    breaks, and a line that alone is too long is cut where the escaped HTML still fits.
    """
    if _fits(text, limit):
        return [text]
    pieces: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if _fits(candidate, limit):
            current = candidate
            continue
        if current:
            pieces.append(current)
            current = ""
        if _fits(paragraph, limit):
            current = paragraph
        else:
            pieces.extend(_split_lines(paragraph, limit))
    if current:
        pieces.append(current)
    return pieces


def _split_lines(paragraph: str, limit: int) -> list[str]:
    pieces: list[str] = []
    current = ""
    for line in paragraph.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if _fits(candidate, limit):
            current = candidate
            continue
        if current:
            pieces.append(current)
            current = ""
        rest = line
        while not _fits(rest, limit):
            cut = _longest_fitting_prefix(rest, limit)
            pieces.append(rest[:cut])
            rest = rest[cut:]
        current = rest
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


def keyboard(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    """The core's button rows as an inline keyboard (``None`` when there are none)."""
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
