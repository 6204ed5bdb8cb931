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
    DONE,
    ProgressRecord,
    Waiting,
    first_open_stage,
    is_dealt_with,
    next_task,
    stage_done,
)
from core.progress.timeline import opens_on, show_date, waiting
from core.roadmaps.catalog import RoadmapInfo, StageInfo, TaskInfo

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
    later = not_open(turn, roadmap)
    index = roadmap.stage_index(turn.rec.current_stage_id)
    if index is not None:
        stage = roadmap.stages[index]
        rows = await turn.stage_progress(stage)
        if not stage_done(stage, rows, later):
            return stage, rows
    # Pointer missing, or its stage already done (content edited): recompute from all progress.
    # A dated task of a stage already passed that has opened since does not pull the musician
    # back to its stage: it comes back on its own (``_opened_earlier``).
    all_rows = await turn.roadmap_progress(roadmap)
    passed = frozenset(
        task.id
        for stage in roadmap.stages[: len(roadmap.stages) if index is None else index]
        for task in stage.tasks
        if task.when is not None and task.when.opens is not None
    )
    open_stage = first_open_stage(roadmap, all_rows, later | passed)
    new_id = open_stage.id if open_stage else None
    if new_id != turn.rec.current_stage_id:
        turn.set_profile(current_stage_id=new_id)
    return open_stage, all_rows


def not_open(turn: Turn, roadmap: RoadmapInfo) -> Waiting:
    """The roadmap's tasks whose date has not come for this profile (not asked yet)."""
    return waiting(roadmap, turn.rec.anchors, turn.today)


def opens_text(turn: Turn, task: TaskInfo) -> str:
    """When a task that is not open yet opens: "on Fri 2 Apr 2027", or how to get a date."""
    day = opens_on(task.when, turn.rec.anchors)
    if day is None:
        return "once your release date is set (/plan)"
    return f"on {show_date(day)}"


async def _opened_earlier(
    turn: Turn, roadmap: RoadmapInfo, stage: StageInfo | None, later: Waiting
) -> Located | None:
    """A timed task of an earlier stage that has opened since its stage was passed and is not
    dealt with: it comes back first (it did not hold its stage back while it waited)."""
    current = len(roadmap.stages) if stage is None else roadmap.stage_index(stage.id) or 0
    earlier = [
        (s, t)
        for s in roadmap.stages[:current]
        for t in s.tasks
        if t.when is not None and t.when.opens is not None and t.id not in later
    ]
    if not earlier:
        return None
    rows = await turn.roadmap_progress(roadmap)
    for owner, task in earlier:
        if not is_dealt_with(rows, task):
            return roadmap, owner, task, rows
    return None


async def _waiting_end(turn: Turn, roadmap: RoadmapInfo, later: Waiting) -> Outbound | None:
    """Instead of "finished": everything doable is done, the rest waits for its date."""
    if not later:
        return None
    rows = await turn.roadmap_progress(roadmap)
    first = next(
        (
            t
            for s in roadmap.stages
            for t in s.tasks
            if t.id in later and not is_dealt_with(rows, t)
        ),
        None,
    )
    if first is None:
        return None
    turn.set_state(None)
    return Message(
        text=f"🗓️ Everything you can do right now is done. Next: {bold(esc(first.title))}, "
        f"which opens {opens_text(turn, first)}. I'll bring it back then — /plan shows "
        "the timeline."
    )


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
    later = not_open(turn, roadmap)
    opened = await _opened_earlier(turn, roadmap, stage, later)
    if opened is not None:  # a dated task that waited for its day: its day has come
        _, owner, due, all_rows = opened
        replies.append(task_card(turn, roadmap, owner, due, all_rows.get(due.id)))
        return replies
    if stage is None:
        turn.set_state(None)
        held = await _waiting_end(turn, roadmap, later)
        return [*replies, held or finished(roadmap)]
    task = next_task(stage, rows, later)
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

    ``rows`` are the stage's progress rows as they stand now (the caller updated them).
    """
    later = not_open(turn, roadmap)
    if not stage_done(stage, rows, later):
        task = next_task(stage, rows, later)
        if task is not None:
            return [task_card(turn, roadmap, stage, task, rows.get(task.id))]
    index = roadmap.stage_index(stage.id) or 0
    current = roadmap.stage_index(turn.rec.current_stage_id)
    if current is None or current > index:
        # A dated task of a stage already passed came back on its day (``locate``): that
        # stage was celebrated when it was passed; carry on from where the musician is.
        return await today(turn)
    turn.event("stage.completed", stage=stage.slug, roadmap=roadmap.slug)
    title = f"Stage {index + 1} complete — {esc(stage.title)}!"
    celebration = f"🎉 {bold(title)}"
    if index + 1 >= len(roadmap.stages):
        turn.set_profile(current_stage_id=None)
        turn.set_state(None)
        held = await _waiting_end(turn, roadmap, later)
        if held is not None:  # dated tasks still to come: not finished yet
            return [Message(text=celebration), held]
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
    (another roadmap, a later stage, already done, no longer in the content).
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
    if task.id in not_open(turn, roadmap):
        return Toast(text=f"That one opens {opens_text(turn, task)} — I'll bring it back then.")
    stage, rows = await current_stage(turn, roadmap)
    current_index = len(roadmap.stages) if stage is None else roadmap.stage_index(stage.id) or 0
    if task_index < current_index and task.when is not None and task.when.opens is not None:
        all_rows = await turn.roadmap_progress(roadmap)
        if not is_dealt_with(all_rows, task):  # a dated task that waited for its day
            return roadmap, roadmap.stages[task_index], task, all_rows
    if task_index > current_index:
        return Toast(
            text="That task is in a later stage — it unlocks when you finish this one.",
        )
    row = rows.get(task.id)
    if stage is None or task_index < current_index or (row is not None and row.status in DONE):
        return Toast(text="That task is already done ✅ — /undo if that was a mistake.")
    return roadmap, stage, task, rows
