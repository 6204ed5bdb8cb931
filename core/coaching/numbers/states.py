"""What the numbers feature can wait for: its typed conversation states.

Stored by value in ``conversation_state.awaiting`` (``state_data["metric"]`` names the metric;
``state_data["target"]`` the goal's target once typed).
"""

from __future__ import annotations

from enum import StrEnum


class Numbers(StrEnum):
    """The numbers feature's questions."""

    #: A new value of ``state_data["metric"]`` (``/update listeners``, a check-in's Answer).
    VALUE = "numbers_value"
    #: The target of a goal for ``state_data["metric"]`` (the guided ``/goal``).
    GOAL_TARGET = "goal_target"
    #: The date of a goal for ``state_data["metric"]`` to reach ``state_data["target"]``.
    GOAL_DATE = "goal_date"
