"""The streak's rules (core/progress/streaks.py), pure: weeks in the musician's timezone, the
year's turn and ISO week 53, a week not done yet, freezes that bridge without adding, the
quarter's freeze count. Every date is fixed here: the computation takes its clock as an
argument, so the suite's year-ahead run changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.progress.streaks import (
    FREEZES_PER_QUARTER,
    Freeze,
    History,
    compute,
    current_freeze,
    monday_of,
    quarter_of,
    week_zone,
)

BERLIN = "Europe/Berlin"
# Thursday 10 Dec 2026, noon UTC: ISO week 50 (Mon 7 Dec .. Sun 13 Dec)
NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)


def at(day: date, hour: int = 12, tz: str = "UTC") -> datetime:
    """A moment on ``day`` at ``hour`` local time in ``tz``, as UTC."""
    return datetime.combine(day, time(hour), ZoneInfo(tz)).astimezone(UTC)


def weeks_back(*ago: int, now: datetime = NOW) -> tuple[datetime, ...]:
    """One step on the Wednesday of each week ``ago`` weeks before ``now``'s week."""
    monday = monday_of(now.date())
    return tuple(at(monday - timedelta(weeks=n) + timedelta(days=2)) for n in ago)


def test_no_steps_no_streak() -> None:
    streak = compute(History(), "UTC", NOW)
    assert (streak.weeks, streak.best, streak.this_week_done) == (0, 0, False)
    assert not streak.at_risk
    assert streak.freezes_left == FREEZES_PER_QUARTER


def test_this_week_done_counts_in_the_run() -> None:
    streak = compute(History(weeks_back(0, 1, 2)), "UTC", NOW)
    assert (streak.weeks, streak.this_week_done, streak.at_risk) == (3, True, False)


def test_a_week_not_done_yet_keeps_the_streak_alive_up_to_last_week() -> None:
    streak = compute(History(weeks_back(1, 2)), "UTC", NOW)
    assert (streak.weeks, streak.this_week_done, streak.at_risk) == (2, False, True)


def test_a_missed_week_breaks_it_and_best_remembers() -> None:
    streak = compute(History(weeks_back(0, 2, 3, 4, 5)), "UTC", NOW)
    assert streak.weeks == 1
    assert streak.best == 4


def test_two_weeks_missed_is_no_streak() -> None:
    streak = compute(History(weeks_back(2, 3)), "UTC", NOW)
    assert streak.weeks == 0
    assert streak.best == 2


def test_many_steps_in_one_week_count_once() -> None:
    monday = monday_of(NOW.date())
    steps = (*(at(monday, h) for h in range(12)), at(monday - timedelta(days=1)))
    streak = compute(History(steps), "UTC", NOW)
    assert streak.weeks == 2  # this week, and last week's Sunday


def test_a_step_after_now_counts_nowhere() -> None:
    streak = compute(History((NOW + timedelta(days=8),)), "UTC", NOW)
    assert streak.weeks == 0


@pytest.mark.parametrize(
    ("tz", "done_this_week"),
    [
        # one step on Sunday 13 Dec 2026 at 23:30 UTC: still Sunday (ISO week 50) in UTC,
        # London and Los Angeles, already Monday 14 Dec (week 51) in Berlin and Tokyo
        ("UTC", False),
        ("Europe/London", False),
        ("America/Los_Angeles", False),
        ("Europe/Berlin", True),
        ("Asia/Tokyo", True),
    ],
)
def test_weeks_follow_the_musicians_timezone(tz: str, done_this_week: bool) -> None:
    step = datetime(2026, 12, 13, 23, 30, tzinfo=UTC)
    now = datetime(2026, 12, 14, 22, 0, tzinfo=UTC)  # Monday or Tuesday of week 51 in each
    streak = compute(History((step,)), tz, now)
    assert streak.this_week_done is done_this_week
    assert streak.weeks == 1
    assert streak.at_risk is not done_this_week


