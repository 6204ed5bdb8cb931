"""Where the musician is and what comes next: the current stage, the next task, stage advances.

Every flow that changes progress ends here: :func:`advance` shows the next task of the stage, or
celebrates the finished stage and opens the next one (gating: a stage unlocks only when every
required task of the one before is completed or skipped).
"""

from __future__ import annotations

import uuid

from core.journey import cards
from core.journey.states import Awaiting
from core.kernel.markup import bold, esc, italic
from core.kernel.turn import Turn
from core.kernel.types import Message, Outbound, Toast
from core.progress.parsing import example_answer
from core.progress.service import (
    CLOSED,
    POSTPONED,
    ProgressRecord,
    first_open_stage,
    next_task,
    stage_done,
)
from core.roadmaps.catalog import RoadmapInfo, StageInfo, TaskInfo

_ALREADY_DONE = "That task is already done ✅ — /undo if that was a mistake."

Located = tuple[RoadmapInfo, StageInfo, TaskInfo, dict[uuid.UUID, ProgressRecord]]


def ask_name(turn: Turn) -> list[Outbound]:
    """Ask for the artist name."""
    turn.set_state(Awaiting.ARTIST_NAME)
    return [Message(text=f"First things first: what's your {bold('artist name')}?")]


def offer_roadmaps(turn: Turn, *, first_time: bool) -> list[Outbound]:
    """The roadmap menu, each with its one-line pitch, and how the coach works."""
    if not turn.catalog.roadmaps:
        turn.set_state(None)
        return [
            Message(
                text="I have no roadmaps loaded yet. An admin needs to run "
                "`coach roadmaps sync` — sorry about that!"
            )
        ]
    menu, buttons = cards.roadmap_menu(turn.catalog)
    turn.set_state(Awaiting.ROADMAP)
    head = "Pick the roadmap that fits you best:" if first_time else "Which roadmap is yours?"
    return [Message(text=f"{head}\n\n{menu}\n\n{italic(cards.HOW_IT_WORKS)}", buttons=buttons)]


def finished(roadmap: RoadmapInfo) -> Outbound:
    """The end of a roadmap."""
    return Message(
        text=f"🏆 You've finished the whole {bold(esc(roadmap.name))} roadmap. That's huge.\n"
        "Keep your numbers fresh with /stats, or pick a new path with /roadmap."
    )


async def current_stage(
    turn: Turn, roadmap: RoadmapInfo
) -> tuple[StageInfo | None, dict[uuid.UUID, ProgressRecord]]:
    """The profile's current stage and its progress rows, repairing a stale stage pointer."""
    index = roadmap.stage_index(turn.rec.current_stage_id)
    if index is not None:
        stage = roadmap.stages[index]
        rows = await turn.stage_progress(stage)
        if not stage_done(stage, rows):
            return stage, rows
    # Pointer missing, or its stage already done (content edited): recompute from all progress.
    all_rows = await turn.roadmap_progress(roadmap)
    open_stage = first_open_stage(roadmap, all_rows)
    new_id = open_stage.id if open_stage else None
    if new_id != turn.rec.current_stage_id:
        turn.set_profile(current_stage_id=new_id)
    return open_stage, all_rows


def task_card(
    turn: Turn,
    roadmap: RoadmapInfo,
    stage: StageInfo,
    task: TaskInfo,
    row: ProgressRecord | None,
    *,
    edit: bool = False,
) -> Outbound:
    """Show a task and wait for its ticks or its answer."""
    if task.is_checklist:
        turn.set_state(Awaiting.CHECKLIST, task)
        return cards.checklist_card(roadmap, stage, task, row, edit=edit, memo=turn.catalog.memo)
    spec = task.spec
    turn.set_state(Awaiting.ANSWER, task)
    previous = None
    if row is not None and row.task_data.get("display"):
        previous = str(row.task_data["display"])
    elif spec.metric and spec.metric in turn.rec.current_stats:
        previous = str(turn.rec.current_stats[spec.metric].get("display"))
    return cards.input_card(roadmap, stage, task, previous, example_answer(spec, today=turn.today))


