"""The next best step: which task (or number) ``/today`` puts in front of the musician, and why.

Pure and deterministic, so every branch is a table test and the reason can be said in one line.
The order (docs/coaching.md, "The next best step"):

1. **Dates.** A timed task whose deadline has passed, or a timed *key* task due within
   :data:`HORIZON_DAYS`, that is open and not completed — from any stage: a release date does
   not wait for the roadmap's order. Earliest deadline first.
2. **Skipped key tasks that now matter.** A key task skipped in a stage *before* the current one
   (or anywhere, once the roadmap is finished): the musician has moved on to work that builds on
   it. Dated key tasks (their anchor is set) come back through rule 1 instead, before their
   deadline.
3. **Postponed questions whose time came** (status ``postponed``, ``postponed_until`` ≤ today).
4. **Stale tracked numbers**: a tracked metric whose last sample is at least its cadence old —
   a suggestion to ``/update`` it, with the roadmap's next task still shown under it.
5. **Roadmap order**: the current stage's first task that is not dealt with, preferring one
   that is open (:func:`~core.progress.timeline.is_open`).

A key task skipped within the last :data:`REST_DAYS` days is left alone by rules 1 and 2: the
musician just said "not now", and the coach respects that for a few days rather than nag.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from core.progress.metrics import metric_label
from core.progress.service import (
    ProgressRecord,
    Rows,
    applies,
    is_dealt_with,
    live_tasks,
    postponed_due,
    status_of,
)
from core.progress.timeline import anchor_date, due_on, is_open, iso_date, opens_on
from core.roadmaps.catalog import MetricInfo, RoadmapInfo, StageInfo, TaskInfo
from core.roadmaps.schema import Cadence, Timing

#: A timed key task is brought forward when its deadline is this close (days).
HORIZON_DAYS = 14
#: A key task skipped less than this many days ago is not brought back yet.
REST_DAYS = 3
#: How long after its anchor's day a task due before it still presses (then it is missed).
MISSED_AFTER_DAYS = 7
#: How old a tracked metric's last sample may get before a check-in is suggested (days).
CADENCE_DAYS: Mapping[Cadence, int] = {
    Cadence.WEEKLY: 7,
    Cadence.MONTHLY: 30,
    Cadence.QUARTERLY: 91,
}


class Why(enum.StrEnum):
    """Which rule chose the step (the order above)."""

    OVERDUE = "overdue"
    DEADLINE = "deadline"
    OPENED = "opened"
    SKIPPED_KEY = "skipped_key"
    POSTPONED = "postponed"
    STALE_METRIC = "stale_metric"
    ORDER = "order"


@dataclass(frozen=True, slots=True)
class NextStep:
    """The chosen step and its one reason line (plain text: the caller escapes it).

    ``task`` and ``stage`` are the task to show (for a stale metric: the roadmap's next task,
    shown under the suggestion, if any); ``metric`` is set for :attr:`Why.STALE_METRIC` only.
    ``reason`` is ``None`` for plain roadmap order: the card's header says it already.
    """

    why: Why
    reason: str | None
    task: TaskInfo | None = None
    stage: StageInfo | None = None
    metric: MetricInfo | None = None


# ------------------------------------------------------------------------------ the rules


def skipped_on(row: ProgressRecord | None) -> date | None:
    """The day a skipped task was skipped (``task_data["skipped_on"]``), if recorded."""
    return None if row is None else iso_date(row.task_data.get("skipped_on"))


def _rested(row: ProgressRecord | None, today: date) -> bool:
    """A skip is old enough to bring the task back (no date recorded: an old skip)."""
    day = skipped_on(row)
    return day is None or (today - day).days >= REST_DAYS


def is_pressing(task: TaskInfo, anchors: Mapping[str, Any], today: date) -> bool:
    """A timed task the calendar puts first: open, and overdue — or key and due within
    :data:`HORIZON_DAYS`. Such a task may be done from any stage (``locate`` allows it).

    A task due *before* its anchor stops pressing :data:`MISSED_AFTER_DAYS` after the anchor's
    day: a pitch for a song out for weeks is missed, not overdue (``/plan`` still shows it).
    """
    deadline = due_on(task.when, anchors)
    if task.when is None or deadline is None or not is_open(task.when, anchors, today):
        return False
    anchor = anchor_date(anchors, task.when.anchor)
    if task.when.due < 0 and anchor is not None and (today - anchor).days > MISSED_AFTER_DAYS:
        return False
    return deadline < today or (task.key and (deadline - today).days <= HORIZON_DAYS)


def last_sample_days(current_stats: Mapping[str, Any]) -> dict[str, date]:
    """The day of each metric's last sample, from ``profiles.current_stats[metric]["at"]``."""
    days: dict[str, date] = {}
    for metric, entry in current_stats.items():
        raw = entry.get("at") if isinstance(entry, Mapping) else None
        if not isinstance(raw, str):
            continue
        try:
            days[metric] = datetime.fromisoformat(raw).date()
        except ValueError:
            continue
    return days


