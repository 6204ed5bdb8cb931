"""The weekly review, pure (core/coaching/review/{week,compose}.py and the tick's decision in
core/reminders/review_kind.py): the local week, the per-person spread, the slot across DST,
the settings' words, what a review says from given rows, the gentle version, the focus and
its buttons, and when the tick sends (once a week, quiet hours, grace, back-off) — those tick
rules for the band digest too (core/reminders/weekly.py is both kinds')."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from cycleroadmap import cycle_roadmap
from hypothesis import example, given, settings
from hypothesis import strategies as st
from support.plankit import plan_roadmap

from core.coaching.review.compose import Inputs, Moved, compose, moved, render, reviewed_week
from core.coaching.review.week import (
    Slot,
    every,
    parse_slot,
    sends_now,
    silent_weeks,
    spread,
    this_week,
    week_of,
)
from core.journey.buttons import OPEN
from core.progress.service import ProgressRecord
from core.progress.streaks import Streak
from core.reminders import digest_kind
from core.reminders.dispatch import Plan
from core.reminders.review_kind import plan as review_plan
from core.reminders.store import ClaimedRow, Owner
from core.reminders.weekly import GRACE
from core.roadmaps.catalog import catalog_from

BERLIN = ZoneInfo("Europe/Berlin")
CATALOG = catalog_from([plan_roadmap()])
ROADMAP = CATALOG.roadmaps[0]
TASKS = CATALOG.tasks_by_slug
#: A Wednesday noon in Berlin, whatever today is (the suite also runs a year ahead).
_TODAY = datetime.now(UTC).date()
WEDNESDAY = datetime.combine(
    _TODAY - timedelta(days=_TODAY.weekday()) + timedelta(days=2), time(12), tzinfo=BERLIN
).astimezone(UTC)


# ------------------------------------------------------------------------------ the week


def test_the_week_is_monday_to_sunday_local() -> None:
    week = this_week(WEDNESDAY, BERLIN)
    assert week.monday.weekday() == 0
    assert week.sunday == week.monday + timedelta(days=6)
    assert week.start == datetime.combine(week.monday, time(0), tzinfo=BERLIN).astimezone(UTC)
    assert week.end - week.start in {
        timedelta(days=7),
        timedelta(days=7, hours=1),
        timedelta(days=6, hours=23),
    }
    year, number, _ = week.monday.isocalendar()
    assert week.label == f"{year}-W{number:02d}"


def test_a_late_sunday_in_tokyo_is_still_that_week() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    sunday = datetime.combine(date(2027, 3, 7), time(23, 30), tzinfo=tokyo)
    assert this_week(sunday.astimezone(UTC), tokyo).monday == date(2027, 3, 1)
    assert week_of(date(2027, 1, 3), UTC).label == "2026-W53"  # ISO weeks across a new year


def test_the_spread_is_stable_within_the_hour_and_spreads() -> None:
    pid = uuid.UUID("6f1c9f3e-1d2b-4c55-9a0e-3f4b5c6d7e8f")
    assert spread(pid) == spread(uuid.UUID(str(pid)))
    offsets = {spread(uuid.uuid5(uuid.NAMESPACE_URL, str(n))) for n in range(500)}
    assert all(timedelta(0) <= o < timedelta(hours=1) for o in offsets)
    minutes = {int(o.total_seconds() // 60) for o in offsets}
    assert len(minutes) > 50  # 500 people land on most minutes of the hour, not on one second


@settings(max_examples=80, deadline=None)
@given(
    day=st.integers(0, 6),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    instant=st.datetimes(
        min_value=datetime(2026, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
        max_value=datetime(2030, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    seconds=st.integers(0, 3599),
)
# Sunday 02:00 on the day Berlin's clocks jump from 02:00 to 03:00: that slot is 03:00 that day
@example(day=6, hour=2, minute=0, instant=datetime(2026, 3, 22, 1, 0, tzinfo=UTC), seconds=0)
def test_slot_occurrences_keep_the_local_time_across_dst(
    day: int, hour: int, minute: int, instant: datetime, seconds: int
) -> None:
    slot, offset = Slot(day, time(hour, minute)), timedelta(seconds=seconds)
    nxt = slot.next_after(instant, BERLIN, offset)
    last = slot.latest_at(instant, BERLIN, offset)
    assert last <= instant < nxt
    assert nxt - last <= timedelta(days=7, hours=1)
    for at in (nxt, last):
        local = (at - offset).astimezone(BERLIN)
        assert local.weekday() == day or local.time() != time(hour, minute)  # a DST gap moves it
        if local.weekday() == day:
            assert local.time() == time(hour, minute) or not _exists(local.date(), hour, minute)


def _exists(day: date, hour: int, minute: int) -> bool:
    """Whether Berlin's clocks show ``hour:minute`` on ``day`` (not inside a DST gap)."""
    wall = datetime.combine(day, time(hour, minute), tzinfo=BERLIN)
    return wall.astimezone(UTC).astimezone(BERLIN).replace(tzinfo=None) == wall.replace(tzinfo=None)


