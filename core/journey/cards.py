"""The words and buttons of the coach's replies, kept apart from the decisions in the engine.

Everything here is pure: it takes catalog entries and progress rows and returns ``Outbound``s.
A task's card, ``/progress`` and ``/stats`` are :class:`~core.kernel.types.Card`s that say
what they are (their form, and the task they are about), so a front end can draw each its own
way without reading the text. User-supplied text always goes through ``esc``.
"""

from __future__ import annotations

from typing import Any, cast

from core.journey.buttons import CHOOSE, OPEN, PICK, SKIP, TICK, UNTICK
from core.kernel.markup import bold, esc, italic
from core.kernel.payloads import RUN_COMMAND, ButtonAction
from core.kernel.types import Button, Card
from core.progress.service import (
    POSTPONED,
    ProgressRecord,
    Rows,
    live_tasks,
    stage_done,
    status_of,
    ticked_items,
)
from core.roadmaps.catalog import Catalog, RoadmapInfo, StageInfo, TaskInfo
from core.roadmaps.schema import InputType

BAR_WIDTH = 10
#: Most memoised cards kept per catalog snapshot.
MEMO_MAX = 20_000
BUTTON_LABEL_MAX = 40


def bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    """A text progress bar: ``███████░░░``."""
    filled = 0 if total == 0 else round(width * done / total)
    return "█" * filled + "░" * (width - filled)


def percent(done: int, total: int) -> int:
    """Whole-number percentage, 0 when there is nothing to do."""
    return 0 if total == 0 else round(100 * done / total)


