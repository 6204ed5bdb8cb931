"""The streak feature's own SQL: a profile's freezes, changed only by ``/streak freeze`` and
``/streak unfreeze`` (reading them for the streak itself is the turn's one history read,
``core.kernel.store.streak_history``). Every statement names the profile it acts on, so a
freeze id from anywhere else changes nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, delete, insert, select, update

from core.db.executor import Executor
from core.db.tables import streak_freezes

_FREEZES = (
    select(streak_freezes.c.id, streak_freezes.c.starts_on, streak_freezes.c.ends_on)
    .where(streak_freezes.c.profile_id == bindparam("pid"))
    .order_by(streak_freezes.c.starts_on)
)
_INSERT = insert(streak_freezes)
_END = (
    update(streak_freezes)
    .where(streak_freezes.c.id == bindparam("fid"), streak_freezes.c.profile_id == bindparam("pid"))
    .values(ends_on=bindparam("ends_on"))
)
_DROP = delete(streak_freezes).where(
    streak_freezes.c.id == bindparam("fid"), streak_freezes.c.profile_id == bindparam("pid")
)


@dataclass(frozen=True, slots=True)
class StoredFreeze:
    """One ``streak_freezes`` row of the profile."""

    id: uuid.UUID
    starts_on: date
    ends_on: date


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


async def freezes_of(ex: Executor, profile_id: uuid.UUID) -> list[StoredFreeze]:
    """The profile's freezes, earliest first."""
    rows = await ex.rows(_FREEZES, {"pid": profile_id})
    return [StoredFreeze(fid, _day(start), _day(end)) for fid, start, end in rows]


async def add_freeze(
    ex: Executor,
    profile_id: uuid.UUID,
    starts_on: date,
    ends_on: date,
    *,
    by: uuid.UUID,
    now: datetime,
) -> None:
    """Store a freeze of the profile."""
    await ex.run(
        _INSERT,
        {
            "id": uuid.uuid4(),
            "profile_id": profile_id,
            "starts_on": starts_on,
            "ends_on": ends_on,
            "created_at": now,
            "created_by": by,
        },
    )


async def end_freeze(ex: Executor, profile_id: uuid.UUID, freeze_id: uuid.UUID, on: date) -> None:
    """Move a freeze's last day back to ``on`` (it started: it still counts this quarter)."""
    await ex.run(_END, {"fid": freeze_id, "pid": profile_id, "ends_on": on})


async def drop_freeze(ex: Executor, profile_id: uuid.UUID, freeze_id: uuid.UUID) -> None:
    """Delete a freeze that has not started (or starts today)."""
    await ex.run(_DROP, {"fid": freeze_id, "pid": profile_id})
