"""The milestone consumer's statements: claim profiles' queues, read them, record, release.

**In order per profile, one worker per profile.** The claim leases a profile's *head* — its
oldest unprocessed event, ``(created_at, id)`` order — and nothing else (:data:`HEADS`). An
event is claimable only while it is the first unprocessed event of its profile (no older one
exists), so a profile has at most one claimable row at any time; ``FOR UPDATE SKIP LOCKED`` on
that one row decides between two workers, and the lease (``claimed_until``) keeps the others off
it after the claim commits. The worker holding the head then reads the profile's whole queue
(:data:`QUEUE`) and marks what it handled processed in one transaction; only then does a younger
event become a head that anyone may claim. Why not lease every event of a profile: another
worker's claim, running at the same moment, could skip the locked older rows and lease a younger
one, and handle a profile's events out of order. With the head as the profile's lock there is
nothing younger to take.

Proof sketch (PostgreSQL, READ COMMITTED): worker B can claim an event *e* of profile *p* only
if B's snapshot shows no unprocessed event of *p* older than *e*. While A holds *p*'s head *h*
(leased, unprocessed), every younger event of *p* fails that test in every snapshot, and *h*
itself is locked (skipped) during A's claim and leased after it (B's re-check of the row after
A's commit sees ``claimed_until`` in the future). A's final transaction marks *h* and the
events it read processed atomically, so no snapshot shows a later one as head while an earlier
one A read is still open. An event committed late with an older ``created_at`` than ones A
handled (two processes writing for one profile at the same instant) is taken on the next
batch: "in order" is the order of the queue as each batch read it. If A outlives its lease, B
may take the profile while A is still busy; then the milestone's unique key, not the lease,
keeps the celebration single (A's or B's insert wins, the other finds it taken).

On SQLite the process's write lock makes every claim exclusive anyway; the same statements run.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    Insert,
    bindparam,
    exists,
    literal_column,
    null,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.db.executor import Executor
from core.db.tables import (
    bands,
    deliveries,
    events,
    identities,
    milestones,
    profiles,
    users,
)
from core.jobs.claim import Claim, claim

#: The ``deliveries.kind`` of a celebration (and of a band channel's announcement).
KIND: Final = "milestone"

_first = events.alias("first")

#: The id of a profile's head, asked per candidate row: a correlated ``LIMIT 1`` that reads the
#: first entry of ``ix_events_unprocessed`` for the row's profile. Written as a scalar subquery
#: and not as ``NOT EXISTS (older …)``: PostgreSQL turned that into a hash anti join over every
#: unprocessed event, which a backlog makes as slow as the backlog is long; this plan walks the
#: backlog in order and stops after ``limit`` heads (tests/integration/test_milestones.py reads
#: the plan).
_HEAD_OF_PROFILE = (
    select(_first.c.id)
    .where(_first.c.profile_id == events.c.profile_id, _first.c.processed_at.is_(None))
    .order_by(_first.c.created_at, _first.c.id)
    .limit(literal_column("1"))
    .scalar_subquery()
)

#: A profile's head: its oldest unprocessed event, under no live lease.
HEADS: Final = Claim(
    events,
    claimable=(
        events.c.processed_at.is_(None),
        events.c.profile_id.is_not(None),
        or_(events.c.claimed_until.is_(None), events.c.claimed_until <= bindparam("now")),
        events.c.id == _HEAD_OF_PROFILE,
    ),
    # created_at alone: the (processed_at, created_at) index gives the unprocessed rows in this
    # order, so a claim walks from the oldest and stops after ``limit`` heads instead of
    # sorting the whole backlog (which profile goes first does not matter)
    order_by=(events.c.created_at,),
    lease={"claimed_until": bindparam("until")},
    returning=(events.c.id, events.c.profile_id),
)

#: The queues of the claimed profiles, each in order (the partial index ix_events_unprocessed).
QUEUE: Final = (
    select(
        events.c.id,
        events.c.profile_id,
        events.c.user_id,
        events.c.type,
        events.c.payload,
        events.c.created_at,
    )
    .where(
        events.c.profile_id.in_(bindparam("pids", expanding=True)),
        events.c.processed_at.is_(None),
    )
    .order_by(events.c.profile_id, events.c.created_at, events.c.id)
)

#: Done: processed, and the head's lease released.
PROCESSED: Final = (
    update(events)
    .where(events.c.id.in_(bindparam("ids", expanding=True)), events.c.processed_at.is_(None))
    .values(processed_at=bindparam("now"), claimed_until=null())
)

#: Events with no profile (written before one existed) reach no milestone: marked processed
#: in bounded batches, so housekeeping may prune them.
_ORPHANS = (
    select(events.c.id)
    .where(events.c.profile_id.is_(None), events.c.processed_at.is_(None))
    .limit(bindparam("limit"))
)
ORPHANS: Final = (
    update(events)
    .where(events.c.id.in_(_ORPHANS.scalar_subquery()))
    .values(processed_at=bindparam("now"))
)

#: Who a profile belongs to: its user (unreachable?) or its band (its channel, the switch).
OWNERS: Final = (
    select(
        profiles.c.id,
        profiles.c.user_id,
        users.c.unreachable,
        bands.c.id,
        bands.c.name,
        bands.c.platform,
        bands.c.channel_id,
        bands.c.announce_milestones,
        users.c.locale,
        bands.c.unreachable,
    )
    .select_from(profiles)
    .outerjoin(users, users.c.id == profiles.c.user_id)
    .outerjoin(bands, bands.c.id == profiles.c.band_id)
    .where(profiles.c.id.in_(bindparam("pids", expanding=True)))
)

#: Where a person can be written to: their identities, oldest first.
INBOXES: Final = (
    select(
        identities.c.user_id, identities.c.platform, identities.c.external_id, users.c.unreachable
    )
    .join(users, users.c.id == identities.c.user_id)
    .where(identities.c.user_id.in_(bindparam("uids", expanding=True)))
    .order_by(identities.c.user_id, identities.c.created_at, identities.c.platform)
)


def _insert_milestone(insert_: Any) -> Insert:
    stmt: Insert = (
        insert_(milestones)
        .on_conflict_do_nothing(index_elements=[milestones.c.profile_id, milestones.c.key])
        .returning(milestones.c.key)
    )
    return stmt


def _reserve(insert_: Any) -> Insert:
    stmt: Insert = (
        insert_(deliveries)
        .on_conflict_do_nothing(index_elements=[deliveries.c.idempotency_key])
        .returning(deliveries.c.idempotency_key)
    )
    return stmt


_INSERT_MILESTONE = {
    "postgresql": _insert_milestone(pg_insert),
    "sqlite": _insert_milestone(sqlite_insert),
}
_RESERVE = {"postgresql": _reserve(pg_insert), "sqlite": _reserve(sqlite_insert)}

#: A reserved celebration's outcome.
_DELIVERED: Final = (
    update(deliveries)
    .where(deliveries.c.idempotency_key == bindparam("k"))
    .values(
        status=bindparam("status"),
        last_error=bindparam("error"),
        sent_at=bindparam("sent_at"),
    )
)
#: How the musician heard of it, and whether the band channel did.
_CELEBRATED: Final = (
    update(milestones)
    .where(milestones.c.profile_id == bindparam("pid"), milestones.c.key == bindparam("mkey"))
    .values(celebrated=bindparam("how"))
)
_ANNOUNCED: Final = (
    update(milestones)
    .where(milestones.c.profile_id == bindparam("pid"), milestones.c.key == bindparam("mkey"))
    .values(announced=literal_column("true"))
)

#: Profiles whose release anchor falls within ``[first, last]`` (ISO strings compare as dates)
#: and the owner's time zone. A scan of profiles: run at most hourly (:mod:`.consumer`).
_RELEASE = {
    "postgresql": text(
        "SELECT p.id, p.anchors->>'release', coalesce(u.timezone, 'UTC') FROM profiles p "
        "LEFT JOIN users u ON u.id = p.user_id "
        "WHERE p.anchors->>'release' BETWEEN :first AND :last"
    ),
    "sqlite": text(
        "SELECT p.id, json_extract(p.anchors, '$.release'), coalesce(u.timezone, 'UTC') "
        "FROM profiles p LEFT JOIN users u ON u.id = p.user_id "
        "WHERE json_extract(p.anchors, '$.release') BETWEEN :first AND :last"
    ),
}
#: Whether a release day was already recorded or is queued for the profile.
_RELEASE_KNOWN = select(
    exists().where(
        milestones.c.profile_id == bindparam("pid"), milestones.c.key == bindparam("mkey")
    )
    | exists().where(
        events.c.profile_id == bindparam("pid"),
        events.c.type == literal_column("'release.day'"),
        events.c.processed_at.is_(None),
    )
)
_NEW_EVENT = events.insert()


def delivery_key(profile_id: uuid.UUID, key: str, *, band: bool = False) -> str:
    """The idempotency key of a celebration (``band``: of its band channel announcement)."""
    return f"{KIND}:{profile_id.hex}:{'band:' if band else ''}{key}"[:128]


@dataclass(frozen=True, slots=True)
class QueuedEvent:
    """One event of a claimed profile's queue."""

    id: uuid.UUID
    profile_id: uuid.UUID
    user_id: uuid.UUID | None
    type: str
    payload: dict[str, str]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Owner:
    """Who a profile belongs to."""

    profile_id: uuid.UUID
    user_id: uuid.UUID | None
    unreachable: bool
    band_id: uuid.UUID | None
    band_name: str | None
    band_platform: str | None
    band_channel: str | None
    announce: bool
    #: The musician's locale (their figures' way); ``None`` for a band or when unknown.
    locale: str | None = None
    #: The band's chat is out of reach (core/bands/presence.py): nothing is posted there.
    band_unreachable: bool = False


