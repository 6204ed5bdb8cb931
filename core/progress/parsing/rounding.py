"""Decimal rounding shared by parsing, display and examples."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Final

_ONE: Final = Decimal(1)
_CENT: Final = Decimal("0.01")
_FOUR_PLACES: Final = Decimal("0.0001")


def _trim4(value: Decimal) -> Decimal:
    """Round half-up to 4 decimals and drop trailing zeros (12.5000 -> 12.5, 15.0 -> 15)."""
    rounded = value.quantize(_FOUR_PLACES, rounding=ROUND_HALF_UP)
    if rounded == rounded.to_integral_value():
        return rounded.quantize(_ONE)
    return rounded.normalize()


def _zero_sign(value: Decimal) -> Decimal:
    """Turn -0 into 0 so nobody is ever shown "-0"."""
    return abs(value) if value == 0 else value
