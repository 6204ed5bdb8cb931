"""The tick's side of a weekly message: the personal review (kind ``review``) and a band's
digest (kind ``digest``) are planned by the same rules, here, once.

Both rows hold a slot (a weekday and a local time, default Monday 10:00) in their schedule
column and count in ``stage`` the weekly messages the back-off held back in a row. When the
tick claims one, :func:`plan` (pure):

* takes the week's slot: the latest occurrence at or before now, the profile's stable
  :func:`~core.coaching.review.week.spread` added (a band's profile for a digest). The row's
  due time is a lower bound: a slot before it (a row just created, a message already sent) is
  not sent, and no message follows another within :data:`MIN_GAP` (5 days: a slot moved
  mid-week);
* moves the send out of quiet hours (to their end); more than :data:`GRACE` late it is skipped
  (a ``skipped`` delivery under the week's key);
* backs off: after ``SILENT_WEEKS`` silent weeks of the profile (a band's: any member's step)
  only every 2nd message goes, after ``RARE_WEEKS`` every 4th; activity brings it back;
* keys the delivery with the reminder id + the **ISO week** of the slot's local day + the kind
  (``<reminder>:<2026-W50>:review`` / ``…:digest``), so the same week's message is recorded
  once however often, and by however many workers, the row is claimed.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Final, Literal

from core.clock import zone
from core.coaching.review.week import Slot, sends_now, silent_weeks, spread, week_of
from core.reminders.dispatch import Plan
from core.reminders.schedule import QuietHours, outside_quiet
from core.reminders.store import ClaimedRow, Owner

__all__ = ["GRACE", "MIN_GAP", "Weekly", "key_of", "plan"]

#: The weekly kinds planned here.
Weekly = Literal["review", "digest"]
#: A weekly message more than this late (the tick was down) is skipped: next week's comes.
GRACE: Final = timedelta(hours=12)
#: Never two weekly messages of one row closer than this: a slot moved (``/review friday``,
#: ``/timezone``) after this week's went out waits for the next week's.
MIN_GAP: Final = timedelta(days=5)


def key_of(row: ClaimedRow, slot_at: datetime, tz: tzinfo, kind: Weekly) -> str:
    """The delivery key: reminder id + the ISO week of the slot's local day + the kind."""
    return f"{row.id.hex}:{week_of(slot_at.astimezone(tz).date(), tz).label}:{kind}"


def plan(row: ClaimedRow, owner: Owner | None, now: datetime, kind: Weekly) -> Plan:
    """Send this week's message now, hold it back (back-off), or move the row to its time."""
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
    key = key_of(row, latest, tz, kind)
    if now - due > GRACE:
        return Plan(None, key, due, following, row.stage, skipped="past its grace window")
    later = outside_quiet(now, tz, quiet)
    if later != now:  # quiet hours now (a late claim): when they end
        return Plan(None, "", row.next_due_at, later, row.stage)
    if not sends_now(silent_weeks(owner.last_activity_at, now), row.stage):
        return Plan(None, "", due, following, row.stage + 1)  # backing off: held back
    return Plan(kind, key, due, following, 0)