def short(text: str, limit: int = BUTTON_LABEL_MAX) -> str:
    """``text`` cut to fit a button label."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def open_button(task: TaskInfo, label: str) -> Button:
    """A button that opens ``task`` as ``/stage`` does (checked like any press: a task that
    is done, locked or not open yet gets a kind toast). For notices from other features."""
    return Button(label=label, payload=OPEN.encode(task.slug))


def label_for(task: TaskInfo) -> str:
    """What a data-input question is about, in words ("monthly listeners")."""
    if task.input is not None and task.input.metric:
        return task.input.metric.replace("_", " ")
    return task.title[0].lower() + task.title[1:]


def roadmap_menu(
    catalog: Catalog, *, action: ButtonAction = PICK
) -> tuple[str, tuple[tuple[Button, ...], ...]]:
    """The numbered list of roadmaps with a one-line pitch each, and a button per roadmap."""
    lines = []
    rows = []
    for i, r in enumerate(catalog.roadmaps, start=1):
        lines.append(f"{i}. {bold(esc(r.name))} — {esc(r.pitch)}")
        rows.append(
            (
                Button(
                    label=r.name,
                    payload=action.encode(r.slug),
                ),
            )
        )
    return "\n".join(lines), tuple(rows)


HOW_IT_WORKS = (
    "How it works: each roadmap is a run of stages. A stage has tasks — checklists you tick "
    "and questions about your numbers. Finish a stage and the next one unlocks. /today always "
    "shows your next step; /progress shows how far you've come."
)


def task_header(roadmap: RoadmapInfo, stage: StageInfo, task: TaskInfo) -> str:
    """``Stage 2 · First Release — task 3 of 6`` above a task card."""
    index = next((i for i, t in enumerate(stage.tasks) if t.id == task.id), 0) + 1
    stage_no = (roadmap.stage_index(stage.id) or 0) + 1
    optional = " (optional)" if task.optional else ""
    return italic(
        f"Stage {stage_no} · {esc(stage.title)} — task {index} of {len(stage.tasks)}{optional}"
    )


def checklist_card(
    roadmap: RoadmapInfo,
    stage: StageInfo,
    task: TaskInfo,
    row: ProgressRecord | None,
    *,
    edit: bool = False,
    memo: dict[Any, Any] | None = None,
) -> Card:
    """A checklist with a button per item: a box ticks it, a ticked box unticks it.

    The card depends only on the content and which items are ticked, so it is memoised in
    ``memo`` (the catalog snapshot's cache, dropped with the snapshot when content changes):
    most ticks of most musicians redraw a card someone has already drawn.
    """
    ticked = frozenset(ticked_items(row))
    key = ("checklist", task.id, ticked, edit)
    if memo is not None and (hit := memo.get(key)) is not None:
        return cast(Card, hit)
    lines = [task_header(roadmap, stage, task), bold(esc(task.title)), esc(task.description), ""]
    buttons: list[tuple[Button, ...]] = []
    for n, item in enumerate(task.items, start=1):
        mark = "☑" if item.key in ticked else "☐"
        lines.append(f"{mark} {n}. {esc(item.text)}")
        action = UNTICK if item.key in ticked else TICK
        buttons.append(
            (
                Button(
                    label=short(f"{mark} {n}. {item.text}"),
                    payload=action.encode(task.slug, item.key),
                    ticked=item.key in ticked,
                ),
            )
        )
    lines += [
        "",
        italic('Tap an item when it\'s done, or type its number ("done 2"). ')
        + f"{len(ticked)}/{len(task.items)} done.",
    ]
    buttons.append(
        (
            Button(label="Skip", payload=SKIP.encode(task.slug)),
            Button(label="Progress", payload=RUN_COMMAND.encode("progress")),
        )
    )
    card = Card(
        text="\n".join(lines),
        buttons=tuple(buttons),
        edit=edit,
        form="checklist",
        task=task.slug,
    )
    if memo is not None:
        if len(memo) >= MEMO_MAX:
            memo.clear()
        memo[key] = card
    return card


def input_card(
    roadmap: RoadmapInfo,
    stage: StageInfo,
    task: TaskInfo,
    previous: str | None,
    example: str,
    *,
    baseline: str | None = None,
) -> Card:
    """A data-input question; the answer comes back as free text — or, for a choice
    question, by a button per choice (every platform shows them; a press answers exactly like
    typing the choice)."""
    spec = task.spec
    buttons: list[tuple[Button, ...]] = []
    lines = [task_header(roadmap, stage, task), bold(esc(task.title)), esc(task.description), ""]
    lines.append(f"❓ {esc(spec.question)}")
    if baseline:  # last release's answer and the aim for this one (core/journey/cycle_offer.py)
        lines.append(baseline)
    if spec.help:
        lines.append(italic(esc(spec.help)))
    if spec.type is InputType.CHOICE and spec.choices:
        lines += [f"{n}. {esc(c)}" for n, c in enumerate(spec.choices, start=1)]
        buttons += [
            (Button(label=short(c), payload=CHOOSE.encode(task.slug, str(i))),)
            for i, c in enumerate(spec.choices)
        ]
    hint = f"Type your answer, e.g. {esc(example)}"
    if previous:
        hint += f" (last time: {esc(previous)})"
    lines += ["", italic(hint)]
    return Card(
        text="\n".join(lines),
        buttons=(*buttons, (Button(label="Skip", payload=SKIP.encode(task.slug)),)),
        form="question",
        task=task.slug,
    )


#: Most "open a skipped key task" buttons under ``/progress`` (Discord draws 5 rows at most).
PROGRESS_REOPEN_MAX = 4


def progress_card(roadmap: RoadmapInfo, rows: Rows, current_stage_id: Any) -> Card:
    """``/progress``: every stage with a bar and a percentage, and the overall figure.

    Bars and percentages count *completed* tasks: a stage finished by skipping is "done,
    2 skipped", not a clean 100 %, and the key tasks skipped in it are named (each with a
    button that opens it again).
    """
    every = [t for stage in roadmap.stages for t in live_tasks(stage, rows)]
    completed = sum(1 for t in every if status_of(rows, t) == "completed")
    lines = [f"{bold(esc(roadmap.name))} — {percent(completed, len(every))}% overall", ""]
    locked = False
    reopen: list[TaskInfo] = []
    for n, stage in enumerate(roadmap.stages, start=1):
        tasks = live_tasks(stage, rows)
        done = sum(1 for t in tasks if status_of(rows, t) == "completed")
        count = len(tasks)
        skipped = [t for t in tasks if status_of(rows, t) == "skipped"]
        note = f" — {len(skipped)} skipped" if skipped else ""
        if stage_done(stage, rows):
            icon = "☑️" if skipped else "✅"
            note = f" — done, {len(skipped)} skipped" if skipped else ""
        elif stage.id == current_stage_id:
            icon = "▶️"
            locked = True
        elif locked:
            icon = "🔒"
        else:
            icon = "▶️"
            locked = True
        lines.append(
            f"{icon} {n}. {esc(stage.title)}{note}\n    {bar(done, count)} "
            f"{percent(done, count)}% ({done}/{count})"
        )
        keys = [t for t in skipped if t.key]
        if keys:
            names = ", ".join(esc(t.title) for t in keys)
            label = "Skipped key tasks" if len(keys) > 1 else "Skipped key task"
            lines.append(f"    ⚠️ {italic(label)}: {names}")
            reopen += keys
    total_skipped = sum(1 for t in every if status_of(rows, t) == "skipped")
    if total_skipped:
        lines += [
            "",
            italic(
                f"{total_skipped} task(s) skipped — they don't hold you back, but the key ones "
                "come back when they matter."
            ),
        ]
    later = sum(1 for t in every if status_of(rows, t) == POSTPONED)
    if later:
        lines += ["", f"⏳ {later} question(s) for later — I'll ask again."]
    buttons: list[tuple[Button, ...]] = [
        (Button(label=short(f"↩ {t.title}"), payload=OPEN.encode(t.slug)),)
        for t in reopen[:PROGRESS_REOPEN_MAX]
    ]
    buttons.append((Button(label="Next task", payload=RUN_COMMAND.encode("today")),))
    return Card(text="\n".join(lines), buttons=tuple(buttons), form="progress")
