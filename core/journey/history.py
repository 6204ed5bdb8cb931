"""Skip and one-step undo.

Before a tick, an answer or a skip changes anything, :func:`snapshot` records how things stood
(the progress row, the stage pointer, the stats entry it will replace); ``/undo`` puts that back
and removes the stats sample the action created. One step is enough for "oops, wrong button".
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from core.journey.dated import restore_anchors
from core.journey.navigation import advance, current_stage, locate, offer_roadmaps, today
from core.journey.states import Awaiting
from core.kernel.markup import bold, esc
from core.kernel.turn import Turn
from core.kernel.types import Message, Outbound, Toast
from core.progress.next_step import comes_back, reopenable
from core.progress.service import ProgressRecord, next_task
from core.roadmaps.catalog import TaskInfo

_SENTENCE = re.compile(r".+?[.!?](?=\s|$)")
#: The states in which a task card is on screen (its ticks or its answer are awaited).
_ON_SCREEN = frozenset({Awaiting.ANSWER, Awaiting.CHECKLIST, Awaiting.CONFIRM_VALUE})


def snapshot(turn: Turn, task: TaskInfo, row: ProgressRecord | None, label: str) -> dict[str, Any]:
    """How things stand before an action on ``task`` (JSON-safe, stored in the state row)."""
    stored = row is not None and row.stored
    return {
        "label": label,
        "task_id": str(task.id),
        "row": None
        if not stored or row is None
        else {
            "status": row.status,
            "task_data": row.task_data,
            "completed_by": str(row.completed_by) if row.completed_by else None,
            "completed_at": row.completed_at.isoformat() if row.completed_at else None,
        },
        "stage_id": str(turn.rec.current_stage_id) if turn.rec.current_stage_id else None,
        "stats": {},
        "sample_id": None,
    }


def ensure_row(rows: dict[uuid.UUID, ProgressRecord], task: TaskInfo) -> ProgressRecord:
    """The task's progress row, created in memory (and in ``rows``) if it didn't exist."""
    row = rows.get(task.id)
    if row is None:
        row = rows[task.id] = ProgressRecord(task_id=task.id)
    return row


async def skip(turn: Turn, task_slug: str | None) -> list[Outbound]:
    """Skip a task; it counts as dealt with. Without a slug: the task on screen (the one the
    coach waits on — ``/stage`` may have opened one out of order), else the stage's next."""
    roadmap = turn.roadmap
    if roadmap is None:
        return offer_roadmaps(turn, first_time=False)
    if task_slug is None:
        stage, rows = await current_stage(turn, roadmap)
        shown = turn.state_task if turn.awaiting in _ON_SCREEN else None
        task: TaskInfo | None
        if shown is not None and shown.roadmap_id != roadmap.id:
            task = next_task(stage, rows) if stage is not None else None
        elif shown is not None and (stage is None or shown.stage_id != stage.id):
            task = shown  # a task of another stage that /today brought up: locate checks it
        elif stage is not None and shown is not None and shown.stage_id == stage.id:
            task = shown if reopenable(shown, rows.get(shown.id)) else next_task(stage, rows)
        else:
            task = next_task(stage, rows) if stage else None
        if task is None:
            return [Message(text="There's nothing to skip right now.")]
        task_slug = task.slug
    found = await locate(turn, task_slug)
    if isinstance(found, Outbound):
        return [found]
    roadmap, stage, task, rows = found
    current = rows.get(task.id)
    if current is not None and current.status == "skipped" and turn.rec.state_task_id != task.id:
        # a stale Skip of a task skipped before; skipping again is for one brought back (on
        # screen), where it restarts the key task's rest
        return [Toast(text="That task is already done ✅ — /undo if that was a mistake.")]
    undo = snapshot(turn, task, current, f"skipping “{task.title}”")
    row = ensure_row(rows, task)
    row.status = "skipped"
    # when: a key task rests a few days before it is brought back (core.progress.next_step)
    row.task_data = {**row.task_data, "skipped_on": turn.today.isoformat()}
    await turn.save(row)
    turn.set_undo(undo)
    turn.event("task.skipped", task=task.slug)
    turn.set_state(None)
    skipped = Message(text=skip_note(turn, task))
    return [skipped, *await advance(turn, roadmap, stage, rows)]


def skip_note(turn: Turn, task: TaskInfo) -> str:
    """The reply to a skip; for a key task, briefly why it matters and when it comes back."""
    title = bold(esc(task.title))
    if not task.key:
        return f"⏭️ Skipped {title}. /undo brings it back."
    why = first_sentence(task.description)
    back = comes_back(task, turn.rec.anchors or {})
    return (
        f"⏭️ Skipped {title} — but it's a key task: {esc(why)}\n"
        f"{esc(back)} /undo brings it back now."
    )


def first_sentence(text: str) -> str:
    """The first sentence of a task's description (its "why")."""
    text = " ".join(text.split())
    match = _SENTENCE.match(text)
    return match.group(0) if match else text


async def undo(turn: Turn) -> list[Outbound]:
    """Put back what the last tick, answer or skip changed."""
    snap = turn.rec.undo
    roadmap = turn.roadmap
    if not snap or roadmap is None:
        return [Message(text="There's nothing to undo.")]
    task = turn.catalog.tasks_by_id.get(uuid.UUID(snap["task_id"]))
    if task is None or task.roadmap_id != roadmap.id:
        turn.set_undo(None)
        return [Message(text="There's nothing to undo.")]
    row = await turn.task_progress(task)
    rows = {task.id: row} if row is not None else {}
    previous = snap.get("row")
    if previous is None:
        if row is not None:
            await turn.delete(row)
    else:
        row = ensure_row(rows, task)
        row.status = previous["status"]
        row.task_data = previous["task_data"]
        row.completed_by = uuid.UUID(previous["completed_by"]) if previous["completed_by"] else None
        row.completed_at = (
            datetime.fromisoformat(previous["completed_at"]) if previous["completed_at"] else None
        )
        await turn.save(row)
    stage_id = uuid.UUID(snap["stage_id"]) if snap.get("stage_id") else None
    if stage_id != turn.rec.current_stage_id:
        turn.set_profile(current_stage_id=stage_id)
    if snap.get("stats"):
        stats = dict(turn.rec.current_stats or {})
        for metric, old in snap["stats"].items():
            if old is None:
                stats.pop(metric, None)
            else:
                stats[metric] = old
        turn.set_profile(current_stats=stats)
    restore_anchors(turn, snap.get("anchors"))  # a date answer undone: the plan's old date
    if snap.get("sample_id"):
        await turn.store.delete_sample(uuid.UUID(snap["sample_id"]))
    turn.set_undo(None)
    turn.event("task.undone", task=task.slug)
    note = Message(text=f"↩️ Undone: {esc(snap['label'])}.")
    return await today(turn, intro=[note])
