"""Range checks: a spec's effective min/max and the re-ask for a value outside them."""

from __future__ import annotations

from decimal import Decimal

from core.progress.parsing.display import format_value
from core.progress.parsing.results import InvalidAnswer
from core.roadmaps.schema import InputSpec, InputType


def _bounds(spec: InputSpec) -> tuple[Decimal | None, Decimal | None]:
    """Effective min/max: percent defaults to 0-100, duration to at least 0."""
    low, high = spec.min, spec.max
    if spec.type is InputType.PERCENT:
        return (Decimal(0) if low is None else low), (Decimal(100) if high is None else high)
    if spec.type is InputType.DURATION and low is None:
        return Decimal(0), high
    return low, high


def _check_range(spec: InputSpec, value: Decimal, label: str) -> None:
    low, high = _bounds(spec)
    if low is not None and value < low:
        if value < 0 <= low:
            floor = "0" if low == 0 else format_value(spec, low)
            raise InvalidAnswer(f"that looks negative — {label} can't be below {floor}.")
        raise InvalidAnswer(f"that's below the minimum of {format_value(spec, low)} for {label}.")
    if high is not None and value > high:
        raise InvalidAnswer(f"that's above the maximum of {format_value(spec, high)} for {label}.")
