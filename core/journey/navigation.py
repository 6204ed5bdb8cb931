"""Where the musician is and what comes next: the current stage, the next task, stage advances.

Every flow that changes progress ends here: :func:`advance` shows the next task of the stage, or
celebrates the finished stage and opens the next one (gating: a stage unlocks only when every
required task of the one before is completed or skipped). ``/today`` asks the next-step chooser
(:mod:`core.progress.next_step`) instead: a dated task or a skipped key task may come before
the roadmap's order, and the card then says why in one line.
"""

from __future__ import annotations

import uuid

from core.journey import cards, country, cycle_offer
from core.journey.buttons import OPEN
from core.journey.states import Awaiting
from core.kernel.markup import bold, esc, italic
from core.kernel.turn import Turn
from core.kernel.types import Button, Message, Outbound, Toast
from core.progress.next_step import (
    NextStep,
    Why,
    choose,
    is_pressing,
    last_sample_days,
    reopenable,
)
from core.progress.parsing import example_answer
from core.progress.service import (
    ProgressRecord,
    Rows,
    Waiting,
    applies,
    first_open_stage,
    is_dealt_with,
    next_task,
    stage_done,
)
from core.progress.timeline import opens_on, show_date, waiting
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


def skipped_keys(roadmap: RoadmapInfo, rows: Rows) -> list[tuple[int, TaskInfo]]:
    """The key tasks the musician skipped, with their stage numbers, in roadmap order."""
    return [
        (n, task)
        for n, stage in enumerate(roadmap.stages, start=1)
        for task in stage.tasks
        if task.key
        and (row := rows.get(task.id)) is not None
        and row.status == "skipped"
        and applies(task, rows)
    ]


def finished(roadmap: RoadmapInfo, rows: Rows) -> Outbound:
    """The end of a roadmap, honest about the key tasks that were skipped (each with a button
    that opens it: doing it then un-skips it)."""
    skipped = skipped_keys(roadmap, rows)
    tail = "Keep your numbers fresh with /stats, or pick a new path with /roadmap."
    if not skipped:
        return Message(
            text=f"🏆 You've finished the whole {bold(esc(roadmap.name))} roadmap. "
            f"That's huge.\n{tail}"
        )
    count = "1 key task" if len(skipped) == 1 else f"{len(skipped)} key tasks"
    lines = [
        f"🏁 You've reached the end of the {bold(esc(roadmap.name))} roadmap — "
        f"with {count} skipped:",
        *(f"• {esc(task.title)} {italic(f'(stage {n})')}" for n, task in skipped),
        "",
        "They're what protects your music and your money, so they still matter. "
        "Tap one to do it now. " + tail,
    ]
    buttons = tuple(
        (Button(label=cards.short(f"↩ {task.title}"), payload=OPEN.encode(task.slug)),)
        for _, task in skipped
    )
    return Message(text="\n".join(lines), buttons=buttons)


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
    open_stage = first_open_stage(roadmap, all_rows, later | _passed_dated(roadmap, index))
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


async def the_end(
    turn: Turn, roadmap: RoadmapInfo, later: Waiting, rows: Rows | None = None
) -> tuple[Outbound, bool]:
    """What the musician hears when no stage is left, and whether the roadmap is complete.

    Honest both ways: skipped key tasks are listed with a button each (:func:`finished`), and
    a dated task still waiting for its day (the first 28 days of streams) is named with the day
    it opens — then the roadmap is not complete yet, and "everything you can do right now is
    done" is said only when no skipped key task could be done instead.
    """
    if rows is None:
        rows = await turn.roadmap_progress(roadmap)
    first = next(
        (
            t
            for s in roadmap.stages
            for t in s.tasks
            if t.id in later and not is_dealt_with(rows, t) and applies(t, rows)
        ),
        None,
    )
    turn.set_state(None)
    if first is None:
        return finished(roadmap, rows), True
    coming = (
        f"{bold(esc(first.title))}, which opens {opens_text(turn, first)}. "
        "I'll bring it back then — /plan shows the timeline."
    )
    if skipped_keys(roadmap, rows):
        end = finished(roadmap, rows)
        note = f"{end.text}\n\n🗓️ Still to come: {coming}"
        return end.model_copy(update={"text": note}), False
    return Message(text=f"🗓️ Everything you can do right now is done. Next: {coming}"), False