@dataclass(frozen=True, slots=True)
class Inbox:
    """Where one person can be written to."""

    platform: str
    chat_id: str


async def claim_heads(ex: Executor, *, now: datetime, lease: Any, limit: int) -> list[uuid.UUID]:
    """Lease up to ``limit`` profiles' heads; the profiles now ours (see the module's proof)."""
    rows = await claim(ex, HEADS, now=now, lease=lease, limit=limit)
    return sorted({row[1] for row in rows})


async def queues(ex: Executor, profile_ids: Sequence[uuid.UUID]) -> list[QueuedEvent]:
    """The claimed profiles' unprocessed events, per profile in order."""
    if not profile_ids:
        return []
    rows = await ex.rows(QUEUE, {"pids": list(profile_ids)})
    return [
        QueuedEvent(r[0], r[1], r[2], r[3], {str(k): str(v) for k, v in (r[4] or {}).items()}, r[5])
        for r in rows
    ]


async def owners(ex: Executor, profile_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Owner]:
    """Each profile's owner."""
    if not profile_ids:
        return {}
    rows = await ex.rows(OWNERS, {"pids": list(profile_ids)})
    return {
        r[0]: Owner(r[0], r[1], bool(r[2]), r[3], r[4], r[5], r[6], bool(r[7]), r[8], bool(r[9]))
        for r in rows
    }


