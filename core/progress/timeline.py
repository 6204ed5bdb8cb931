"""Dates of a plan: when a timed task opens and is due, counted from the profile's anchors.

Pure and shared: the journey (a question that is not open yet is not asked), ``/plan``, the
next-step chooser and the reminders all read a task's dates through these functions, so they
agree. Anchors are stored on the profile as ISO dates (``{"release": "2027-03-05"}``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from core.roadmaps.catalog import RoadmapInfo, TaskInfo
from core.roadmaps.schema import Timing


def show_date(day: date) -> str:
    """A plan date as the coach writes it: ``Fri 5 Mar 2027`` (the same as a date answer)."""
    weekday = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[day.weekday()]
    month = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()[day.month - 1]
    return f"{weekday} {day.day} {month} {day.year}"


def iso_date(raw: object) -> date | None:
    """An ISO date kept in JSON (an anchor, a skip's day), or ``None`` when absent or unreadable."""
    if not isinstance(raw, str):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def anchor_date(anchors: Mapping[str, Any], name: str) -> date | None:
    """The anchor ``name`` as a date, or ``None`` when it is not set (or unreadable)."""
    return iso_date(anchors.get(name))


def due_on(when: Timing | None, anchors: Mapping[str, Any]) -> date | None:
    """The task's deadline, or ``None`` (untimed, or its anchor is not set)."""
    if when is None:
        return None
    origin = anchor_date(anchors, when.anchor)
    return None if origin is None else origin + timedelta(days=when.due)


def opens_on(when: Timing | None, anchors: Mapping[str, Any]) -> date | None:
    """The first day the task may be done, or ``None`` (any time)."""
    if when is None or when.opens is None:
        return None
    origin = anchor_date(anchors, when.anchor)
    return None if origin is None else origin + timedelta(days=when.opens)


def is_open(when: Timing | None, anchors: Mapping[str, Any], today: date) -> bool:
    """Whether the task may be done ``today``: untimed, no ``opens``, or its day has come.

    A task whose anchor is not set yet is open unless it has an ``opens`` offset: numbers
    about a release that has no date cannot be asked yet.
    """
    if when is None or when.opens is None:
        return True
    start = opens_on(when, anchors)
    return start is not None and start <= today


def is_overdue(when: Timing | None, anchors: Mapping[str, Any], today: date) -> bool:
    """Whether the task's deadline has passed."""
    deadline = due_on(when, anchors)
    return deadline is not None and deadline < today


def waiting(roadmap: RoadmapInfo, anchors: Mapping[str, Any], today: date) -> frozenset[uuid.UUID]:
    """Ids of the roadmap's tasks that do not open yet: they are not asked and do not hold
    their stage back (they come back through ``/today`` and the plan reminders once open).

    Every tick and answer asks this, so only the roadmap's tasks with an opening day are
    looked at (listed once per roadmap snapshot), not every task.
    """
    tasks, ids = _opening(roadmap)
    if not anchors or not tasks:  # nothing dated yet: every task with an opening day waits
        return ids
    key = (roadmap, tuple(sorted(anchors.items())), today)
    last = _LAST_WAITING.get("last")
    if last is not None and last[0] == key:  # asked again in the same event
        return last[1]
    found = frozenset(task.id for task in tasks if not is_open(task.when, anchors, today))
    _LAST_WAITING["last"] = (key, found)
    return found


#: The last answer of :func:`waiting` (one event asks it several times with the same anchors).
_LAST_WAITING: dict[str, tuple[tuple[Any, ...], frozenset[uuid.UUID]]] = {}


#: Per roadmap id: the snapshot it was computed from, its tasks with an opening day, their ids.
_OPENING: dict[uuid.UUID, tuple[RoadmapInfo, tuple[TaskInfo, ...], frozenset[uuid.UUID]]] = {}


def _opening(roadmap: RoadmapInfo) -> tuple[tuple[TaskInfo, ...], frozenset[uuid.UUID]]:
    """The roadmap's tasks that open on a day counted from an anchor (and their ids), computed
    once per roadmap snapshot (a reload brings a new snapshot object, which replaces it)."""
    cached = _OPENING.get(roadmap.id)
    if cached is None or cached[0] is not roadmap:
        tasks = tuple(
            task
            for stage in roadmap.stages
            for task in stage.tasks
            if task.when is not None and task.when.opens is not None
        )
        cached = _OPENING[roadmap.id] = (roadmap, tasks, frozenset(t.id for t in tasks))
    return cached[1], cached[2]