def task_card(
    turn: Turn,
    roadmap: RoadmapInfo,
    stage: StageInfo,
    task: TaskInfo,
    row: ProgressRecord | None,
    *,
    edit: bool = False,
) -> Outbound:
    """Show a task and wait for its ticks or its answer.

    A task whose advice differs by country, shown to a profile without one, first asks it,
    once (:mod:`core.journey.country`)."""
    if country.needed(turn, task):
        return country.question(turn, task)
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
    baseline = cycle_offer.baseline_line(spec, row, cycle_offer.noun(roadmap))
    return cards.input_card(
        roadmap,
        stage,
        task,
        previous,
        example_answer(spec, today=turn.today, reading=turn.reading),
        baseline=baseline,
    )


def _stage_among(turn: Turn, roadmap: RoadmapInfo, rows: Rows, later: Waiting) -> StageInfo | None:
    """The current stage read from the whole roadmap's rows (repairing a stale pointer, as
    :func:`current_stage` does: a dated task of a passed stage does not pull the musician
    back to it)."""
    index = roadmap.stage_index(turn.rec.current_stage_id)
    if index is not None and not stage_done(roadmap.stages[index], rows, later):
        return roadmap.stages[index]
    open_stage = first_open_stage(roadmap, rows, later | _passed_dated(roadmap, index))
    new_id = open_stage.id if open_stage else None
    if new_id != turn.rec.current_stage_id:
        turn.set_profile(current_stage_id=new_id)
    return open_stage


def _passed_dated(roadmap: RoadmapInfo, index: int | None) -> Waiting:
    """Dated tasks (with an opening day) of the stages before ``index`` (all, when unknown)."""
    return frozenset(
        task.id
        for stage in roadmap.stages[: len(roadmap.stages) if index is None else index]
        for task in stage.tasks
        if task.when is not None and task.when.opens is not None
    )


def next_step(
    turn: Turn, roadmap: RoadmapInfo, rows: Rows, stage: StageInfo | None, later: Waiting
) -> NextStep | None:
    """What ``/today`` puts first for this musician (see :mod:`core.progress.next_step`)."""
    return choose(
        roadmap,
        rows,
        current=stage,
        anchors=turn.rec.anchors or {},
        today=turn.today,
        waiting=later,
        metrics=turn.catalog.metrics,
        last_samples=last_sample_days(turn.rec.current_stats or {}),
    )


def _metric_nudge(step: NextStep) -> Outbound:
    """A stale tracked number: the reason and the command that logs a new value."""
    info = step.metric
    word = "" if info is None else (info.spec.aliases[0] if info.spec.aliases else info.name)
    text = f"📊 {esc(step.reason or '')}\nSend /update {esc(word)} <number> to log today's figure."
    return Message(text=text)


async def today(turn: Turn, *, intro: list[Outbound] | None = None) -> list[Outbound]:
    """``/today``: the next best step, whatever the musician's situation, and why it is next.

    Reads the whole roadmap's rows once (the chooser looks at every stage).
    """
    replies = list(intro or [])
    if turn.rec.artist_name is None:
        return replies + ask_name(turn)
    roadmap = turn.roadmap
    if roadmap is None:
        return replies + offer_roadmaps(turn, first_time=False)
    rows = await turn.roadmap_progress(roadmap)
    later = not_open(turn, roadmap)
    stage = _stage_among(turn, roadmap, rows, later)
    step = next_step(turn, roadmap, rows, stage, later)
    if step is not None and step.why is Why.STALE_METRIC:
        replies.append(_metric_nudge(step))
        if step.task is None:
            turn.set_state(None)
            return replies
    if step is None or step.task is None or step.stage is None:
        if stage is None:
            turn.set_state(None)
            end, _complete = await the_end(turn, roadmap, later, rows)
            if cycle_offer.cycle_done(roadmap, rows):  # nothing left but the next release
                past = await turn.store.load_cycles(turn.rec.profile_id, roadmap.id)
                return [*replies, end, cycle_offer.offer(roadmap, cycle_offer.cycle_number(past))]
            return [*replies, end]
        # only optional tasks were left and the stage is done: move on
        return replies + await advance(turn, roadmap, stage, rows)
    card = task_card(turn, roadmap, step.stage, step.task, rows.get(step.task.id))
    if step.reason and step.why is not Why.STALE_METRIC:
        card = card.model_copy(update={"text": f"👉 {esc(step.reason)}\n\n{card.text}"})
    replies.append(card)
    return replies