def test_dst_change_week_is_one_week() -> None:
    # Berlin leaves summer time on Sunday 25 Oct 2026 (a 25-hour day): Monday 19 Oct 00:30 and
    # Sunday 25 Oct 23:30 local are the same ISO week, Monday 26 Oct 00:30 the next.
    tz = BERLIN
    first = at(date(2026, 10, 19), 0, tz).replace(minute=30)
    last = at(date(2026, 10, 25), 23, tz).replace(minute=30)
    following = at(date(2026, 10, 26), 0, tz).replace(minute=30)
    now = at(date(2026, 10, 26), 9, tz)
    only_that_week = compute(History((first, last)), tz, now)
    assert (only_that_week.weeks, only_that_week.this_week_done) == (1, False)
    both = compute(History((first, last, following)), tz, now)
    assert (both.weeks, both.this_week_done) == (2, True)
    # counted in UTC, Monday 00:30 in Berlin is Sunday 18 Oct 22:30: the week before
    assert compute(History((first, last)), "UTC", now).weeks == 2


def test_spring_forward_gap_does_not_lose_a_week() -> None:
    # Berlin skips 02:00-03:00 on Sunday 28 Mar 2027; weeks around it stay seven days long.
    tz = BERLIN
    steps = (
        at(date(2027, 3, 24), 12, tz),  # Wed, week 12
        at(date(2027, 3, 28), 3, tz),  # Sun just after the gap, week 12
        at(date(2027, 3, 31), 12, tz),  # Wed, week 13
    )
    streak = compute(History(steps), tz, at(date(2027, 4, 1), 12, tz))
    assert (streak.weeks, streak.this_week_done) == (2, True)


def test_year_boundary_with_iso_week_53() -> None:
    # 2026 has an ISO week 53: Mon 28 Dec 2026 .. Sun 3 Jan 2027; week 1 of 2027 starts 4 Jan.
    assert date(2026, 12, 31).isocalendar()[:2] == (2026, 53)
    steps = (
        at(date(2026, 12, 23)),  # week 52
        at(date(2026, 12, 28)),  # week 53
        at(date(2027, 1, 3)),  # week 53 still (Sunday)
        at(date(2027, 1, 5)),  # week 1 of 2027
    )
    streak = compute(History(steps), "UTC", at(date(2027, 1, 6)))
    assert (streak.weeks, streak.this_week_done) == (3, True)
    assert monday_of(date(2027, 1, 3)) == date(2026, 12, 28)


def test_year_boundary_without_week_53() -> None:
    # 2027 has 52 ISO weeks: Sun 2 Jan 2028 is in week 52 of 2027, Mon 3 Jan 2028 is week 1.
    steps = (at(date(2027, 12, 29)), at(date(2028, 1, 2)), at(date(2028, 1, 3)))
    streak = compute(History(steps), "UTC", at(date(2028, 1, 4)))
    assert streak.weeks == 2


def test_a_frozen_week_bridges_without_adding() -> None:
    monday = monday_of(NOW.date())
    freeze = Freeze(monday - timedelta(weeks=2), monday - timedelta(days=1))
    history = History(weeks_back(0, 3, 4), (freeze,))
    streak = compute(history, "UTC", NOW)
    assert streak.weeks == 3  # weeks 0, 3, 4 — the two frozen weeks neither break nor add
    without = compute(History(weeks_back(0, 3, 4)), "UTC", NOW)
    assert without.weeks == 1


def test_a_freeze_touching_a_week_covers_all_of_it() -> None:
    # frozen only on last week's Sunday: last week (no step) is bridged
    monday = monday_of(NOW.date())
    sunday = monday - timedelta(days=1)
    streak = compute(History(weeks_back(0, 2), (Freeze(sunday, sunday),)), "UTC", NOW)
    assert streak.weeks == 2


def test_a_step_in_a_frozen_week_still_counts() -> None:
    monday = monday_of(NOW.date())
    freeze = Freeze(monday - timedelta(weeks=1), monday - timedelta(days=1))
    streak = compute(History(weeks_back(0, 1, 2), (freeze,)), "UTC", NOW)
    assert streak.weeks == 3


