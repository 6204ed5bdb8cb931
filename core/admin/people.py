"""Finding a musician by what an admin types, granting and revoking roles, and resetting.

An admin names someone as ``platform:id`` (``telegram:123``), by their user id (a UUID), or by
artist or display name (exact, case-insensitive). Only the first two are *handles*: the
platform guarantees an id to one account, while anybody can give themselves any name — an
impostor renames themselves after the musician an admin means. So a lookup says whether it was
exact (:attr:`Lookup.exact`); the desk acts on an exact one and shows a name's match (or
matches) account by account, acting only when the admin confirms the one they mean.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.admin.access import ADMIN_ROLE, label
from core.db.tables import (
    cycle_tasks,
    goals,
    identities,
    profiles,
    progress,
    roadmaps,
    samples,
    stages,
    states,
    stats_charts,
    tasks,
    users,
)
from core.kernel.names import clean_name

#: Most candidates listed when a name is ambiguous.
MAX_CANDIDATES: Final = 5


@dataclass(frozen=True, slots=True)
class Account:
    """One platform account of a musician, as an admin needs to tell it from a look-alike."""

    platform: str
    external_id: str
    username: str | None
    first_seen: datetime

    @property
    def handle(self) -> str:
        """``platform:id``."""
        return label(self.platform, self.external_id)


@dataclass(frozen=True, slots=True)
class Person:
    """A musician as an admin sees them."""

    user_id: uuid.UUID
    display_name: str | None
    artist_name: str | None
    identities: tuple[str, ...]
    roles: tuple[str, ...]
    broadcasts_opt_out: bool
    unreachable: bool
    created_at: datetime
    last_active_at: datetime | None
    accounts: tuple[Account, ...] = ()

    @property
    def name(self) -> str:
        """The best name we have."""
        return self.artist_name or self.display_name or self.handle

    @property
    def handle(self) -> str:
        """Their first ``platform:id`` (how the audit log names them)."""
        return self.identities[0] if self.identities else str(self.user_id)


@dataclass(frozen=True, slots=True)
class Lookup:
    """The result of resolving what an admin typed: one person, or candidates, or nobody.

    ``exact`` is True when it was a handle (``platform:id`` or user id), which names one account
    for certain; a name only says who *calls themselves* that. ``more`` is True when a name fit
    more people than ``candidates`` lists.
    """

    person: Person | None
    candidates: tuple[Person, ...] = ()
    exact: bool = False
    more: bool = False


async def _person(session: AsyncSession, user_id: uuid.UUID) -> Person | None:
    row = (
        await session.execute(
            select(users, profiles.c.artist_name)
            .outerjoin(profiles, profiles.c.user_id == users.c.id)
            .where(users.c.id == user_id)
        )
    ).first()
    if row is None:
        return None
    handles = (
        await session.execute(
            select(
                identities.c.platform,
                identities.c.external_id,
                identities.c.username,
                identities.c.created_at,
            )
            .where(identities.c.user_id == user_id)
            .order_by(identities.c.created_at, identities.c.platform)
        )
    ).all()
    return Person(
        user_id=row.id,
        display_name=row.display_name,
        artist_name=row.artist_name,
        identities=tuple(label(h.platform, h.external_id) for h in handles),
        roles=tuple(str(r) for r in (row.roles or [])),
        broadcasts_opt_out=bool(row.broadcasts_opt_out),
        unreachable=bool(row.unreachable),
        created_at=row.created_at,
        last_active_at=row.last_active_at,
        accounts=tuple(
            Account(h.platform, h.external_id, h.username, h.created_at) for h in handles
        ),
    )


async def find(session: AsyncSession, query: str) -> Lookup:
    """Resolve ``platform:id``, a user UUID, or an exact (case-insensitive) name.

    A handle never falls back to names: someone calling themselves ``telegram:123`` is not
    found by it. A name's single match is still not ``exact``.
    """
    query = query.strip()
    ids: list[uuid.UUID] = []
    exact = True
    platform, sep, external = query.partition(":")
    if sep and platform in {"telegram", "discord", "console"} and external:
        found = (
            await session.execute(
                select(identities.c.user_id).where(
                    identities.c.platform == platform, identities.c.external_id == external
                )
            )
        ).scalar_one_or_none()
        ids = [found] if found is not None else []
    else:
        try:
            ids = [uuid.UUID(query)]
        except ValueError:
            exact = False
            folded = clean_name(query).casefold()  # names are stored cleaned
            ids = list(
                (
                    await session.execute(
                        select(users.c.id)
                        .outerjoin(profiles, profiles.c.user_id == users.c.id)
                        .where(
                            or_(
                                func.lower(profiles.c.artist_name) == folded,
                                func.lower(users.c.display_name) == folded,
                            )
                        )
                        .order_by(users.c.created_at)
                        .limit(MAX_CANDIDATES + 1)
                    )
                ).scalars()
            )
    people = [p for p in [await _person(session, i) for i in ids] if p is not None]
    if len(people) == 1:
        return Lookup(people[0], (people[0],), exact=exact)
    return Lookup(None, tuple(people[:MAX_CANDIDATES]), more=len(people) > MAX_CANDIDATES)


async def set_admin(session: AsyncSession, user_id: uuid.UUID, *, admin: bool) -> bool:
    """Grant or revoke the ``admin`` role; False when nothing changed."""
    roles = (
        await session.execute(select(users.c.roles).where(users.c.id == user_id).with_for_update())
    ).scalar_one()
    current = [str(r) for r in (roles or [])]
    if (ADMIN_ROLE in current) == admin:
        return False
    updated = [*current, ADMIN_ROLE] if admin else [r for r in current if r != ADMIN_ROLE]
    await session.execute(update(users).where(users.c.id == user_id).values(roles=updated))
    return True


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a musician stands on their roadmap (for ``/admin user``)."""

    roadmap: str | None
    stage: str | None
    completed: int
    skipped: int
    total: int


