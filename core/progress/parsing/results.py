"""What parsing yields: a validated :class:`Parsed` answer, or an :class:`InvalidAnswer` re-ask."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from core.errors import CoachError


class InvalidAnswer(CoachError):
    """The answer can't be used; ``message`` is the friendly, specific re-ask shown to the musician.

    It is the only exception :func:`parse_answer` raises, so the conversation engine can catch
    it, show ``message`` and ask again without ever guessing what went wrong.
    """

    message: str

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Parsed:
    """A validated answer: the stored ``value``, the ``numeric`` metric input and its ``display``.

    ``value`` is a :class:`~decimal.Decimal` for integer, decimal, money, percent and duration
    (seconds), a :class:`~datetime.date` for dates and a ``str`` for url, choice and text.
    ``numeric`` is the same Decimal for numeric types (what a stats metric records) and ``None``
    otherwise. ``display`` is how the coach echoes the answer back, so the musician can spot a
    misreading ("12,500 listeners", "Fri 4 Dec 2026").
    """

    value: Decimal | date | str
    numeric: Decimal | None
    display: str
    #: A money answer's ISO currency: the one it was typed in (the profile's, or another one
    #: named in the answer, kept as typed — never converted). ``None`` for other types.
    currency: str | None = None
    #: The musician said the number is approximate ("80 or so", "~500", "3ish"); the value is
    #: the number itself, the flag is kept with it and said in the reply.
    approximate: bool = False

    def to_json(self) -> dict[str, str]:
        """A JSON-safe dict; ``type`` is the Python kind of ``value``: decimal, date or text.

        Decimals are written in plain notation (never "1E+5") and dates in ISO form, so the dict
        can be stored as-is and read back with :meth:`from_json` without losing precision.
        ``currency`` and ``approx`` are written only when set (older rows have neither).
        """
        kind, raw = _json_kind_and_value(self.value)
        data = {"value": raw, "display": self.display, "type": kind}
        if self.currency is not None:
            data["currency"] = self.currency
        if self.approximate:
            data["approx"] = "1"
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, str]) -> Parsed:
        """Rebuild a :class:`Parsed` stored with :meth:`to_json` (``ValueError`` if malformed)."""
        kind, raw, display = data.get("type"), data.get("value"), data.get("display")
        if not isinstance(raw, str) or not isinstance(display, str):
            raise ValueError("a stored answer needs string 'value' and 'display'")
        if kind == "decimal":
            try:
                number = Decimal(raw)
            except InvalidOperation as exc:
                raise ValueError(f"not a decimal: {raw!r}") from exc
            if not number.is_finite():
                raise ValueError(f"not a finite decimal: {raw!r}")
            currency = data.get("currency")
            return cls(
                value=number,
                numeric=number,
                display=display,
                currency=currency if isinstance(currency, str) and currency else None,
                approximate=data.get("approx") == "1",
            )
        if kind == "date":
            return cls(value=date.fromisoformat(raw), numeric=None, display=display)
        if kind == "text":
            return cls(value=raw, numeric=None, display=display)
        raise ValueError(f"unknown stored answer type: {kind!r}")


def _json_kind_and_value(value: Decimal | date | str) -> tuple[str, str]:
    if isinstance(value, Decimal):
        return "decimal", f"{value:f}"
    if isinstance(value, date):
        return "date", value.isoformat()
    return "text", value
