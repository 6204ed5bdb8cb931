"""The ``digest`` reminder kind (issue #14 §2): the tick's side of a band's weekly digest.

One row per band (:mod:`core.coaching.digest.settings`: made when a manager sets the band's
updates channel, switched with ``/band digest``), owned by the band like the band's reminder
and sent to its updates channel. When the tick claims it:

* :func:`plan` (pure, in the claim) — the weekly rules the personal review has
  (:func:`core.reminders.weekly.plan`): the slot plus the band profile's stable spread, quiet
  hours, GRACE and MIN_GAP, the back-off for a band silent for weeks, and the delivery key
  ``<reminder>:<ISO week>:digest`` — one digest a band and week, however many workers claim it;
* :func:`inputs` — the batch's digests' rows (the review's four reads on the bands' profiles,
  plus members, assignments and who recorded numbers), only when there are some;
* :func:`build` — the card: the full digest, or the short one for a quiet week, marked
  ``NoticeKind.DIGEST`` so a front end paces it as a nudge.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, tzinfo

from core.clock import zone
from core.coaching.digest import read
from core.coaching.digest.compose import BandInputs, compose, render
from core.coaching.digest.settings import KIND
from core.db.executor import Executor
from core.kernel.types import NoticeKind, Outbound
from core.reminders import weekly
from core.reminders.dispatch import Plan
from core.reminders.store import ClaimedRow, Owner
from core.roadmaps.catalog import Catalog

__all__ = ["KIND", "build", "inputs", "plan"]


def plan(row: ClaimedRow, owner: Owner | None, now: datetime) -> Plan:
    """Send this week's digest now, hold it back (back-off), or move the row to its time."""
    return weekly.plan(row, owner, now, KIND)


async def inputs(
    ex: Executor,
    sending: list[tuple[ClaimedRow, Owner | None]],
    catalog: Catalog,
    now: datetime,
) -> dict[uuid.UUID, BandInputs]:
    """What the batch's digests are made of, by band profile (no statement without one)."""
    wanted: dict[uuid.UUID, tuple[read.Band, tzinfo]] = {}
    for row, owner in sending:
        if owner is None or owner.profile_id is None or row.band_id is None:
            continue
        name = owner.artist_name or "The band"
        band = read.Band(row.band_id, name, owner.profile_id, row.platform)
        wanted[owner.profile_id] = (band, zone(row.timezone))
    return await read.for_bands(ex, wanted, catalog, now)


def build(owner: Owner | None, found: Mapping[uuid.UUID, BandInputs]) -> Outbound | None:
    """The digest card for a row :func:`plan` decided to send."""
    if owner is None or owner.profile_id is None or owner.profile_id not in found:
        return None
    card = render(compose(found[owner.profile_id]))
    return card.model_copy(update={"notice": NoticeKind.DIGEST})