async def inboxes(
    ex: Executor, user_ids: Sequence[uuid.UUID], platforms: Sequence[str]
) -> dict[uuid.UUID, Inbox]:
    """Each reachable person's oldest identity on one of ``platforms`` (none: not here)."""
    if not user_ids:
        return {}
    found: dict[uuid.UUID, Inbox] = {}
    for user_id, platform, external_id, unreachable in await ex.rows(
        INBOXES, {"uids": list(user_ids)}
    ):
        if platform in platforms and not unreachable and user_id not in found:
            found[user_id] = Inbox(platform, external_id)
    return found


async def record_milestone(
    ex: Executor,
    *,
    profile_id: uuid.UUID,
    key: str,
    event_id: uuid.UUID,
    now: datetime,
    celebrated: str,
) -> bool:
    """Insert the milestone unless reached before; True only for the insert that wrote it."""
    row = {
        "id": uuid.uuid4(),
        "profile_id": profile_id,
        "key": key,
        "reached_at": now,
        "event_id": event_id,
        "celebrated": celebrated,
        "announced": False,
    }
    return bool(await ex.rows(_INSERT_MILESTONE[ex.dialect], row))


async def reserve(
    ex: Executor,
    *,
    key: str,
    user_id: uuid.UUID | None,
    platform: str,
    chat_id: str,
    now: datetime,
) -> bool:
    """Write the celebration's delivery row (``sending``) unless its key exists; True for the
    one writer, who then sends it. Committed *before* the send: a crash after this never sends
    it again (at most once)."""
    row = {
        "id": uuid.uuid4(),
        "idempotency_key": key,
        "reminder_id": None,
        "broadcast_id": None,
        "user_id": user_id,
        "kind": KIND,
        "platform": platform,
        "target_chat": chat_id[:64],
        "status": "sending",
        "attempts": 1,
        "last_error": None,
        "due_at": now,
        "sent_at": None,
        "created_at": now,
    }
    return bool(await ex.rows(_RESERVE[ex.dialect], row))


