"""``/goal``: a target for a number by a date, typed in one line or guided with buttons.

The guided steps that wait for a typed value are prompt cards (``Card(form="prompt")``): in a
Discord server, where the bot can't read typed messages, the band's members answer them
through the answer form, so the value reaches the band's profile and not their DM's (solo) one.

A goal is a ``goals`` row plus its summary in ``current_stats[metric]["goal"]`` (``{"target":
"2000", "by": "2027-03-31"}``): the summary is what the answer path and ``/stats`` read, so
they never touch the goals table when there is no goal. Every reply projects when the target
is reached at the current pace, says the weekly pace it needs, on track or behind, and how it
projects (:mod:`core.progress.projection`).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from core.coaching.numbers import metrics, words
from core.coaching.numbers.buttons import GOAL_METRIC, GOAL_WHEN
from core.coaching.numbers.states import Numbers
from core.journey.samples import value_of
from core.kernel.markup import bold, esc, italic
from core.kernel.store import GoalRecord
from core.kernel.turn import Turn
from core.kernel.types import Button, Card, Message, Outbound, Toast
from core.progress.parsing import InvalidAnswer, Parsed, parse_answer
from core.progress.projection import aims_up, reached
from core.roadmaps.catalog import MetricInfo
from core.roadmaps.schema import InputSpec, InputType

_DATE = InputSpec(type=InputType.DATE, question="By when?")
_MONTHS = ("1", "3", "6")


async def goal_command(turn: Turn, args: str) -> list[Outbound]:
    """``/goal``: the list; ``/goal <metric> <target> by <date>``; ``/goal <metric> off``;
    ``/goal <metric>`` and ``/goal <metric> <target>``: the guided rest."""
    text = args.strip()
    if not text:
        return await list_goals(turn)
    head, sep, when = text.rpartition(" by ")
    if not sep:
        head, when = text, ""
    info, rest = metrics.split_metric(turn, head)
    if info is None:
        return [
            Message(
                text=f"I don't know a number called “{esc(head[:40])}”. "
                f"{metrics.known_names(turn)}\n" + italic("e.g. /goal listeners 2000 by 31 March"),
                buttons=metrics.metric_buttons(metrics.offered(turn), GOAL_METRIC),
            )
        ]
    if rest.casefold() in {"off", "remove", "delete", "none"}:
        return await remove_goal(turn, info)
    if not rest:
        return ask_target(turn, info)
    parsed = metrics.parse_value(turn, info, rest, goal=True)
    if not isinstance(parsed, Parsed):
        return [parsed]
    assert parsed.numeric is not None  # noqa: S101 - parse_value checked it
    if not when.strip():
        return ask_date(turn, info, parsed.numeric)
    due = _due(turn, when)
    if not isinstance(due, date):
        return [due]
    return await set_goal(turn, info, parsed.numeric, due)


def ask_target(turn: Turn, info: MetricInfo) -> list[Outbound]:
    """The guided goal, step 2: the target (a goal starts from a number: asked first)."""
    entry = turn.rec.current_stats.get(info.name)
    if value_of(entry) is None:
        return _first_a_number(turn, info)
    form = metrics.form_of(info)
    turn.set_state(Numbers.GOAL_TARGET, data={"metric": info.name, "form": form})
    now = ""
    if isinstance(entry, dict) and entry.get("display"):
        now = f" You're at {bold(esc(str(entry['display'])))}."
    return [
        Card(
            text=f"What {esc(metrics.label(info))} do you want to reach?{now} Type the number.",
            form="prompt",
            task=form,
        )
    ]


def ask_date(turn: Turn, info: MetricInfo, target: Decimal) -> list[Outbound]:
    """The guided goal, step 3: the date (buttons, or typed)."""
    form = metrics.form_of(info)
    turn.set_state(
        Numbers.GOAL_DATE, data={"metric": info.name, "target": str(target), "form": form}
    )
    buttons = tuple(
        Button(label=f"In {m} month{'s' if m != '1' else ''}", payload=GOAL_WHEN.encode(m))
        for m in _MONTHS
    )
    return [
        Card(
            text=f"By when? Tap one or type a date (e.g. 31 March) for "
            f"{bold(words.number(target, turn.reading.locale))} {esc(metrics.label(info))}.",
            buttons=(buttons,),
            form="prompt",
            task=form,
        )
    ]


async def target_text(turn: Turn, text: str) -> list[Outbound]:
    """A typed target while :attr:`Numbers.GOAL_TARGET` waits."""
    info = turn.catalog.metrics.get(str(turn.rec.state_data.get("metric", "")))
    if info is None:
        turn.set_state(None)
        return [Message(text="That number isn't in your roadmap any more. /goal lists yours.")]
    parsed = metrics.parse_value(turn, info, text, goal=True)
    if not isinstance(parsed, Parsed):
        return [parsed, Card(text=italic("Try again, or /cancel."), form="prompt", task=turn.form)]
    assert parsed.numeric is not None  # noqa: S101 - parse_value checked it
    return ask_date(turn, info, parsed.numeric)


async def date_text(turn: Turn, text: str) -> list[Outbound]:
    """A typed date while :attr:`Numbers.GOAL_DATE` waits."""
    due = _due(turn, text)
    if not isinstance(due, date):  # still waiting: asked again, with the answer form
        return [Card(text=due.text, form="prompt", task=turn.form)]
    return await _finish_guided(turn, due)


async def date_button(turn: Turn, months: str) -> list[Outbound]:
    """A "in N months" press while :attr:`Numbers.GOAL_DATE` waits."""
    if turn.awaiting is not Numbers.GOAL_DATE or months not in _MONTHS:
        return [Toast(text="That question has expired — /goal starts again.")]
    return await _finish_guided(turn, add_months(turn.today, int(months)))


async def _finish_guided(turn: Turn, due: date) -> list[Outbound]:
    """The guided goal's last step: the metric and target it asked before, and the date."""
    data = turn.rec.state_data
    info = turn.catalog.metrics.get(str(data.get("metric", "")))
    try:
        target = Decimal(str(data.get("target")))
    except ArithmeticError:
        target = None
    turn.set_state(None)
    if info is None or target is None:
        return [Message(text="That question has expired — /goal starts again.")]
    return await set_goal(turn, info, target, due)


