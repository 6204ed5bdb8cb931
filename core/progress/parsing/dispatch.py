"""The entry point: clean an answer and hand it to the parser for its input type."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Final

from core.progress.parsing.choices import _parse_choice
from core.progress.parsing.cleaning import MAX_ANSWER_CHARS, _clean, _prep
from core.progress.parsing.dates import _parse_date
from core.progress.parsing.display import format_value
from core.progress.parsing.durations import _parse_duration
from core.progress.parsing.locales import PLAIN, Reading
from core.progress.parsing.money import _parse_money
from core.progress.parsing.numbers import (
    Separators,
    _approximate,
    _parse_decimal,
    _parse_integer,
    _parse_percent,
)
from core.progress.parsing.results import InvalidAnswer, Parsed
from core.progress.parsing.text import _parse_text
from core.progress.parsing.urls import _parse_url
from core.roadmaps.schema import InputSpec, InputType

_EMPTY_MESSAGE: Final = "I need an answer here — or send /skip to skip this one."


def parse_answer(
    spec: InputSpec, raw: str, *, today: date, label: str, reading: Reading = PLAIN
) -> Parsed:
    """Parse ``raw`` for ``spec``; raise :class:`InvalidAnswer` with a re-ask when it can't be used.

    ``label`` is the human subject of the question ("monthly listeners") and appears in every
    message, so the re-ask reads as a reply to what the musician just tried to say. ``today`` is
    the musician's local date: relative dates ("tomorrow") depend on it, and passing it in keeps
    this function pure and testable. ``reading`` is the musician's locale and currency: what
    "1.500" means, which currency "300" is in, and how the echo is written.
    """
    is_text = spec.type is InputType.TEXT
    text = _clean(raw, text_mode=is_text)
    if not text or all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in text):
        raise InvalidAnswer(_EMPTY_MESSAGE)
    if is_text:
        value = _parse_text(spec, text, label)
        return Parsed(value=value, numeric=None, display=value)
    if len(text) > MAX_ANSWER_CHARS:
        raise InvalidAnswer(
            f"that's too long for {label} — please keep it under {MAX_ANSWER_CHARS} characters."
        )
    separators = Separators(decimal_comma=reading.decimal_comma)
    currency: str | None = None
    match spec.type:
        case InputType.INTEGER:
            number = _parse_integer(spec, text, label, separators)
        case InputType.DECIMAL:
            number = _parse_decimal(spec, text, label, separators)
        case InputType.MONEY:
            amount = _parse_money(spec, text, label, reading, today)
            number, currency = amount.value, amount.currency
        case InputType.PERCENT:
            number = _parse_percent(spec, text, label, separators)
        case InputType.DURATION:
            number = _parse_duration(spec, text, label)
        case InputType.DATE:
            day = _parse_date(text, today, label)
            return Parsed(value=day, numeric=None, display=format_value(spec, day))
        case InputType.URL:
            url = _parse_url(text, label)
            return Parsed(value=url, numeric=None, display=url)
        case InputType.CHOICE:
            choice = _parse_choice(spec, text, label)
            return Parsed(value=choice, numeric=None, display=choice)
        case _:  # pragma: no cover - every InputType is handled above
            raise InvalidAnswer(f"I can't read answers for {label} yet.")
    return Parsed(
        value=number,
        numeric=number,
        display=format_value(spec, number, reading=reading, currency=currency),
        currency=currency,
        approximate=_approximate(_prep(text))[1],
    )
