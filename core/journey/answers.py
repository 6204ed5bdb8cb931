"""Data-input answers: parse, re-ask specifically, question suspect values and outliers,
postpone on "idk", store, track the metric, and react to the number.

The reply to a saved answer is short: what was saved, the content's verdict on it (with how it
moved since last time and how far the goal is), and ONE next step — the verdict's advice
(:mod:`core.progress.verdicts`). A value that is probably a typo (a suspect band of the
content: a positive LUFS) or more than :data:`OUTLIER_FACTOR` times away from the last figure
is questioned before it is saved. "idk", "not sure", "later" … postpone the question for
:data:`~core.progress.service.POSTPONE_DAYS` days instead of a re-ask loop.

Everything here reads what the turn already holds (the profile's stats come with its locked
row), so an answer costs no statement more than it did before it was coached.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from core.journey import cards, currency, dated
from core.journey.buttons import CONFIRM
from core.journey.history import ensure_row, snapshot
from core.journey.navigation import Located, advance, locate, today
from core.journey.samples import celebration, record_sample
from core.journey.states import Awaiting
from core.kernel.markup import bold, esc, italic
from core.kernel.turn import Turn
from core.kernel.types import Button, Card, Message, Outbound, Toast, as_message
from core.progress import verdicts
from core.progress.parsing import InvalidAnswer, Parsed, is_far_from, parse_answer
from core.progress.service import POSTPONE_DAYS, POSTPONED, ProgressRecord, postponement
from core.roadmaps.catalog import TaskInfo
from core.roadmaps.schema import InputType

#: How much farther than the last figure an answer may be before the coach asks "are you sure?".
OUTLIER_FACTOR = 10
#: Longest raw answer kept with the stored value.
RAW_KEEP = 200
#: What a musician types when they don't have the number yet (casefolded, outer punctuation
#: dropped): the question is postponed, not asked again at once.
POSTPONE_WORDS = frozenset(
    {
        "idk",
        "i don't know",
        "i dont know",
        "don't know",
        "dont know",
        "not sure",
        "i'm not sure",
        "im not sure",
        "no idea",
        "later",
        "ask me later",
        "dunno",
    }
)
_OUTER = " \t.,!?…;:-–—\"'“”‘’()"


def is_postpone(text: str) -> bool:
    """Whether ``text`` says "I don't have that number now" ("idk", "Not sure!", "?")."""
    folded = text.casefold().replace("’", "'").replace("‘", "'").strip()
    if folded and set(folded) <= {"?", " "}:
        return True
    return " ".join(folded.strip(_OUTER).split()) in POSTPONE_WORDS


@dataclass(frozen=True, slots=True)
class _Last:
    """The last figure of a metric (or task): its value, how it was shown and when."""

    value: Decimal
    shown: str
    on: date | None
    #: The unit it was kept in (a money figure's currency; ``None``: unknown, older rows).
    unit: str | None = None


def _day(raw: Any) -> date | None:
    if isinstance(raw, datetime):
        return raw.date()
    try:
        return datetime.fromisoformat(str(raw)).date()
    except ValueError:
        return None


def _previous(
    turn: Turn, task: TaskInfo, row: ProgressRecord | None, parsed: Parsed | None = None
) -> _Last | None:
    """The last figure of the task's metric (or of the task itself) and how it was shown."""
    spec = task.spec
    raw: Any = None
    shown, on, unit = "?", None, None
    if spec.metric and spec.metric in turn.rec.current_stats:
        entry = turn.rec.current_stats[spec.metric]
        if parsed is not None:
            entry = currency.comparable(parsed, entry)
        raw, shown, on = entry.get("value"), str(entry.get("display")), _day(entry.get("at"))
        unit = entry.get("unit")
    elif row is not None and row.task_data.get("numeric") is not None:
        raw, shown = row.task_data.get("numeric"), str(row.task_data.get("display"))
        on = _day(row.completed_at) if row.completed_at else None
        unit = row.task_data.get("currency") or spec.unit
    elif row is not None and isinstance(base := row.task_data.get("baseline"), dict):
        raw, shown = base.get("numeric"), str(base.get("display"))  # last release's figure
        unit = base.get("currency") or spec.unit
    if raw is None:
        return None
    try:
        return _Last(Decimal(str(raw)), shown, on, str(unit) if unit else None)
    except (InvalidOperation, ValueError):
        return None


