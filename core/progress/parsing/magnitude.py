"""Order-of-magnitude jumps between two numbers: :func:`is_far_from`."""

from __future__ import annotations

from decimal import Decimal


def is_far_from(previous: Decimal, new: Decimal, factor: int = 10) -> bool:
    """Whether ``new`` is more than ``factor`` times bigger or smaller than ``previous``.

    The coach uses it to ask "did you mean ...?" before recording a metric that jumped by an
    order of magnitude (a typo like 125000 for 12500). Zero has no ratio, so: both zero is not
    far; one zero and the other beyond ``factor`` in magnitude is far. A sign change between two
    non-zero numbers always counts as far. Non-finite inputs count as far (nothing to vouch for).
    The test is symmetric: ``is_far_from(a, b) == is_far_from(b, a)``.
    """
    if factor < 1:
        raise ValueError("factor must be at least 1")
    if not (previous.is_finite() and new.is_finite()):
        return True
    limit = Decimal(factor)
    a, b = abs(previous), abs(new)
    if a == 0 or b == 0:
        return max(a, b) > limit
    if (previous < 0) != (new < 0):
        return True
    return b > a * limit or a > b * limit
