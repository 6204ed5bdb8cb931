"""The buttons under a date that breaks the rules, and giving a dated answer a new date.

``pd:<task>:<yyyymmdd>`` takes a suggested date, ``pi:<task>:<yyyymmdd>`` keeps the musician's
own (they may insist). Both are checked against the open question like every press: a button
of a question that is no longer open (answered since, double-tapped, another task on screen)
gets a toast and saves nothing, so a date is never saved twice.

A date that sets an anchor can be changed after it was answered (``/plan``'s "Change" button:
:func:`ask_new_date`). The answer goes through the same rule check; saving it replaces the
stored answer and the anchor, so every dated task moves with it, and ``/undo`` puts the old
date back. Kept apart from :mod:`core.journey.answers`, which owns the question flow.
"""

from __future__ import annotations

from core.journey import answers, cards, dated
from core.journey.history import ensure_row, snapshot
from core.journey.navigation import locate, task_card
from core.journey.states import Awaiting
from core.kernel.markup import bold, esc, italic
from core.kernel.turn import Turn
from core.kernel.types import Card, Message, Outbound, Toast
from core.progress.date_rules import broken_rules
from core.progress.parsing import InvalidAnswer, Parsed, example_answer, parse_answer
from core.progress.service import is_dealt_with
from core.roadmaps.catalog import TaskInfo
from core.roadmaps.schema import InputType

EXPIRED = "That question has expired — nothing changed."
#: Longest raw answer kept with the stored value (as the answer flow keeps it).
RAW_KEEP = 200


def _open_question(turn: Turn, task_slug: str) -> TaskInfo | None:
    """The dated task the coach is waiting on, if ``task_slug`` is it."""
    task = turn.catalog.tasks_by_slug.get(task_slug)
    if task is None or task.input is None or turn.rec.state_task_id != task.id:
        return None
    if task.input.type is not InputType.DATE:  # a payload made up for another question
        return None
    return task if turn.awaiting in {Awaiting.ANSWER, Awaiting.NEW_DATE} else None


async def pick(turn: Turn, task_slug: str, day_text: str, *, insist: bool) -> list[Outbound]:
    """A press of a suggested date (``insist=False``) or of "Keep … anyway" (``True``)."""
    task = _open_question(turn, task_slug)
    day = dated.from_ymd(day_text)
    if task is None or day is None:
        return [Toast(text=EXPIRED)]
    rules = task.spec.rules
    if not insist and rules is not None:
        broken = broken_rules(rules, day, turn.today)
        if broken:  # days went by since the buttons were drawn: offer fresh ones
            return [dated.rule_card(turn, task, day, broken)]
    return await _save(turn, task, dated.as_answer(task, day), day.isoformat())


async def _save(turn: Turn, task: TaskInfo, parsed: Parsed, raw: str) -> list[Outbound]:
    if turn.awaiting is Awaiting.NEW_DATE:
        return await _redate(turn, task, parsed, raw)
    found = await locate(turn, task.slug)
    if isinstance(found, Outbound):
        turn.set_state(None)
        return [found]
    return await answers.save_checked(turn, found, parsed, raw)


async def ask_new_date(turn: Turn, task_slug: str) -> list[Outbound]:
    """Open a dated question (the release date) even when it was answered: a new date
    re-dates the plan. Not answered and on the musician's way: the ordinary question."""
    task = turn.catalog.tasks_by_slug.get(task_slug)
    roadmap = turn.roadmap
    if (
        task is None
        or task.archived
        or task.input is None
        or task.input.anchor is None
        or roadmap is None
        or task.roadmap_id != roadmap.id
    ):
        return [Toast(text="That date isn't part of your roadmap anymore. /plan shows yours.")]
    found = await locate(turn, task.slug)
    if not isinstance(found, Outbound):
        _roadmap, stage, task, rows = found
        return [task_card(turn, roadmap, stage, task, rows.get(task.id))]
    row = await turn.task_progress(task)
    current = None
    if row is not None and is_dealt_with({task.id: row}, task):
        current = row.task_data.get("display")
    turn.set_state(Awaiting.NEW_DATE, task)
    now = f" Now: {bold(esc(str(current)))}." if current else ""
    example = example_answer(task.spec, today=turn.today)
    # the task's question card: a Discord server answers it through its modal (typed in a
    # member's DM instead, the date would be their solo profile's answer)
    return [
        Card(
            text=f"📅 {bold(esc(task.title))}{now}\n❓ {esc(task.spec.question)}\n"
            + italic(f"Type the date, e.g. {example} — or /cancel."),
            form="question",
            task=task.slug,
        )
    ]


async def new_date_text(turn: Turn, text: str) -> list[Outbound]:
    """A typed answer to :func:`ask_new_date`."""
    task = turn.state_task
    if task is None or task.input is None:
        turn.set_state(None)
        return [Message(text=EXPIRED)]
    try:
        parsed = parse_answer(task.spec, text, today=turn.today, label=cards.label_for(task))
    except InvalidAnswer as exc:  # still waiting: the question again, with its answer form
        again = f"{esc(exc.message)}\n{italic('Try again, or /cancel.')}"
        return [Card(text=again, form="question", task=task.slug)]
    held = dated.rule_check(turn, task, parsed)
    if held is not None:
        return held
    return await _redate(turn, task, parsed, text)


async def _redate(turn: Turn, task: TaskInfo, parsed: Parsed, raw: str) -> list[Outbound]:
    """Replace a dated answer and its anchor (the plan moves with it); one step of undo."""
    row = await turn.task_progress(task)
    rows = {task.id: row} if row is not None else {}
    undo = snapshot(turn, task, row, f"the new date for “{task.title}”")
    row = ensure_row(rows, task)
    row.task_data = {**parsed.to_json(), "raw": raw[:RAW_KEEP]}
    if row.status != "completed":
        row.status = "completed"
        row.completed_at = turn.now
        row.completed_by = turn.rec.user_id
    await turn.save(row)
    dated.keep_anchor(turn, task, parsed, undo)
    turn.set_undo(undo)
    turn.set_state(None)
    turn.event("task.completed", task=task.slug)
    return [
        Message(
            text=f"📅 Saved: {bold(esc(parsed.display))}. Your plan is dated from it now — "
            "/plan shows the timeline (/undo puts the old date back)."
        )
    ]
