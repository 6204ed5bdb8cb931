"""A plan's dates at their edges (``core/progress/timeline.py``): due, open, overdue.

``/plan``, ``/today``, the journey and the plan reminders all read a task's dates here, but
every test of them stood days away from an edge: making a task overdue only a day after its
deadline, or open only a day after its opening day, failed no test. These rows sit on the
edges. Pure; the dates are fixed.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.progress.timeline import due_on, is_open, is_overdue, opens_on
from core.roadmaps.schema import Timing

RELEASE = date(2031, 5, 9)  # a Friday
ANCHORS = {"release": RELEASE.isoformat()}
PITCH = Timing(anchor="release", due=-7)  # at least 7 days before
LOOK_BACK = Timing(anchor="release", due=35, opens=28)  # the 28-day numbers


def test_dates_are_counted_from_the_anchor() -> None:
    assert due_on(PITCH, ANCHORS) == RELEASE - timedelta(days=7)
    assert opens_on(PITCH, ANCHORS) is None, "no opens: any time"
    assert (opens_on(LOOK_BACK, ANCHORS), due_on(LOOK_BACK, ANCHORS)) == (
        RELEASE + timedelta(days=28),
        RELEASE + timedelta(days=35),
    )
    for unset in ({}, {"release": "next spring"}, {"release": 20310509}):
        assert due_on(PITCH, unset) is None, unset
        assert opens_on(LOOK_BACK, unset) is None, unset
    assert due_on(None, ANCHORS) is None


@pytest.mark.parametrize(
    ("offset", "overdue"),
    [(-30, False), (-1, False), (0, False), (1, True), (2, True), (60, True)],
)
def test_overdue_from_the_day_after_the_deadline(offset: int, overdue: bool) -> None:
    """``offset``: today, in days after the pitch's deadline. Due today is not overdue yet."""
    today = RELEASE - timedelta(days=7) + timedelta(days=offset)
    assert is_overdue(PITCH, ANCHORS, today) is overdue


def test_nothing_is_overdue_without_its_date() -> None:
    far = RELEASE + timedelta(days=400)
    assert not is_overdue(PITCH, {}, far)
    assert not is_overdue(None, ANCHORS, far)


@pytest.mark.parametrize(("offset", "open_"), [(-1, False), (0, True), (1, True), (400, True)])
def test_open_from_its_opening_day(offset: int, open_: bool) -> None:
    """``offset``: today, in days after the look-back opens (28 days after the release)."""
    today = RELEASE + timedelta(days=28 + offset)
    assert is_open(LOOK_BACK, ANCHORS, today) is open_


def test_a_task_with_an_opening_waits_for_its_anchor_and_others_never_wait() -> None:
    far = RELEASE + timedelta(days=400)
    assert not is_open(LOOK_BACK, {}, far), "numbers about a release with no date wait"
    assert is_open(PITCH, {}, RELEASE - timedelta(days=400))
    assert is_open(None, {}, RELEASE)