def test_settings_words() -> None:
    assert parse_slot("monday 9:00") == Slot(0, time(9, 0))
    assert parse_slot("Fri 18:30") == Slot(4, time(18, 30))
    assert parse_slot("9:00 thursday") == Slot(3, time(9, 0))
    assert parse_slot("sunday", Slot(0, time(8, 15))) == Slot(6, time(8, 15))
    assert parse_slot("7", Slot(2, time(10))) == Slot(2, time(7, 0))
    for bad, says in [
        ("t 9:00", "don't know the day"),
        ("someday 9:00", "don't know the day"),
        ("monday 25:00", "isn't a time of day"),
        ("monday 9pm", "24-hour"),
        ("monday tuesday", "don't know the day"),
        ("monday 9:00 please", "a day and a 24-hour time"),
        ("🎸", "24-hour"),
        ("-5", "24-hour"),
    ]:
        answer = parse_slot(bad)
        assert isinstance(answer, str), bad
        assert says in answer, bad
    assert Slot.from_json({"days": [9], "time": "nonsense"}) == Slot()
    assert Slot.from_json(Slot(5, time(7, 45)).to_json()) == Slot(5, time(7, 45))


def test_back_off_after_silent_weeks() -> None:
    now = WEDNESDAY
    assert silent_weeks(None, now) == 0
    assert silent_weeks(now - timedelta(days=20), now) == 2
    assert [every(n) for n in (0, 2, 3, 6, 7, 30)] == [1, 1, 2, 2, 4, 4]
    assert sends_now(0, 0)
    assert not sends_now(3, 0)
    assert sends_now(3, 1)
    assert [sends_now(8, held) for held in range(4)] == [False, False, False, True]


# ------------------------------------------------------------------------------ composing


def _rec(slug: str, status: str, **extra: object) -> ProgressRecord:
    task = TASKS[slug]
    return ProgressRecord(task_id=task.id, status=status, stored=True, **extra)  # type: ignore[arg-type]


def _inputs(now: datetime, rows: list[ProgressRecord], **kw: object) -> Inputs:
    values: dict[str, object] = {
        "roadmap": ROADMAP,
        "rows": {r.task_id: r for r in rows},
        "anchors": {},
        "current_stats": {},
        "current_stage_id": None,
        "metrics": CATALOG.metrics,
        "samples": [],
        "now": now,
        "tz": BERLIN,
    }
    values.update(kw)
    return Inputs(**values)  # type: ignore[arg-type]


