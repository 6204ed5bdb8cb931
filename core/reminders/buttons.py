"""The reminder buttons (the wire vocabulary: see :mod:`core.kernel.payloads`)."""

from __future__ import annotations

from typing import Final

from core.kernel.payloads import ButtonAction

#: Act on a nudge: ``nu:d|s|t:<reminder hex>`` (done / snooze an hour / tomorrow). Checked
#: against the reminder's owner on every press.
NUDGE: Final = ButtonAction("nudge", "nu", 2)
#: A /remind, /timezone or /quiet choice: ``nr:<setting>:<value>``.
SETTING: Final = ButtonAction("reminders", "nr", 2)
