"""Which number a musician means, and the value they typed: shared by ``/update``, ``/goal``
and the check-ins' typed answer.

Words go through :meth:`Catalog.metric_named` ("listeners", "monthly listeners",
"monthly_listeners"), values through the journey's own parser (``parse_answer`` with the
metric's input spec), so "1.4k" and "about 1 400" mean what they mean in an answer, and a bad
value gets the parser's message.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from core.coaching.numbers.buttons import metric_arg
from core.kernel.markup import esc
from core.kernel.payloads import ButtonAction
from core.kernel.turn import Turn
from core.kernel.types import Button, Message, Outbound
from core.progress.metrics import metric_label
from core.progress.parsing import InvalidAnswer, Parsed, parse_answer
from core.progress.projection import Projection, project
from core.roadmaps.catalog import MetricInfo
from core.roadmaps.schema import NUMERIC_TYPES

#: How many samples of one metric a projection reads (years of weekly numbers).
PROJECTION_SAMPLES = 500
#: Metric buttons offered at most.
MAX_METRIC_BUTTONS = 8


def form_of(info: MetricInfo) -> str:
    """What a prompt for a value of ``info`` is called where an answer form names it (kept in
    the state's data as ``form``, carried by the prompt card as its ``task``): a modal opened
    on another prompt or question is not an answer to this one (``Turn.form``)."""
    return f"value-{info.name.replace('_', '-')}"[:40]


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


def metric_buttons(
    metrics: list[MetricInfo], action: ButtonAction
) -> tuple[tuple[Button, ...], ...]:
    """One button a metric, two a row (names are short; a phone shows two side by side)."""
    buttons = [
        Button(label=metric_label(i.name), payload=action.encode(metric_arg(i.name)))
        for i in metrics
    ]
    return tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))


def known_names(turn: Turn) -> str:
    """The names an unknown word is answered with: the musician's numbers (each by its
    shortest alias, the word they would type), else the content's."""
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


def label(info: MetricInfo) -> str:
    """A metric in running text ("monthly listeners"), as the parser's messages name it."""
    return info.name.replace("_", " ")


def parse_value(
    turn: Turn, info: MetricInfo, text: str, *, goal: bool = False
) -> Parsed | Outbound:
    """The typed value with the metric's own spec, or the parser's message as the reply.

    A ``goal`` target in money must be in the profile's currency: the goal is measured
    against the amounts given in it (nothing is converted).
    """
    try:
        parsed = parse_answer(
            info.spec, text, today=turn.today, label=label(info), reading=turn.reading
        )
    except InvalidAnswer as exc:
        return Message(text=esc(exc.message))
    if parsed.numeric is None:  # numeric types always give one; keep mypy and odd content honest
        return Message(text=f"I need a number for {esc(label(info))}.")
    home = turn.reading.currency
    if goal and parsed.currency is not None and home and parsed.currency != home:
        return Message(
            text=f"A goal is in your currency ({esc(home)}): please give the target in "
            f"{esc(home)} — I don't convert currencies. /currency changes yours."
        )
    return parsed


def goal_values(goal: dict[str, str]) -> tuple[Decimal | None, date | None]:
    """Target and date of a goal summary (``None``s: a summary this version can't read)."""
    try:
        return Decimal(goal["target"]), date.fromisoformat(goal["by"])
    except (KeyError, ValueError, ArithmeticError):
        return None, None


async def projection(
    turn: Turn, info: MetricInfo, target: Decimal, due_on: date, baseline: Decimal | None = None
) -> Projection | None:
    """Where a goal stands, from the metric's samples (one indexed read)."""
    samples = await turn.store.metric_samples(
        turn.rec.profile_id, info.name, PROJECTION_SAMPLES, currency=turn.rec.currency
    )
    return project(
        samples,
        target=target,
        due_on=due_on,
        now=turn.now,
        baseline=baseline,
        better=info.spec.better,
    )