def _check(text: str, task: TaskInfo, *, buttons_only: bool = False) -> Card:
    """A "save this?" question with Yes / No buttons (``buttons_only``: typed yes/no would be
    ambiguous, as the content's question may be "did you mean …?").

    It is still the task's question card: a typed figure answers the question anew, so the
    front ends treat it as one (a typed number is never a press of its buttons in the
    terminal; a server on Discord offers the answer form next to them).
    """
    hint = "Tap a button, or type the right figure." if buttons_only else ""
    return Card(
        form="question",
        task=task.slug,
        text=f"{text}\n{italic(hint)}" if hint else text,
        buttons=(
            (
                Button(label="Yes, save it", payload=CONFIRM.encode(task.slug, "y")),
                Button(label="No, let me fix it", payload=CONFIRM.encode(task.slug, "n")),
            ),
        ),
    )


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
    spec = task.spec
    if is_postpone(text) and not _is_a_choice(task, text):
        return await _postpone(turn, found)
    try:
        parsed = parse_answer(
            spec, text, today=turn.today, label=cards.label_for(task), reading=turn.reading
        )
    except InvalidAnswer as exc:  # still open: the question again, with its answer form
        hint = "Try again, “later” if you don't know yet, or /skip this one."
        return [Card(text=f"{esc(exc.message)}\n{italic(hint)}", form="question", task=task.slug)]
    held = dated.rule_check(turn, task, parsed)  # a date that breaks the content's rules
    if held is not None:
        return held
    number = parsed.numeric
    in_content_currency = parsed.currency is None or parsed.currency == spec.unit
    # a money suspect band ("100 per head is a lot") is in the content's currency: not applied
    # to an amount in another one (no rates to convert the band)
    if (
        number is not None
        and in_content_currency
        and (ask := verdicts.suspect(spec, number, parsed.display))
    ):
        turn.set_state(Awaiting.CONFIRM_VALUE, task, {"raw": text[:RAW_KEEP], "suspect": True})
        return [_check(f"🤔 {esc(ask)}", task, buttons_only=True)]
    previous = _previous(turn, task, rows.get(task.id), parsed)
    if (
        number is not None
        and previous is not None
        and currency.same_currency(turn, parsed, previous.unit)
        and is_far_from(previous.value, number, OUTLIER_FACTOR)
    ):
        turn.set_state(Awaiting.CONFIRM_VALUE, task, {"raw": text[:RAW_KEEP]})
        return [
            _check(
                f"Just checking: {bold(esc(parsed.display))} is more than "
                f"{OUTLIER_FACTOR}× away from your last figure ({esc(previous.shown)}). "
                "Is that right?",
                task,
            )
        ]
    return await _save(turn, found, parsed, text)


def _is_a_choice(task: TaskInfo, text: str) -> bool:
    """A choice question whose choice is literally "Not sure" takes it as its answer."""
    spec = task.spec
    if spec.type is not InputType.CHOICE or not spec.choices:
        return False
    folded = " ".join(text.casefold().split()).strip(_OUTER)
    return any(" ".join(c.casefold().split()) == folded for c in spec.choices)


async def choose(turn: Turn, task_slug: str, index: str) -> list[Outbound]:
    """A choice button: the same as typing that choice while its question is open.

    Only the open question's buttons count: a press on an older card, another task's or a
    second tap after the answer was saved gets a toast and changes nothing.
    """
    task = turn.state_task
    open_now = turn.awaiting is Awaiting.ANSWER and task is not None and task.slug == task_slug
    if not open_now or task is None or task.input is None:
        return [Toast(text="That question isn't open anymore — nothing changed. /today")]
    choices = task.spec.choices or ()
    if not index.isdecimal() or int(index) >= len(choices):
        return [Toast(text="Those choices have changed since — type your answer, please.")]
    return await answer(turn, choices[int(index)])


async def _postpone(turn: Turn, found: Located) -> list[Outbound]:
    """ "idk": the question waits :data:`POSTPONE_DAYS` days, and the journey moves on."""
    roadmap, stage, task, rows = found
    undo = snapshot(turn, task, rows.get(task.id), f"putting off “{task.title}”")
    row = ensure_row(rows, task)
    row.status = POSTPONED
    row.task_data = {**row.task_data, **postponement(turn.today)}
    await turn.save(row)
    turn.set_undo(undo)
    turn.event("task.postponed", task=task.slug)
    turn.set_state(None)
    later = Message(text=f"No problem — I'll ask again in {POSTPONE_DAYS} days.")
    return [later, *await advance(turn, roadmap, stage, rows)]


