"""What the journey can wait for: the typed conversation states of this feature.

Stored by value in ``conversation_state.awaiting``; the turn reads them back through the
registry, so a flow compares with these members, never with bare strings.
"""

from __future__ import annotations

from enum import StrEnum


class Awaiting(StrEnum):
    """The journey's questions."""

    #: The artist name (onboarding, /name without a name).
    ARTIST_NAME = "artist_name"
    #: Which roadmap (the menu is showing).
    ROADMAP = "roadmap"
    #: Yes or no to switching roadmap (``state_data["roadmap"]`` is the slug asked about).
    CONFIRM_SWITCH = "confirm_switch"
    #: The answer to the data-input task ``state_task``.
    ANSWER = "answer"
    #: Yes or no to saving an unusual value (``state_data["raw"]`` is what was typed).
    CONFIRM_VALUE = "confirm_value"
    #: Ticks of the checklist ``state_task``, by button or by typed item numbers.
    CHECKLIST = "checklist"
    #: A new date for a dated question already answered (``state_task`` sets an anchor, e.g.
    #: the release date, from ``/plan``): the plan is re-dated from it.
    NEW_DATE = "new_date"
    #: The profile's country, asked once before the first task whose advice differs by
    #: country (``state_task``: that task); core/journey/country.py.
    COUNTRY = "country"
