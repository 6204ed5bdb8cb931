"""The plan's dated entries (core/coaching/plan/dates.py) and the plan reminder's moments
(core/reminders/plan_kind.py), pure: standings, T labels, 10:00 local on every date (across
daylight-saving changes), nothing done is reminded of."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from support.plankit import plan_roadmap

from core.coaching.plan.dates import entries, t_label
from core.progress.service import ProgressRecord
from core.reminders.plan_kind import moments, next_after
from core.roadmaps.catalog import catalog_from

TODAY = datetime.now(UTC).date()
CATALOG = catalog_from([plan_roadmap()])
ROADMAP = CATALOG.roadmaps[0]
TASKS = CATALOG.tasks_by_slug


def test_t_labels() -> None:
    assert [t_label(n) for n in (-28, 0, 3)] == ["T−28", "T", "T+3"]


def test_standings_follow_progress_and_today() -> None:
    release = TODAY + timedelta(days=10)
    anchors = {"release": release.isoformat()}
    rows = {TASKS["pl-pitch"].id: ProgressRecord(task_id=TASKS["pl-pitch"].id, status="completed")}
    plan = {e.task.slug: e.standing for e in entries(ROADMAP, anchors, rows, TODAY)}
    assert plan == {"pl-upload": "overdue", "pl-pitch": "done", "pl-streams": "later"}
    plan = {e.task.slug: e.standing for e in entries(ROADMAP, anchors, {}, TODAY)}
    assert plan["pl-pitch"] == "next"
    assert entries(ROADMAP, {}, {}, TODAY) == []  # no anchor, no dates


@settings(max_examples=60, deadline=None)
@given(
    offset=st.integers(-400, 400),
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata"]),
)
def test_every_moment_is_ten_local_and_sorted(offset: int, zone: str) -> None:
    release = TODAY + timedelta(days=offset)
    plan = moments(ROADMAP, {"release": release.isoformat()}, {}, zone, TODAY)
    assert [m.at for m in plan] == sorted(m.at for m in plan)
    for moment in plan:
        assert moment.at.astimezone(ZoneInfo(zone)).time() == time(10)
    kinds = [(m.entry.task.slug, m.what) for m in plan]
    assert kinds == [
        ("pl-upload", "due"),
        ("pl-pitch", "due"),
        ("pl-streams", "opens"),
        ("pl-streams", "due"),
    ]


def test_done_tasks_are_not_reminded_and_next_after_is_strict() -> None:
    release = TODAY + timedelta(days=60)
    anchors = {"release": release.isoformat()}
    done = {
        TASKS["pl-upload"].id: ProgressRecord(task_id=TASKS["pl-upload"].id, status="skipped"),
    }
    plan = moments(ROADMAP, anchors, done, "UTC", TODAY)
    assert plan[0].entry.task.slug == "pl-pitch"
    first = plan[0].at
    assert next_after(plan, first) == plan[1].at
    assert next_after(plan, first - timedelta(seconds=1)) == first
    assert next_after(plan, plan[-1].at) is None
