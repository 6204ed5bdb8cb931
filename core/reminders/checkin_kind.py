"""The ``checkin`` reminder kind (issue #13): the tick's side of the check-ins of tracked
numbers. Kept apart from :mod:`core.reminders.dispatch` so the schedule and inactivity rules
stay as they were and another kind can hook in the same way.

A check-in row belongs to a musician (created with their schedule, paused with it). When the
tick claims it, :func:`plan` decides from the profile's ``current_stats`` (read for the batch's
check-in rows only, one statement: :func:`stats_of`) with
:func:`core.coaching.numbers.checkins.decide`: ask about the first stale tracked metric if its
10:00 has come (quiet hours respected), else only move the row to when that will be.
:func:`build` makes the card (Answer / Snooze a week).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, Uuid, any_, bindparam, select

from core.clock import zone
from core.coaching.numbers.checkins import KIND, decide
from core.coaching.numbers.checkins import card as checkin_card
from core.db.executor import Executor
from core.db.tables import profiles
from core.kernel.types import Outbound
from core.reminders.dispatch import Plan, delivery_key
from core.reminders.schedule import QuietHours, outside_quiet
from core.reminders.store import ClaimedRow, Owner, pick
from core.roadmaps.catalog import Catalog

__all__ = ["KIND", "build", "plan", "stats_of"]

_STATS = select(profiles.c.id, profiles.c.current_stats)
STATS_PG = _STATS.where(profiles.c.id == any_(bindparam("pids", type_=ARRAY(Uuid()))))
STATS_SQLITE = _STATS.where(profiles.c.id.in_(bindparam("pids", expanding=True)))

Stats = Mapping[uuid.UUID, dict[str, Any]]


async def stats_of(
    ex: Executor, rows: list[ClaimedRow], owners: Mapping[uuid.UUID, Owner]
) -> dict[uuid.UUID, dict[str, Any]]:
    """The numbers of the profiles behind the batch's check-in rows (no statement without
    one: the tick's other rows cost what they cost before)."""
    pids = sorted(
        {
            owner.profile_id
            for row in rows
            if row.kind == KIND
            and (owner := owners.get(row.id)) is not None
            and owner.profile_id is not None
        }
    )
    if not pids:
        return {}
    found = await ex.rows(pick(ex, STATS_PG, STATS_SQLITE), {"pids": pids})
    return {pid: dict(stats or {}) for pid, stats in found}


def _stats(owner: Owner | None, stats: Stats) -> dict[str, Any]:
    if owner is None or owner.profile_id is None:
        return {}
    return stats.get(owner.profile_id, {})


def plan(
    row: ClaimedRow, owner: Owner | None, stats: Stats, catalog: Catalog, now: datetime
) -> Plan:
    """Send a check-in now, or move the row to when one is due."""
    tz = zone(row.timezone)
    quiet = QuietHours.of(row.quiet_start, row.quiet_end)
    decision = decide(_stats(owner, stats), catalog, tz, now)
    if decision.ask is None:
        return Plan(None, "", row.next_due_at, outside_quiet(decision.next_at, tz, quiet), 0)
    later = outside_quiet(now, tz, quiet)
    if later != now:  # quiet hours now: come back when they end
        return Plan(None, "", row.next_due_at, later, 0)
    key = delivery_key(row, row.next_due_at, ":c")
    following = outside_quiet(decision.next_at, tz, quiet)
    return Plan("checkin", key, row.next_due_at, following, 0)


def build(
    row: ClaimedRow, owner: Owner | None, stats: Stats, catalog: Catalog, now: datetime
) -> Outbound | None:
    """The check-in card for a row :func:`plan` decided to send."""
    mine = _stats(owner, stats)
    decision = decide(mine, catalog, zone(row.timezone), now)
    if decision.ask is None:
        return None
    return checkin_card(decision.ask, mine.get(decision.ask.metric, {}), row.id, now)