def _tasks(stages: Iterable[StageInfo], rows: Rows) -> Iterable[tuple[StageInfo, TaskInfo]]:
    """The stages' tasks that apply to this musician (``only_if``), in roadmap order."""
    for stage in stages:
        for task in live_tasks(stage, rows):
            yield stage, task


def choose(
    roadmap: RoadmapInfo,
    rows: Rows,
    *,
    current: StageInfo | None,
    anchors: Mapping[str, Any],
    today: date,
    metrics: Mapping[str, MetricInfo] | None = None,
    last_samples: Mapping[str, date] | None = None,
    waiting: frozenset[uuid.UUID] = frozenset(),
) -> NextStep | None:
    """The next best step for a musician on ``roadmap`` (``None``: nothing left to suggest).

    ``rows`` are the progress rows of the whole roadmap; ``current`` the stage the musician is
    on (``None``: the roadmap is finished); ``metrics`` the catalog's metric index and
    ``last_samples`` the day of each metric's last sample. ``waiting`` are the tasks whose
    opening day has not come (:func:`core.progress.timeline.waiting`): never suggested.
    """
    index = len(roadmap.stages) if current is None else roadmap.stage_index(current.id) or 0
    order = _in_order(rows, current, anchors, today, waiting)
    later_now = frozenset(row.task_id for row in postponed_due(rows, today))  # rules 1 and 3
    return (
        _by_date(roadmap, rows, anchors, today, later_now)
        or _opened(roadmap, rows, index, anchors, waiting)
        or _skipped_key(roadmap, rows, index, anchors, today)
        or _postponed(roadmap, rows, index, later_now)
        or _stale_metric(order, metrics or {}, last_samples or {}, today)
        or order
    )


#: Per roadmap id: the snapshot it was computed from and its timed tasks in roadmap order.
_TIMED: dict[uuid.UUID, tuple[RoadmapInfo, tuple[tuple[StageInfo, TaskInfo], ...]]] = {}


def _timed(roadmap: RoadmapInfo) -> tuple[tuple[StageInfo, TaskInfo], ...]:
    """The roadmap's tasks with a :class:`Timing` (and their stages), in roadmap order, listed
    once per roadmap snapshot: rule 1 looks at nothing else, and the weekly review asks the
    chooser three times per musician (a reload brings a new snapshot, which replaces it)."""
    cached = _TIMED.get(roadmap.id)
    if cached is None or cached[0] is not roadmap:
        timed = tuple((s, t) for s in roadmap.stages for t in s.tasks if t.when is not None)
        cached = _TIMED[roadmap.id] = (roadmap, timed)
    return cached[1]


def _by_date(
    roadmap: RoadmapInfo,
    rows: Rows,
    anchors: Mapping[str, Any],
    today: date,
    later_now: frozenset[uuid.UUID],
) -> NextStep | None:
    timed = _timed(roadmap)
    if not timed or not anchors:
        return None  # no timed task, or no anchor set: no deadline anywhere
    best: tuple[date, StageInfo, TaskInfo, Timing] | None = None
    for stage, task in timed:
        status = status_of(rows, task)
        deadline = due_on(task.when, anchors)
        if task.when is None or deadline is None or status == "completed":
            continue
        if not applies(task, rows):
            continue
        if not is_pressing(task, anchors, today):
            continue
        row = rows.get(task.id)
        if status == "skipped" and (not task.key or not _rested(row, today)):
            continue  # a skipped ordinary task stays skipped; a key one rests a few days
        if status == "postponed" and task.id not in later_now:
            continue  # "later" was asked for: respected until its day
        if best is None or deadline < best[0]:
            best = (deadline, stage, task, task.when)
    if best is None:
        return None
    deadline, stage, task, when = best
    if deadline < today:
        return NextStep(Why.OVERDUE, _overdue_reason(task, when, deadline, today), task, stage)
    reason = _deadline_reason(task, when, anchors, deadline, today)
    return NextStep(Why.DEADLINE, reason, task, stage)


def reopenable(task: TaskInfo, row: ProgressRecord | None) -> bool:
    """Whether a task of the current or an earlier stage may still be acted on: anything not
    completed, except an ordinary task the musician skipped (a skipped *key* task may always be
    picked up again; doing so un-skips it)."""
    if row is None:
        return True
    if row.status == "completed":
        return False
    return row.status != "skipped" or task.key


def _skipped_key(
    roadmap: RoadmapInfo,
    rows: Rows,
    current_index: int,
    anchors: Mapping[str, Any],
    today: date,
) -> NextStep | None:
    for stage, task in _tasks(roadmap.stages[:current_index], rows):
        status = status_of(rows, task)
        n = (roadmap.stage_index(stage.id) or 0) + 1
        if not task.key or status != "skipped":
            continue
        if due_on(task.when, anchors) is not None:
            continue  # a dated key task comes back by its date (rule 1)
        if not _rested(rows.get(task.id), today):
            continue
        if current_index >= len(roadmap.stages):
            reason = (
                f"You skipped “{task.title}” in stage {n}: it's a key task, and the roadmap "
                "isn't really done without it."
            )
        else:
            reason = (
                f"You skipped “{task.title}” in stage {n}, and you're on stage "
                f"{current_index + 1} now: it's a key task the next steps build on."
            )
        return NextStep(Why.SKIPPED_KEY, reason, task, stage)
    return None


