"""Changing reminders: what ``/remind``, ``/timezone``, ``/quiet`` and the nudge buttons do.

Each function runs inside the caller's transaction (a conversation turn, whose profile lock
already serialises one musician's events) through the same :class:`Executor` as the engine.

A musician has at most one ``schedule`` reminder (their chosen days and time) and one
``inactivity`` reminder (the back-off check-ins, created with the schedule and stopped with it).
Both go to the chat the musician set them from. A band has its own ``schedule`` reminder whose
target is the band's channel (:func:`set_band_schedule`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import bindparam, false, insert, select, update

from core.clock import zone
from core.coaching.digest.settings import KIND as DIGEST
from core.coaching.review.settings import KIND as REVIEW
from core.coaching.review.settings import switched_off
from core.db.executor import Executor
from core.db.tables import band_members as members
from core.db.tables import bands, deliveries, reminders, users
from core.kernel import audit
from core.kernel.notify import NO_DIRECT_CHAT
from core.reminders.schedule import QuietHours, Schedule, hhmm, next_due

#: A new or resumed inactivity row is first looked at after this; the tick then plans it from
#: the musician's last activity and the worker's back-off setting (nothing is sent before).
IDLE_FIRST_CHECK = timedelta(hours=1)
#: The kind of the check-in row, and when a new one is first planned by the tick.
CHECKIN = "checkin"
CHECKIN_FIRST_CHECK = timedelta(hours=1)

_COLUMNS = (
    reminders.c.id,
    reminders.c.kind,
    reminders.c.schedule,
    reminders.c.timezone,
    reminders.c.quiet_start,
    reminders.c.quiet_end,
    reminders.c.paused,
    reminders.c.next_due_at,
    reminders.c.user_id,
    reminders.c.band_id,
    reminders.c.platform,
    reminders.c.target_chat,
)
_OF_USER = select(*_COLUMNS).where(reminders.c.user_id == bindparam("uid"))
_OF_BAND = select(*_COLUMNS).where(reminders.c.band_id == bindparam("bid"))
_ONE = select(*_COLUMNS).where(reminders.c.id == bindparam("rid"))
_MEMBER = select(members.c.role).where(
    members.c.band_id == bindparam("bid"), members.c.user_id == bindparam("uid")
)
_BAND_NAME = select(bands.c.name).where(bands.c.id == bindparam("bid"))
_BAND_TARGET = (
    update(reminders)
    .where(reminders.c.band_id == bindparam("bid"))
    .values(target_chat=bindparam("target"))
)
_LAST_DELIVERY = (
    select(deliveries.c.status, deliveries.c.last_error)
    .where(deliveries.c.reminder_id == bindparam("rid"))
    .order_by(deliveries.c.due_at.desc())
    .limit(bindparam("one"))
)
_INSERT = insert(reminders)
# Sets the columns named in the parameters (one statement for every combination).
_UPDATE = update(reminders).where(reminders.c.id == bindparam("rid"))
FOREIGN_BUTTON: Final[audit.AuditAction] = "reminder.foreign_button"
# Someone turning reminders on is talking to us right now: reachable again (a missed
# "unblocked" update must not make the tick pause their reminders again).
_USER_REACHABLE = update(users).where(users.c.id == bindparam("uid")).values(unreachable=false())
_USER_TZ = update(users).where(users.c.id == bindparam("uid")).values(timezone=bindparam("tz"))


@dataclass(slots=True)
class ReminderRow:
    """A reminder as the conversation sees it."""

    id: uuid.UUID
    kind: str
    schedule: dict[str, Any]
    timezone: str
    quiet_start: str | None
    quiet_end: str | None
    paused: bool
    next_due_at: datetime | None
    user_id: uuid.UUID | None
    band_id: uuid.UUID | None
    platform: str
    target_chat: str

    @property
    def quiet(self) -> QuietHours | None:
        """The row's quiet hours."""
        return QuietHours.of(self.quiet_start, self.quiet_end)


@dataclass(slots=True)
class Settings:
    """One musician's reminders, for the ``/remind`` card."""

    schedule: ReminderRow | None
    inactivity: ReminderRow | None
    #: The check-ins of tracked numbers (issue #13; kind ``checkin``, planned by the tick from
    #: the profile's numbers: core/reminders/checkin_kind.py).
    checkin: ReminderRow | None = None
    #: The release plan's reminder (core/reminders/plan_kind.py): paused, resumed and moved to
    #: a new timezone with the others; its dates come from the plan, not from ``/remind``.
    plan: ReminderRow | None = None
    #: The weekly review (core/reminders/review_kind.py): created by ``/review on`` (or a day and
    #: time), paused and moved with the others, but kept off by ``/remind on`` when
    #: ``/review off`` turned it off.
    review: ReminderRow | None = None

    @property
    def rows(self) -> tuple[ReminderRow | None, ...]:
        """Every reminder of the musician (missing ones as ``None``)."""
        return (self.schedule, self.inactivity, self.checkin, self.plan, self.review)

    @property
    def on(self) -> bool:
        """True when the schedule reminder exists and is not paused."""
        return self.schedule is not None and not self.schedule.paused


