"""The goal verdict's words (``core.coaching.numbers.words.goal_verdict``), one row per outcome.

The flows of ``test_numbers`` reach "on track", "behind — you'd get there around …" and "too
early to say"; a goal that the current pace never reaches (a flat or falling line), a met one
and one without numbers were said by no test, so a wrong word there (a flat line read as "on
track") passed the suite. Pure: the projections are built by hand, the day is fixed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

import pytest

from core.coaching.numbers.words import goal_verdict
from core.kernel.markup import to_plain
from core.progress.projection import Projection

TODAY = date(2031, 1, 6)
DUE = date(2031, 3, 31)
AROUND = datetime(2031, 3, 8, 10, tzinfo=UTC)
LATE = datetime(2031, 4, 20, 10, tzinfo=UTC)


def _projection(
    status: str, pace: Fraction | None, reach_at: datetime | None, needed: Fraction | None
) -> Projection:
    return Projection(status, pace, reach_at, needed, Fraction(12))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("projection", "says"),
    [
        (None, "🎯 2,000 by 31 Mar: no numbers yet — /update gives me the first one."),
        (_projection("met", Fraction(50), None, None), "🎯 2,000 by 31 Mar: ✅ reached."),
        (
            _projection("thin", None, None, Fraction(75)),
            "🎯 2,000 by 31 Mar: too early to say — I need 2 numbers at least a week apart. "
            "You need +75 a week.",
        ),
        (
            _projection("on_track", Fraction(100), AROUND, Fraction(75)),
            "🎯 2,000 by 31 Mar: on track — at +100 a week you get there around 8 Mar. "
            "You need +75 a week.",
        ),
        (
            _projection("behind", Fraction(40), LATE, Fraction(75)),
            "🎯 2,000 by 31 Mar: behind — at +40 a week you'd get there around 20 Apr. "
            "You need +75 a week.",
        ),
        (
            _projection("behind", Fraction(0), None, Fraction(75)),
            "🎯 2,000 by 31 Mar: behind — at ±0 a week you won't get there. You need +75 a week.",
        ),
        (
            _projection("behind", Fraction(-20), None, None),
            "🎯 2,000 by 31 Mar: behind — at -20 a week you won't get there.",
        ),
    ],
)
def test_each_outcome_is_said_in_its_words(projection: Projection | None, says: str) -> None:
    assert to_plain(goal_verdict(Decimal(2000), DUE, projection, TODAY)) == says
