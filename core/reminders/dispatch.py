"""What to do with one claimed reminder: send a nudge (which one, under which key) and when the
row is due next. Pure: the tick supplies the row, its owner and the clock.

Rules, for a recurring reminder (``kind="schedule"``):

* **coalescing** — after downtime several occurrences may have passed; only the latest one is
  considered, so a musician gets one nudge, not a burst.
* **grace** — that occurrence is sent only if it is at most ``grace`` old; older, it is skipped
  and logged (a 18:00 nudge arriving at 03:00 helps nobody). Inside quiet hours a late nudge is
  skipped too.
* the next due time is the first occurrence after *now*, quiet hours applied.

For an inactivity reminder (``kind="inactivity"``; the back-off steps, e.g. 2, 5, 10 days, are
the worker's setting): the
n-th encouraging nudge goes out when the musician has been quiet for ``days[n]`` days since their
last activity; after the last step the row only checks once a day whether they came back, which
resets the back-off. A musician who was active since the last nudge starts over at step one.
A check-in that would come within three hours of the musician's own schedule nudge waits until
three hours after it: two messages at once read like a bug, not like a coach.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from core.clock import zone
from core.reminders.schedule import QuietHours, Schedule, next_due, outside_quiet, previous_due
from core.reminders.store import ClaimedRow, Owner

logger = logging.getLogger(__name__)

#: How often a finished inactivity back-off checks whether the musician came back.
IDLE_RECHECK = timedelta(days=1)
DEFAULT_BACKOFF_DAYS = (2, 5, 10)
#: A check-in never comes within this long of the musician's schedule nudge (before or after).
APART = timedelta(hours=3)


@dataclass(frozen=True, slots=True)
class Plan:
    """The decision for one row.

    ``send`` is ``None`` (nothing to send: not due after all, skipped, or waiting) or the kind of
    nudge (``"schedule"`` / ``"inactivity"`` / ``"checkin"``, core/reminders/checkin_kind.py;
    ``"review"``, core/reminders/review_kind.py; ``"digest"``, core/reminders/digest_kind.py) to
    send under ``key`` for ``due``. The row's next
    state applies once the send is recorded (or straight away when nothing is sent).
    """

    send: Literal["schedule", "inactivity", "checkin", "plan", "review", "digest"] | None
    key: str
    due: datetime
    next_due: datetime | None
    stage: int
    skipped: str = ""
    coalesced: int = 0


def delivery_key(row: ClaimedRow, due: datetime, suffix: str = "") -> str:
    """The idempotency key: reminder id + due time (+ the back-off step for inactivity)."""
    return f"{row.id.hex}:{int(due.timestamp())}{suffix}"


def plan(
    row: ClaimedRow,
    owner: Owner | None,
    now: datetime,
    *,
    grace: timedelta,
    backoff: tuple[int, ...] = DEFAULT_BACKOFF_DAYS,
) -> Plan:
    """Decide what the tick does with ``row`` at ``now``."""
    if row.kind == "inactivity":
        return _plan_inactivity(row, owner, now, backoff or DEFAULT_BACKOFF_DAYS)
    return _plan_schedule(row, now, grace)


def _plan_schedule(row: ClaimedRow, now: datetime, grace: timedelta) -> Plan:
    tz = zone(row.timezone)
    quiet = QuietHours.of(row.quiet_start, row.quiet_end)
    schedule = Schedule.from_json(row.schedule)
    due = row.next_due_at
    if schedule is None:  # a shape this version can't read: stop rather than loop
        return Plan(None, "", due, None, row.stage, skipped="unreadable schedule")
    latest, missed = due, 0
    previous = previous_due(schedule, tz, now, quiet)
    if previous is not None and previous > due:
        latest = previous
        missed = 1  # at least the one at ``due``; counting the rest would only feed a log line
    following = next_due(schedule, tz, now, quiet)
    key = delivery_key(row, latest)
    if now - latest > grace:
        return Plan(None, key, latest, following, 0, skipped="past its grace window")
    if quiet is not None and latest < now - timedelta(minutes=1):
        if quiet.contains(now.astimezone(tz).time()):
            return Plan(None, key, latest, following, 0, skipped="late, now in quiet hours")
    return Plan("schedule", key, latest, following, 0, coalesced=missed)


def _after_schedule_nudge(owner: Owner, now: datetime) -> datetime | None:
    """When a check-in held back by the musician's schedule nudge may go (``None``: now)."""
    sent, due = owner.schedule_sent_at, owner.schedule_due_at
    if sent is not None and now - sent < APART:
        return sent + APART
    if due is not None and due - now < APART:
        return max(due, now) + APART
    return None


def _plan_inactivity(
    row: ClaimedRow, owner: Owner | None, now: datetime, steps: tuple[int, ...]
) -> Plan:
    tz = zone(row.timezone)
    quiet = QuietHours.of(row.quiet_start, row.quiet_end)
    if owner is None or owner.last_activity_at is None:  # no activity yet: count from now
        return Plan(None, "", row.next_due_at, now + timedelta(days=steps[0]), 0)
    last = owner.last_activity_at
    stage = row.stage
    if row.last_sent_at is not None and last > row.last_sent_at:
        stage = 0  # they came back after our last nudge: start over
    if stage >= len(steps):
        return Plan(None, "", row.next_due_at, now + IDLE_RECHECK, stage)
    due = last + timedelta(days=steps[stage])
    if due > now:
        return Plan(None, "", row.next_due_at, outside_quiet(due, tz, quiet), stage)
    later = outside_quiet(now, tz, quiet)
    if later != now:  # quiet hours now: come back when they end
        return Plan(None, "", row.next_due_at, later, stage)
    apart = _after_schedule_nudge(owner, now)
    if apart is not None:  # one message at a time: come back a while after the schedule nudge
        return Plan(None, "", row.next_due_at, outside_quiet(apart, tz, quiet), stage)
    stage += 1
    following = last + timedelta(days=steps[stage]) if stage < len(steps) else now + IDLE_RECHECK
    key = delivery_key(row, row.next_due_at, f":i{stage}")  # a snoozed nudge gets a new key
    return Plan("inactivity", key, due, max(following, now + timedelta(minutes=1)), stage)
