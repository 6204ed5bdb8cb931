"""The words and buttons of a nudge: the next task of the current stage, ready to act on.

A nudge is a notice, not a reply, so it is built without a conversation turn: from the owner's
profile, their progress rows and the catalog, with the same cards the conversation draws. A
checklist comes with its item buttons (a press ticks, exactly as on ``/today``) and stays the
checklist :class:`~core.kernel.types.Card`, so front ends draw its items as they draw the card;
a question gets an *Answer* button that opens it in the conversation (so the typed answer is
expected there) and is a plain message, not a question card — it asks nothing itself, so no
front end offers its own answer form on it (Discord's modal would answer a question the
conversation is not waiting for). Every nudge ends with Done / Snooze 1 h / Tomorrow.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from core.journey import cards
from core.journey.buttons import SKIP
from core.kernel.markup import bold, esc, italic
from core.kernel.payloads import RUN_COMMAND
from core.kernel.types import Button, Message, Outbound
from core.progress.service import ProgressRecord, first_open_stage, next_task
from core.reminders.buttons import NUDGE
from core.reminders.store import Owner
from core.roadmaps.catalog import Catalog

SNOOZE_LABEL = "⏰ Snooze 1 h"
TOMORROW_LABEL = "📅 Tomorrow"
DONE_LABEL = "✅ Done"
# The payload prefix of the three nudge buttons (``NUDGE.encode(verb, hex)`` without the
# per-call checks and cache churn: every nudge has its own reminder id).
_NUDGE = NUDGE.encode("d", "0").rsplit(":", 2)[0]

_IDLE_LINES = (
    "👋 Haven't seen you for a couple of days — no pressure. One small step today?",
    "🎸 It's been a few days. Even ten minutes on your music counts — here's where you left off:",
    "💛 I'm still here whenever you're ready. This is the last nudge for now; "
    "say hi any time and we pick up where you left off.",
)


def nudge_row(reminder_id: uuid.UUID) -> tuple[Button, ...]:
    """Done / Snooze 1 h / Tomorrow for one reminder."""
    rid = reminder_id.hex  # 32 hex digits: always a valid payload argument
    return (
        Button(label=DONE_LABEL, payload=f"{_NUDGE}:d:{rid}"),
        Button(label=SNOOZE_LABEL, payload=f"{_NUDGE}:s:{rid}"),
        Button(label=TOMORROW_LABEL, payload=f"{_NUDGE}:t:{rid}"),
    )


def headline(kind: str, owner: Owner | None, stage: int) -> str:
    """The first line: a reminder's friendly call, or the inactivity nudge's gentler tone."""
    if kind == "inactivity":
        return _IDLE_LINES[min(max(stage, 1), len(_IDLE_LINES)) - 1]
    name = owner.artist_name if owner is not None else None
    who = f", {esc(name)}" if name else ""
    return f"⏰ {bold(f'Time for your music{who}!')}"


def build(
    kind: str,
    reminder_id: uuid.UUID,
    owner: Owner | None,
    catalog: Catalog,
    progress_rows: Iterable[tuple[uuid.UUID, str, dict[str, Any]]],
    *,
    stage: int = 0,
) -> Outbound:
    """The nudge message for one reminder."""
    head = headline(kind, owner, stage)
    nudge_buttons = nudge_row(reminder_id)
    roadmap = catalog.roadmap(owner.roadmap_id, owner.country) if owner is not None else None
    if roadmap is None:
        return Message(
            text=f"{head}\nPick your path with /roadmap and I'll show you the first step.",
            buttons=(
                (Button(label="Pick a roadmap", payload=RUN_COMMAND.encode("roadmap")),),
                nudge_buttons,
            ),
        )
    rows = {
        task_id: ProgressRecord(task_id=task_id, status=status, task_data=data, stored=True)
        for task_id, status, data in progress_rows
    }
    stage_info = first_open_stage(roadmap, rows)
    task = next_task(stage_info, rows) if stage_info is not None else None
    if stage_info is None or task is None:
        return Message(
            text=f"{head}\nYou've finished {bold(esc(roadmap.name))} 🏆 — keep your numbers "
            "fresh with /stats, or pick a new path with /roadmap.",
            buttons=(nudge_buttons,),
        )
    if task.is_checklist:
        card = cards.checklist_card(roadmap, stage_info, task, rows.get(task.id), memo=catalog.memo)
        # still the checklist card (front ends draw its items natively), with the nudge's row
        return card.model_copy(
            update={"text": f"{head}\n\n{card.text}", "buttons": (*card.buttons, nudge_buttons)}
        )
    spec = task.spec
    lines = [
        head,
        "",
        cards.task_header(roadmap, stage_info, task),
        bold(esc(task.title)),
        f"❓ {esc(spec.question)}",
        italic("Tap Answer and type it, or /today."),
    ]
    return Message(
        text="\n".join(lines),
        buttons=(
            (
                Button(label="✍️ Answer", payload=RUN_COMMAND.encode("today")),
                Button(label="Skip", payload=SKIP.encode(task.slug)),
            ),
            nudge_buttons,
        ),
    )
