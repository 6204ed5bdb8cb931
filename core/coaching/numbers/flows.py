"""``/update`` and ``/goal``: a new sample any time, and a target with a date.

Both read the metric from friendly words through :meth:`Catalog.metric_named` ("listeners",
"monthly listeners", "monthly_listeners") and the value through the same parser as the
journey's questions (``parse_answer`` with the metric's own input spec), so "1.4k" and
"about 1 400" mean what they mean in an answer, and a bad value gets the parser's message.

A sample goes through :func:`core.journey.samples.record_sample`, the one path of every number.
A goal is a ``goals`` row plus its summary in ``current_stats[metric]["goal"]`` (``{"target":
"2000", "by": "2027-03-31"}``): the summary is what the answer path and ``/stats`` read, so they
never touch the goals table when there is no goal.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from core.coaching.numbers import words
from core.coaching.numbers.buttons import GOAL_METRIC, GOAL_WHEN, UPDATE, metric_arg
from core.coaching.numbers.states import Numbers
from core.journey.samples import celebration, goal_summary, record_sample, value_of
from core.kernel.markup import bold, esc, italic
from core.kernel.payloads import ButtonAction
from core.kernel.store import GoalRecord
from core.kernel.turn import Turn
from core.kernel.types import Button, Message, Outbound, Toast
from core.progress.metrics import metric_label
from core.progress.parsing import InvalidAnswer, Parsed, parse_answer
from core.progress.projection import Projection, aims_up, project, reached
from core.roadmaps.catalog import MetricInfo
from core.roadmaps.schema import NUMERIC_TYPES, InputSpec, InputType

#: How many samples of one metric a projection reads (years of weekly numbers).
PROJECTION_SAMPLES = 500
#: Metric buttons offered at most.
MAX_METRIC_BUTTONS = 8
_DATE = InputSpec(type=InputType.DATE, question="By when?")
_MONTHS = ("1", "3", "6")


# ---------------------------------------------------------------------- metrics


def offered(turn: Turn) -> list[MetricInfo]:
    """The metrics to offer as buttons: the tracked ones of the musician's roadmap and every
    metric they already have a number for, tracked first."""
    catalog, roadmap = turn.catalog, turn.roadmap
    mine: list[MetricInfo] = []
    for info in catalog.metrics.values():
        if info.spec.type not in NUMERIC_TYPES:
            continue
        in_roadmap = roadmap is not None and any(
            (task := catalog.tasks_by_slug.get(slug)) is not None and task.roadmap_id == roadmap.id
            for slug in info.task_slugs
        )
        if (info.tracked and in_roadmap) or info.name in turn.rec.current_stats:
            mine.append(info)
    mine.sort(key=lambda i: (not i.tracked, i.name))
    return mine[:MAX_METRIC_BUTTONS]


def _metric_buttons(
    metrics: list[MetricInfo], action: ButtonAction
) -> tuple[tuple[Button, ...], ...]:
    buttons = [
        Button(label=metric_label(i.name), payload=action.encode(metric_arg(i.name)))
        for i in metrics
    ]
    return tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))


def _known_names(turn: Turn) -> str:
    metrics = (
        offered(turn)
        or [i for i in turn.catalog.metrics.values() if i.spec.type in NUMERIC_TYPES][
            :MAX_METRIC_BUTTONS
        ]
    )
    if not metrics:
        return "I don't know any numbers for your roadmap yet."
    names = ", ".join(
        esc(min(i.aliases, key=len) if i.aliases else i.name.replace("_", " ")) for i in metrics
    )
    return f"I know: {names}."


def split_metric(turn: Turn, text: str) -> tuple[MetricInfo | None, str]:
    """The metric the first words name (the longest that matches) and the rest."""
    tokens = text.split()
    for cut in range(len(tokens), 0, -1):
        info = turn.catalog.metric_named(" ".join(tokens[:cut]))
        if info is not None and info.spec.type in NUMERIC_TYPES:
            return info, " ".join(tokens[cut:])
    return None, text


def _label(info: MetricInfo) -> str:
    return info.name.replace("_", " ")


def _parse(turn: Turn, info: MetricInfo, text: str) -> Parsed | Outbound:
    try:
        parsed = parse_answer(info.spec, text, today=turn.today, label=_label(info))
    except InvalidAnswer as exc:
        return Message(text=esc(exc.message))
    if parsed.numeric is None:  # numeric types always give one; keep mypy and odd content honest
        return Message(text=f"I need a number for {esc(_label(info))}.")
    return parsed


# ---------------------------------------------------------------------- /update


async def update_command(turn: Turn, args: str) -> list[Outbound]:
    """``/update``: the list; ``/update <metric>``: ask; ``/update <metric> <value>``: save."""
    if not args.strip():
        metrics = offered(turn)
        if not metrics:
            return [Message(text=f"Nothing to update yet. {_known_names(turn)}")]
        return [
            Message(
                text=f"{bold('Which number?')} Tap one and type it, or write "
                "e.g. /update listeners 1400.",
                buttons=_metric_buttons(metrics, UPDATE),
            )
        ]
    info, rest = split_metric(turn, args)
    if info is None:
        return [
            Message(
                text=f"I don't know a number called “{esc(args.strip()[:40])}”. "
                f"{_known_names(turn)}",
                buttons=_metric_buttons(offered(turn), UPDATE),
            )
        ]
    if not rest:
        return ask_value(turn, info)
    return await save_value(turn, info, rest)


def ask_value(turn: Turn, info: MetricInfo) -> list[Outbound]:
    """Wait for a typed value of ``info``."""
    turn.set_state(Numbers.VALUE, data={"metric": info.name})
    entry = turn.rec.current_stats.get(info.name)
    last = ""
    if isinstance(entry, dict) and entry.get("display"):
        last = f" (last: {esc(str(entry['display']))})"
    return [
        Message(
            text=f"What's your {bold(esc(_label(info)))} now?{last} Just type the number.",
        )
    ]


async def value_text(turn: Turn, text: str) -> list[Outbound]:
    """A typed value while :attr:`Numbers.VALUE` waits."""
    info = turn.catalog.metrics.get(str(turn.rec.state_data.get("metric", "")))
    if info is None:
        turn.set_state(None)
        return [Message(text="That number isn't in your roadmap any more. /update lists yours.")]
    try:
        parse_answer(info.spec, text, today=turn.today, label=_label(info))
    except InvalidAnswer as exc:
        return [Message(text=f"{esc(exc.message)}\n{italic('Try again, or /cancel.')}")]
    turn.set_state(None)
    return await save_value(turn, info, text)


async def save_value(turn: Turn, info: MetricInfo, text: str) -> list[Outbound]:
    """Parse and record one sample; say what changed and where the goal stands."""
    parsed = _parse(turn, info, text)
    if not isinstance(parsed, Parsed):
        return [parsed]
    assert parsed.numeric is not None  # noqa: S101 - _parse checked it
    recorded = await record_sample(
        turn,
        metric=info.name,
        value=parsed.numeric,
        display=parsed.display,
        unit=info.spec.unit,
        task_id=None,
        better=info.spec.better,
    )
    turn.event("stats.updated", metric=info.name)
    # /undo puts back a task and its number as they were before the last tick, answer or skip;
    # after a newer number that would roll the number (and its goal) back: nothing to undo now
    turn.set_undo(None)
    lines = [f"✅ Saved: {bold(esc(parsed.display))} — {words.name(info.name)}."]
    before = value_of(recorded.previous)
    if before is not None and recorded.previous is not None:
        at = str(recorded.previous.get("at", ""))[:10]
        since = f" (was {esc(str(recorded.previous.get('display')))}"
        since += f" on {words.day(date.fromisoformat(at), turn.today)})" if _iso(at) else ")"
        lines.append(f"{words.signed(parsed.numeric - before)} since last time{since}.")
    goal = goal_summary(recorded.previous)
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
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


async def _verdict(turn: Turn, info: MetricInfo, goal: dict[str, str]) -> str:
    target, due_on = _goal_values(goal)
    if target is None or due_on is None:
        return ""
    projection = await _projection(turn, info, target, due_on)
    return words.goal_verdict(target, due_on, projection, turn.today)


def _goal_values(goal: dict[str, str]) -> tuple[Decimal | None, date | None]:
    try:
        return Decimal(goal["target"]), date.fromisoformat(goal["by"])
    except (KeyError, ValueError, ArithmeticError):
        return None, None


async def _projection(
    turn: Turn, info: MetricInfo, target: Decimal, due_on: date, baseline: Decimal | None = None
) -> Projection | None:
    samples = await turn.store.metric_samples(turn.rec.profile_id, info.name, PROJECTION_SAMPLES)
    return project(
        samples,
        target=target,
        due_on=due_on,
        now=turn.now,
        baseline=baseline,
        better=info.spec.better,
    )


# ---------------------------------------------------------------------- /goal


async def goal_command(turn: Turn, args: str) -> list[Outbound]:
    """``/goal``: the list; ``/goal <metric> <target> by <date>``; ``/goal <metric> off``;
    ``/goal <metric>`` and ``/goal <metric> <target>``: the guided rest."""
    text = args.strip()
    if not text:
        return await list_goals(turn)
    head, sep, when = text.rpartition(" by ")
    if not sep:
        head, when = text, ""
    info, rest = split_metric(turn, head)
    if info is None:
        return [
            Message(
                text=f"I don't know a number called “{esc(head[:40])}”. {_known_names(turn)}\n"
                + italic("e.g. /goal listeners 2000 by 31 March"),
                buttons=_metric_buttons(offered(turn), GOAL_METRIC),
            )
        ]
    if rest.casefold() in {"off", "remove", "delete", "none"}:
        return await remove_goal(turn, info)
    if not rest:
        return ask_target(turn, info)
    parsed = _parse(turn, info, rest)
    if not isinstance(parsed, Parsed):
        return [parsed]
    assert parsed.numeric is not None  # noqa: S101 - _parse checked it
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
    turn.set_state(Numbers.GOAL_TARGET, data={"metric": info.name})
    now = ""
    if isinstance(entry, dict) and entry.get("display"):
        now = f" You're at {bold(esc(str(entry['display'])))}."
    return [Message(text=f"What {esc(_label(info))} do you want to reach?{now} Type the number.")]


def ask_date(turn: Turn, info: MetricInfo, target: Decimal) -> list[Outbound]:
    """The guided goal, step 3: the date (buttons, or typed)."""
    turn.set_state(Numbers.GOAL_DATE, data={"metric": info.name, "target": str(target)})
    buttons = tuple(
        Button(label=f"In {m} month{'s' if m != '1' else ''}", payload=GOAL_WHEN.encode(m))
        for m in _MONTHS
    )
    return [
        Message(
            text=f"By when? Tap one or type a date (e.g. 31 March) for "
            f"{bold(words.number(target))} {esc(_label(info))}.",
            buttons=(buttons,),
        )
    ]


async def target_text(turn: Turn, text: str) -> list[Outbound]:
    """A typed target while :attr:`Numbers.GOAL_TARGET` waits."""
    info = turn.catalog.metrics.get(str(turn.rec.state_data.get("metric", "")))
    if info is None:
        turn.set_state(None)
        return [Message(text="That number isn't in your roadmap any more. /goal lists yours.")]
    parsed = _parse(turn, info, text)
    if not isinstance(parsed, Parsed):
        return [parsed, Message(text=italic("Try again, or /cancel."))]
    assert parsed.numeric is not None  # noqa: S101 - _parse checked it
    return ask_date(turn, info, parsed.numeric)


async def date_text(turn: Turn, text: str) -> list[Outbound]:
    """A typed date while :attr:`Numbers.GOAL_DATE` waits."""
    due = _due(turn, text)
    if not isinstance(due, date):
        return [due]
    return await _finish_guided(turn, due)


async def date_button(turn: Turn, months: str) -> list[Outbound]:
    """A "in N months" press while :attr:`Numbers.GOAL_DATE` waits."""
    if turn.awaiting is not Numbers.GOAL_DATE or months not in _MONTHS:
        return [Toast(text="That question has expired — /goal starts again.")]
    return await _finish_guided(turn, add_months(turn.today, int(months)))


async def _finish_guided(turn: Turn, due: date) -> list[Outbound]:
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
    turn.set_state(Numbers.VALUE, data={"metric": info.name})
    return [
        Message(
            text=f"First I need your {bold(esc(_label(info)))} today — type it, "
            "then set the goal again."
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
    projection = await _projection(turn, info, target, due, baseline=latest)
    return [
        Message(
            text="\n".join(
                [
                    f"🎯 Goal set: {words.name(info.name)} {bold(words.number(target))} "
                    f"by {words.day(due, turn.today)}.",
                    words.goal_verdict(target, due, projection, turn.today),
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
    buttons = _metric_buttons(offered(turn), GOAL_METRIC)
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
        projection = await _projection(turn, info, goal.target, goal.due_on, goal.baseline)
        if goal.met_at is not None:
            verdict = f"🎯 {bold(words.number(goal.target))}: ✅ reached on "
            verdict += words.day(goal.met_at, turn.today) + "."
        else:
            verdict = words.goal_verdict(goal.target, goal.due_on, projection, turn.today)
        lines.append(f"{words.name(goal.metric)} — {verdict}")
    lines += ["", italic("/goal <number> off removes one. " + words.HOW)]
    return [Message(text="\n".join(lines), buttons=buttons)]
