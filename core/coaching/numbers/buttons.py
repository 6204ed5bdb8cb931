"""The numbers feature's buttons (the wire vocabulary: see :mod:`core.kernel.payloads`)."""

from __future__ import annotations

from typing import Final

from core.kernel.payloads import ButtonAction

#: Type a new value of a metric: ``nv:<metric>`` (``/update``'s list, a check-in's Answer).
UPDATE: Final = ButtonAction("numbers_update", "nv", 1)
#: Set a goal for a metric, guided: ``gm:<metric>``.
GOAL_METRIC: Final = ButtonAction("goal_metric", "gm", 1)
#: The goal's date in 1, 3 or 6 months: ``gw:<months>``.
GOAL_WHEN: Final = ButtonAction("goal_when", "gw", 1)
#: Snooze a check-in for a week: ``cz:<reminder hex>``.
CHECKIN_SNOOZE: Final = ButtonAction("checkin_snooze", "cz", 1)


def metric_arg(metric: str) -> str:
    """A metric name as a payload argument (arguments take hyphens, names underscores)."""
    return metric.replace("_", "-")


def metric_of(arg: str) -> str:
    """The metric name a payload argument carries."""
    return arg.replace("-", "_")
