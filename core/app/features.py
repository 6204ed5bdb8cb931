"""The features the coach is made of, in the order /help and the menus list their commands.

Adding a feature package means adding it here; adding a command, a button or a question to an
existing feature touches only that feature's ``routes.py``.
"""

from __future__ import annotations

from core.accounts.routes import accounts
from core.admin.routes import admin, privacy
from core.bands.routes import bands
from core.coaching.numbers.routes import numbers
from core.coaching.plan.routes import plan
from core.coaching.review.routes import review
from core.coaching.streaks.routes import streaks
from core.journey.routes import journey
from core.kernel.registry import Feature
from core.reminders.routes import reminders

FEATURES: tuple[Feature, ...] = (
    journey,
    numbers,
    plan,
    streaks,
    review,
    privacy,
    admin,
    reminders,
    accounts,
    bands,
)


def with_own(own: Feature) -> tuple[Feature, ...]:
    """The features with the coach's own routes (/help, the cancel button) right after the
    journey's, where /help lists them."""
    return (FEATURES[0], own, *FEATURES[1:])
