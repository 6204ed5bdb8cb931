"""The journey's buttons (the wire vocabulary: see :mod:`core.kernel.payloads`)."""

from __future__ import annotations

from typing import Final

from core.kernel.payloads import ButtonAction

#: Choose a roadmap during onboarding: ``pk:<roadmap>``.
PICK: Final = ButtonAction("pick", "pk", 1)
#: Ask to switch roadmap: ``rm:<roadmap>``.
ASK_SWITCH: Final = ButtonAction("ask_switch", "rm", 1)
#: The confirmed switch: ``sw:<roadmap>``.
SWITCH: Final = ButtonAction("switch", "sw", 1)
#: Tick a checklist item: ``tk:<task>:<item>``.
TICK: Final = ButtonAction("tick", "tk", 2)
#: Untick a checklist item: ``ut:<task>:<item>``.
UNTICK: Final = ButtonAction("untick", "ut", 2)
#: Skip a task: ``sk:<task>``.
SKIP: Final = ButtonAction("skip", "sk", 1)
#: Confirm (or not) an unusual value: ``cv:<task>:y|n``.
CONFIRM: Final = ButtonAction("confirm", "cv", 2)
#: Open a task (from ``/stage``, or a skipped key task from ``/progress`` and the roadmap's
#: end): ``op:<task>``. ``locate`` decides whether it can be acted on now.
OPEN: Final = ButtonAction("open", "op", 1)
#: Take a suggested date that follows the question's rules: ``pd:<task>:<yyyymmdd>``.
PICK_DATE: Final = ButtonAction("pick_date", "pd", 2)
#: Keep a date that breaks a rule anyway (the musician insists): ``pi:<task>:<yyyymmdd>``.
KEEP_DATE: Final = ButtonAction("keep_date", "pi", 2)
#: Answer a choice question with its n-th choice (0-based): ``ch:<task>:<index>``.
CHOOSE: Final = ButtonAction("choose", "ch", 2)
#: Show a task's guidance, from an answer to a question (read only, any roadmap's task):
#: ``gd:<task>``.
GUIDE: Final = ButtonAction("guide", "gd", 1)
#: Tick every item of a checklist, after "done all" was confirmed: ``ta:<task>``.
TICK_ALL: Final = ButtonAction("tick_all", "ta", 1)
#: Start the next cycle of the roadmap's repeating stages (release 2, …): ``nc:<number>``.
#: The number makes a second press (or an old card) harmless: only the next one starts.
NEXT_CYCLE: Final = ButtonAction("next_cycle", "nc", 1)
#: The profile's country, from the one country question: ``cy:<iso code>``, lower case
#: (``zz``: other).
#: In a band's server only a manager's press counts (core/bands/routes.py).
COUNTRY: Final = ButtonAction("country", "cy", 1)
