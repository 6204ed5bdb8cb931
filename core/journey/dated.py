"""Date answers that follow the content's rules and set the plan's anchor dates.

A date question may carry ``rules`` (a Friday, at least four weeks out, not in the holidays)
and ``anchor`` (the answer is the release date every dated task is counted from). Before such
an answer is saved, :func:`rule_check` asks :mod:`core.progress.date_rules` which rules it
breaks; if any, the musician gets the reasons, the content's ``why`` and the nearest good dates
as buttons, plus "Keep … anyway" — the coach advises, the musician decides. Saving a date with
an anchor writes it to the profile's anchors (:func:`keep_anchor`), remembering the old value in
the undo record so ``/undo`` puts the plan back on its old date (:func:`restore_anchors`).

The presses of those buttons and the re-dating from ``/plan`` are in
:mod:`core.journey.date_answers`, which may save; this module only checks and records, so the
answer flow (:mod:`core.journey.answers`) and ``/undo`` can call it without a cycle.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from core.journey.buttons import KEEP_DATE, PICK_DATE
from core.kernel.markup import bold, esc, italic
from core.kernel.turn import Turn
from core.kernel.types import Button, Message, Outbound
from core.progress.date_rules import BrokenRule, broken_rules, nearest_good
from core.progress.parsing import Parsed
from core.progress.parsing.display import format_value
from core.roadmaps.catalog import TaskInfo


def ymd(day: date) -> str:
    """A date as a payload argument: ``20270305``."""
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def from_ymd(text: str) -> date | None:
    """A payload's ``yyyymmdd`` back as a date (``None``: not one)."""
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def as_answer(task: TaskInfo, day: date) -> Parsed:
    """A date picked by button, as if it had been typed and parsed."""
    return Parsed(value=day, numeric=None, display=format_value(task.spec, day))


def rule_check(turn: Turn, task: TaskInfo, parsed: Parsed) -> list[Outbound] | None:
    """The reply for a date that breaks the question's rules, or ``None`` (save it).

    The question stays open: a typed date is still the answer, the buttons are shortcuts.
    """
    rules = task.input.rules if task.input is not None else None
    if rules is None or not isinstance(parsed.value, date):
        return None
    broken = broken_rules(rules, parsed.value, turn.today)
    if not broken:
        return None
    return [rule_card(turn, task, parsed.value, broken)]


def rule_card(turn: Turn, task: TaskInfo, day: date, broken: list[BrokenRule]) -> Outbound:
    """The reasons a date breaks the rules, the nearest good dates, and "keep it anyway"."""
    spec = task.spec
    assert spec.rules is not None  # noqa: S101 - only asked for a question with rules
    shown = format_value(spec, day)
    lines = [f"📅 {bold(esc(shown))} doesn't quite fit:"]
    lines += [f"• {esc(rule.reason)}" for rule in broken]
    if spec.rules.why:
        lines.append(italic(esc(spec.rules.why)))
    good = nearest_good(spec.rules, day, turn.today)
    rows: list[tuple[Button, ...]] = []
    if good:
        lines += ["", "The nearest dates that work:"]
        rows.append(
            tuple(
                Button(label=format_value(spec, g), payload=PICK_DATE.encode(task.slug, ymd(g)))
                for g in good
            )
        )
    else:
        lines += ["", "I couldn't find a date that fits every rule — type another one."]
    rows.append(
        (
            Button(
                label=f"Keep {format_value(spec, day)} anyway",
                payload=KEEP_DATE.encode(task.slug, ymd(day)),
            ),
        )
    )
    lines.append(italic("Or type another date."))
    return Message(text="\n".join(lines), buttons=tuple(rows))


def keep_anchor(turn: Turn, task: TaskInfo, parsed: Parsed, undo: dict[str, Any]) -> None:
    """Write a date answer's anchor to the profile (the plan is re-dated from it) and remember
    the old one in ``undo``."""
    name = task.input.anchor if task.input is not None else None
    if name is None or not isinstance(parsed.value, date):
        return
    anchors = dict(turn.rec.anchors or {})
    undo["anchors"] = {name: anchors.get(name)}
    anchors[name] = parsed.value.isoformat()
    turn.set_profile(anchors=anchors)


def restore_anchors(turn: Turn, old: Any) -> None:
    """Put back the anchors an undone answer replaced (``old``: name → ISO date or None)."""
    if not isinstance(old, dict) or not old:
        return
    anchors = dict(turn.rec.anchors or {})
    for name, value in old.items():
        if value is None:
            anchors.pop(name, None)
        else:
            anchors[name] = value
    turn.set_profile(anchors=anchors)