def test_a_week_with_work_done() -> None:
    now = WEDNESDAY
    week = this_week(now, BERLIN)
    release = now.date() + timedelta(days=30)
    rows = [
        _rec("pl-master", "completed", completed_at=week.start + timedelta(hours=9)),
        _rec("pl-release-date", "completed", completed_at=week.start - timedelta(hours=1)),
        _rec("pl-upload", "skipped", task_data={"skipped_on": week.monday.isoformat()}),
    ]
    samples = [
        ("monthly_listeners", Decimal(1200), week.start - timedelta(days=3)),
        ("monthly_listeners", Decimal(1400), week.start + timedelta(days=1)),
        ("followers", Decimal(50), week.start + timedelta(days=1)),
    ]
    stats = {
        "monthly_listeners": {
            "value": "1400",
            "at": (week.start + timedelta(days=1)).isoformat(),
            "goal": {"target": "2000", "by": (now.date() + timedelta(days=90)).isoformat()},
        }
    }
    review = compose(
        _inputs(
            now,
            rows,
            anchors={"release": release.isoformat()},
            samples=samples,
            current_stats=stats,
            current_stage_id=ROADMAP.stages[1].id,
        )
    )
    assert review.done == ["Master the song"]  # the release date was last week
    assert review.skipped == ["Upload to your distributor"]
    assert review.moved == [
        Moved("followers", None, Decimal(50)),
        Moved("monthly_listeners", Decimal(1200), Decimal(1400)),
    ]
    assert [g.metric for g in review.goals] == ["monthly_listeners"]
    assert [t for _d, t in review.upcoming] == []  # the pitch is due in 23 days: not yet
    assert [f.title for f in review.focus][:1] == ["Pitch to editorial playlists"]
    assert review.streak is None
    assert not review.quiet
    message = render(review)
    text = message.text
    assert "(so far)" in text
    assert "✅ Done (1): Master the song" in text
    assert "⏭️ Skipped (1): Upload to your distributor" in text
    assert "1,200 → *1,400* (▲ +200)" in text
    assert "your first number" in text
    assert "🎯" in text
    assert "Next week's focus" in text
    assert "Streak" not in text  # None: the streak helper's line is not shown
    payloads = [b.payload for b in message.all_buttons()]
    assert payloads[0] == OPEN.encode("pl-pitch")
    assert len(payloads) == len(review.focus) <= 3


def test_the_streak_line_shows_when_set() -> None:
    review = compose(
        _inputs(
            WEDNESDAY,
            [],
            streak=Streak(
                weeks=4,
                best=6,
                this_week_done=True,
                this_week_frozen=False,
                freeze=None,
                freezes_left=2,
                today=WEDNESDAY.date(),
            ),
            samples=[("followers", Decimal(5), WEDNESDAY - timedelta(hours=1))],
        )
    )
    assert "🔥 Streak: *4 weeks* — this week's done." in render(review).text


def test_a_quiet_week_keeps_a_live_streak_in_view() -> None:
    live = Streak(
        weeks=3,
        best=3,
        this_week_done=False,
        this_week_frozen=False,
        freeze=None,
        freezes_left=2,
        today=WEDNESDAY.date(),
    )
    quiet = render(compose(_inputs(WEDNESDAY, [], streak=live))).text
    assert quiet.startswith("🌱 A quiet week")
    assert "🔥 Streak: *3 weeks* — keep it alive this week." in quiet
    none = render(compose(_inputs(WEDNESDAY, [], streak=replace(live, weeks=0)))).text
    assert "Streak" not in none


def test_focus_is_the_choosers_top_three_in_order() -> None:
    review = compose(_inputs(WEDNESDAY, []))
    assert [f.task.slug for f in review.focus if f.task] == [
        "pl-master",
        "pl-release-date",
        "pl-upload",
    ][: len(review.focus)]
    assert len(review.focus) >= 2
    assert len({f.title for f in review.focus}) == len(review.focus)  # never the same twice