async def of_user(ex: Executor, user_id: uuid.UUID) -> Settings:
    """The musician's schedule and inactivity reminders (either may be missing)."""
    rows = [ReminderRow(*r) for r in await ex.rows(_OF_USER, {"uid": user_id})]
    return Settings(
        schedule=next((r for r in rows if r.kind == "schedule"), None),
        inactivity=next((r for r in rows if r.kind == "inactivity"), None),
        checkin=next((r for r in rows if r.kind == CHECKIN), None),
        plan=next((r for r in rows if r.kind == "plan"), None),
        review=next((r for r in rows if r.kind == REVIEW), None),
    )


async def get(ex: Executor, reminder_id: uuid.UUID) -> ReminderRow | None:
    """One reminder by id."""
    rows = await ex.rows(_ONE, {"rid": reminder_id})
    return ReminderRow(*rows[0]) if rows else None


async def may_change(ex: Executor, row: ReminderRow, user_id: uuid.UUID) -> bool:
    """Whether this person may act on the reminder: its owner, or a member of its band."""
    if row.user_id is not None:
        return row.user_id == user_id
    if row.band_id is None:
        return False
    return bool(await ex.rows(_MEMBER, {"bid": row.band_id, "uid": user_id}))


async def band_name(ex: Executor, band_id: uuid.UUID) -> str | None:
    """The band's name, for the words under its nudge (None if the band is gone)."""
    rows = await ex.rows(_BAND_NAME, {"bid": band_id})
    return str(rows[0][0]) if rows else None


async def unreached(ex: Executor, reminder_id: uuid.UUID) -> bool:
    """Whether the reminder's latest nudge failed because its owner never opened a direct chat
    with the bot (the platform won't let the bot write first:
    ``core.kernel.notify.NO_DIRECT_CHAT``)."""
    rows = await ex.rows(_LAST_DELIVERY, {"rid": reminder_id, "one": 1})
    if not rows:
        return False
    status, error = rows[0]
    return status == "failed" and (error or "").startswith(NO_DIRECT_CHAT)


def first_due(row_schedule: Schedule, tz: str, quiet: QuietHours | None, now: datetime) -> datetime:
    """When a schedule set now is first due."""
    return next_due(row_schedule, zone(tz), now, quiet)


async def _insert(ex: Executor, **values: Any) -> uuid.UUID:
    rid = uuid.uuid4()
    base: dict[str, Any] = {
        "id": rid,
        "user_id": None,
        "band_id": None,
        "quiet_start": None,
        "quiet_end": None,
        "paused": False,
        "stage": 0,
        "attempts": 0,
        "claimed_until": None,
        "claimed_by": None,
        "last_sent_at": None,
    }
    base.update(values)
    await ex.run(_INSERT, base)
    return rid


async def set_schedule(
    ex: Executor,
    user_id: uuid.UUID,
    schedule: Schedule,
    *,
    timezone: str,
    platform: str,
    target_chat: str,
    now: datetime,
) -> datetime:
    """Set (or replace) the musician's schedule and switch the inactivity check-ins on.

    Returns the first due time. The reminders go to ``target_chat`` on ``platform`` from now on.
    """
    current = await of_user(ex, user_id)
    quiet = current.schedule.quiet if current.schedule else None
    due = first_due(schedule, timezone, quiet, now)
    common = {
        "timezone": timezone,
        "platform": platform,
        "target_chat": target_chat,
        "paused": False,
        "claimed_until": None,
        "claimed_by": None,
        "attempts": 0,
    }
    if current.schedule is None:
        await _insert(
            ex,
            user_id=user_id,
            kind="schedule",
            schedule=schedule.to_json(),
            next_due_at=due,
            created_at=now,
            **common,
        )
    else:
        await ex.run(
            _UPDATE,
            {"rid": current.schedule.id, "schedule": schedule.to_json(), "next_due_at": due}
            | common,
        )
    await ex.run(_USER_REACHABLE, {"uid": user_id})
    idle_due = now + IDLE_FIRST_CHECK
    if current.inactivity is None:
        await _insert(
            ex,
            user_id=user_id,
            kind="inactivity",
            schedule={},
            next_due_at=idle_due,
            created_at=now,
            quiet_start=quiet.start.strftime("%H:%M") if quiet else None,
            quiet_end=quiet.end.strftime("%H:%M") if quiet else None,
            **common,
        )
    else:
        await ex.run(
            _UPDATE,
            {"rid": current.inactivity.id, "next_due_at": idle_due, "stage": 0} | common,
        )
    # The check-ins come with the schedule, like the inactivity row; the tick plans them from
    # the musician's numbers when the row comes due (nothing is sent before a number is stale).
    checkin_due = now + CHECKIN_FIRST_CHECK
    if current.checkin is None:
        await _insert(
            ex,
            user_id=user_id,
            kind=CHECKIN,
            schedule={},
            next_due_at=checkin_due,
            created_at=now,
            quiet_start=quiet.start.strftime("%H:%M") if quiet else None,
            quiet_end=quiet.end.strftime("%H:%M") if quiet else None,
            **common,
        )
    else:
        await ex.run(_UPDATE, {"rid": current.checkin.id, "next_due_at": checkin_due} | common)
    return due


