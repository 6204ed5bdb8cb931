"""Every SQL statement of the band path, on SQLAlchemy Core, built once at import.

Kept apart from :mod:`core.kernel.store` (the solo hot path) so each can change without
the other: the band path adds a lookup of the band by its server and a membership check before
it locks the *band's* profile and conversation state — with the same
``FOR UPDATE OF profiles, conversation_state`` as the solo path, so two members ticking the
same checklist at once run one after the other and never lose a tick.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import bindparam, delete, func, insert, select, update

from core.accounts.store import create_profile
from core.db.executor import Executor
from core.db.tables import (
    band_assignments as assignments,
)
from core.db.tables import (
    band_members as members,
)
from core.db.tables import (
    bands,
    cycle_tasks,
    goals,
    identities,
    milestones,
    profiles,
    progress,
    samples,
    states,
    stats_charts,
    users,
)
from core.kernel.store import TURN_COLUMNS, TurnRecord


@dataclass(frozen=True, slots=True)
class BandRow:
    """A band as the band path needs it."""

    id: uuid.UUID
    name: str
    role_id: str | None
    channel_id: str | None
    profile_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Actor:
    """The person acting in a server: their user row (never locked on the band path)."""

    user_id: uuid.UUID
    timezone: str
    last_active_at: datetime | None
    display_name: str | None


@dataclass(frozen=True, slots=True)
class Member:
    """One band member, for lists and credits."""

    user_id: uuid.UUID
    role: str
    display_name: str | None
    external_id: str | None


# ---------------------------------------------------------------------------------- statements

_ACTOR = (
    select(users.c.id, users.c.timezone, users.c.last_active_at, users.c.display_name)
    .select_from(identities)
    .join(users, users.c.id == identities.c.user_id)
    .where(
        identities.c.platform == bindparam("platform"),
        identities.c.external_id == bindparam("external_id"),
    )
)
_BAND_BY_SERVER = (
    select(bands.c.id, bands.c.name, bands.c.role_id, bands.c.channel_id, profiles.c.id)
    .join(profiles, profiles.c.band_id == bands.c.id)
    .where(bands.c.platform == bindparam("platform"), bands.c.external_id == bindparam("server"))
)
_MEMBER_ROLE = select(members.c.role).where(
    members.c.band_id == bindparam("band_id"), members.c.user_id == bindparam("user_id")
)
_MEMBERS = (
    select(members.c.user_id, members.c.role, users.c.display_name, identities.c.external_id)
    .join(users, users.c.id == members.c.user_id)
    .outerjoin(
        identities,
        (identities.c.user_id == members.c.user_id)
        & (identities.c.platform == bindparam("platform")),
    )
    .where(members.c.band_id == bindparam("band_id"))
    .order_by(members.c.joined_at, members.c.user_id)
)
# The acting user's columns with the BAND's profile and state; only the band's rows are locked
# (the user row is not: two members must not wait for each other's user rows, and the user
# columns read here are only the timezone and the activity stamp).
_BAND_TURN = (
    select(*TURN_COLUMNS)
    .select_from(profiles)
    .join(states, states.c.profile_id == profiles.c.id)
    .join(users, users.c.id == bindparam("user_id"))
    .where(profiles.c.band_id == bindparam("band_id"))
    .with_for_update(of=[profiles, states])
)
_PROFILE_ROADMAP = select(profiles.c.roadmap_id).where(profiles.c.id == bindparam("profile_id"))
_USER_BY_EXTERNAL = select(identities.c.user_id).where(
    identities.c.platform == bindparam("platform"),
    identities.c.external_id == bindparam("external_id"),
)
_INSERT_BAND = insert(bands)
_INSERT_MEMBER = insert(members)
_UPDATE_BAND = update(bands).where(bands.c.id == bindparam("bid"))
_DELETE_MEMBER = delete(members).where(
    members.c.band_id == bindparam("band_id"), members.c.user_id == bindparam("user_id")
)
_DELETE_PROGRESS = delete(progress).where(progress.c.profile_id == bindparam("profile_id"))
_DELETE_SAMPLES = delete(samples).where(samples.c.profile_id == bindparam("profile_id"))
_DELETE_CYCLES = delete(cycle_tasks).where(cycle_tasks.c.profile_id == bindparam("profile_id"))
_DELETE_GOALS = delete(goals).where(goals.c.profile_id == bindparam("profile_id"))
_DELETE_CHART = delete(stats_charts).where(stats_charts.c.profile_id == bindparam("profile_id"))
_DELETE_MILESTONES = delete(milestones).where(milestones.c.profile_id == bindparam("profile_id"))
_SAMPLES_BY = (
    select(samples.c.recorded_by, func.count())
    .where(samples.c.profile_id == bindparam("profile_id"))
    .group_by(samples.c.recorded_by)
)
_DELETE_ASSIGNMENT = delete(assignments).where(
    assignments.c.band_id == bindparam("band_id"), assignments.c.task_id == bindparam("task_id")
)
_INSERT_ASSIGNMENT = insert(assignments)
_ASSIGNMENTS = select(assignments.c.task_id, assignments.c.user_id).where(
    assignments.c.band_id == bindparam("band_id")
)
_DELETE_ASSIGNMENTS = delete(assignments).where(assignments.c.band_id == bindparam("band_id"))


# ---------------------------------------------------------------------------------- reads


async def actor(ex: Executor, platform: str, external_id: str) -> Actor | None:
    """The user behind a platform identity, if we know them."""
    rows = await ex.rows(_ACTOR, {"platform": platform, "external_id": external_id})
    return Actor(*rows[0]) if rows else None


async def band_for_server(ex: Executor, platform: str, server_id: str) -> BandRow | None:
    """The band bound to a server (a Discord guild), if any."""
    rows = await ex.rows(_BAND_BY_SERVER, {"platform": platform, "server": server_id})
    return BandRow(*rows[0]) if rows else None


async def member_role(ex: Executor, band_id: uuid.UUID, user_id: uuid.UUID) -> str | None:
    """``manager`` / ``member`` when the user has a membership row, else ``None``."""
    rows = await ex.rows(_MEMBER_ROLE, {"band_id": band_id, "user_id": user_id})
    return str(rows[0][0]) if rows else None


async def band_members(ex: Executor, band_id: uuid.UUID, platform: str) -> list[Member]:
    """Every member, in joining order, with their id on ``platform`` (for mentions)."""
    rows = await ex.rows(_MEMBERS, {"band_id": band_id, "platform": platform})
    seen: dict[uuid.UUID, Member] = {}
    for user_id, role, name, external in rows:
        seen.setdefault(user_id, Member(user_id, role, name, external))
    return list(seen.values())


async def roadmap_of(ex: Executor, band: BandRow) -> uuid.UUID | None:
    """The roadmap the band's profile follows, if it picked one (read, never locked)."""
    rows = await ex.rows(_PROFILE_ROADMAP, {"profile_id": band.profile_id})
    return cast(uuid.UUID | None, rows[0][0]) if rows else None