def test_a_quiet_week_gets_the_gentle_version() -> None:
    review = compose(_inputs(WEDNESDAY, []))
    assert review.quiet
    message = render(review)
    assert message.text.startswith("🌱 A quiet week")
    assert "Master the song" in message.text
    assert len(message.text) < 160
    assert [b.payload for b in message.all_buttons()] == [OPEN.encode("pl-master")]
    finished = compose(_inputs(WEDNESDAY, [], roadmap=None))
    assert "/today" in render(finished).text


def test_on_a_monday_the_review_is_of_the_week_just_finished() -> None:
    monday = WEDNESDAY - timedelta(days=2)
    done = _rec("pl-master", "completed", completed_at=monday - timedelta(days=2))
    review = compose(_inputs(monday, [done]))
    assert review.done == ["Master the song"]
    assert "(so far)" not in render(review).text


def test_moved_ignores_numbers_outside_the_week() -> None:
    start, end = WEDNESDAY - timedelta(days=2), WEDNESDAY
    older = [("x", Decimal(1), start - timedelta(days=1))]
    assert moved(older, start, end) == []
    same = [("x", Decimal(3), start + timedelta(hours=1)), ("x", Decimal(3), end - timedelta(1))]
    assert moved(same, start, end) == [Moved("x", Decimal(3), Decimal(3))]


# ------------------------------------------------------------------------------ the tick


def _row(next_due: datetime, **kw: object) -> ClaimedRow:
    values: dict[str, object] = {
        "id": uuid.UUID(int=7),
        "user_id": uuid.UUID(int=1),
        "band_id": None,
        "kind": "review",
        "schedule": Slot().to_json(),
        "timezone": "Europe/Berlin",
        "quiet_start": None,
        "quiet_end": None,
        "platform": "console",
        "target_chat": "maya",
        "next_due_at": next_due,
        "stage": 0,
        "attempts": 0,
        "last_sent_at": None,
    }
    values.update(kw)
    return ClaimedRow(**values)  # type: ignore[arg-type]


PID = uuid.UUID(int=42)


def _owner(active: datetime | None) -> Owner:
    return Owner(PID, "Maya", None, active, False)


def _monday_slot(weeks: int = 0) -> datetime:
    return Slot().occurrence(WEDNESDAY.date() + timedelta(days=7 * weeks), BERLIN, spread(PID))


#: The review's and a band digest's tick rules are one (core/reminders/weekly.py): every test
#: below runs for both kinds.
WEEKLY = pytest.mark.parametrize("kind", ["review", "digest"])


def _plan(kind: str, row: ClaimedRow, owner: Owner | None, now: datetime) -> Plan:
    """The kind's own plan() on its own kind of row (a digest's is a band's)."""
    if kind == "review":
        return review_plan(row, owner, now)
    band = replace(row, kind="digest", user_id=None, band_id=uuid.UUID(int=3))
    return digest_kind.plan(band, owner, now)


@WEEKLY
def test_the_tick_sends_at_the_slot_under_the_iso_week_key(kind: str) -> None:
    slot = _monday_slot(1)
    now = slot + timedelta(seconds=5)
    decided = _plan(kind, _row(slot), _owner(now - timedelta(days=1)), now)
    assert decided.send == kind
    label = week_of(slot.astimezone(BERLIN).date(), BERLIN).label
    assert decided.key == f"{uuid.UUID(int=7).hex}:{label}:{kind}"
    assert decided.next_due == _monday_slot(2)
    before = _plan(kind, _row(slot), _owner(now), slot - timedelta(seconds=1))
    assert before.send is None
    assert before.next_due == slot


@WEEKLY
def test_a_new_row_does_not_send_a_slot_before_it_and_a_sent_week_not_again(kind: str) -> None:
    slot = _monday_slot(1)
    now = slot + timedelta(minutes=30)
    fresh = _plan(kind, _row(slot + timedelta(minutes=10)), _owner(now), now)
    assert fresh.send is None
    assert fresh.next_due == _monday_slot(2)
    again = _plan(kind, _row(slot, last_sent_at=slot + timedelta(seconds=1)), _owner(now), now)
    assert again.send is None
    assert again.next_due == _monday_slot(2)


