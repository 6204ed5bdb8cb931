"""Checklist ticks, by button ("tick item 2 of task X") or by text ("done 2", "2"), and
"done all" (asked first, then every item at once)."""

from __future__ import annotations

import re

from core.journey import cards
from core.journey.buttons import TICK_ALL
from core.journey.history import ensure_row, snapshot
from core.journey.navigation import Located, advance, locate, task_card
from core.journey.states import Awaiting
from core.kernel.markup import bold, esc
from core.kernel.payloads import CANCEL
from core.kernel.turn import Turn
from core.kernel.types import Button, Message, Outbound, Toast
from core.progress.service import ticked_items
from core.roadmaps.catalog import TaskInfo

_TICK_TEXT = re.compile(
    r"^(?:(done|tick|check|x|untick|uncheck|undo|not done)\s*)?#?(\d{1,2})\.?$", re.IGNORECASE
)
_UNTICK_WORDS = frozenset({"untick", "uncheck", "undo", "not done"})
#: "done all", "all done", "tick all", "tick them all", "check all", "all of them": every item.
_ALL_TEXT = re.compile(
    r"^(?:(?:done|tick|check|ticked|checked|finished|did)\s+(?:them\s+|it\s+)?all"
    r"|all\s+(?:done|ticked|checked|finished|of\s+them(?:\s+done)?)|everything\s+done"
    r"|done\s+everything|all)[\s.!✅👍]*$",
    re.IGNORECASE,
)


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
    undo = f"{verb} item {index + 1} of “{task.title}”"
    wanted = [*ticked, item_key] if want else [k for k in ticked if k != item_key]
    return await _store(turn, found, wanted, undo, from_button=from_button)


async def _store(
    turn: Turn, found: Located, ticked: list[str], undo_text: str, *, from_button: bool
) -> list[Outbound]:
    """Write a checklist's new ticks (one undo step), and finish the task when every item is
    ticked: the card, then the stage's next step."""
    roadmap, stage, task, rows = found
    undo = snapshot(turn, task, rows.get(task.id), undo_text)
    row = ensure_row(rows, task)
    before = set(ticked_items(row))
    # who ticked what: a band's members share the checklist, and /band progress credits them
    by = dict(row.task_data.get("ticked_by") or {})
    # when: a tick is a step of the week's streak (core/progress/streaks.py) while it stays
    at = dict(row.task_data.get("ticked_at") or {})
    for key in ticked:
        if key not in before:
            by[key] = str(turn.rec.user_id)
            at[key] = turn.now.isoformat()
    for key in before - set(ticked):
        by.pop(key, None)
        at.pop(key, None)
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


def ask_all(turn: Turn, task: TaskInfo, ticked: list[str]) -> list[Outbound]:
    """ "done all" on an open checklist: ask first — one tap ticks what may be a dozen items,
    and "all done" is also what someone says who finished only the step they were on."""
    left = [item for item in task.items if item.key not in ticked]
    if not left:
        return [Message(text="Every item is already ticked ✓")]
    many = "the last item" if len(left) == 1 else f"all {len(left)} items left"
    lines = [f"Tick {many} of {bold(esc(task.title))}?"]
    lines += [f"☐ {esc(item.text)}" for item in left]
    buttons = (
        (
            Button(label=f"✅ Tick {len(left)}", payload=TICK_ALL.encode(task.slug)),
            Button(label="Cancel", payload=CANCEL.encode()),
        ),
    )
    return [Message(text="\n".join(lines), buttons=buttons)]


async def tick_all(turn: Turn, task_slug: str) -> list[Outbound]:
    """The confirmed "done all": tick every item not ticked yet, as one undo step. Checked
    like any press (a checklist of another roadmap, done since, or gone gets a kind toast), and
    idempotent: a second tap finds nothing left to tick."""
    found = await locate(turn, task_slug)
    if isinstance(found, Outbound):
        return [found]
    _roadmap, _stage, task, rows = found
    if not task.is_checklist:
        return [Toast(text="That task has no checklist — nothing changed.")]
    ticked = ticked_items(rows.get(task.id))
    left = [item.key for item in task.items if item.key not in ticked]
    if not left:
        return [Toast(text="Already all ticked ✓")]
    undo = f"ticked all {len(task.items)} items of “{task.title}”"
    return await _store(turn, found, [*ticked, *left], undo, from_button=False)


async def tick_by_text(turn: Turn, text: str) -> list[Outbound] | None:
    """``2``, ``done 2``, ``untick 2`` while a checklist is open; ``None`` if it's not that."""
    task = turn.state_task
    if task is None or not task.is_checklist:
        return None
    if _ALL_TEXT.match(text.strip()):
        return ask_all(turn, task, ticked_items(await turn.task_progress(task)))
    match = _TICK_TEXT.match(text.strip())
    if match is None:
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
