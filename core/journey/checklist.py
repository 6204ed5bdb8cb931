"""Checklist ticks, by button ("tick item 2 of task X") or by text ("done 2", "2")."""

from __future__ import annotations

import re

from core.journey import cards
from core.journey.history import ensure_row, snapshot
from core.journey.navigation import advance, locate, task_card
from core.journey.states import Awaiting
from core.kernel.markup import bold, esc
from core.kernel.turn import Turn
from core.kernel.types import Message, Outbound, Toast
from core.progress.service import ticked_items

_TICK_TEXT = re.compile(
    r"^(?:(done|tick|check|x|untick|uncheck|undo|not done)\s*)?#?(\d{1,2})\.?$", re.IGNORECASE
)
_UNTICK_WORDS = frozenset({"untick", "uncheck", "undo", "not done"})


async def tick(
    turn: Turn, task_slug: str, item_key: str, want: bool, *, from_button: bool
) -> list[Outbound]:
    """Set one item to ticked (``want``) or unticked; idempotent, so a double tap is harmless."""
    found = await locate(turn, task_slug)
    if isinstance(found, Outbound):
        return [found]
    roadmap, stage, task, rows = found
    index = task.item_index(item_key) if task.is_checklist else None
    if index is None:
        note = Toast(text="That checklist item has changed since — here's the current list.")
        return [note, task_card(turn, roadmap, stage, task, rows.get(task.id))]
    ticked = ticked_items(rows.get(task.id))
    if (item_key in ticked) == want:
        return [Toast(text="Already ticked ✓" if want else "Already unticked")]
    verb = "ticked" if want else "unticked"
    undo = snapshot(turn, task, rows.get(task.id), f"{verb} item {index + 1} of “{task.title}”")
    row = ensure_row(rows, task)
    ticked = [*ticked, item_key] if want else [k for k in ticked if k != item_key]
    # who ticked what: a band's members share the checklist, and /band progress credits them
    by = dict(row.task_data.get("ticked_by") or {})
    # when: a tick is a step of the week's streak (core/progress/streaks.py) while it stays
    at = dict(row.task_data.get("ticked_at") or {})
    if want:
        by[item_key] = str(turn.rec.user_id)
        at[item_key] = turn.now.isoformat()
    else:
        by.pop(item_key, None)
        at.pop(item_key, None)
    row.task_data = {**row.task_data, "ticked": ticked, "ticked_by": by, "ticked_at": at}
    turn.set_undo(undo)
    if {i.key for i in task.items}.issubset(ticked):
        row.status = "completed"
        row.completed_at = turn.now
        row.completed_by = turn.rec.user_id
        await turn.save(row)
        turn.event("task.completed", task=task.slug)
        done_card = cards.checklist_card(
            roadmap, stage, task, row, edit=from_button, memo=turn.catalog.memo
        )
        replies: list[Outbound] = [
            done_card.model_copy(update={"buttons": ()}),
            Message(text=f"✅ {bold(esc(task.title))} — done!"),
        ]
        return replies + await advance(turn, roadmap, stage, rows)
    if row.status != "skipped":
        # a skipped key task picked up again stays skipped until it is complete: its stage
        # stays done (the musician is not sent back), and /progress keeps saying so
        row.status = "in_progress"
    await turn.save(row)
    turn.set_state(Awaiting.CHECKLIST, task)
    return [
        cards.checklist_card(roadmap, stage, task, row, edit=from_button, memo=turn.catalog.memo)
    ]


async def tick_by_text(turn: Turn, text: str) -> list[Outbound] | None:
    """``2``, ``done 2``, ``untick 2`` while a checklist is open; ``None`` if it's not that."""
    match = _TICK_TEXT.match(text.strip())
    task = turn.state_task
    if match is None or task is None or not task.is_checklist:
        return None
    verb = (match.group(1) or "").lower()
    number = int(match.group(2))
    if not 1 <= number <= len(task.items):
        return [
            Message(
                text=f"This checklist has items 1 to {len(task.items)} — which one did you mean?"
            )
        ]
    key = task.items[number - 1].key
    if verb in _UNTICK_WORDS:
        want = False
    elif verb:
        want = True
    else:  # a bare number toggles, like pressing that item's button
        want = key not in ticked_items(await turn.task_progress(task))
    return await tick(turn, task.slug, key, want, from_button=False)
