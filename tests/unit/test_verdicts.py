"""The verdicts on a number (``core.progress.verdicts``): table tests of every rule.

Each table row is one value against one spec: which reference holds at every band edge, how
``of`` ratios are judged (and skipped without the other metric), how placeholders are filled,
which way a change is judged, how far a goal is, and which values are suspect.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from core.progress.verdicts import (
    Goal,
    amount,
    assess,
    compare,
    fill,
    goal_of,
    percentage,
    short_date,
    suspect,
    versus_goal,
)
from core.roadmaps.schema import InputSpec, Verdict

TODAY = datetime.now(UTC).date()


def spec(**kw: Any) -> InputSpec:
    base: dict[str, Any] = {"type": "decimal", "question": "How much?"}
    return InputSpec.model_validate(base | kw)


def ref(verdict: str, says: str = "s", advice: str = "a", **band: Any) -> dict[str, Any]:
    return {"verdict": verdict, "says": says, "advice": advice, **band}


LUFS = spec(
    unit="LUFS",
    target=-14,
    references=[
        ref("warn", "louder by {gap}", "turn it down", at_least=-13),
        ref("good", "right there", "keep it", at_least=-15, below=-13),
        ref("ok", "{gap} quieter", "fine", below=-15),
    ],
    suspect=[{"at_least": 0, "ask": "Did you mean -{value}?"}],
)


@pytest.mark.parametrize(
    ("value", "verdict", "says"),
    [
        ("-9.5", Verdict.WARN, "louder by 4.5"),
        ("-13", Verdict.WARN, "louder by 1"),  # at_least is inclusive
        ("-13.0001", Verdict.GOOD, "right there"),  # below is exclusive
        ("-14", Verdict.GOOD, "right there"),
        ("-15", Verdict.GOOD, "right there"),
        ("-15.01", Verdict.OK, "1.01 quieter"),
        ("-23", Verdict.OK, "9 quieter"),
    ],
)
def test_first_band_that_holds_wins_at_every_edge(value: str, verdict: Verdict, says: str) -> None:
    reading = assess(LUFS, Decimal(value), f"{value} LUFS", {})
    assert reading is not None
    assert (reading.verdict, reading.says) == (verdict, says)


def test_no_reference_no_reading() -> None:
    assert assess(spec(), Decimal(1), "1", {}) is None
    gap = spec(references=[ref("good", at_least=10)])
    assert assess(gap, Decimal(9), "9", {}) is None


def test_order_decides_between_overlapping_bands() -> None:
    overlapping = spec(
        references=[ref("bad", "first", at_least=0), ref("good", "second", at_least=5)]
    )
    reading = assess(overlapping, Decimal(7), "7", {})
    assert reading is not None
    assert reading.says == "first"


TICKETS = spec(
    type="integer",
    references=[
        ref("good", "{ratio} full", "bigger room", at_least="0.9", of="capacity"),
        ref("bad", "only {ratio}", "email the list", below="0.5", of="capacity"),
        ref("ok", "{value} sold", "post again", at_least=0),
    ],
)


@pytest.mark.parametrize(
    ("sold", "capacity", "verdict", "says"),
    [
        (180, "200", Verdict.GOOD, "90% full"),  # 0.9 exactly holds
        (179, "200", Verdict.OK, "179 sold"),
        (100, "200", Verdict.OK, "100 sold"),  # 0.5 is not below 0.5
        (99, "200", Verdict.BAD, "only 50%"),  # 49.5 % rounds to a whole percent
        (9, "200", Verdict.BAD, "only 4.5%"),  # one decimal under 10 %
        (300, "200", Verdict.GOOD, "150% full"),
        (50, None, Verdict.OK, "50 sold"),  # no capacity yet: the ratio bands are skipped
        (50, "0", Verdict.OK, "50 sold"),  # a zero capacity has no ratio
        (50, "lots", Verdict.OK, "50 sold"),  # nor does a damaged one
    ],
)
def test_of_references_judge_the_ratio(
    sold: int, capacity: str | None, verdict: Verdict, says: str
) -> None:
    stats = {} if capacity is None else {"capacity": {"value": capacity, "display": capacity}}
    reading = assess(TICKETS, Decimal(sold), str(sold), stats)
    assert reading is not None
    assert (reading.verdict, reading.says) == (verdict, says)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{value} is {gap} off", "-9.5 LUFS is 4.5 off"),
        ("no placeholders", "no placeholders"),
        ("{unknown} stays", "{unknown} stays"),
        ("a stray { brace", "a stray { brace"),
        ("{0} positional", "{0} positional"),
        ("{ratio} without of", " without of"),
    ],
)
def test_placeholders(template: str, expected: str) -> None:
    fields = {"value": "-9.5 LUFS", "gap": "4.5", "ratio": ""}
    assert fill(template, fields) == expected


def test_gap_is_empty_without_a_target_and_sensible_with_one() -> None:
    no_target = spec(references=[ref("ok", "gap:{gap}", at_least=0)])
    reading = assess(no_target, Decimal(3), "3", {})
    assert reading is not None
    assert reading.says == "gap:"
    money = spec(
        type="money",
        unit="EUR",
        target=500,
        references=[ref("warn", "{gap} short of {value}", below=500)],
    )
    reading = assess(money, Decimal("450"), "€450.00", {})
    assert reading is not None
    assert reading.says == "€50.00 short of €450.00"


@pytest.mark.parametrize(
    ("kw", "magnitude", "unit", "shown"),
    [
        ({}, "4.5", False, "4.5"),
        ({}, "-4.5", False, "4.5"),
        ({}, "1200", False, "1,200"),
        ({}, "1200.004", False, "1,200"),
        ({}, "0.005", False, "0.01"),
        ({"unit": "LUFS"}, "4.5", True, "4.5 LUFS"),
        ({"type": "percent"}, "3.5", True, "3.5 points"),
        ({"type": "money", "unit": "EUR"}, "50", True, "€50.00"),
        ({"type": "duration"}, "150", True, "2 min 30 s"),
        ({"type": "integer"}, "0", False, "0"),
    ],
)
def test_amounts(kw: dict[str, Any], magnitude: str, unit: bool, shown: str) -> None:
    assert amount(spec(**kw), Decimal(magnitude), unit=unit) == shown


@pytest.mark.parametrize(
    ("fraction", "shown"), [("0.234", "23%"), ("0.042", "4.2%"), ("0.1", "10%"), ("1.5", "150%")]
)
def test_percentages(fraction: str, shown: str) -> None:
    assert percentage(Decimal(fraction)) == shown


def test_short_dates_name_the_year_only_when_it_is_another() -> None:
    day = TODAY.replace(month=11, day=3)
    assert short_date(day, day) == "3 Nov"
    assert short_date(day.replace(year=day.year - 1), day) == f"3 Nov {day.year - 1}"


SINCE = TODAY - timedelta(days=30)


@pytest.mark.parametrize(
    ("kw", "previous", "value", "text"),
    [
        ({"better": "higher"}, "1000", "1120", "Up 12% since {since} — nice."),
        ({"better": "higher"}, "1000", "880", "Down 12% since {since} — the wrong way."),
        ({"better": "lower"}, "1000", "1120", "Up 12% since {since} — the wrong way."),
        ({"better": "lower"}, "1000", "880", "Down 12% since {since} — nice."),
        ({}, "1000", "1120", "Up 12% since {since}."),
        ({"better": "higher"}, "1000", "1000", "Same as on {since}."),
        ({"better": "lower"}, "1000", "1000", "Same as on {since}."),
        # too small a change for a percentage: the distance itself
        ({"better": "higher"}, "100000", "100001", "Up 1 since {since} — nice."),
        # negatives (LUFS) and a zero start have no sensible percentage
        ({"unit": "LUFS"}, "-14", "-9.5", "Up 4.5 LUFS since {since}."),
        ({"unit": "LUFS", "better": "lower"}, "-9.5", "-14", "Down 4.5 LUFS since {since} — nice."),
        ({"better": "higher"}, "0", "50", "Up 50 since {since} — nice."),
        # a percentage moves in points
        ({"type": "percent", "better": "higher"}, "20", "25", "Up 5 points since {since} — nice."),
    ],
)
def test_comparisons(kw: dict[str, Any], previous: str, value: str, text: str) -> None:
    change = compare(spec(**kw), Decimal(value), Decimal(previous), since=SINCE, today=TODAY)
    assert change.text() == text.format(since=short_date(SINCE, TODAY))


def test_a_comparison_without_a_date_says_last_time() -> None:
    up = compare(spec(), Decimal(2), Decimal(1), since=None, today=TODAY)
    assert up.text() == "Up 100% since last time."
    assert compare(spec(), Decimal(1), Decimal(1), since=None, today=TODAY).text() == (
        "Same as last time."
    )


def test_goals_are_read_from_the_stats_entry() -> None:
    by = TODAY + timedelta(days=100)
    good = {"followers": {"value": "1", "goal": {"target": "2000", "by": by.isoformat()}}}
    assert goal_of(good, "followers") == Goal(Decimal(2000), by)
    for broken in (
        {},
        {"followers": {"value": "1"}},
        {"followers": {"goal": "2000"}},
        {"followers": {"goal": {"target": "lots", "by": by.isoformat()}}},
        {"followers": {"goal": {"target": "2000", "by": "someday"}}},
        {"followers": {"goal": {"target": "NaN", "by": by.isoformat()}}},
        {"followers": "1"},
    ):
        assert goal_of(broken, "followers") is None, broken


@pytest.mark.parametrize(
    ("kw", "value", "days", "text"),
    [
        ({"type": "integer", "better": "higher"}, "1120", 100, "Goal: 2,000 by {by} — 880 to go."),
        ({"type": "integer"}, "1120", 100, "Goal: 2,000 by {by} — 880 to go."),
        ({"type": "integer", "better": "higher"}, "2000", 100, "That meets your goal of 2,000."),
        (
            {"type": "integer", "better": "higher"},
            "1500",
            -5,
            "Your goal was 2,000 by {by}: 500 to go.",
        ),
        ({"type": "integer", "better": "lower"}, "2500", 100, "Goal: 2,000 by {by} — 500 to go."),
        ({"type": "integer", "better": "lower"}, "1500", 100, "That meets your goal of 2,000."),
    ],
)
def test_goal_lines(kw: dict[str, Any], value: str, days: int, text: str) -> None:
    by = TODAY + timedelta(days=days)
    line = versus_goal(spec(**kw), Decimal(value), Goal(Decimal(2000), by), today=TODAY)
    assert line == text.format(by=short_date(by, TODAY))


@pytest.mark.parametrize(
    ("value", "ask"),
    [
        ("14.2", "Did you mean -14.2 LUFS?"),
        ("0", "Did you mean -0.0 LUFS?"),  # at_least is inclusive
        ("-0.1", None),
        ("-14", None),
    ],
)
def test_suspect_values(value: str, ask: str | None) -> None:
    shown = f"{Decimal(value):f} LUFS" if value != "0" else "0.0 LUFS"
    assert suspect(LUFS, Decimal(value), shown) == ask


def test_the_first_suspect_band_asks() -> None:
    two = spec(
        suspect=[
            {"below": 0, "ask": "negative?"},
            {"at_least": 1000, "ask": "{value} is a lot"},
            {"at_least": 500, "ask": "{value}: sure?"},
        ]
    )
    assert suspect(two, Decimal(-1), "-1") == "negative?"
    assert suspect(two, Decimal(5000), "5,000") == "5,000 is a lot"
    assert suspect(two, Decimal(600), "600") == "600: sure?"
    assert suspect(two, Decimal(5), "5") is None
