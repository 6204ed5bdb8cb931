"""Milestone detection (core/coaching/milestones/detect.py) and its words: pure rules."""

from __future__ import annotations

import re
from pathlib import Path

import core
from core.coaching.milestones.detect import KEY_MAX, Reached, detect, worth_a_notice
from core.coaching.milestones.words import to_band, to_musician
from core.db.models import MILESTONE_EVENTS
from core.kernel.markup import to_plain


def keys(event_type: str, **payload: str) -> list[str]:
    return [r.key for r in detect(event_type, payload)]


def test_audience_numbers_reach_every_threshold_at_or_below_them() -> None:
    assert keys("stats.updated", metric="monthly_listeners", value="99") == []
    assert keys("stats.updated", metric="monthly_listeners", value="100") == [
        "metric:monthly_listeners:100"
    ]
    assert keys("stats.updated", metric="followers_tiktok", value="12000.5") == [
        "metric:followers_tiktok:100",
        "metric:followers_tiktok:1000",
        "metric:followers_tiktok:10000",
    ]


def test_a_threshold_counts_when_a_number_crosses_it() -> None:
    crossing = keys("stats.updated", metric="monthly_listeners", value="1200", previous="900")
    assert crossing == ["metric:monthly_listeners:1000"]
    assert keys("stats.updated", metric="monthly_listeners", value="5200", previous="5000") == []
    # a drop and a climb back cross again: the consumer's unique key tells it was reached
    assert keys("stats.updated", metric="monthly_listeners", value="1000", previous="999") == [
        "metric:monthly_listeners:1000"
    ]
    # an unreadable previous value counts as none
    assert len(keys("stats.updated", metric="monthly_listeners", value="150", previous="x")) == 1


def test_numbers_that_are_not_an_audience_reach_no_threshold() -> None:
    assert keys("stats.updated", metric="set_length", value="5000") == []
    assert keys("stats.updated", metric="master_lufs", value="-14") == []
    assert keys("stats.updated", metric="release_budget", value="20000") == []


def test_bad_values_reach_nothing_and_never_raise() -> None:
    for value in ("", "12.5k", "NaN", "Infinity", "-5000", "🎸", "sNaN"):
        assert keys("stats.updated", metric="monthly_listeners", value=value) == []
    assert keys("stats.updated", value="5000") == []
    assert keys("stats.updated", metric="monthly_listeners") == []


def test_first_paid_gig_is_a_fee_above_zero() -> None:
    assert keys("stats.updated", metric="gig_fee", value="0") == []
    assert keys("stats.updated", metric="gig_fee", value="-10") == []
    assert keys("stats.updated", metric="gig_fee", value="150") == ["first-paid-gig"]


def test_goal_stage_roadmap_are_inline_and_release_day_is_not() -> None:
    goal = detect("goal.met", {"metric": "monthly_listeners", "target": "2000", "by": "2027-03-31"})
    assert [r.key for r in goal] == ["goal:monthly_listeners:2000:2027-03-31"]
    stage = detect("stage.completed", {"stage": "write-and-record", "roadmap": "indie"})
    roadmap = detect("roadmap.completed", {"roadmap": "indie"})
    release = detect("release.day", {"date": "2027-03-05"})
    assert [r.key for r in stage] == ["stage:write-and-record"]
    assert [r.key for r in roadmap] == ["roadmap:indie"]
    assert [r.key for r in release] == ["release-day:2027-03-05"]
    assert all(r.inline for r in goal + stage + roadmap)
    assert not release[0].inline


def test_other_and_incomplete_events_reach_nothing() -> None:
    assert keys("task.completed", task="iss-rights") == []
    assert keys("task.skipped", task="x") == []
    assert keys("goal.set", metric="monthly_listeners") == []
    assert keys("goal.met", metric="monthly_listeners") == []
    assert keys("stage.completed") == []
    assert keys("roadmap.completed") == []
    assert keys("release.day") == []


def test_keys_fit_their_column() -> None:
    long = "x" * 300
    for reached in detect("goal.met", {"metric": long, "target": long, "by": long}):
        assert len(reached.key) <= KEY_MAX
    for reached in detect("stage.completed", {"stage": long}):
        assert len(reached.key) <= KEY_MAX


def test_one_number_crossing_three_thresholds_is_told_once_the_highest() -> None:
    new = detect("stats.updated", {"metric": "monthly_listeners", "value": "12000"})
    assert worth_a_notice(new) == {"metric:monthly_listeners:10000"}
    # two metrics in one batch are two notices; inline milestones none
    other = detect("stats.updated", {"metric": "followers_instagram", "value": "150"})
    inline = detect("stage.completed", {"stage": "s"})
    assert worth_a_notice([*new, *other, *inline]) == {
        "metric:monthly_listeners:10000",
        "metric:followers_instagram:100",
    }
    assert worth_a_notice([]) == set()


def test_words_name_the_moment_and_escape_what_they_quote() -> None:
    names = {"write-and-record": "Write *and* Record"}.get
    metric = detect("stats.updated", {"metric": "monthly_listeners", "value": "1234"})[-1]
    text = to_plain(to_musician(metric, names))
    assert "1 000 monthly listeners" in text  # no locale known: the neutral grouping
    assert "1 234" in text
    german = to_plain(to_musician(metric, names, "de-DE"))  # the musician's own way
    assert "1.000 monthly listeners" in german
    assert "1.234" in german
    assert "1,000 monthly listeners" in to_plain(to_musician(metric, names, "en-US"))
    gig = Reached("first-paid-gig", "first-paid-gig")
    assert "first paid gig" in to_plain(to_musician(gig, names)).lower()
    release = detect("release.day", {"date": "2027-03-05"})[0]
    assert "Release day" in to_plain(to_musician(release, names))
    stage = detect("stage.completed", {"stage": "write-and-record"})[0]
    band_line = to_band("The *Bold* Ones", stage, names)
    assert "\\*Bold\\*" in band_line or "*Bold*" in to_plain(band_line)
    assert "Write *and* Record" in to_plain(band_line)
    unknown = detect("roadmap.completed", {"roadmap": "gone-roadmap"})[0]
    assert "gone-roadmap" in to_plain(to_band("Band", unknown, names))


def test_every_event_type_outside_milestone_events_reaches_no_milestone() -> None:
    """Housekeeping prunes unprocessed events of a type outside ``MILESTONE_EVENTS`` early: so
    ``detect`` must find nothing in them, whatever the payload. Every type the code writes."""
    written = {
        match
        for path in Path(core.__file__).parent.rglob("*.py")
        for match in re.findall(r"\.event\(\s*\"([a-z._]+)\"", path.read_text(encoding="utf-8"))
    }
    assert {"task.completed", "stats.updated", "stage.completed"} <= written
    payloads = [
        {},
        {"metric": "monthly_listeners", "value": "5000", "previous": "1"},
        {"metric": "gig_fee", "value": "100", "target": "1", "stage": "s", "roadmap": "r"},
        {"date": "2026-12-01", "task": "t"},
    ]
    for kind in sorted(written - set(MILESTONE_EVENTS)):
        assert all(detect(kind, p) == [] for p in payloads), kind
    assert all(any(detect(kind, p) for p in payloads) for kind in MILESTONE_EVENTS)
