"""The numbers feature's own SQL: snoozing a check-in (the reminder row is the reminders
feature's table; this one statement moves only a ``checkin`` row of the presser's own), and
what the chart warm-up reads outside any turn (:mod:`core.coaching.numbers.warmup`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, literal_column, null, select, update

from core.db.executor import Executor
from core.db.tables import profiles, reminders, stats_charts

_SNOOZE = (
    update(reminders)
    .where(
        reminders.c.id == bindparam("rid"),
        reminders.c.user_id == bindparam("uid"),
        reminders.c.kind == literal_column("'checkin'"),
    )
    .values(
        next_due_at=bindparam("until"),
        attempts=literal_column("0"),
        claimed_until=null(),
        claimed_by=null(),
    )
    .returning(reminders.c.id)
)


async def snooze_checkin(
    ex: Executor, reminder_id: uuid.UUID, user_id: uuid.UUID, until: datetime
) -> bool:
    """Move the person's check-in to ``until``; False when it is not theirs (or gone)."""
    rows = await ex.rows(_SNOOZE, {"rid": reminder_id, "uid": user_id, "until": until})
    return bool(rows)


_PROFILE_SHOWN = select(
    profiles.c.current_stats, profiles.c.artist_name, profiles.c.currency
).where(profiles.c.id == bindparam("pid"))
_CHART_IS = select(stats_charts.c.profile_id).where(
    stats_charts.c.profile_id == bindparam("pid"), stats_charts.c.digest == bindparam("digest")
)


@dataclass(frozen=True, slots=True)
class Shown:
    """What a profile's chart is drawn from, besides its samples."""

    current_stats: dict[str, Any]
    artist_name: str | None
    #: The profile's currency: money samples in another one are not drawn.
    currency: str | None = None


async def shown_of(ex: Executor, profile_id: uuid.UUID) -> Shown | None:
    """The profile's numbers and name (``None``: the profile is gone)."""
    rows = await ex.rows(_PROFILE_SHOWN, {"pid": profile_id})
    return Shown(rows[0][0] or {}, rows[0][1], rows[0][2]) if rows else None


async def chart_is_stored(ex: Executor, profile_id: uuid.UUID, digest: str) -> bool:
    """Whether the profile's stored chart already shows what ``digest`` names (its bytes
    are not read)."""
    return bool(await ex.rows(_CHART_IS, {"pid": profile_id, "digest": digest}))