async def standing(session: AsyncSession, user_id: uuid.UUID) -> Standing:
    """Roadmap, stage and task counts of a musician's solo profile."""
    row = (
        await session.execute(
            select(profiles.c.id, roadmaps.c.id.label("rid"), roadmaps.c.name, stages.c.title)
            .outerjoin(roadmaps, roadmaps.c.id == profiles.c.roadmap_id)
            .outerjoin(stages, stages.c.id == profiles.c.current_stage_id)
            .where(profiles.c.user_id == user_id)
        )
    ).first()
    if row is None or row.rid is None:
        return Standing(None, None, 0, 0, 0)
    total = (
        await session.execute(
            select(func.count())
            .select_from(tasks)
            .where(tasks.c.roadmap_id == row.rid, tasks.c.archived.is_(False))
        )
    ).scalar_one()
    counts: dict[str, Any] = dict(
        (
            await session.execute(
                select(progress.c.status, func.count())
                .join(tasks, tasks.c.id == progress.c.task_id)
                .where(progress.c.profile_id == row.id, tasks.c.roadmap_id == row.rid)
                .group_by(progress.c.status)
            )
        )
        .tuples()
        .all()
    )
    return Standing(
        row.name, row.title, int(counts.get("completed", 0)), int(counts.get("skipped", 0)), total
    )


async def reset(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> int:
    """Start a musician over: progress, samples, goals, the plan's dates (anchors: the plan
    reminder, finding none, is paused by the tick), roadmap choice and conversation state go.

    The person, their identities and their artist name stay. Returns how many progress rows
    were deleted (0 on a second, double-tapped reset).
    """
    profile_id = (
        await session.execute(
            select(profiles.c.id).where(profiles.c.user_id == user_id).with_for_update()
        )
    ).scalar_one_or_none()
    if profile_id is None:
        return 0
    gone = await session.execute(delete(progress).where(progress.c.profile_id == profile_id))
    # and the earlier release cycles: a reset starts at release 1
    await session.execute(delete(cycle_tasks).where(cycle_tasks.c.profile_id == profile_id))
    await session.execute(delete(samples).where(samples.c.profile_id == profile_id))
    # goals are measured from the numbers just deleted (their summaries go with current_stats)
    await session.execute(delete(goals).where(goals.c.profile_id == profile_id))
    # and the /stats chart drawn from them (a picture of numbers that no longer exist)
    await session.execute(delete(stats_charts).where(stats_charts.c.profile_id == profile_id))
    await session.execute(
        update(profiles)
        .where(profiles.c.id == profile_id)
        .values(
            roadmap_id=None, current_stage_id=None, current_stats={}, anchors={}, updated_at=now
        )
    )
    await session.execute(
        update(states)
        .where(states.c.profile_id == profile_id)
        .values(awaiting=None, task_id=None, data={}, undo=None, updated_at=now)
    )
    return int(getattr(gone, "rowcount", 0) or 0)


async def set_opt_out(session: AsyncSession, user_id: uuid.UUID, *, opt_out: bool) -> None:
    """Opt a musician out of (or back into) broadcasts."""
    await session.execute(
        update(users).where(users.c.id == user_id).values(broadcasts_opt_out=opt_out)
    )
