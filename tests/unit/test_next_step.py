"""The next-step chooser (``core/progress/next_step.py``): a table per rule, a table for the
order between the rules, and the reason lines word for word (golden texts).

Pure: every case passes ``today`` in, so the fixed dates below never meet the wall clock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import pytest
from keyroadmap import key_roadmap

from core.progress.next_step import (
    NextStep,
    Why,
    choose,
    comes_back,
    is_pressing,
    last_sample_days,
    postponed_due,
    reopenable,
)
from core.progress.service import ProgressRecord
from core.roadmaps.catalog import catalog_from
from core.roadmaps.schema import Timing

CATALOG = catalog_from([key_roadmap()])
ROADMAP = CATALOG.roadmaps[0]
BASICS, RELEASE, CAMPAIGN = ROADMAP.stages
TASKS = CATALOG.tasks_by_slug
#: A Monday; every other date is counted from it.
TODAY = date(2031, 3, 3)


def day(offset: int) -> str:
    """TODAY + offset days, as the ISO text the rows and anchors store."""
    return (TODAY + timedelta(days=offset)).isoformat()


def rows(**statuses: str | tuple[str, dict[str, Any]]) -> dict[Any, ProgressRecord]:
    """Progress rows by task slug (``kr_rights="skipped"`` or with task_data)."""
    out = {}
    for name, value in statuses.items():
        status, data = (value, {}) if isinstance(value, str) else value
        task = TASKS[name.replace("_", "-")]
        out[task.id] = ProgressRecord(task_id=task.id, status=status, task_data=data, stored=True)
    return out


DONE_BASICS = {"kr_rights": "completed", "kr_photo": "completed"}
DONE_RELEASE = {"kr_date": "completed", "kr_upload": "completed", "kr_budget": "completed"}


def pick(
    progress: Mapping[Any, ProgressRecord],
    *,
    stage: int | None = 0,
    release: int | None = None,
    samples: Mapping[str, date] | None = None,
) -> NextStep | None:
    current = None if stage is None else ROADMAP.stages[stage]
    anchors = {} if release is None else {"release": day(release)}
    return choose(
        ROADMAP,
        progress,
        current=current,
        anchors=anchors,
        today=TODAY,
        metrics=CATALOG.metrics,
        last_samples=samples,
    )


def slug_of(step: NextStep | None) -> tuple[Why, str | None] | None:
    if step is None:
        return None
    return step.why, step.task.slug if step.task else None


# ------------------------------------------------------------------ rule 1: dates


@pytest.mark.parametrize(
    ("case", "progress", "stage", "release", "expected"),
    [
        ("no release date: roadmap order", {}, 0, None, (Why.ORDER, "kr-rights")),
        ("release far away: roadmap order", {}, 0, 60, (Why.ORDER, "kr-rights")),
        # release in 12 days: the pitch (T-7) is due in 5, the upload (T-28) 16 days ago
        (
            "overdue before near, whatever the stage",
            {},
            0,
            12,
            (Why.OVERDUE, "kr-upload"),
        ),
        (
            "a key task due within 14 days, from a later stage",
            {"kr_upload": "completed"},
            0,
            12,
            (Why.DEADLINE, "kr-pitch"),
        ),
        (
            "due in exactly 14 days counts",
            {"kr_upload": "completed"},
            0,
            21,
            (Why.DEADLINE, "kr-pitch"),
        ),
        ("due in 15 days does not", {"kr_upload": "completed"}, 0, 22, (Why.ORDER, "kr-rights")),
        # release 40 days ago: posts (T+3, ordinary) are overdue, the pitch is done
        (
            "an ordinary timed task counts once overdue",
            {**DONE_BASICS, **DONE_RELEASE, "kr_pitch": "completed"},
            2,
            -5,
            (Why.OVERDUE, "kr-posts"),
        ),
        (
            "an ordinary timed task near its deadline does not",
            {**DONE_BASICS, **DONE_RELEASE, "kr_pitch": "completed", "kr_streams": "completed"},
            2,
            -1,
            (Why.ORDER, "kr-posts"),
        ),
        (
            "a skipped ordinary task stays skipped",
            {**DONE_BASICS, **DONE_RELEASE, "kr_pitch": "completed", "kr_posts": "skipped"},
            2,
            -5,
            (Why.ORDER, "kr-listeners"),
        ),
        (
            "a completed task is never chosen",
            {"kr_upload": "completed", "kr_pitch": "completed"},
            0,
            12,
            (Why.ORDER, "kr-rights"),
        ),
        (
            "a key task skipped 3 days ago comes back by its date",
            {"kr_upload": "completed", "kr_pitch": ("skipped", {"skipped_on": day(-3)})},
            0,
            12,
            (Why.DEADLINE, "kr-pitch"),
        ),
        (
            "a key task skipped 2 days ago rests",
            {"kr_upload": "completed", "kr_pitch": ("skipped", {"skipped_on": day(-2)})},
            0,
            12,
            (Why.ORDER, "kr-rights"),
        ),
        (
            "a key task skipped without a date (an old skip) comes back",
            {"kr_upload": "completed", "kr_pitch": "skipped"},
            0,
            12,
            (Why.DEADLINE, "kr-pitch"),
        ),
        (
            "a postponed task waits for its day",
            {"kr_upload": "completed", "kr_pitch": ("postponed", {"postponed_until": day(1)})},
            0,
            12,
            (Why.ORDER, "kr-rights"),
        ),
        (
            "a postponed task whose day came is pressing again",
            {"kr_upload": "completed", "kr_pitch": ("postponed", {"postponed_until": day(0)})},
            0,
            12,
            (Why.DEADLINE, "kr-pitch"),
        ),
    ],
)
def test_dates_come_first(
    case: str,
    progress: dict[str, Any],
    stage: int,
    release: int | None,
    expected: tuple[Why, str],
) -> None:
    assert slug_of(pick(rows(**progress), stage=stage, release=release)) == expected, case


def test_the_earliest_deadline_wins_among_pressing_tasks() -> None:
    # release 3 days ago: the upload (T-28) and the pitch (T-7) are both overdue, the upload
    # the longer
    step = pick({}, release=-3)
    assert slug_of(step) == (Why.OVERDUE, "kr-upload")
    step = pick(rows(kr_upload="completed"), release=-3)
    assert slug_of(step) == (Why.OVERDUE, "kr-pitch")


@pytest.mark.parametrize(
    ("when", "key", "release", "expected"),
    [
        (Timing(anchor="release", due=-7), True, 12, True),  # due in 5 days
        (Timing(anchor="release", due=-7), False, 12, False),  # ordinary, not overdue
        (Timing(anchor="release", due=-7), False, 5, True),  # ordinary, 2 days overdue
        (Timing(anchor="release", due=5, opens=5), True, 0, False),  # not open yet
        (Timing(anchor="release", due=5, opens=0), True, 0, True),  # open today
        (Timing(anchor="release", due=-7), True, None, False),  # no anchor: no date
        (None, True, 12, False),  # untimed
    ],
)
def test_is_pressing(when: Timing | None, key: bool, release: int | None, expected: bool) -> None:
    task = dataclasses.replace(TASKS["kr-pitch"], when=when, key=key)
    anchors = {} if release is None else {"release": day(release)}
    assert is_pressing(task, anchors, TODAY) is expected


# ------------------------------------------------------------------ rule 2: skipped key tasks


@pytest.mark.parametrize(
    ("case", "progress", "stage", "release", "expected"),
    [
        (
            "skipped in an earlier stage: it matters now",
            {"kr_rights": "skipped", "kr_photo": "completed"},
            1,
            None,
            (Why.SKIPPED_KEY, "kr-rights"),
        ),
        (
            "skipped in the current stage: not yet",
            {"kr_rights": "skipped"},
            0,
            None,
            (Why.ORDER, "kr-photo"),
        ),
        (
            "an ordinary skipped task never comes back",
            {"kr_rights": "completed", "kr_photo": "skipped"},
            1,
            None,
            (Why.ORDER, "kr-date"),
        ),
        (
            "skipped 2 days ago: it rests",
            {"kr_rights": ("skipped", {"skipped_on": day(-2)}), "kr_photo": "completed"},
            1,
            None,
            (Why.ORDER, "kr-date"),
        ),
        (
            "skipped 3 days ago: back",
            {"kr_rights": ("skipped", {"skipped_on": day(-3)}), "kr_photo": "completed"},
            1,
            None,
            (Why.SKIPPED_KEY, "kr-rights"),
        ),
        (
            "a dated key task waits for its date, not the stage",
            {**DONE_BASICS, **DONE_RELEASE, "kr_upload": "skipped"},
            2,
            60,
            (Why.ORDER, "kr-pitch"),
        ),
        (
            "a timed key task without its anchor comes back like an untimed one",
            {
                **DONE_BASICS,
                "kr_date": "completed",
                "kr_upload": "skipped",
                "kr_budget": "completed",
            },
            2,
            None,
            (Why.SKIPPED_KEY, "kr-upload"),
        ),
        (
            "the roadmap finished: every skipped key task matters",
            {
                **DONE_BASICS,
                **DONE_RELEASE,
                "kr_pitch": "completed",
                "kr_streams": "completed",
                "kr_posts": "completed",
                "kr_listeners": "completed",
                "kr_rights": "skipped",
            },
            None,
            None,
            (Why.SKIPPED_KEY, "kr-rights"),
        ),
    ],
)
def test_skipped_key_tasks_come_back_when_they_matter(
    case: str,
    progress: dict[str, Any],
    stage: int | None,
    release: int | None,
    expected: tuple[Why, str],
) -> None:
    assert slug_of(pick(rows(**progress), stage=stage, release=release)) == expected, case


# ------------------------------------------------------------------ rule 3: postponed


@pytest.mark.parametrize(
    ("until", "expected"),
    [
        (day(-1), (Why.POSTPONED, "kr-budget")),
        (day(0), (Why.POSTPONED, "kr-budget")),
        (day(1), (Why.ORDER, "kr-date")),
        ("not a date", (Why.POSTPONED, "kr-budget")),  # unreadable: asked again, not lost
    ],
)
def test_postponed_questions_come_back_on_their_day(until: str, expected: tuple[Why, str]) -> None:
    progress = rows(**DONE_BASICS, kr_budget=("postponed", {"postponed_until": until}))
    assert slug_of(pick(progress, stage=1)) == expected


def test_postponed_in_a_later_stage_waits_for_that_stage() -> None:
    progress = rows(kr_listeners=("postponed", {"postponed_until": day(-1)}))
    assert slug_of(pick(progress, stage=0)) == (Why.ORDER, "kr-rights")


def test_postponed_due_reads_status_and_date() -> None:
    progress = rows(
        kr_budget=("postponed", {"postponed_until": day(0)}),
        kr_date=("postponed", {"postponed_until": day(2)}),
        kr_photo="skipped",
    )
    assert [r.task_id for r in postponed_due(progress, TODAY)] == [TASKS["kr-budget"].id]


# ------------------------------------------------------------------ rule 4: stale numbers


@pytest.mark.parametrize(
    ("age", "metric", "expected"),
    [
        (30, "monthly_listeners", (Why.STALE_METRIC, "kr-rights")),  # monthly: 30 days
        (29, "monthly_listeners", (Why.ORDER, "kr-rights")),
        (400, "release_budget", (Why.ORDER, "kr-rights")),  # not tracked (not in the index)
    ],
)
def test_stale_tracked_numbers(age: int, metric: str, expected: tuple[Why, str]) -> None:
    step = pick({}, samples={metric: TODAY - timedelta(days=age)})
    assert slug_of(step) == expected
    if expected[0] is Why.STALE_METRIC:
        assert step is not None
        assert step.metric is not None
        assert step.metric.name == "monthly_listeners"


def test_a_stale_number_on_a_finished_roadmap_has_no_task() -> None:
    done = {t.slug.replace("-", "_"): "completed" for s in ROADMAP.stages for t in s.tasks}
    step = pick(rows(**done), stage=None, samples={"monthly_listeners": TODAY - timedelta(90)})
    assert step is not None
    assert (step.why, step.task) == (Why.STALE_METRIC, None)
    assert pick(rows(**done), stage=None) is None, "nothing left: nothing to suggest"


def test_last_sample_days_reads_current_stats() -> None:
    stats = {
        "monthly_listeners": {"value": "1400", "at": "2031-02-01T10:00:00+00:00"},
        "old": {"value": "3"},  # written before samples had a time
        "bad": {"at": "yesterday"},
    }
    assert last_sample_days(stats) == {"monthly_listeners": date(2031, 2, 1)}


# ------------------------------------------------------------------ rule 5: order


def test_roadmap_order_prefers_a_task_that_is_open() -> None:
    # the campaign without a release date: the streams and the posts cannot be done yet
    progress = rows(**DONE_BASICS, **DONE_RELEASE, kr_pitch="completed")
    assert slug_of(pick(progress, stage=2)) == (Why.ORDER, "kr-listeners")
    progress = rows(**DONE_BASICS, **DONE_RELEASE, kr_pitch="completed", kr_listeners="completed")
    assert slug_of(pick(progress, stage=2)) == (Why.ORDER, "kr-streams"), "none open: the first"


# ------------------------------------------------------------------ the order between rules


def test_the_rules_in_order() -> None:
    """One musician to whom every rule applies at once: each step deals with the winner of
    the one before, and the next rule wins."""
    progress = rows(
        kr_rights="skipped",  # rule 2: a key task of stage 1, the musician is on stage 2
        kr_photo="completed",
        kr_pitch="completed",
        kr_budget=("postponed", {"postponed_until": day(-1)}),  # rule 3
    )
    stale = {"monthly_listeners": TODAY - timedelta(days=45)}  # rule 4
    seen = []
    for _ in range(5):
        step = pick(progress, stage=1, release=12, samples=stale)  # rule 1: the upload
        assert step is not None
        assert step.task is not None
        seen.append(slug_of(step))
        if step.why is Why.STALE_METRIC:
            stale = {}
        else:
            progress[step.task.id] = ProgressRecord(step.task.id, "completed", stored=True)
    assert seen == [
        (Why.OVERDUE, "kr-upload"),
        (Why.SKIPPED_KEY, "kr-rights"),
        (Why.POSTPONED, "kr-budget"),
        (Why.STALE_METRIC, "kr-date"),  # the suggestion, with the roadmap's next task under it
        (Why.ORDER, "kr-date"),
    ]


# ------------------------------------------------------------------ reopenable and comes_back


@pytest.mark.parametrize(
    ("slug", "status", "expected"),
    [
        ("kr-rights", None, True),
        ("kr-rights", "in_progress", True),
        ("kr-rights", "skipped", True),  # key: may be picked up again
        ("kr-photo", "skipped", False),  # ordinary: skipped is skipped
        ("kr-rights", "completed", False),
        ("kr-budget", "postponed", True),
    ],
)
def test_reopenable(slug: str, status: str | None, expected: bool) -> None:
    task = TASKS[slug]
    row = None if status is None else ProgressRecord(task_id=task.id, status=status)
    assert reopenable(task, row) is expected


# ------------------------------------------------------------------ golden texts


def test_reason_lines_word_for_word() -> None:
    near = pick(rows(kr_upload="completed"), release=12)
    assert near is not None
    assert near.reason == (
        "Your release is in 12 days and “Pitch to editors” isn't done: "
        "it must be in at least 7 days before."
    )
    overdue = pick({}, release=12)
    assert overdue is not None
    assert overdue.reason == (
        "“Upload to your distributor” is 16 days overdue: it had to be done at least 28 days "
        "before your release (Sat 15 Feb)."
    )
    after = pick(rows(**DONE_BASICS, **DONE_RELEASE, kr_pitch="completed"), stage=2, release=-5)
    assert after is not None
    assert after.reason == (
        "“Release-week posts” is 2 days overdue: it had to be done within 3 days after your "
        "release (Sat 01 Mar)."
    )
    back = pick(rows(kr_rights="skipped", kr_photo="completed"), stage=1)
    assert back is not None
    assert back.reason == (
        "You skipped “Register your rights” in stage 1, and you're on stage 2 now: "
        "it's a key task the next steps build on."
    )
    later = pick(rows(**DONE_BASICS, kr_budget=("postponed", {"postponed_until": day(0)})), stage=1)
    assert later is not None
    assert later.reason == "You asked to come back to “Release budget” later — later is now."
    stale = pick({}, samples={"monthly_listeners": TODAY - timedelta(days=41)})
    assert stale is not None
    assert stale.reason == (
        "Monthly listeners: last updated 41 days ago — a monthly check-in keeps your chart honest."
    )
    assert pick({}) is not None
    assert pick({}).reason is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("slug", "release", "expected"),
    [
        ("kr-rights", None, "I'll bring it back once you've moved on to the next stage."),
        (
            "kr-pitch",
            None,
            "I'll bring it back once your release date is set and the deadline gets close.",
        ),
        (
            "kr-pitch",
            30,
            "I'll bring it back before it's due on Wed 26 Mar: it must be done at least 7 days "
            "before your release.",
        ),
    ],
)
def test_comes_back_words(slug: str, release: int | None, expected: str) -> None:
    anchors = {} if release is None else {"release": day(release)}
    assert comes_back(TASKS[slug], anchors) == expected
