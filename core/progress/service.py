"""Task progress: reading rows, deciding what is next, and whether a stage is done.

A task counts as *dealt with* when it is completed or skipped. A stage is done when every
required (non-optional) task in it is dealt with; optional tasks never hold a stage back. These
rules are pure functions over the progress rows so the engine, ``/progress`` and the journey
tests all agree.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import UserTaskProgress
from core.roadmaps.catalog import RoadmapInfo, StageInfo, TaskInfo

DONE = frozenset({"completed", "skipped"})

Rows = Mapping[uuid.UUID, UserTaskProgress]


async def progress_rows(
    session: AsyncSession, profile_id: uuid.UUID, task_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, UserTaskProgress]:
    """The profile's progress rows for these tasks, keyed by task id (missing = not started)."""
    ids = list(task_ids)
    if not ids:
        return {}
    result = await session.scalars(
        select(UserTaskProgress).where(
            UserTaskProgress.profile_id == profile_id, UserTaskProgress.task_id.in_(ids)
        )
    )
    return {row.task_id: row for row in result}


def status_of(rows: Rows, task: TaskInfo) -> str:
    """The task's status for this profile."""
    row = rows.get(task.id)
    return row.status if row is not None else "not_started"


def is_dealt_with(rows: Rows, task: TaskInfo) -> bool:
    """Completed or skipped."""
    return status_of(rows, task) in DONE


def stage_done(stage: StageInfo, rows: Rows) -> bool:
    """Every required task of the stage is completed or skipped."""
    return all(is_dealt_with(rows, t) for t in stage.required)


def next_task(stage: StageInfo, rows: Rows) -> TaskInfo | None:
    """The first task of the stage, in order, that is neither completed nor skipped."""
    for task in stage.tasks:
        if not is_dealt_with(rows, task):
            return task
    return None


def first_open_stage(roadmap: RoadmapInfo, rows: Rows) -> StageInfo | None:
    """The stage a profile is on: the first one that is not done (``None``: roadmap finished)."""
    for stage in roadmap.stages:
        if not stage_done(stage, rows):
            return stage
    return None


def stage_counts(stage: StageInfo, rows: Rows) -> tuple[int, int]:
    """(dealt-with tasks, all tasks) of a stage, optional tasks included, for progress bars."""
    done = sum(1 for t in stage.tasks if is_dealt_with(rows, t))
    return done, len(stage.tasks)


def ticked_items(row: UserTaskProgress | None) -> list[str]:
    """The checklist item keys ticked on this row, in tick order."""
    if row is None:
        return []
    ticked = row.task_data.get("ticked", [])
    return [str(k) for k in ticked] if isinstance(ticked, list) else []
