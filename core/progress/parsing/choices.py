"""Choice answers: an exact text match, then a 1-based number, then a unique prefix."""

from __future__ import annotations

import re

from core.progress.parsing.cleaning import _ascii_digits
from core.progress.parsing.results import InvalidAnswer
from core.roadmaps.schema import InputSpec


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _parse_choice(spec: InputSpec, text: str, label: str) -> str:
    choices = spec.choices or ()
    folded = [_fold(choice) for choice in choices]
    key = _fold(text)
    trimmed = key.strip("\"'“”‘’").rstrip(".!?").strip()
    for candidate in (key, trimmed):
        if candidate in folded:
            return choices[folded.index(candidate)]
    number = re.fullmatch(r"#?\s*([0-9]{1,3})\s*[.)]?", _ascii_digits(trimmed))
    if number is not None and 1 <= int(number[1]) <= len(choices):
        return choices[int(number[1]) - 1]
    if len(trimmed) >= 2:
        hits = [c for c, f in zip(choices, folded, strict=True) if f.startswith(trimmed)]
        if len(hits) == 1:
            return hits[0]
    raise InvalidAnswer(f"for {label}, pick one of: {', '.join(choices)} (or its number).")
