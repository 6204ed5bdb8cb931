"""What a band's turn can wait for (the typed conversation states of this feature)."""

from __future__ import annotations

from enum import StrEnum


class BandAwaiting(StrEnum):
    """The band's questions."""

    #: A manager's "yes, reset everything" (the button) after ``/band reset``.
    RESET = "band_reset"
