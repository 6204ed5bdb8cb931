"""The reads behind a band digest: one band's (``/band digest``) or a tick batch's, same shape.

The band's profile is read exactly as the personal review reads a musician's
(:mod:`core.coaching.review.read`: profiles, progress with ``completed_by``, samples, the
streak's history — the band's weeks counted in UTC like ``/streak``'s). A band adds three
statements for all of a batch's bands together: the members (with their id on the band's
platform, for mentions), the assignments, and who recorded the band's numbers lately
(``profile_id = ANY(…)`` / ``band_id = ANY(…)`` on PostgreSQL, an expanding ``IN`` on SQLite).
None of them runs for a batch without a digest.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Final

from sqlalchemy import bindparam, select

from core.coaching.digest.compose import BandInputs, Person
from core.coaching.review import read as review_read
from core.coaching.review.read import many, pick
from core.db.executor import Executor
from core.db.tables import band_assignments, band_members, bands, identities, samples, users
from core.journey.streak import streak_of
from core.kernel.turn import Turn
from core.roadmaps.catalog import Catalog

#: Who recorded a number is read this far back: the reviewed week starts at most 8 days ago
#: (a Monday's digest of the week before, in the furthest timezone), with a day to spare.
RECORDED_WINDOW: Final = timedelta(days=9)


@dataclass(frozen=True, slots=True)
class Band:
    """A band whose digest is composed: its id, name, profile and platform (for mentions)."""

    id: uuid.UUID
    name: str
    profile_id: uuid.UUID
    platform: str


_MEMBERS = many(
    select(
        band_members.c.band_id,
        band_members.c.user_id,
        users.c.display_name,
        identities.c.external_id,
    )
    .select_from(band_members)
    .join(users, users.c.id == band_members.c.user_id)
    .join(bands, bands.c.id == band_members.c.band_id)
    .outerjoin(
        identities,
        (identities.c.user_id == band_members.c.user_id)
        & (identities.c.platform == bands.c.platform),
    )
    .order_by(band_members.c.joined_at, band_members.c.user_id),
    band_members.c.band_id,
    "bids",
)
_ASSIGNED = many(
    select(band_assignments.c.band_id, band_assignments.c.task_id, band_assignments.c.user_id),
    band_assignments.c.band_id,
    "bids",
)
_RECORDED = many(
    select(samples.c.profile_id, samples.c.recorded_by, samples.c.recorded_at).where(
        samples.c.recorded_at >= bindparam("since"), samples.c.recorded_at <= bindparam("now")
    ),
    samples.c.profile_id,
    "pids",
)


@dataclass(slots=True)
class _Extras:
    members: dict[uuid.UUID, list[Person]]
    assigned: dict[uuid.UUID, dict[uuid.UUID, uuid.UUID]]
    recorded: dict[uuid.UUID, list[tuple[uuid.UUID | None, datetime]]]


async def _extras(ex: Executor, band_list: list[Band], now: datetime) -> _Extras:
    """Members, assignments and recent recorders of these bands (three statements)."""
    bids = sorted({b.id for b in band_list})
    pids = sorted({b.profile_id for b in band_list})
    members: dict[uuid.UUID, list[Person]] = {bid: [] for bid in bids}
    seen: set[tuple[uuid.UUID, uuid.UUID]] = set()
    for bid, user_id, name, external in await ex.rows(pick(ex, _MEMBERS), {"bids": bids}):
        if (bid, user_id) in seen:  # two identities on one platform: the first one
            continue
        seen.add((bid, user_id))
        fallback = f"member {len(members[bid]) + 1}"
        members[bid].append(Person(user_id, name or fallback, external))
    assigned: dict[uuid.UUID, dict[uuid.UUID, uuid.UUID]] = {bid: {} for bid in bids}
    for bid, task_id, user_id in await ex.rows(pick(ex, _ASSIGNED), {"bids": bids}):
        assigned[bid][task_id] = user_id
    recorded: dict[uuid.UUID, list[tuple[uuid.UUID | None, datetime]]] = {p: [] for p in pids}
    window = {"pids": pids, "since": now - RECORDED_WINDOW, "now": now}
    for pid, who, at in await ex.rows(pick(ex, _RECORDED), window):
        recorded[pid].append((who, at))
    return _Extras(members, assigned, recorded)


async def for_bands(
    ex: Executor,
    wanted: Mapping[uuid.UUID, tuple[Band, tzinfo]],
    catalog: Catalog,
    now: datetime,
) -> dict[uuid.UUID, BandInputs]:
    """What the tick composes from, by band profile (profile → its band and timezone)."""
    if not wanted:
        return {}
    zones = {pid: tz for pid, (_band, tz) in wanted.items()}
    found = await review_read.for_profiles(ex, zones, catalog, now, bands=True)
    extras = await _extras(ex, [band for band, _tz in wanted.values()], now)
    out: dict[uuid.UUID, BandInputs] = {}
    for pid, inputs in found.items():
        band = wanted[pid][0]
        out[pid] = BandInputs(
            name=band.name,
            review=inputs,
            members=extras.members[band.id],
            assigned=extras.assigned[band.id],
            recorded=extras.recorded[pid],
        )
    return out


async def for_turn(turn: Turn, band: Band, tz: tzinfo) -> BandInputs:
    """What ``/band digest`` composes from, in the band's turn (its profile already locked)."""
    inputs = await review_read.for_turn(turn, tz, streak=await streak_of(turn))
    extras = await _extras(turn.ex, [band], turn.now)
    return BandInputs(
        name=band.name,
        review=inputs,
        members=extras.members[band.id],
        assigned=extras.assigned[band.id],
        recorded=extras.recorded[band.profile_id],
    )
