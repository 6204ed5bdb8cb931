"""Schedule math: local wall-clock reminders across DST, quiet hours, parsing (pure, no DB)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.clock import zone
from core.reminders.schedule import (
    QuietHours,
    Schedule,
    local_to_utc,
    next_due,
    outside_quiet,
    parse_days,
    parse_time,
    parse_timezone,
    previous_due,
    tomorrow_same_time,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_daily_stays_at_local_time_across_spring_forward() -> None:
    daily = Schedule("daily", time(9, 30))
    # 2026-03-29 is the spring-forward day in Europe: CET (+1) before, CEST (+2) after.
    before = next_due(daily, BERLIN, utc(2026, 3, 28, 0, 0))
    after = next_due(daily, BERLIN, before)
    assert before == utc(2026, 3, 28, 8, 30)  # 09:30 CET
    assert after == utc(2026, 3, 29, 7, 30)  # 09:30 CEST: an hour earlier in UTC
    assert after.astimezone(BERLIN).time() == time(9, 30)


def test_daily_stays_at_local_time_across_fall_back() -> None:
    daily = Schedule("daily", time(9, 30))
    first = next_due(daily, NEW_YORK, utc(2026, 10, 31, 14, 0))  # Nov 1: US fall-back
    assert first == utc(2026, 11, 1, 14, 30)  # 09:30 EST (-5)
    assert first.astimezone(NEW_YORK).time() == time(9, 30)
    previous = previous_due(daily, NEW_YORK, first - timedelta(seconds=1))
    assert previous == utc(2026, 10, 31, 13, 30)  # 09:30 EDT (-4)


def test_spring_forward_gap_moves_forward_by_the_gap() -> None:
    # 02:30 does not exist in Berlin on 2026-03-29: the nudge comes at 03:30 CEST that day.
    nightly = Schedule("daily", time(2, 30))
    due = next_due(nightly, BERLIN, utc(2026, 3, 28, 12, 0))
    assert due == utc(2026, 3, 29, 1, 30)
    assert due.astimezone(BERLIN).time() == time(3, 30)
    # And the day after, back to 02:30 (now CEST).
    assert next_due(nightly, BERLIN, due) == utc(2026, 3, 30, 0, 30)


def test_fall_back_fold_fires_once_at_the_first_occurrence() -> None:
    # 02:30 happens twice in Berlin on 2026-10-25 (CEST, then CET): one nudge, the first.
    nightly = Schedule("daily", time(2, 30))
    due = next_due(nightly, BERLIN, utc(2026, 10, 24, 12, 0))
    assert due == utc(2026, 10, 25, 0, 30)  # 02:30 CEST
    following = next_due(nightly, BERLIN, due)
    assert following == utc(2026, 10, 26, 1, 30)  # not the second 02:30 (01:30 UTC on the 25th)


def test_weekly_days() -> None:
    weekly = Schedule("weekly", time(18, 0), frozenset({0, 3}))  # Mon, Thu
    start = utc(2026, 11, 26, 17, 30)  # a Thursday
    dues = []
    at = start
    for _ in range(4):
        at = next_due(weekly, UTC, at)
        dues.append(at)
    assert [d.strftime("%a %H:%M") for d in dues] == [
        "Thu 18:00",
        "Mon 18:00",
        "Thu 18:00",
        "Mon 18:00",
    ]
    assert dues[1] - dues[0] == timedelta(days=4)


def test_quiet_hours_across_midnight_defer_to_their_end() -> None:
    quiet = QuietHours(time(22, 0), time(8, 0))
    late = Schedule("daily", time(23, 15))
    due = next_due(late, BERLIN, utc(2026, 11, 26, 12, 0), quiet)
    assert due.astimezone(BERLIN).replace(tzinfo=None) == datetime(
        2026, 11, 27, 8, 0, tzinfo=BERLIN
    ).replace(tzinfo=None)
    early = Schedule("daily", time(6, 0))
    due = next_due(early, BERLIN, utc(2026, 11, 26, 12, 0), quiet)
    assert due.astimezone(BERLIN).replace(tzinfo=None) == datetime(
        2026, 11, 27, 8, 0, tzinfo=BERLIN
    ).replace(tzinfo=None)
    fine = Schedule("daily", time(18, 0))
    assert next_due(fine, BERLIN, utc(2026, 11, 26, 12, 0), quiet) == utc(2026, 11, 26, 17, 0)
    assert quiet.contains(time(23, 0))
    assert quiet.contains(time(7, 59))
    assert not quiet.contains(time(8, 0))
    assert not quiet.contains(time(21, 59))


def test_quiet_hours_same_day_window() -> None:
    quiet = QuietHours(time(13, 0), time(15, 0))
    assert outside_quiet(utc(2026, 1, 5, 14, 0), UTC, quiet) == utc(2026, 1, 5, 15, 0)
    assert outside_quiet(utc(2026, 1, 5, 12, 0), UTC, quiet) == utc(2026, 1, 5, 12, 0)


def test_snooze_tomorrow_keeps_local_time_over_dst() -> None:
    pressed = local_to_utc(date(2026, 3, 28), time(18, 5), BERLIN)
    nxt = tomorrow_same_time(pressed, BERLIN, None)
    assert nxt.astimezone(BERLIN).time() == time(18, 5)
    assert nxt - pressed == timedelta(hours=23)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("Berlin", "Europe/Berlin"),
        ("new york", "America/New_York"),
        ("UTC+2", "UTC+02:00"),
        ("utc-03:30", "UTC-03:30"),
        ("GMT+5:30", "UTC+05:30"),
        ("+0", "UTC"),
        ("utc", "UTC"),
        ("Mars/Olympus", None),
        ("UTC+25", None),
        ("", None),
        ("🎸" * 100, None),
    ],
)
def test_parse_timezone(text: str, expected: str | None) -> None:
    assert parse_timezone(text) == expected


def test_fixed_offset_zone() -> None:
    assert utc(2026, 1, 1, 12, 0).astimezone(zone("UTC+05:30")).time() == time(17, 30)
    assert zone("Nowhere/Atlantis") is UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("18:00", time(18, 0)),
        ("9:30", time(9, 30)),
        ("6pm", time(18, 0)),
        ("12am", time(0, 0)),
        ("9.30am", time(9, 30)),
        ("18h", time(18, 0)),
        ("24:00", None),
        ("13pm", None),
        ("soon", None),
    ],
)
def test_parse_time(text: str, expected: time | None) -> None:
    assert parse_time(text) == expected


def test_parse_days() -> None:
    assert parse_days("mon,thu") == {0, 3}
    assert parse_days("Monday and Thursday") == {0, 3}
    assert parse_days("weekdays") == {0, 1, 2, 3, 4}
    assert parse_days("sat sun") == {5, 6}
    assert parse_days("t") is None  # ambiguous
    assert parse_days("someday") is None


def test_quiet_parse() -> None:
    assert QuietHours.parse("22:00-08:00") == QuietHours(time(22), time(8))
    assert QuietHours.parse("10pm to 7am") == QuietHours(time(22), time(7))
    assert QuietHours.parse("22-22") is None
    assert QuietHours.parse("late") is None


def test_schedule_json_round_trip() -> None:
    weekly = Schedule("weekly", time(9, 30), frozenset({0, 3}))
    assert Schedule.from_json(weekly.to_json()) == weekly
    assert Schedule.from_json({"type": "hourly"}) is None
