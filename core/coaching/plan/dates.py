"""A profile's plan as dated entries: every timed task with its dates and where it stands.

Pure and shared by ``/plan``, its calendar file and the plan reminders, so the three agree on
what is done, overdue and next. The dates themselves come from :mod:`core.progress.timeline`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from core.progress.service import Rows, live_tasks, status_of
from core.progress.timeline import due_on, opens_on
from core.roadmaps.catalog import RoadmapInfo, TaskInfo

Standing = Literal["done", "skipped", "overdue", "next", "later"]


@dataclass(frozen=True, slots=True)
class Entry:
    """One timed task of the plan."""

    task: TaskInfo
    due: date
    opens: date | None
    #: Days from the anchor (``when.due``): -28 is "T−28".
    offset: int
    standing: Standing


def t_label(offset: int) -> str:
    """``T−28``, ``T``, ``T+28`` (a real minus sign: it reads as one)."""
    if offset == 0:
        return "T"
    return f"T{'−' if offset < 0 else '+'}{abs(offset)}"


def anchor_task(roadmap: RoadmapInfo, name: str | None = None) -> TaskInfo | None:
    """The date question that sets anchor ``name`` (any anchor when ``None``)."""
    for stage in roadmap.stages:
        for task in stage.tasks:
            if task.input is not None and task.input.anchor and name in {None, task.input.anchor}:
                return task
    return None


def plan_anchor(roadmap: RoadmapInfo) -> str | None:
    """The anchor the roadmap's plan is counted from (the first timed task's)."""
    for stage in roadmap.stages:
        for task in stage.tasks:
            if task.when is not None:
                return task.when.anchor
    asks = anchor_task(roadmap)
    return asks.input.anchor if asks is not None and asks.input is not None else None


def entries(
    roadmap: RoadmapInfo, anchors: Mapping[str, Any], rows: Rows, today: date
) -> list[Entry]:
    """Every timed task whose anchor is set, by due date (then roadmap order)."""
    found: list[tuple[date, int, TaskInfo, date | None]] = []
    order = 0
    for stage in roadmap.stages:
        for task in live_tasks(stage, rows):
            order += 1
            due = due_on(task.when, anchors)
            if due is not None:
                found.append((due, order, task, opens_on(task.when, anchors)))
    found.sort(key=lambda item: (item[0], item[1]))
    out: list[Entry] = []
    next_taken = False
    for due, _order, task, opens in found:
        status = status_of(rows, task)
        standing: Standing
        if status == "completed":
            standing = "done"
        elif status == "skipped":
            standing = "skipped"
        elif due < today:
            standing = "overdue"
        elif not next_taken and (opens is None or opens <= today):
            standing, next_taken = "next", True
        else:
            standing = "later"
        assert task.when is not None  # noqa: S101 - due_on is None without it
        out.append(Entry(task, due, opens, task.when.due, standing))
    return out
