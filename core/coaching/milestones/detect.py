"""Which milestones one outbox event reaches: pure, so every rule is a unit test.

An event (its type and payload, as :meth:`core.kernel.turn.Turn.event` wrote it: every value a
string) maps to zero or more :class:`Reached` milestones, each with a key unique per profile.
The key is the celebration's idempotency key (``UNIQUE(profile_id, key)``), so it names the
milestone itself, not the event: a second event reaching the same milestone finds it taken.

=========================  =================================  ===============================
event                      milestone key                      celebrated by
=========================  =================================  ===============================
``stats.updated``          ``metric:<metric>:<100|1000|10000>``  the consumer (audience numbers)
``stats.updated`` gig_fee  ``first-paid-gig`` (a fee > 0)     the consumer
``goal.met``               ``goal:<metric>:<target>:<by>``    the reply (inline)
``stage.completed``        ``stage:<slug>``                   the reply (inline)
``roadmap.completed``      ``roadmap:<slug>``                 the reply (inline)
``release.day``            ``release-day:<date>``             the consumer
=========================  =================================  ===============================

Thresholds count only for audience numbers (:data:`AUDIENCE`): 1 000 monthly listeners is a
moment, 1 000 of a fee or of a set's minutes is not. A threshold is reached when a number
*crosses* it (the event carries the value before, ``previous``) or by the metric's first number:
someone already at 5 000 when milestones began is not told of 1 000 by their next one. "First
paid gig" is the first gig fee above zero the musician records (the roadmaps ask "How much were
you paid for your most recent show?" into the ``gig_fee`` metric; 0 means unpaid). A goal is
named by its metric, target and date: setting a new goal clears its ``met_at`` in the same
``goals`` row, so the row's id would not tell a second goal from the first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Final

#: The audience sizes worth a milestone, smallest first.
THRESHOLDS: Final = (100, 1_000, 10_000)
#: Metrics that count an audience (or sales): the ones a threshold is a moment for.
AUDIENCE: Final = frozenset(
    {
        "monthly_listeners",
        "followers_instagram",
        "followers_tiktok",
        "mailing_list_size",
        "streams_28d",
        "bandcamp_sales",
        "playlist_adds",
    }
)
#: The metric a gig's fee is recorded in (``roadmaps/*.yaml``: "Record your fee …").
GIG_FEE: Final = "gig_fee"
#: The longest key (the column's width).
KEY_MAX: Final = 120


@dataclass(frozen=True, slots=True)
class Reached:
    """One milestone an event reached.

    Attributes:
        key: Unique per profile (the idempotency key).
        kind: ``metric``, ``first-paid-gig``, ``goal``, ``stage``, ``roadmap``, ``release-day``.
        inline: The reply to the musician's own message already celebrated it: record it
            silently (the band channel may still hear of it).
        detail: What the words need (metric, threshold, value, slug, date), strings.
    """

    key: str
    kind: str
    inline: bool = False
    detail: Mapping[str, str] = field(default_factory=dict)


def _number(raw: str | None) -> Decimal | None:
    if raw is None:
        return None
    try:
        value = Decimal(raw)
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def _key(*parts: str) -> str:
    return ":".join(parts)[:KEY_MAX]


def detect(event_type: str, payload: Mapping[str, str]) -> list[Reached]:
    """The milestones ``event_type`` with ``payload`` reaches (maybe reached before: the
    consumer's insert tells)."""
    if event_type == "stats.updated":
        return _stats(payload)
    if event_type == "goal.met":
        metric, target, by = payload.get("metric"), payload.get("target"), payload.get("by")
        if not metric or not target:
            return []
        detail = {"metric": metric, "target": target}
        return [Reached(_key("goal", metric, target, by or ""), "goal", True, detail)]
    if event_type == "stage.completed":
        stage = payload.get("stage")
        if not stage:
            return []
        detail = {"stage": stage, "roadmap": payload.get("roadmap", "")}
        return [Reached(_key("stage", stage), "stage", True, detail)]
    if event_type == "roadmap.completed":
        roadmap = payload.get("roadmap")
        if not roadmap:
            return []
        return [Reached(_key("roadmap", roadmap), "roadmap", True, {"roadmap": roadmap})]
    if event_type == "release.day":
        day = payload.get("date")
        if not day:
            return []
        return [Reached(_key("release-day", day), "release-day", False, {"date": day})]
    return []


def _stats(payload: Mapping[str, str]) -> list[Reached]:
    metric, value = payload.get("metric"), _number(payload.get("value"))
    if not metric or value is None:
        return []
    if metric == GIG_FEE:
        if value <= 0:
            return []  # an unpaid gig (0) is worth recording, not celebrating as paid
        return [Reached("first-paid-gig", "first-paid-gig", False, {"value": str(value)})]
    if metric not in AUDIENCE:
        return []
    before = _number(payload.get("previous"))
    return [
        Reached(
            _key("metric", metric, str(threshold)),
            "metric",
            False,
            {"metric": metric, "threshold": str(threshold), "value": str(value)},
        )
        for threshold in THRESHOLDS
        if value >= threshold and (before is None or before < threshold)
    ]


def worth_a_notice(new: Iterable[Reached]) -> set[str]:
    """Of the milestones *newly* reached by one event, the keys the musician is told of.

    Inline ones were celebrated by the reply already. Of several thresholds of one metric
    crossed by one number (a first entry of 12 000 listeners), only the highest: three
    messages about one number would be noise; the lower ones are still recorded, so they are
    never celebrated later either.
    """
    chosen: dict[str, Reached] = {}
    for reached in new:
        if reached.inline:
            continue
        if reached.kind != "metric":
            chosen[reached.key] = reached
            continue
        metric = reached.detail["metric"]
        slot = f"metric:{metric}"
        best = chosen.get(slot)
        if best is None or int(reached.detail["threshold"]) > int(best.detail["threshold"]):
            chosen[slot] = reached
    return {r.key for r in chosen.values()}