async def mark_processed(ex: Executor, event_ids: Sequence[uuid.UUID], now: datetime) -> None:
    """The handled events processed, the heads' leases released."""
    if event_ids:
        await ex.run(PROCESSED, {"ids": list(event_ids), "now": now})


async def mark_orphans(ex: Executor, now: datetime, limit: int) -> None:
    """Up to ``limit`` events without a profile marked processed."""
    await ex.run(ORPHANS, {"now": now, "limit": limit})


async def delivered(
    ex: Executor, key: str, status: str, error: str | None, sent_at: datetime | None
) -> None:
    """Record a reserved celebration's outcome."""
    await ex.run(_DELIVERED, {"k": key, "status": status, "error": error, "sent_at": sent_at})


async def celebrated(ex: Executor, profile_id: uuid.UUID, key: str, how: str) -> None:
    """How the musician heard of the milestone."""
    await ex.run(_CELEBRATED, {"pid": profile_id, "mkey": key, "how": how})


async def announced(ex: Executor, profile_id: uuid.UUID, key: str) -> None:
    """The band channel heard of the milestone."""
    await ex.run(_ANNOUNCED, {"pid": profile_id, "mkey": key})


async def releases_between(ex: Executor, first: str, last: str) -> list[tuple[uuid.UUID, str, str]]:
    """(profile, release date, time zone) for release anchors within ``[first, last]``."""
    rows = await ex.rows(_RELEASE[ex.dialect], {"first": first, "last": last})
    return [
        (r[0] if isinstance(r[0], uuid.UUID) else uuid.UUID(str(r[0])), str(r[1]), str(r[2]))
        for r in rows
    ]


async def queue_release_day(ex: Executor, profile_id: uuid.UUID, day: str, now: datetime) -> bool:
    """Write a ``release.day`` event for the profile unless its milestone is recorded or one is
    queued already; True when written."""
    known = await ex.rows(_RELEASE_KNOWN, {"pid": profile_id, "mkey": f"release-day:{day}"})
    if known and known[0][0]:
        return False
    await ex.run(
        _NEW_EVENT,
        {
            "id": uuid.uuid4(),
            "type": "release.day",
            "profile_id": profile_id,
            "user_id": None,
            "payload": {"date": day},
            "created_at": now,
            "processed_at": None,
            "claimed_until": None,
        },
    )
    return True


__all__ = [
    "HEADS",
    "KIND",
    "Inbox",
    "Owner",
    "QueuedEvent",
    "claim_heads",
    "delivery_key",
]