def add_months(today: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month = today.month - 1 + months
    year, month = today.year + month // 12, month % 12 + 1
    for day in range(today.day, 0, -1):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    return date(year, month, 28)


def _due(turn: Turn, text: str) -> date | Outbound:
    """A typed goal date (the journey's date parser), after today and within five years."""
    try:
        parsed = parse_answer(_DATE, text, today=turn.today, label="the goal's date")
    except InvalidAnswer as exc:
        return Message(text=esc(exc.message))
    if not isinstance(parsed.value, date) or parsed.value <= turn.today:
        return Message(text="Pick a date after today for your goal (e.g. 31 March, in 3 months).")
    if parsed.value > turn.today + timedelta(days=5 * 366):
        return Message(text="That's more than five years away — pick a nearer date.")
    return parsed.value


def _first_a_number(turn: Turn, info: MetricInfo) -> list[Outbound]:
    """A goal is measured from today's number: ask for it first."""
    form = metrics.form_of(info)
    turn.set_state(Numbers.VALUE, data={"metric": info.name, "form": form})
    return [
        Card(
            text=f"First I need your {bold(esc(metrics.label(info)))} today — type it, "
            "then set the goal again.",
            form="prompt",
            task=form,
        )
    ]


async def set_goal(turn: Turn, info: MetricInfo, target: Decimal, due: date) -> list[Outbound]:
    """Save the goal (replacing the metric's old one) and say where it stands."""
    stats = dict(turn.rec.current_stats or {})
    entry = stats.get(info.name)
    latest = value_of(entry)
    if latest is None or not isinstance(entry, dict):
        return _first_a_number(turn, info)
    if reached(latest, target, aims_up(target, latest, info.spec.better)):
        return [
            Message(
                text=f"You're already at {bold(esc(str(entry.get('display'))))} — "
                "aim further than that! 🚀"
            )
        ]
    await turn.store.save_goal(
        turn.rec.profile_id,
        GoalRecord(
            metric=info.name,
            target=target,
            due_on=due,
            baseline=latest,
            set_by=turn.rec.user_id,
            set_at=turn.now,
        ),
    )
    stats[info.name] = {**entry, "goal": {"target": str(target), "by": due.isoformat()}}
    turn.set_profile(current_stats=stats)
    turn.set_undo(None)  # an older snapshot of this number would drop the goal's summary
    turn.event("goal.set", metric=info.name)
    projection = await metrics.projection(turn, info, target, due, baseline=latest)
    return [
        Message(
            text="\n".join(
                [
                    f"🎯 Goal set: {words.name(info.name)} "
                    f"{bold(words.number(target, turn.reading.locale))} "
                    f"by {words.day(due, turn.today)}.",
                    words.goal_verdict(target, due, projection, turn.today, turn.reading.locale),
                    words.how(),
                ]
            )
        )
    ]


async def remove_goal(turn: Turn, info: MetricInfo) -> list[Outbound]:
    """``/goal <metric> off``."""
    removed = await turn.store.delete_goal(turn.rec.profile_id, info.name)
    stats = dict(turn.rec.current_stats or {})
    entry = stats.get(info.name)
    if isinstance(entry, dict) and "goal" in entry:
        stats[info.name] = {k: v for k, v in entry.items() if k != "goal"}
        turn.set_profile(current_stats=stats)
        turn.set_undo(None)
        removed = True
    if not removed:
        return [Message(text=f"There's no goal for {words.name(info.name)}. /goal lists yours.")]
    return [Message(text=f"OK, the {words.name(info.name)} goal is gone.")]


async def list_goals(turn: Turn) -> list[Outbound]:
    """``/goal`` alone: every goal with where it stands, and buttons to set one."""
    goals = await turn.store.load_goals(turn.rec.profile_id)
    buttons = metrics.metric_buttons(metrics.offered(turn), GOAL_METRIC)
    if not goals:
        return [
            Message(
                text=f"{bold('No goals yet.')} Pick a number to aim for, or write e.g. "
                "/goal listeners 2000 by 31 March.",
                buttons=buttons,
            )
        ]
    lines = [bold("🎯 Your goals"), ""]
    for goal in goals:
        info = turn.catalog.metrics.get(goal.metric)
        if info is None:
            continue
        projection = await metrics.projection(turn, info, goal.target, goal.due_on, goal.baseline)
        if goal.met_at is not None:
            verdict = f"🎯 {bold(words.number(goal.target, turn.reading.locale))}: ✅ reached on "
            verdict += words.day(goal.met_at, turn.today) + "."
        else:
            verdict = words.goal_verdict(
                goal.target, goal.due_on, projection, turn.today, turn.reading.locale
            )
        lines.append(f"{words.name(goal.metric)} — {verdict}")
    lines += ["", italic("/goal <number> off removes one. " + words.HOW)]
    return [Message(text="\n".join(lines), buttons=buttons)]