def _postponed(
    roadmap: RoadmapInfo, rows: Rows, current_index: int, due: frozenset[uuid.UUID]
) -> NextStep | None:
    if not due:
        return None
    for stage, task in _tasks(roadmap.stages[: current_index + 1], rows):
        if task.id in due:
            reason = f"You asked to come back to “{task.title}” later — later is now."
            return NextStep(Why.POSTPONED, reason, task, stage)
    return None


def _stale_metric(
    order: NextStep | None,
    metrics: Mapping[str, MetricInfo],
    last_samples: Mapping[str, date],
    today: date,
) -> NextStep | None:
    stale: list[tuple[int, str, MetricInfo]] = []
    for name, day in last_samples.items():
        info = metrics.get(name)
        if info is None or info.spec.track is None:
            continue
        late = (today - day).days - CADENCE_DAYS[info.spec.track]
        if late >= 0:
            stale.append((-late, name, info))
    if not stale:
        return None
    _, name, info = min(stale)
    age = (today - last_samples[name]).days
    reason = (
        f"{metric_label(name)}: last updated {_days(age)} ago — a {info.spec.track} check-in "
        "keeps your chart honest."
    )
    task, stage = (order.task, order.stage) if order else (None, None)
    return NextStep(Why.STALE_METRIC, reason, task, stage, info)


def _opened(
    roadmap: RoadmapInfo,
    rows: Rows,
    current_index: int,
    anchors: Mapping[str, Any],
    waiting: frozenset[uuid.UUID],
) -> NextStep | None:
    """A dated task of a stage already passed whose opening day has come (it did not hold its
    stage back while it waited): the first one, in roadmap order."""
    for stage, task in _tasks(roadmap.stages[:current_index], rows):
        when = task.when
        if when is None or when.opens is None or task.id in waiting:
            continue
        if is_dealt_with(rows, task):
            continue
        start = opens_on(when, anchors)
        on = f" on {start:%a %d %b}" if start is not None else ""
        side = "after" if when.opens >= 0 else "before"
        offset = f"{_days(abs(when.opens))} {side}" if when.opens else "on the day of"
        reason = (
            f"“{task.title}” opened{on} ({offset} your {_anchor_word(when.anchor)}): "
            "it's time for it now."
        )
        return NextStep(Why.OPENED, reason, task, stage)
    return None


def _in_order(
    rows: Rows,
    current: StageInfo | None,
    anchors: Mapping[str, Any],
    today: date,
    waiting: frozenset[uuid.UUID],
) -> NextStep | None:
    if current is None:
        return None
    left = [
        t for t in live_tasks(current, rows) if not is_dealt_with(rows, t) and t.id not in waiting
    ]
    if not left:
        return None
    ready = [t for t in left if is_open(t.when, anchors, today)]
    return NextStep(Why.ORDER, None, (ready or left)[0], current)


# ------------------------------------------------------------------------------ the words


def comes_back(task: TaskInfo, anchors: Mapping[str, Any]) -> str:
    """When a skipped key task will be brought back, in words (for the skip reply)."""
    when = task.when
    if when is None:
        return "I'll bring it back once you've moved on to the next stage."
    deadline = due_on(when, anchors)
    word = _anchor_word(when.anchor)
    if deadline is None:
        return f"I'll bring it back once your {word} date is set and the deadline gets close."
    return (
        f"I'll bring it back before it's due on {deadline:%a %d %b}: it must be done "
        f"{_rule(when)} your {word}."
    )


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def _anchor_word(name: str) -> str:
    return name.replace("_", " ")


def _rule(when: Timing) -> str:
    """The task's timing in words: "at least 7 days before", "on the day", "28 days after"."""
    if when.due < 0:
        return f"at least {_days(-when.due)} before"
    if when.due == 0:
        return "by the day itself"
    return f"within {_days(when.due)} after"


def _in_days(deadline: date, today: date) -> str:
    gap = (deadline - today).days
    if gap == 0:
        return "today"
    if gap == 1:
        return "tomorrow"
    return f"in {_days(gap)}"


def _overdue_reason(task: TaskInfo, when: Timing, deadline: date, today: date) -> str:
    late = (today - deadline).days
    return (
        f"“{task.title}” is {_days(late)} overdue: it had to be done {_rule(when)} "
        f"your {_anchor_word(when.anchor)} ({deadline:%a %d %b})."
    )


def _deadline_reason(
    task: TaskInfo, when: Timing, anchors: Mapping[str, Any], deadline: date, today: date
) -> str:
    anchor = anchor_date(anchors, when.anchor)
    word = _anchor_word(when.anchor)
    if anchor is not None and anchor > today and when.due < 0:
        return (
            f"Your {word} is {_in_days(anchor, today)} and “{task.title}” isn't done: "
            f"it must be in {_rule(when)}."
        )
    return (
        f"“{task.title}” is due {_in_days(deadline, today)} ({deadline:%a %d %b}): "
        f"{_rule(when)} your {word}."
    )
