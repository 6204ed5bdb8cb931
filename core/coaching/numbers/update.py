"""``/update``: a new number any time, and the typed value a check-in's Answer waits for.

The sample goes through :func:`core.journey.samples.record_sample`, the one path of every
number; the reply says what was saved, the change since last time and where the goal stands.
"""

from __future__ import annotations

from datetime import date

from core.coaching.numbers import metrics, words
from core.coaching.numbers.buttons import UPDATE
from core.coaching.numbers.states import Numbers
from core.journey import currency
from core.journey.samples import celebration, goal_summary, record_sample, value_of
from core.kernel.markup import bold, esc, italic
from core.kernel.turn import Turn
from core.kernel.types import Card, Message, Outbound
from core.progress.parsing import InvalidAnswer, Parsed, parse_answer
from core.roadmaps.catalog import MetricInfo


async def update_command(turn: Turn, args: str) -> list[Outbound]:
    """``/update``: the list; ``/update <metric>``: ask; ``/update <metric> <value>``: save."""
    if not args.strip():
        choices = metrics.offered(turn)
        if not choices:
            return [Message(text=f"Nothing to update yet. {metrics.known_names(turn)}")]
        return [
            Message(
                text=f"{bold('Which number?')} Tap one and type it, or write "
                "e.g. /update listeners 1400.",
                buttons=metrics.metric_buttons(choices, UPDATE),
            )
        ]
    info, rest = metrics.split_metric(turn, args)
    if info is None:
        return [
            Message(
                text=f"I don't know a number called “{esc(args.strip()[:40])}”. "
                f"{metrics.known_names(turn)}",
                buttons=metrics.metric_buttons(metrics.offered(turn), UPDATE),
            )
        ]
    if not rest:
        return ask_value(turn, info)
    return await save_value(turn, info, rest)


def ask_value(turn: Turn, info: MetricInfo) -> list[Outbound]:
    """Wait for a typed value of ``info``."""
    form = metrics.form_of(info)
    turn.set_state(Numbers.VALUE, data={"metric": info.name, "form": form})
    entry = turn.rec.current_stats.get(info.name)
    last = ""
    if isinstance(entry, dict) and entry.get("display"):
        last = f" (last: {esc(str(entry['display']))})"
    return [
        Card(
            text=f"What's your {bold(esc(metrics.label(info)))} now?{last} Just type the number.",
            form="prompt",  # a typed value: a Discord server answers it through its modal
            task=form,
        )
    ]


async def value_text(turn: Turn, text: str) -> list[Outbound]:
    """A typed value while :attr:`Numbers.VALUE` waits."""
    info = turn.catalog.metrics.get(str(turn.rec.state_data.get("metric", "")))
    if info is None:
        turn.set_state(None)
        return [Message(text="That number isn't in your roadmap any more. /update lists yours.")]
    try:
        parse_answer(
            info.spec, text, today=turn.today, label=metrics.label(info), reading=turn.reading
        )
    except InvalidAnswer as exc:  # still waiting: asked again, with the answer form
        again = f"{esc(exc.message)}\n{italic('Try again, or /cancel.')}"
        return [Card(text=again, form="prompt", task=turn.form)]
    turn.set_state(None)
    return await save_value(turn, info, text)


async def save_value(turn: Turn, info: MetricInfo, text: str) -> list[Outbound]:
    """Parse and record one sample; say what changed and where the goal stands."""
    parsed = metrics.parse_value(turn, info, text)
    if not isinstance(parsed, Parsed):
        return [parsed]
    assert parsed.numeric is not None  # noqa: S101 - parse_value checked it
    home = parsed.currency is None or turn.rec.currency in (None, parsed.currency)
    recorded = await record_sample(
        turn,
        metric=info.name,
        value=parsed.numeric,
        display=parsed.display,
        unit=parsed.currency or info.spec.unit,
        task_id=None,
        better=info.spec.better,
        goal_applies=home,
    )
    settled = currency.settle(turn, parsed)
    # the outbox's stats.updated is written by record_sample (every path a number takes)
    # /undo puts back a task and its number as they were before the last tick, answer or skip;
    # after a newer number that would roll the number (and its goal) back: nothing to undo now
    turn.set_undo(None)
    about, estimate = ("about ", " (noted as an estimate)") if parsed.approximate else ("", "")
    lines = [f"✅ Saved: {about}{bold(esc(parsed.display))} — {words.name(info.name)}{estimate}."]
    last = currency.comparable(parsed, recorded.previous)
    before = value_of(last)
    if (
        before is not None
        and isinstance(last, dict)
        and currency.same_currency(turn, parsed, last.get("unit"))
    ):
        at = str(last.get("at", ""))[:10]
        since = f" (was {esc(str(last.get('display')))}"
        since += f" on {words.day(date.fromisoformat(at), turn.today)})" if _iso(at) else ")"
        lines.append(
            f"{words.signed(parsed.numeric - before, turn.reading.locale)} since last time{since}."
        )
    if settled:
        lines.append(settled)
    goal = goal_summary(recorded.previous) if home else None
    replies: list[Outbound] = []
    if goal is not None:
        verdict = await _verdict(turn, info, goal)
        if verdict:
            lines.append(verdict)
    replies.append(Message(text="\n".join(lines)))
    if recorded.goal_met:
        replies.append(Message(text=celebration(info.name, parsed.display)))
    return replies


def _iso(text: str) -> bool:
    """Whether a stored ``at`` starts with an ISO date (an older entry may lack one)."""
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


async def _verdict(turn: Turn, info: MetricInfo, goal: dict[str, str]) -> str:
    """The goal line of the reply (empty for a summary this version can\'t read)."""
    target, due_on = metrics.goal_values(goal)
    if target is None or due_on is None:
        return ""
    projection = await metrics.projection(turn, info, target, due_on)
    return words.goal_verdict(target, due_on, projection, turn.today, turn.reading.locale)
