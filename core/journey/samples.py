"""Recording one sample of a metric: the one path every number takes (issue #13).

An answer to a data question, ``/update listeners 1400`` and a check-in's typed number all end
here, so they agree on what a sample is: a ``stat_samples`` row (every sample is kept), the
profile's ``current_stats[metric]`` (the latest value, which the hot path reads instead of the
samples), and a goal reached for the first time. It lives in the journey because the journey's
answers use it and the journey may not import the coaching layer above it.

The goal check costs nothing when there is no goal: the profile row (read with the turn) keeps
a summary of the metric's goal in ``current_stats[metric]["goal"]`` (``{"target": "2000",
"by": "2027-03-31"}``), so the ``goals`` table is only touched when a goal exists and the new
value reaches it — and then once: ``met_at`` is set by the first sample that does.

Each sample also writes the outbox events ``stats.updated`` (metric and value) and, the first
time a goal is reached, ``goal.met``: the milestones are found from those
(:mod:`core.coaching.milestones`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from core.kernel.markup import bold, esc
from core.kernel.turn import Turn
from core.progress.metrics import metric_label
from core.progress.projection import aims_up, reached


@dataclass(frozen=True, slots=True)
class Recorded:
    """What recording a sample did."""

    #: The metric's ``current_stats`` entry before this sample (``None``: the first one).
    previous: dict[str, Any] | None
    sample_id: uuid.UUID
    #: The sample reached the metric's goal for the first time: celebrate.
    goal_met: bool


def goal_summary(entry: Any) -> dict[str, str] | None:
    """The goal summary kept in a ``current_stats`` entry, if any."""
    if isinstance(entry, dict) and isinstance(entry.get("goal"), dict):
        return {str(k): str(v) for k, v in entry["goal"].items()}
    return None


def home_figure(entry: Any) -> dict[str, Any] | None:
    """The last figure of a ``current_stats`` entry in the profile's currency: the entry
    itself, or — when its latest amount was in another currency — the one kept beside it
    (``entry["home"]``), so the next amount in the profile's currency is compared with it."""
    if not isinstance(entry, dict) or entry.get("value") is None:
        return None
    kept = entry.get("home")
    if isinstance(kept, dict):
        return kept
    return {k: entry[k] for k in ("value", "display", "unit", "at") if k in entry}


def value_of(entry: Any) -> Decimal | None:
    """The numeric value of a ``current_stats`` entry."""
    if not isinstance(entry, dict) or entry.get("value") is None:
        return None
    try:
        return Decimal(str(entry["value"]))
    except (InvalidOperation, ValueError):
        return None


async def record_sample(
    turn: Turn,
    *,
    metric: str,
    value: Decimal,
    display: str,
    unit: str | None,
    task_id: uuid.UUID | None,
    better: str | None = None,
    goal_applies: bool = True,
) -> Recorded:
    """Keep one sample of ``metric``: the sample row, the latest value on the profile (the
    goal summary carried over), and the goal's ``met_at`` the first time it is reached.

    ``unit`` is what the value is in (a money sample's own currency). ``goal_applies`` is
    false for an amount in another currency than the profile's: a goal is in the profile's
    currency, and without exchange rates the two can't be compared.
    """
    stats = dict(turn.rec.current_stats or {})
    previous = stats.get(metric)
    goal = goal_summary(previous)
    entry = {
        **(previous if isinstance(previous, dict) else {}),  # what others keep there: the goal
        "value": str(value),
        "display": display,
        "unit": unit,
        "at": turn.now.isoformat(),
    }
    home = home_figure(previous)
    if goal_applies or home is None:
        entry.pop("home", None)
    else:  # an amount in another currency: the last one in the profile's is kept beside it
        entry["home"] = home
    stats[metric] = entry
    turn.set_profile(current_stats=stats)
    sample_id = uuid.uuid4()
    await turn.store.add_sample(
        {
            "id": sample_id,
            "profile_id": turn.rec.profile_id,
            "task_id": task_id,
            "metric": metric,
            "value": value,
            "unit": unit,
            "recorded_by": turn.rec.user_id,
            "recorded_at": turn.now,
        }
    )
    met = False
    if goal is not None and goal_applies:
        try:
            target = Decimal(goal["target"])
        except (InvalidOperation, KeyError):
            target = None
        if target is not None:
            up = aims_up(target, value_of(previous), better)
            if reached(value, target, up):
                met = await turn.store.mark_goal_met(turn.rec.profile_id, metric, turn.now)
    # The outbox (core/coaching/milestones): every number, however it came, with its value,
    # so "1 000 listeners" or "first paid gig" is seen whichever path recorded it.
    before = value_of(previous)
    if before is None:
        turn.event("stats.updated", metric=metric, value=value)
    else:  # the value before: a threshold counts when a number crosses it
        turn.event("stats.updated", metric=metric, value=value, previous=before)
    if met and goal is not None:
        turn.event("goal.met", metric=metric, target=goal.get("target"), by=goal.get("by", ""))
    return Recorded(previous if isinstance(previous, dict) else None, sample_id, met)


def celebration(metric: str, display: str) -> str:
    """The words for a goal met (sent once per goal)."""
    name = esc(metric_label(metric))
    return (
        f"🎉 {bold('Goal reached!')} {name} hit {bold(esc(display))}. Set the next one with /goal."
    )