async def today(turn: Turn, *, intro: list[Outbound] | None = None) -> list[Outbound]:
    """``/today``: the next thing to do, whatever the musician's situation."""
    replies = list(intro or [])
    if turn.rec.artist_name is None:
        return replies + ask_name(turn)
    roadmap = turn.roadmap
    if roadmap is None:
        return replies + offer_roadmaps(turn, first_time=False)
    stage, rows = await current_stage(turn, roadmap)
    if stage is None:
        turn.set_state(None)
        return [*replies, finished(roadmap)]
    task = next_task(stage, rows)
    if task is None:  # only optional tasks were left and the stage is done: move on
        return replies + await advance(turn, roadmap, stage, rows)
    replies.append(task_card(turn, roadmap, stage, task, rows.get(task.id)))
    return replies


async def advance(
    turn: Turn,
    roadmap: RoadmapInfo,
    stage: StageInfo,
    rows: dict[uuid.UUID, ProgressRecord],
) -> list[Outbound]:
    """After a task is dealt with: the stage's next task, or its celebration and the next stage.

    ``rows`` are the stage's progress rows as they stand now (the caller updated them). A task
    of an earlier stage (a postponed question answered later) changes no stage: ``/today``.
    """
    if stage.id != turn.rec.current_stage_id:
        return await today(turn)
    if not stage_done(stage, rows):
        task = next_task(stage, rows)
        if task is not None:
            return [task_card(turn, roadmap, stage, task, rows.get(task.id))]
    index = roadmap.stage_index(stage.id) or 0
    turn.event("stage.completed", stage=stage.slug, roadmap=roadmap.slug)
    title = f"Stage {index + 1} complete — {esc(stage.title)}!"
    celebration = f"🎉 {bold(title)}"
    if index + 1 >= len(roadmap.stages):
        turn.set_profile(current_stage_id=None)
        turn.set_state(None)
        turn.event("roadmap.completed", roadmap=roadmap.slug)
        return [Message(text=celebration), finished(roadmap)]
    nxt = roadmap.stages[index + 1]
    turn.set_profile(current_stage_id=nxt.id)
    heading = f"Stage {index + 2} · {esc(nxt.title)}"
    intro = Message(text=f"{celebration}\n\n🔓 {bold(heading)}\n{esc(nxt.intro)}")
    return await today(turn, intro=[intro])


async def locate(turn: Turn, task_slug: str) -> Located | Outbound:
    """Find the task a button or an answer refers to and check it can be acted on now.

    Returns the roadmap, stage, task and the stage's rows, or a kind toast that explains why not
    (another roadmap, a later stage, already done, no longer in the content). A postponed
    question stays open, also once its stage is behind the musician: it comes back with its
    own stage and rows.
    """
    task = turn.catalog.tasks_by_slug.get(task_slug)
    roadmap = turn.roadmap
    if task is None or task.archived:
        return Toast(
            text="That task isn't part of the roadmap anymore. /today shows what's next.",
        )
    if roadmap is None or task.roadmap_id != roadmap.id:
        return Toast(
            text="That button is from another roadmap — nothing changed. "
            "/today shows where you are now.",
        )
    task_index = roadmap.stage_index(task.stage_id)
    if task_index is None:
        return Toast(text="That task isn't part of the roadmap anymore.")
    stage, rows = await current_stage(turn, roadmap)
    current_index = len(roadmap.stages) if stage is None else roadmap.stage_index(stage.id) or 0
    if task_index > current_index:
        return Toast(
            text="That task is in a later stage — it unlocks when you finish this one.",
        )
    if stage is None or task_index < current_index:
        earlier = roadmap.stages[task_index]
        earlier_rows = await turn.stage_progress(earlier)
        row = earlier_rows.get(task.id)
        if row is not None and row.status == POSTPONED:
            return roadmap, earlier, task, earlier_rows
        return Toast(text=_ALREADY_DONE)
    row = rows.get(task.id)
    if row is not None and row.status in CLOSED:
        return Toast(text=_ALREADY_DONE)
    return roadmap, stage, task, rows
