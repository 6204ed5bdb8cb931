"""Free-text answers: length bounds only; the text is kept as written."""

from __future__ import annotations

import math
from typing import Final

from core.progress.parsing.results import InvalidAnswer
from core.roadmaps.schema import InputSpec

#: Length bounds of ``text`` answers when the spec gives no min/max.
TEXT_MIN_DEFAULT: Final = 1
TEXT_MAX_DEFAULT: Final = 500


def _text_bounds(spec: InputSpec) -> tuple[int, int]:
    low = TEXT_MIN_DEFAULT if spec.min is None else max(TEXT_MIN_DEFAULT, math.ceil(spec.min))
    high = TEXT_MAX_DEFAULT if spec.max is None else math.floor(spec.max)
    return low, high


def _parse_text(spec: InputSpec, text: str, label: str) -> str:
    low, high = _text_bounds(spec)
    if len(text) > high:
        raise InvalidAnswer(
            f"that's too long for {label} — please keep it to {high} characters "
            f"(yours has {len(text)})."
        )
    if len(text) < low:
        raise InvalidAnswer(
            f"that's a bit short for {label} — please write at least {low} characters."
        )
    return text
