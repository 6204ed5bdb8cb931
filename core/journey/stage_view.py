"""``/stage``: every task of the current stage and where it stands, with a button to open any
open one — so a musician can do the stage's tasks in the order that suits them, not only the
order of the roadmap (``/today`` always shows the first open one).

Added as the registry's worked example (issue #12): this module, one line in ``buttons.py``
and two declarations in ``routes.py`` — nothing outside ``core/journey`` changed.
"""

from __future__ import annotations

from core.journey.buttons import OPEN
from core.journey.navigation import (
    current_stage,
    locate,
    not_open,
    offer_roadmaps,
    task_card,
    the_end,
)
from core.kernel.markup import bold, esc, italic
from core.kernel.turn import Turn
from core.kernel.types import Button, Message, Outbound
from core.progress.service import live_tasks, status_of

_MARKS = {
    "completed": "✅",
    "skipped": "⏭",
    "postponed": "⏳",
    "in_progress": "◐",
    "not_started": "◻",
}
#: Telegram shows long labels cut; a stage has at most a dozen tasks.
_LABEL_MAX = 40


def _label(n: int, title: str) -> str:
    text = f"{n}. {title}"
    return text if len(text) <= _LABEL_MAX else text[: _LABEL_MAX - 1].rstrip() + "…"


async def stage_card(turn: Turn) -> list[Outbound]:
    """The current stage's tasks, each marked, and an "open" button for every open one (a
    skipped key task keeps its button: it may be picked up again)."""
    roadmap = turn.roadmap
    if roadmap is None:
        return offer_roadmaps(turn, first_time=False)
    stage, rows = await current_stage(turn, roadmap)
    if stage is None:
        end, _complete = await the_end(turn, roadmap, not_open(turn, roadmap), rows)
        return [end]
    stage_no = (roadmap.stage_index(stage.id) or 0) + 1
    lines = [bold(f"Stage {stage_no} · {esc(stage.title)}"), ""]
    buttons: list[tuple[Button, ...]] = []
    for n, task in enumerate(live_tasks(stage, rows), start=1):
        status = status_of(rows, task)
        optional = italic(" (optional)") if task.optional else ""
        lines.append(f"{_MARKS.get(status, '◻')} {n}. {esc(task.title)}{optional}")
        if status != "completed" and (status != "skipped" or task.key):
            buttons.append((Button(label=_label(n, task.title), payload=OPEN.encode(task.slug)),))
    if buttons:
        lines += ["", italic("Tap a task to do it now, in any order.")]
    return [Message(text="\n".join(lines), buttons=tuple(buttons))]


async def open_task(turn: Turn, task_slug: str) -> list[Outbound]:
    """A task of the current stage, opened from ``/stage`` (checked like any button: a task
    done since, from another roadmap or a later stage gets a kind toast instead)."""
    found = await locate(turn, task_slug)
    if isinstance(found, Outbound):
        return [found]
    roadmap, stage, task, rows = found
    return [task_card(turn, roadmap, stage, task, rows.get(task.id))]