async def confirm(turn: Turn, task_slug: str, yes: bool) -> list[Outbound]:
    """The answer to "is that right?" for an unusual figure."""
    task = turn.catalog.tasks_by_slug.get(task_slug)
    waiting = turn.awaiting is Awaiting.CONFIRM_VALUE
    if not waiting or task is None or turn.rec.state_task_id != task.id:
        return [Toast(text="That question has expired — nothing changed.")]
    if not yes:
        turn.set_state(Awaiting.ANSWER, task)
        # the question again (in a Discord server with its answer form: typed in a member's DM,
        # the figure would be their solo profile's answer, not the band's)
        return [Card(text="No problem — type the right figure.", form="question", task=task.slug)]
    found = await locate(turn, task.slug)
    if isinstance(found, Outbound):
        turn.set_state(None)
        return [found]
    raw = str(turn.rec.state_data.get("raw", ""))
    try:
        parsed = parse_answer(
            task.spec, raw, today=turn.today, label=cards.label_for(task), reading=turn.reading
        )
    except InvalidAnswer as exc:  # the content changed under us: ask again
        turn.set_state(Awaiting.ANSWER, task)
        return [Message(text=esc(exc.message))]
    return await _save(turn, found, parsed, raw)


async def _save(turn: Turn, found: Located, parsed: Parsed, raw: str) -> list[Outbound]:
    roadmap, stage, task, rows = found
    spec = task.spec
    previous = _previous(turn, task, rows.get(task.id), parsed)  # before it is kept
    undo = snapshot(turn, task, rows.get(task.id), f"your answer to “{task.title}”")
    dated.keep_anchor(turn, task, parsed, undo)  # a release date re-dates the plan
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
            unit=parsed.currency or spec.unit,
            task_id=task.id,
            better=spec.better,
            goal_applies=_in_profile_currency(turn, parsed),
        )
        undo["stats"] = {spec.metric: recorded.previous}
        undo["sample_id"] = str(recorded.sample_id)
        if recorded.goal_met:
            celebrate.append(Message(text=celebration(spec.metric, parsed.display)))
    # a goal met now is celebrated once, on its own: the reply then leaves its goal line out
    settled = currency.settle(turn, parsed)  # before the reaction: it may settle the currency
    reply = _reaction(turn, task, parsed, previous, goal_line=not celebrate)
    if settled:
        reply = Message(text=f"{reply.text}\n{settled}")
    turn.set_undo(undo)
    turn.event("task.completed", task=task.slug)
    return [reply, *celebrate, *await advance(turn, roadmap, stage, rows)]


async def save_checked(turn: Turn, found: Located, parsed: Parsed, raw: str) -> list[Outbound]:
    """Save an answer whose checks were made elsewhere (a date picked or kept by button:
    :mod:`core.journey.date_answers`)."""
    return await _save(turn, found, parsed, raw)


def _in_profile_currency(turn: Turn, parsed: Parsed) -> bool:
    """Whether a (money) answer is in the profile's currency — the one its goals are in.
    Non-money answers always are; before the currency is settled the answer settles it."""
    return parsed.currency is None or turn.rec.currency in (None, parsed.currency)


def _reaction(
    turn: Turn, task: TaskInfo, parsed: Parsed, previous: _Last | None, *, goal_line: bool = True
) -> Message:
    """What was saved, the verdict (and how it moved, how far the goal is), one next step."""
    about, estimate = ("about ", " (noted as an estimate)") if parsed.approximate else ("", "")
    lines = [f"✅ Saved: {about}{bold(esc(parsed.display))}{estimate}."]
    number = parsed.numeric
    if number is None:
        return Message(text=lines[0])
    spec = task.spec
    if parsed.currency is not None and parsed.currency != spec.unit:
        spec = spec.model_copy(update={"unit": parsed.currency})  # amounts in its currency
    shown = turn.reading
    stats = turn.rec.current_stats or {}
    home = _in_profile_currency(turn, parsed)
    # another currency: references "of" another money metric would divide across currencies
    reading = verdicts.assess(spec, number, parsed.display, stats if home else {})
    if reading is not None:
        lines.append(f"{reading.emoji} {esc(reading.says)}")
    if previous is not None and currency.same_currency(turn, parsed, previous.unit):
        change = verdicts.compare(
            spec, number, previous.value, since=previous.on, today=turn.today, reading=shown
        )
        lines.append(esc(change.text()))
    goal = verdicts.goal_of(stats, spec.metric) if spec.metric and goal_line and home else None
    if goal is not None:
        lines.append(esc(verdicts.versus_goal(spec, number, goal, today=turn.today, reading=shown)))
    if reading is not None:
        lines.append(f"👉 {esc(reading.advice)}")
    return Message(text="\n".join(lines))
