"""Data-input answers: parse, re-ask specifically, confirm outliers, store, track the metric."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from core.journey import cards
from core.journey.buttons import CONFIRM
from core.journey.history import ensure_row, snapshot
from core.journey.navigation import Located, advance, locate, today
from core.journey.samples import celebration, record_sample
from core.journey.states import Awaiting
from core.kernel.markup import bold, esc, italic
from core.kernel.turn import Turn
from core.kernel.types import Button, Message, Outbound, Toast, as_message
from core.progress.parsing import InvalidAnswer, Parsed, is_far_from, parse_answer
from core.progress.service import ProgressRecord
from core.roadmaps.catalog import TaskInfo

#: How much farther than the last figure an answer may be before the coach asks "are you sure?".
OUTLIER_FACTOR = 10
#: Longest raw answer kept with the stored value.
RAW_KEEP = 200


def _previous(turn: Turn, task: TaskInfo, row: ProgressRecord | None) -> tuple[Decimal, str] | None:
    """The last figure of the task's metric (or of the task itself) and how it was shown."""
    spec = task.spec
    raw: Any = None
    shown = "?"
    if spec.metric and spec.metric in turn.rec.current_stats:
        entry = turn.rec.current_stats[spec.metric]
        raw, shown = entry.get("value"), str(entry.get("display"))
    elif row is not None and row.task_data.get("numeric") is not None:
        raw, shown = row.task_data.get("numeric"), str(row.task_data.get("display"))
    if raw is None:
        return None
    try:
        return Decimal(str(raw)), shown
    except (InvalidOperation, ValueError):
        return None


async def answer(turn: Turn, text: str) -> list[Outbound]:
    """Free text while a question is open."""
    task = turn.state_task
    if task is None or task.input is None:
        turn.set_state(None)
        return await today(turn)
    found = await locate(turn, task.slug)
    if isinstance(found, Outbound):
        turn.set_state(None)
        return [as_message(found)]
    _roadmap, _stage, task, rows = found
    try:
        parsed = parse_answer(task.spec, text, today=turn.today, label=cards.label_for(task))
    except InvalidAnswer as exc:
        return [Message(text=f"{esc(exc.message)}\n{italic('Try again, or /skip this one.')}")]
    previous = _previous(turn, task, rows.get(task.id))
    if (
        parsed.numeric is not None
        and previous is not None
        and is_far_from(previous[0], parsed.numeric, OUTLIER_FACTOR)
    ):
        turn.set_state(Awaiting.CONFIRM_VALUE, task, {"raw": text[:RAW_KEEP]})
        return [
            Message(
                text=f"Just checking: {bold(esc(parsed.display))} is more than "
                f"{OUTLIER_FACTOR}× away from your last figure ({esc(previous[1])}). "
                "Is that right?",
                buttons=(
                    (
                        Button(label="Yes, save it", payload=CONFIRM.encode(task.slug, "y")),
                        Button(label="No, let me fix it", payload=CONFIRM.encode(task.slug, "n")),
                    ),
                ),
            )
        ]
    return await _save(turn, found, parsed, text)


async def confirm(turn: Turn, task_slug: str, yes: bool) -> list[Outbound]:
    """The answer to "is that right?" for an unusual figure."""
    task = turn.catalog.tasks_by_slug.get(task_slug)
    waiting = turn.awaiting is Awaiting.CONFIRM_VALUE
    if not waiting or task is None or turn.rec.state_task_id != task.id:
        return [Toast(text="That question has expired — nothing changed.")]
    if not yes:
        turn.set_state(Awaiting.ANSWER, task)
        return [Message(text="No problem — type the right figure.")]
    found = await locate(turn, task.slug)
    if isinstance(found, Outbound):
        turn.set_state(None)
        return [found]
    raw = str(turn.rec.state_data.get("raw", ""))
    try:
        parsed = parse_answer(task.spec, raw, today=turn.today, label=cards.label_for(task))
    except InvalidAnswer as exc:  # the content changed under us: ask again
        turn.set_state(Awaiting.ANSWER, task)
        return [Message(text=esc(exc.message))]
    return await _save(turn, found, parsed, raw)


async def _save(turn: Turn, found: Located, parsed: Parsed, raw: str) -> list[Outbound]:
    roadmap, stage, task, rows = found
    spec = task.spec
    undo = snapshot(turn, task, rows.get(task.id), f"your answer to “{task.title}”")
    row = ensure_row(rows, task)
    data: dict[str, Any] = {**parsed.to_json(), "raw": raw[:RAW_KEEP]}
    if parsed.numeric is not None:
        data["numeric"] = str(parsed.numeric)
    row.task_data = data
    row.status = "completed"
    row.completed_at = turn.now
    row.completed_by = turn.rec.user_id
    await turn.save(row)
    celebrate: list[Outbound] = []
    if spec.metric and parsed.numeric is not None:
        recorded = await record_sample(
            turn,
            metric=spec.metric,
            value=parsed.numeric,
            display=parsed.display,
            unit=spec.unit,
            task_id=task.id,
            better=spec.better,
        )
        undo["stats"] = {spec.metric: recorded.previous}
        undo["sample_id"] = str(recorded.sample_id)
        if recorded.goal_met:
            celebrate.append(Message(text=celebration(spec.metric, parsed.display)))
    turn.set_undo(undo)
    turn.event("task.completed", task=task.slug)
    saved = Message(text=f"✅ Saved: {bold(esc(parsed.display))}.")
    return [saved, *celebrate, *await advance(turn, roadmap, stage, rows)]
