"""Task progress: reading rows, deciding what is next, and whether a stage is done.

A task counts as *dealt with* when it is completed, skipped or postponed. A stage is done when
every required (non-optional) task in it is dealt with; optional tasks never hold a stage back.
These rules are pure functions over the progress rows so the engine, ``/progress`` and the
journey tests all agree.

*Postponed* ("idk", "not sure", "later" to a question; ``docs/coaching.md``): the musician is
never stuck on a number they don't have, so it counts as dealt with for the stage; but the
question stays open (it may be answered any time, its buttons are not stale) and comes back
after :data:`POSTPONE_DAYS` — :func:`postponed_due` says which.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from core.roadmaps.catalog import RoadmapInfo, StageInfo, TaskInfo

#: A question the musician will answer later ("idk"): ``task_data["postponed_until"]``.
POSTPONED = "postponed"
#: How many days a postponed question waits before it is asked again.
POSTPONE_DAYS = 3
#: Statuses that count as dealt with for stage gating and "what's next".
DONE = frozenset({"completed", "skipped", POSTPONED})
#: Statuses after which a task is finished: its buttons are stale (a postponed one is not).
CLOSED = frozenset({"completed", "skipped"})


@dataclass(slots=True)
class ProgressRecord:
    """One ``user_task_progress`` row; ``stored`` is False until it is first written."""

    task_id: uuid.UUID
    status: str = "not_started"
    task_data: dict[str, Any] = field(default_factory=dict)
    completed_by: uuid.UUID | None = None
    completed_at: datetime | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    stored: bool = False


Rows = Mapping[uuid.UUID, ProgressRecord]
#: Ids of tasks whose date has not come (``Timing.opens`` in the future): not asked yet.
Waiting = frozenset[uuid.UUID]


def applies(task: TaskInfo, rows: Rows) -> bool:
    """Whether the task applies to this musician, given their earlier answers (``only_if``).

    A task that does not apply is not shown, counted, chosen nor waited for. Until its question
    is answered (not started, skipped or put off) it applies: the coach hides advice only on
    what the musician said, never on what it guesses. ``rows`` must hold the question's row
    (:meth:`core.kernel.turn.Turn.stage_progress` reads it with the stage's).
    """
    cond = task.only_if
    if cond is None or task.only_if_id is None:
        return True
    row = rows.get(task.only_if_id)
    if row is None or row.status != "completed":
        return True
    value = row.task_data.get("value")
    return cond.holds(str(value) if value is not None else None)


def live_tasks(stage: StageInfo, rows: Rows) -> tuple[TaskInfo, ...]:
    """The stage's tasks that apply to this musician (:func:`applies`), in order."""
    if not any(t.only_if is not None for t in stage.tasks):
        return stage.tasks
    return tuple(t for t in stage.tasks if applies(t, rows))


def status_of(rows: Rows, task: TaskInfo) -> str:
    """The task's status for this profile."""
    row = rows.get(task.id)
    return row.status if row is not None else "not_started"


def is_dealt_with(rows: Rows, task: TaskInfo) -> bool:
    """Completed, skipped or postponed."""
    return status_of(rows, task) in DONE


def stage_done(stage: StageInfo, rows: Rows, waiting: Waiting = frozenset()) -> bool:
    """Every required task of the stage is completed, skipped or postponed (``waiting``: tasks
    that do not open yet, which never hold a stage back — see
    :func:`core.progress.timeline.is_open`)."""
    # ``stage.required`` spelled out: that property builds a new tuple on every call, and the
    # stage search asks this for every stage, several times per weekly review.
    return all(
        t.optional or is_dealt_with(rows, t) or t.id in waiting for t in live_tasks(stage, rows)
    )


def next_task(stage: StageInfo, rows: Rows, waiting: Waiting = frozenset()) -> TaskInfo | None:
    """The first task of the stage, in order, that is not dealt with yet nor ``waiting`` for
    its date."""
    for task in live_tasks(stage, rows):
        if not is_dealt_with(rows, task) and task.id not in waiting:
            return task
    return None


def first_open_stage(
    roadmap: RoadmapInfo, rows: Rows, waiting: Waiting = frozenset()
) -> StageInfo | None:
    """The stage a profile is on: the first one that is not done (``None``: roadmap finished)."""
    for stage in roadmap.stages:
        if not stage_done(stage, rows, waiting):
            return stage
    return None


def stage_counts(stage: StageInfo, rows: Rows) -> tuple[int, int]:
    """(dealt-with tasks, all tasks) of a stage, optional tasks included, for progress bars
    (tasks that do not apply to this musician are not counted)."""
    tasks = live_tasks(stage, rows)
    done = sum(1 for t in tasks if is_dealt_with(rows, t))
    return done, len(tasks)


def ticked_items(row: ProgressRecord | None) -> list[str]:
    """The checklist item keys ticked on this row, in tick order."""
    if row is None:
        return []
    ticked = row.task_data.get("ticked", [])
    return [str(k) for k in ticked] if isinstance(ticked, list) else []


def postponement(today: date) -> dict[str, str]:
    """The ``task_data`` mark of a question postponed ``today``: asked again in
    :data:`POSTPONE_DAYS` days."""
    return {"postponed_until": (today + timedelta(days=POSTPONE_DAYS)).isoformat()}


def postponed_due(rows: Rows | Iterable[ProgressRecord], today: date) -> list[ProgressRecord]:
    """The rows of postponed questions whose time has come (``postponed_until`` on or before
    ``today``), the longest-waiting first; ``row.task_id`` names each task.

    For the next-step chooser (``/today``) and the nudges: pure, over the progress rows the
    caller already read (a mapping by task id, as :meth:`Turn.roadmap_progress` returns, or any
    iterable of rows). A postponed row without a readable date is due at once, so a question
    never disappears because its mark was damaged.
    """
    records = rows.values() if isinstance(rows, Mapping) else rows
    due: list[tuple[date, str, ProgressRecord]] = []
    for row in records:
        if row.status != POSTPONED:
            continue
        try:
            until = date.fromisoformat(str(row.task_data.get("postponed_until")))
        except ValueError:
            until = date.min
        if until <= today:
            due.append((until, str(row.task_id), row))
    return [row for _until, _id, row in sorted(due, key=lambda d: (d[0], d[1]))]