@WEEKLY
def test_never_two_reviews_within_five_days(kind: str) -> None:
    slot = _monday_slot(1)
    now = slot + timedelta(seconds=1)
    moved = _plan(kind, _row(slot, last_sent_at=slot - timedelta(days=4)), _owner(now), now)
    assert moved.send is None  # this week's went out on another day: next week's comes
    assert moved.next_due == _monday_slot(2)
    weekly = _plan(kind, _row(slot, last_sent_at=slot - timedelta(days=7)), _owner(now), now)
    assert weekly.send == kind


@WEEKLY
def test_quiet_hours_and_grace(kind: str) -> None:
    slot = _monday_slot(1)
    quiet = {"quiet_start": "09:00", "quiet_end": "11:30"}  # 10:xx is inside
    now = slot + timedelta(seconds=1)
    held = _plan(kind, _row(slot, **quiet), _owner(now), now)
    end = datetime.combine(slot.astimezone(BERLIN).date(), time(11, 30), tzinfo=BERLIN)
    assert held.send is None
    assert held.next_due == end.astimezone(UTC)
    at_end = _plan(kind, _row(held.next_due, **quiet), _owner(now), held.next_due)  # type: ignore[arg-type]
    assert at_end.send == kind
    late = slot + GRACE + timedelta(minutes=1)
    skipped = _plan(kind, _row(slot), _owner(now), late)
    assert skipped.send is None
    assert skipped.skipped
    assert skipped.key.endswith(f":{kind}")


@WEEKLY
def test_silent_weeks_back_off_and_activity_brings_it_back(kind: str) -> None:
    slot = _monday_slot(1)
    now = slot + timedelta(seconds=1)
    gone = _owner(now - timedelta(weeks=4))
    first = _plan(kind, _row(slot), gone, now)
    assert first.send is None
    assert first.stage == 1
    second = _plan(kind, _row(slot, stage=1), gone, now)
    assert second.send == kind
    assert second.stage == 0
    back = _plan(kind, _row(slot, stage=1), _owner(now - timedelta(hours=2)), now)
    assert back.send == kind
    long_gone = _owner(now - timedelta(weeks=10))
    sends = [_plan(kind, _row(slot, stage=n), long_gone, now).send for n in range(4)]
    assert sends == [None, None, None, kind]


@pytest.mark.parametrize("owner", [None, Owner(None, None, None, None, False)])
@WEEKLY
def test_a_row_without_a_profile_stops(kind: str, owner: Owner | None) -> None:
    decided = _plan(kind, _row(_monday_slot(1)), owner, _monday_slot(1))
    assert decided.send is None
    assert decided.next_due is None


def test_a_task_done_in_a_release_cycle_closed_this_week_still_counts() -> None:
    """Starting release 2 resets the cycle's live rows; their steps this week stay in the
    review through ``closed_cycle_done`` (issue #15 §2), and last week's do not."""
    catalog = catalog_from([cycle_roadmap()])
    roadmap = catalog.roadmaps[0]
    plan, save = catalog.tasks_by_slug["cy-plan"], catalog.tasks_by_slug["cy-save"]
    tz = ZoneInfo("Europe/Berlin")
    now = datetime(2027, 3, 3, 12, tzinfo=UTC)  # a Wednesday: the week so far
    week = reviewed_week(now, tz)
    given = Inputs(
        roadmap=roadmap,
        rows={},
        anchors={},
        current_stats={},
        current_stage_id=None,
        metrics={},
        samples=[],
        now=now,
        tz=tz,
        closed_cycle_done=[
            (plan.id, week.start + timedelta(hours=30)),
            (save.id, week.start - timedelta(days=2)),
        ],
    )
    assert compose(given).done == ["Plan the release"]
