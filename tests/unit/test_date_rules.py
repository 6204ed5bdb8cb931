"""Date rules (core/progress/date_rules.py): table tests of each rule's words, and properties of
the suggested dates for any rules and any date (hypothesis)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.progress.date_rules import broken_rules, follows, in_window, nearest_good
from core.roadmaps.schema import Blackout, DateRules

# Any "today" at all: the rules are relative to it, so the tests hold on every date.
TODAY = datetime.now(UTC).date()
HOLIDAYS = Blackout(start="12-18", end="01-04", why="nobody listens between the holidays.")
RELEASE = DateRules(
    weekday="friday",
    min_days_ahead=28,
    max_days_ahead=120,
    avoid=(HOLIDAYS,),
    why="Stores need about 4 weeks to ingest a release.",
)


def _next(weekday: int, after: date) -> date:
    return after + timedelta(days=(weekday - after.weekday()) % 7)


def _good_friday(today: date) -> date:
    """A Friday 6–8 weeks out that is not in the holidays."""
    day = _next(4, today + timedelta(days=42))
    while in_window(HOLIDAYS, day):
        day += timedelta(days=7)
    return day


@pytest.mark.parametrize(
    ("shift", "rule", "words"),
    [
        (1, "weekday", "It should be a Friday"),
        (0, "min_days_ahead", "plan at least 4 weeks ahead"),
        (0, "max_days_ahead", "pick a date within"),
    ],
)
def test_each_rule_says_why(shift: int, rule: str, words: str) -> None:
    good = _good_friday(TODAY)
    day = {
        "weekday": good - timedelta(days=shift),
        "min_days_ahead": _next(4, TODAY + timedelta(days=5)),
        "max_days_ahead": _next(4, TODAY + timedelta(days=200)),
    }[rule]
    broken = [b for b in broken_rules(RELEASE, day, TODAY) if b.rule == rule]
    assert len(broken) == 1
    assert words.casefold() in broken[0].reason.casefold()


def test_a_thursday_names_its_weekday() -> None:
    thursday = _good_friday(TODAY) - timedelta(days=1)
    reasons = [b.reason for b in broken_rules(RELEASE, thursday, TODAY)]
    assert reasons[0] == "That's a Thursday — it should be a Friday."


def test_too_soon_says_how_far_away() -> None:
    soon = TODAY + timedelta(days=5)
    reasons = {b.rule: b.reason for b in broken_rules(RELEASE, soon, TODAY)}
    assert reasons["min_days_ahead"].startswith("Only 5 days away")
    past = TODAY - timedelta(days=2)
    reasons = {b.rule: b.reason for b in broken_rules(RELEASE, past, TODAY)}
    assert reasons["min_days_ahead"].startswith("2 days ago")


def test_holiday_window_wraps_the_new_year() -> None:
    year = TODAY.year + 1
    for inside in (date(year, 12, 18), date(year, 12, 31), date(year + 1, 1, 1), date(year, 1, 4)):
        assert in_window(HOLIDAYS, inside), inside
    for outside in (date(year, 12, 17), date(year, 1, 5), date(year, 7, 1)):
        assert not in_window(HOLIDAYS, outside), outside
    reasons = [
        b.reason for b in broken_rules(DateRules(avoid=(HOLIDAYS,)), date(year, 12, 24), TODAY)
    ]
    assert reasons == ["That's between 18 Dec and 4 Jan: nobody listens between the holidays."]


def test_a_good_date_breaks_nothing_and_nearest_fridays_come_first() -> None:
    good = _good_friday(TODAY)
    assert broken_rules(RELEASE, good, TODAY) == []
    thursday = good - timedelta(days=1)
    suggested = nearest_good(RELEASE, thursday, TODAY)
    assert suggested[0] == good
    assert all(day.weekday() == 4 for day in suggested)
    assert len(suggested) == 3


def test_rules_that_leave_no_date_suggest_none() -> None:
    whole_year = DateRules(avoid=(Blackout(start="01-01", end="12-31", why="never."),))
    assert nearest_good(whole_year, TODAY, TODAY) == []


# ------------------------------------------------------------------------------ properties

_MONTH_DAY = st.tuples(st.integers(1, 12), st.integers(1, 28)).map(
    lambda md: f"{md[0]:02d}-{md[1]:02d}"
)


@st.composite
def _rules(draw: st.DrawFn) -> DateRules:
    lo = draw(st.none() | st.integers(0, 120))
    hi = draw(st.none() | st.integers(lo or 0, 400))
    windows = draw(
        st.lists(
            st.builds(Blackout, start=_MONTH_DAY, end=_MONTH_DAY, why=st.just("busy.")),
            max_size=2,
        )
    )
    weekday = draw(
        st.none()
        | st.sampled_from(
            ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        )
    )
    return DateRules(weekday=weekday, min_days_ahead=lo, max_days_ahead=hi, avoid=tuple(windows))


_DAYS = st.integers(-60, 900)


@settings(max_examples=200, deadline=None)
@given(rules=_rules(), offset=_DAYS, today_shift=st.integers(0, 366))
def test_every_suggestion_follows_every_rule_nearest_first(
    rules: DateRules, offset: int, today_shift: int
) -> None:
    today = TODAY + timedelta(days=today_shift)
    day = today + timedelta(days=offset)
    suggested = nearest_good(rules, day, today)
    assert len(suggested) <= 3
    assert len(set(suggested)) == len(suggested)
    for good in suggested:
        assert follows(rules, good, today)
        assert broken_rules(rules, good, today) == []
        assert good >= today
    distances = [abs((good - day).days) for good in suggested]
    assert distances == sorted(distances)


@settings(max_examples=200, deadline=None)
@given(rules=_rules(), offset=_DAYS)
def test_no_closer_good_date_was_left_out(rules: DateRules, offset: int) -> None:
    day = TODAY + timedelta(days=offset)
    suggested = nearest_good(rules, day, TODAY, count=1)
    if not suggested:
        return
    reach = abs((suggested[0] - day).days)
    for delta in range(-reach + 1, reach):
        closer = day + timedelta(days=delta)
        assert closer < TODAY or not follows(rules, closer, TODAY)


@settings(max_examples=200, deadline=None)
@given(rules=_rules(), offset=_DAYS)
def test_a_date_is_good_exactly_when_no_rule_is_broken(rules: DateRules, offset: int) -> None:
    day = TODAY + timedelta(days=offset)
    broken = broken_rules(rules, day, TODAY)
    assert follows(rules, day, TODAY) == (not broken)
    assert all(rule.reason for rule in broken)
    if follows(rules, day, TODAY) and day >= TODAY:
        assert nearest_good(rules, day, TODAY, count=1) == [day]


@given(start=_MONTH_DAY, end=_MONTH_DAY, offset=st.integers(0, 800))
def test_a_window_that_wraps_holds_both_ends_of_the_year(start: str, end: str, offset: int) -> None:
    window = Blackout(start=start, end=end, why="busy.")
    day = TODAY + timedelta(days=offset)
    here = (day.month, day.day)
    lo, hi = tuple(map(int, start.split("-"))), tuple(map(int, end.split("-")))
    expected = lo <= here <= hi if lo <= hi else (here >= lo or here <= hi)
    assert in_window(window, day) == expected