async def advance(
    turn: Turn,
    roadmap: RoadmapInfo,
    stage: StageInfo,
    rows: dict[uuid.UUID, ProgressRecord],
) -> list[Outbound]:
    """After a task is dealt with: the stage's next task, or its celebration and the next stage.

    ``rows`` are the stage's progress rows as they stand now (the caller updated them). A task
    of another stage (a skipped key task brought back, a dated task pulled forward) does not
    move the musician along that stage (nor does a postponed question answered late):
    ``/today`` says what comes next instead.
    """
    offer = await _cycle_offer(turn, roadmap, stage, rows)
    if offer:
        return [*await _advance(turn, roadmap, stage, rows), *offer]
    return await _advance(turn, roadmap, stage, rows)


async def _cycle_offer(
    turn: Turn, roadmap: RoadmapInfo, stage: StageInfo, rows: Rows
) -> list[Outbound]:
    """The next cycle's offer, when this step finished a stage of the repeating cycle and the
    whole cycle is now done. ``rows`` (the stage's) answer the common case without a read: a
    step that leaves its repeating stage unfinished costs nothing more; only one that finishes
    it reads the roadmap's rows (the cycle may span stages) and the earlier cycles."""
    if not stage.repeats or not stage_done(stage, rows):
        return []
    rows = await turn.roadmap_progress(roadmap)
    if not cycle_offer.cycle_done(roadmap, rows):
        return []
    past = await turn.store.load_cycles(turn.rec.profile_id, roadmap.id)
    return [cycle_offer.offer(roadmap, cycle_offer.cycle_number(past))]


async def _advance(
    turn: Turn,
    roadmap: RoadmapInfo,
    stage: StageInfo,
    rows: dict[uuid.UUID, ProgressRecord],
) -> list[Outbound]:
    if stage.id != turn.rec.current_stage_id:
        return await today(turn)
    later = not_open(turn, roadmap)
    if not stage_done(stage, rows, later):
        task = next_task(stage, rows, later)
        if task is not None:
            return [task_card(turn, roadmap, stage, task, rows.get(task.id))]
    index = roadmap.stage_index(stage.id) or 0
    turn.event("stage.completed", stage=stage.slug, roadmap=roadmap.slug)
    title = f"Stage {index + 1} complete — {esc(stage.title)}!"
    celebration = f"🎉 {bold(title)}"
    if index + 1 >= len(roadmap.stages):
        turn.set_profile(current_stage_id=None)
        turn.set_state(None)
        end, complete = await the_end(turn, roadmap, later)
        if complete:  # no dated task still to come
            turn.event("roadmap.completed", roadmap=roadmap.slug)
        return [Message(text=celebration), end]
    nxt = roadmap.stages[index + 1]
    turn.set_profile(current_stage_id=nxt.id)
    heading = f"Stage {index + 2} · {esc(nxt.title)}"
    intro = Message(text=f"{celebration}\n\n🔓 {bold(heading)}\n{esc(nxt.intro)}")
    return await today(turn, intro=[intro])


async def locate(turn: Turn, task_slug: str) -> Located | Outbound:
    """Find the task a button or an answer refers to and check it can be acted on now.

    Returns the roadmap, the task's stage, the task and that stage's rows, or a kind toast that
    explains why not (another roadmap, a later stage, already done, no longer in the content).
    A task of an earlier stage may be acted on while it is not completed (a skipped key task,
    brought back, un-skips); a task of a later stage only when its date presses
    (:func:`~core.progress.next_step.is_pressing`).
    A postponed question stays open, also once its stage is behind the musician.
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
    shown = roadmap.stages[task_index].tasks
    if not any(t.id == task.id for t in shown):
        # not for this musician's country: its version for their country, when it has one
        mine = next((t for t in shown if t.variant_of == task.slug), None)
        if mine is None:
            return Toast(
                text="That task is for musicians in another country. /country shows yours."
            )
        task = mine
    if task.id in not_open(turn, roadmap):
        return Toast(text=f"That one opens {opens_text(turn, task)} — I'll bring it back then.")
    stage, rows = await current_stage(turn, roadmap)
    current_index = len(roadmap.stages) if stage is None else roadmap.stage_index(stage.id) or 0
    if task_index > current_index and not is_pressing(task, turn.rec.anchors or {}, turn.today):
        return Toast(
            text="That task is in a later stage — it unlocks when you finish this one.",
        )
    if stage is None or task_index != current_index:
        stage = roadmap.stages[task_index]
        rows = await turn.stage_progress(stage)
    if not reopenable(task, rows.get(task.id)):
        return Toast(text=_ALREADY_DONE)
    if not applies(task, rows):
        return Toast(text="That task doesn't apply to you after your earlier answer. /today")
    return roadmap, stage, task, rows
