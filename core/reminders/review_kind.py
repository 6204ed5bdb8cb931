"""The ``review`` reminder kind (issue #14 §1): the tick's side of the weekly review.

One row per musician (created by ``/remind`` or ``/review``: :mod:`core.coaching.review.settings`).
Its schedule column holds the slot (a weekday and a local time, default Monday 10:00); its
``stage`` counts the reviews the back-off held back in a row. When the tick claims it:

* :func:`plan` (pure, in the claim) — :func:`core.reminders.weekly.plan`, the weekly rules a
  band's digest shares: the week's slot with the per-person spread, quiet hours, GRACE and
  MIN_GAP, the back-off after silent weeks, the delivery key naming the **ISO week**
  (``<reminder>:<2026-W50>:review``), so the same week's review is recorded once however often
  the row is claimed.
* :func:`inputs` — the batch's review rows' rows, three statements, only when there are some.
* :func:`build` — the message: the full review, or the gentle one for a quiet week.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, tzinfo

from core.clock import zone
from core.coaching.review import read
from core.coaching.review.compose import Inputs, compose, render
from core.coaching.review.settings import KIND
from core.db.executor import Executor
from core.kernel.types import Outbound
from core.reminders import weekly
from core.reminders.dispatch import Plan
from core.reminders.store import ClaimedRow, Owner
from core.roadmaps.catalog import Catalog

__all__ = ["KIND", "build", "inputs", "plan"]


def plan(row: ClaimedRow, owner: Owner | None, now: datetime) -> Plan:
    """Send this week's review now, hold it back (back-off), or move the row to its time
    (:func:`core.reminders.weekly.plan`: the rules a band's digest shares)."""
    return weekly.plan(row, owner, now, KIND)


async def inputs(
    ex: Executor,
    sending: list[tuple[ClaimedRow, Owner | None]],
    catalog: Catalog,
    now: datetime,
) -> dict[uuid.UUID, Inputs]:
    """What the batch's reviews are made of, by profile (no statement without a review)."""
    zones: dict[uuid.UUID, tzinfo] = {
        owner.profile_id: zone(row.timezone)
        for row, owner in sending
        if owner is not None and owner.profile_id is not None
    }
    return await read.for_profiles(ex, zones, catalog, now)


def build(owner: Owner | None, found: Mapping[uuid.UUID, Inputs]) -> Outbound | None:
    """The review message for a row :func:`plan` decided to send."""
    if owner is None or owner.profile_id is None or owner.profile_id not in found:
        return None
    return render(compose(found[owner.profile_id]))
