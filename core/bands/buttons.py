"""The band buttons (the wire vocabulary: see :mod:`core.kernel.payloads`)."""

from __future__ import annotations

from typing import Final

from core.kernel.payloads import ButtonAction

#: A manager confirms resetting the band's progress: ``br``.
BAND_RESET: Final = ButtonAction("band_reset", "br", 0)