def test_frozen_this_week_is_not_at_risk() -> None:
    monday = monday_of(NOW.date())
    freeze = Freeze(monday, monday + timedelta(days=13))
    streak = compute(History(weeks_back(1, 2), (freeze,)), "UTC", NOW)
    assert (streak.weeks, streak.this_week_frozen, streak.at_risk) == (2, True, False)
    assert streak.frozen_now
    assert streak.freeze == freeze


def test_a_planned_freeze_is_shown_but_bridges_nothing_yet() -> None:
    monday = monday_of(NOW.date())
    planned = Freeze(monday + timedelta(weeks=2), monday + timedelta(weeks=3))
    streak = compute(History(weeks_back(1), (planned,)), "UTC", NOW)
    assert (streak.weeks, streak.at_risk, streak.frozen_now) == (1, True, False)
    assert streak.freeze == planned


def test_a_freeze_before_any_step_is_no_streak() -> None:
    monday = monday_of(NOW.date())
    freeze = Freeze(monday - timedelta(weeks=3), monday - timedelta(weeks=1))
    assert compute(History((), (freeze,)), "UTC", NOW).weeks == 0


def test_best_spans_a_freeze() -> None:
    monday = monday_of(NOW.date())
    freeze = Freeze(monday - timedelta(weeks=8), monday - timedelta(weeks=8))
    streak = compute(History(weeks_back(6, 7, 9, 10), (freeze,)), "UTC", NOW)
    assert (streak.weeks, streak.best) == (0, 4)


def test_freezes_left_count_this_quarter_only() -> None:
    # NOW is in Q4 2026
    q3 = Freeze(date(2026, 9, 28), date(2026, 10, 4))  # started in Q3: not this quarter's
    q4 = Freeze(date(2026, 10, 12), date(2026, 10, 18))
    assert compute(History((), (q3,)), "UTC", NOW).freezes_left == 2
    assert compute(History((), (q3, q4)), "UTC", NOW).freezes_left == 1
    assert compute(History((), (q4, q4)), "UTC", NOW).freezes_left == 0
    assert quarter_of(date(2026, 12, 31)) == (2026, 4)
    assert quarter_of(date(2027, 1, 1)) == (2027, 1)


def test_current_freeze_prefers_the_one_in_force() -> None:
    today = date(2026, 12, 10)
    past = Freeze(date(2026, 11, 1), date(2026, 11, 7))
    now = Freeze(date(2026, 12, 8), date(2026, 12, 12))
    later = Freeze(date(2027, 1, 4), date(2027, 1, 10))
    assert current_freeze((later, past, now), today) == now
    assert current_freeze((later, past), today) == later
    assert current_freeze((past,), today) is None


def test_an_unknown_timezone_counts_in_utc() -> None:
    history = History(weeks_back(0, 1))
    assert compute(history, "Mars/Olympus_Mons", NOW) == compute(history, "UTC", NOW)
    assert compute(history, "", NOW) == compute(history, "UTC", NOW)


def test_a_band_counts_in_utc() -> None:
    assert week_zone(BERLIN, band=True) == "UTC"
    assert week_zone(BERLIN, band=False) == BERLIN
    assert week_zone("", band=False) == "UTC"


def test_a_fixed_offset_zone_counts_weeks_where_the_musician_lives() -> None:
    """``/timezone UTC+5:30`` is stored as ``UTC+05:30``: the streak reads it as reminders and
    reviews do (core.clock.zone), not as unknown-and-UTC."""
    from core.progress.streaks import History, compute  # noqa: PLC0415

    sunday_evening_utc = datetime(2026, 3, 8, 20, 0, tzinfo=UTC)  # Mon 9 Mar 01:30 at +05:30
    history = History(steps=(sunday_evening_utc,))
    streak = compute(history, "UTC+05:30", sunday_evening_utc + timedelta(hours=1))
    assert streak.weeks == 1
    assert streak.this_week_done
    in_utc = compute(history, "UTC", datetime(2026, 3, 9, 12, 0, tzinfo=UTC))
    assert in_utc.weeks == 1
    assert not in_utc.this_week_done
