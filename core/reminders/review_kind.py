"""The ``review`` reminder kind (issue #14 §1): the tick's side of the weekly review.

One row per musician (created by ``/remind`` or ``/review``: :mod:`core.coaching.review.settings`).
Its schedule column holds the slot (a weekday and a local time, default Monday 10:00); its
``stage`` counts the reviews the back-off held back in a row. When the tick claims it:

* :func:`plan` (pure, in the claim) — the week's slot is the latest occurrence at or before now
  (the per-person :func:`~core.coaching.review.week.spread` added). The row's due time is a
  lower bound: a slot before it (a row just created, a review already sent) is not sent, and
  no review follows another within :data:`MIN_GAP` (5 days: a slot moved mid-week).
  Quiet hours move the send to their end; more than :data:`GRACE` late, it is skipped (a
  ``skipped`` delivery under the week's key). After :data:`~core.coaching.review.week.SILENT_WEEKS`
  silent weeks only every 2nd review goes, after ``RARE_WEEKS`` every 4th; activity resets it.
  The delivery key is the reminder id + the **ISO week** of the slot's local day, so the same
  week's review is recorded once however often the row is claimed.
* :func:`inputs` — the batch's review rows' rows, three statements, only when there are some.
* :func:`build` — the message: the full review, or the gentle one for a quiet week.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Final

from core.clock import zone
from core.coaching.review import read
from core.coaching.review.compose import Inputs, compose, render
from core.coaching.review.settings import KIND
from core.coaching.review.week import Slot, sends_now, silent_weeks, spread, week_of
from core.db.executor import Executor
from core.kernel.types import Outbound
from core.reminders.dispatch import Plan
from core.reminders.schedule import QuietHours, outside_quiet
from core.reminders.store import ClaimedRow, Owner
from core.roadmaps.catalog import Catalog

__all__ = ["GRACE", "KIND", "MIN_GAP", "build", "inputs", "key_of", "plan"]

#: A review more than this late (the tick was down) is skipped: next week's comes instead.
GRACE: Final = timedelta(hours=12)
#: Never two reviews closer than this: a slot moved (``/review friday``, ``/timezone``) after
#: this week's review went out waits for the next week's.
MIN_GAP: Final = timedelta(days=5)


def key_of(row: ClaimedRow, slot_at: datetime, tz: tzinfo) -> str:
    """The delivery key: reminder id + the ISO week of the slot's local day."""
    return f"{row.id.hex}:{week_of(slot_at.astimezone(tz).date(), tz).label}:review"


def plan(row: ClaimedRow, owner: Owner | None, now: datetime) -> Plan:
    """Send this week's review now, hold it back (back-off), or move the row to its time."""
    tz = zone(row.timezone)
    quiet = QuietHours.of(row.quiet_start, row.quiet_end)
    if owner is None or owner.profile_id is None:
        return Plan(None, "", row.next_due_at, None, 0, skipped="no profile")
    slot, offset = Slot.from_json(row.schedule), spread(owner.profile_id)
    following = outside_quiet(slot.next_after(now, tz, offset), tz, quiet)
    latest = slot.latest_at(now, tz, offset)
    due = outside_quiet(latest, tz, quiet)
    sent = row.last_sent_at is not None and latest - row.last_sent_at < MIN_GAP
    if due < row.next_due_at or sent:  # no slot since the row was set, or sent this week
        return Plan(None, "", row.next_due_at, following, row.stage)
    key = key_of(row, latest, tz)
    if now - due > GRACE:
        return Plan(None, key, due, following, row.stage, skipped="past its grace window")
    later = outside_quiet(now, tz, quiet)
    if later != now:  # quiet hours now (a late claim): when they end
        return Plan(None, "", row.next_due_at, later, row.stage)
    if not sends_now(silent_weeks(owner.last_activity_at, now), row.stage):
        return Plan(None, "", due, following, row.stage + 1)  # backing off: held back
    return Plan("review", key, due, following, 0)


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