async def set_paused(ex: Executor, user_id: uuid.UUID, *, paused: bool, now: datetime) -> int:
    """Pause (``/remind off``) or resume every reminder of the musician; how many changed.

    Resuming recomputes the due times from now: nothing missed while off is sent.
    """
    current = await of_user(ex, user_id)
    if not paused:
        await ex.run(_USER_REACHABLE, {"uid": user_id})
    changed = 0
    for row in current.rows:
        if row is None or row.paused == paused:
            continue
        if row.kind == REVIEW and not paused and switched_off(row.schedule):
            continue  # /review off stays off
        values: dict[str, Any] = {"rid": row.id, "paused": paused, "attempts": 0}
        if not paused:
            values["next_due_at"] = _recomputed(row, row.timezone, row.quiet, now)
        await ex.run(_UPDATE, values)
        changed += 1
    return changed


def _recomputed(row: ReminderRow, tz: str, quiet: QuietHours | None, now: datetime) -> datetime:
    if row.kind == "schedule":
        schedule = Schedule.from_json(row.schedule)
        if schedule is not None:
            return first_due(schedule, tz, quiet, now)
    if row.kind in {REVIEW, DIGEST}:
        return now  # the tick plans it at once from its slot (nothing before ``now`` is sent)
    return now + IDLE_FIRST_CHECK


async def set_timezone(ex: Executor, user_id: uuid.UUID, tz: str, now: datetime) -> None:
    """Store the musician's timezone and move their reminders to it (same local times)."""
    await ex.run(_USER_TZ, {"uid": user_id, "tz": tz})
    current = await of_user(ex, user_id)
    for row in current.rows:
        if row is None:
            continue
        values: dict[str, Any] = {"rid": row.id, "timezone": tz}
        if row.kind in {"schedule", REVIEW} and not row.paused:
            values["next_due_at"] = _recomputed(row, tz, row.quiet, now)
        await ex.run(_UPDATE, values)


async def set_quiet(
    ex: Executor, user_id: uuid.UUID, quiet: QuietHours | None, now: datetime
) -> None:
    """Set (or clear) the musician's quiet hours on every reminder and re-plan them."""
    current = await of_user(ex, user_id)
    for row in (current.schedule, current.inactivity, current.checkin, current.review):
        if row is None:
            continue
        values: dict[str, Any] = {
            "rid": row.id,
            "quiet_start": hhmm(quiet.start) if quiet else None,
            "quiet_end": hhmm(quiet.end) if quiet else None,
        }
        if row.kind == "schedule" and not row.paused:
            values["next_due_at"] = _recomputed(row, row.timezone, quiet, now)
        await ex.run(_UPDATE, values)


async def set_inactivity(ex: Executor, row: ReminderRow, *, on: bool, now: datetime) -> None:
    """Switch the inactivity check-ins on or off (they stay off with ``/remind off``)."""
    values: dict[str, Any] = {"rid": row.id, "paused": not on, "stage": 0}
    if on:
        values["next_due_at"] = _recomputed(row, row.timezone, row.quiet, now)
    await ex.run(_UPDATE, values)


async def postpone(ex: Executor, row: ReminderRow, until: datetime) -> None:
    """Snooze: the reminder comes back at ``until`` (then continues on its schedule).

    An inactivity nudge snoozed steps its back-off back by one, so the same encouragement
    comes again at ``until`` instead of being counted as sent.
    """
    values: dict[str, Any] = {
        "rid": row.id,
        "next_due_at": until,
        "attempts": 0,
        "claimed_until": None,
        "claimed_by": None,
    }
    if row.kind == "inactivity":
        values["stage"] = max(0, await _stage(ex, row.id) - 1)
        values["last_sent_at"] = None
    await ex.run(_UPDATE, values)


