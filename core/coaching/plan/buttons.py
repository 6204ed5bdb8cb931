"""The plan's buttons (the wire vocabulary: see :mod:`core.kernel.payloads`)."""

from __future__ import annotations

from typing import Final

from core.kernel.payloads import ButtonAction

#: Set (or change) the date a plan is counted from: ``pa:<task>`` (the dated question's slug).
SET_DATE: Final = ButtonAction("plan_date", "pa", 1)
#: Send the plan as a calendar file: ``pf``.
CALENDAR: Final = ButtonAction("plan_file", "pf", 0)