async def user_by_external(ex: Executor, platform: str, external_id: str) -> uuid.UUID | None:
    """The user id behind a platform identity."""
    rows = await ex.rows(_USER_BY_EXTERNAL, {"platform": platform, "external_id": external_id})
    return cast(uuid.UUID, rows[0][0]) if rows else None


async def lock_band_turn(ex: Executor, band_id: uuid.UUID, user_id: uuid.UUID) -> TurnRecord:
    """Lock the band's profile and conversation state; the record carries the acting user.

    Because ``TurnRecord.user_id`` is the *acting* user, everything the flows record as "who"
    (``completed_by``, ``recorded_by``, outbox events, tick credits) names the member who acted,
    while every "what" (progress, stats, state) belongs to the band's profile.
    """
    rows = await ex.rows(_BAND_TURN, {"band_id": band_id, "user_id": user_id})
    return TurnRecord(*rows[0])


async def samples_by_member(ex: Executor, profile_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """How many numbers each member recorded for the band."""
    rows = await ex.rows(_SAMPLES_BY, {"profile_id": profile_id})
    return {user: int(n) for user, n in rows if user is not None}


async def assignments_of(ex: Executor, band_id: uuid.UUID) -> dict[uuid.UUID, uuid.UUID]:
    """Task id -> the member it is assigned to."""
    rows = await ex.rows(_ASSIGNMENTS, {"band_id": band_id})
    return {task: user for task, user in rows}


# ---------------------------------------------------------------------------------- writes


async def assign(
    ex: Executor,
    band_id: uuid.UUID,
    *,
    task_id: uuid.UUID,
    user_id: uuid.UUID,
    by: uuid.UUID,
    now: datetime,
) -> None:
    """Make ``user_id`` the one assignee of a task (replacing any earlier one)."""
    await ex.run(_DELETE_ASSIGNMENT, {"band_id": band_id, "task_id": task_id})
    await ex.run(
        _INSERT_ASSIGNMENT,
        {
            "band_id": band_id,
            "task_id": task_id,
            "user_id": user_id,
            "assigned_by": by,
            "assigned_at": now,
        },
    )


async def create_band(
    ex: Executor,
    *,
    platform: str,
    server_id: str,
    name: str,
    role_id: str | None,
    creator: uuid.UUID,
    now: datetime,
) -> uuid.UUID:
    """A band bound to a server, its profile (named like the band), its state, and its first
    member — the creator, as ``manager``."""
    band_id, profile_id = uuid.uuid4(), uuid.uuid4()
    await ex.run(
        _INSERT_BAND,
        {
            "id": band_id,
            "name": name,
            "platform": platform,
            "external_id": server_id,
            "role_id": role_id,
            "channel_id": None,
            "announce_milestones": False,
            "unreachable": False,
            "created_at": now,
        },
    )
    await create_profile(ex, profile_id, band_id=band_id, artist_name=name, now=now)
    await add_member(ex, band_id, creator, "manager", now)
    return band_id


async def add_member(
    ex: Executor, band_id: uuid.UUID, user_id: uuid.UUID, role: str, now: datetime
) -> None:
    """Add a membership row (the caller checked there is none)."""
    await ex.run(
        _INSERT_MEMBER, {"band_id": band_id, "user_id": user_id, "role": role, "joined_at": now}
    )


async def remove_member(ex: Executor, band_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """Drop a membership row (their past credits stay: they name the user, not the row)."""
    await ex.run(_DELETE_MEMBER, {"band_id": band_id, "user_id": user_id})


async def update_band(ex: Executor, band_id: uuid.UUID, **values: Any) -> None:
    """Write changed band columns (name, role_id, channel_id)."""
    await ex.run(_UPDATE_BAND, {"bid": band_id, **values})


async def wipe_progress(ex: Executor, profile_id: uuid.UUID) -> None:
    """Delete every progress row, stats sample and goal of a profile, the chart drawn from
    them and the milestones they reached (a confirmed band reset: the band starts over)."""
    await ex.run(_DELETE_PROGRESS, {"profile_id": profile_id})
    await ex.run(_DELETE_CYCLES, {"profile_id": profile_id})  # the band starts at release 1
    await ex.run(_DELETE_SAMPLES, {"profile_id": profile_id})
    await ex.run(_DELETE_GOALS, {"profile_id": profile_id})  # measured from those numbers
    await ex.run(_DELETE_CHART, {"profile_id": profile_id})  # a picture of those numbers
    await ex.run(_DELETE_MILESTONES, {"profile_id": profile_id})  # reached again, told again


async def clear_assignments(ex: Executor, band_id: uuid.UUID) -> None:
    """Drop every assignment of a band (part of a reset)."""
    await ex.run(_DELETE_ASSIGNMENTS, {"band_id": band_id})


def names(members_: Sequence[Member]) -> dict[uuid.UUID, str]:
    """Display names by user id, with a fallback for members without one."""
    return {m.user_id: m.display_name or f"member {i + 1}" for i, m in enumerate(members_)}