_STAGE = select(reminders.c.stage).where(reminders.c.id == bindparam("rid"))


async def _stage(ex: Executor, reminder_id: uuid.UUID) -> int:
    rows = await ex.rows(_STAGE, {"rid": reminder_id})
    return int(rows[0][0]) if rows else 0


async def set_band_schedule(
    ex: Executor,
    band_id: uuid.UUID,
    schedule: Schedule,
    *,
    timezone: str,
    platform: str,
    channel_id: str,
    now: datetime,
) -> datetime:
    """Set (or replace) a band's reminder, delivered to the band's channel."""
    rows = [ReminderRow(*r) for r in await ex.rows(_OF_BAND, {"bid": band_id})]
    current = next((r for r in rows if r.kind == "schedule"), None)
    due = first_due(schedule, timezone, current.quiet if current else None, now)
    values = {
        "schedule": schedule.to_json(),
        "timezone": timezone,
        "platform": platform,
        "target_chat": channel_id,
        "next_due_at": due,
        "paused": False,
        "attempts": 0,
        "claimed_until": None,
        "claimed_by": None,
    }
    if current is None:
        await _insert(ex, band_id=band_id, kind="schedule", created_at=now, **values)
    else:
        await ex.run(_UPDATE, {"rid": current.id, **values})
    return due


# ------------------------------------------------------------------------------ bands
# A band has one ``schedule`` reminder (no inactivity check-ins: a band is many people). Its
# timezone and quiet hours live on that row, since a band has no user row to keep them on.


async def of_band(ex: Executor, band_id: uuid.UUID) -> ReminderRow | None:
    """The band's schedule reminder, if it has one."""
    rows = [ReminderRow(*r) for r in await ex.rows(_OF_BAND, {"bid": band_id})]
    return next((r for r in rows if r.kind == "schedule"), None)


async def set_band_paused(ex: Executor, band_id: uuid.UUID, *, paused: bool, now: datetime) -> bool:
    """Pause or resume the band's reminder; False when it has none or nothing changed.

    Resuming plans from now: nudges missed while off are not sent.
    """
    row = await of_band(ex, band_id)
    if row is None or row.paused == paused:
        return False
    values: dict[str, Any] = {"rid": row.id, "paused": paused, "attempts": 0}
    if not paused:
        values["next_due_at"] = _recomputed(row, row.timezone, row.quiet, now)
    await ex.run(_UPDATE, values)
    return True


async def _band_rows(ex: Executor, band_id: uuid.UUID) -> list[ReminderRow]:
    """The band's rows that keep the band's timezone and quiet hours: its reminder and its
    weekly digest (core/coaching/digest/settings.py)."""
    rows = [ReminderRow(*r) for r in await ex.rows(_OF_BAND, {"bid": band_id})]
    return [r for r in rows if r.kind in {"schedule", DIGEST}]


async def set_band_timezone(ex: Executor, band_id: uuid.UUID, tz: str, now: datetime) -> bool:
    """Move the band's reminder and digest to ``tz`` (same local times); False when it has
    neither."""
    rows = await _band_rows(ex, band_id)
    for row in rows:
        values: dict[str, Any] = {"rid": row.id, "timezone": tz}
        if not row.paused:
            values["next_due_at"] = _recomputed(row, tz, row.quiet, now)
        await ex.run(_UPDATE, values)
    return bool(rows)


async def set_band_quiet(
    ex: Executor, band_id: uuid.UUID, quiet: QuietHours | None, now: datetime
) -> bool:
    """Set or clear the band's quiet hours (its reminder's and digest's) and re-plan; False
    when it has neither."""
    rows = await _band_rows(ex, band_id)
    for row in rows:
        values: dict[str, Any] = {
            "rid": row.id,
            "quiet_start": hhmm(quiet.start) if quiet else None,
            "quiet_end": hhmm(quiet.end) if quiet else None,
        }
        if not row.paused:
            values["next_due_at"] = _recomputed(row, row.timezone, quiet, now)
        await ex.run(_UPDATE, values)
    return bool(rows)


async def set_band_target(ex: Executor, band_id: uuid.UUID, channel_id: str) -> None:
    """Send the band's reminders — its schedule's and its plan's — to a new channel
    (``/band channel`` moved the updates)."""
    await ex.run(_BAND_TARGET, {"bid": band_id, "target": channel_id})
