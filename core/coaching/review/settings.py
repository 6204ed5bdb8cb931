"""The weekly review's reminder row (kind ``review``): one per musician, set by ``/review``.

Decision (docs/coaching.md, "Weekly review"): the row is created on the first ``/review on``
or ``/review monday 9:00`` — the musician asks for it, like ``/remind``. Plain ``/review``
only shows the review (and says how to get it weekly). Not created by ``/remind``: a new
weekly message nobody asked for would surprise every musician who set reminders before.
``/review off`` pauses the row and marks it ``"off"`` in its schedule, so ``/remind on``
(which resumes every reminder) leaves a review the musician switched off alone. The row's
quiet hours are the musician's (copied from their schedule row, moved with ``/quiet``); the
tick applies them.

This module writes the ``reminders`` table directly because ``core.coaching`` sits below
``core.reminders`` in the import layers; the tick's side is :mod:`core.reminders.review_kind`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import bindparam, false, insert, literal_column, select, update

from core.clock import zone
from core.coaching.review.week import Slot, next_weekly, spread
from core.db.executor import Executor
from core.db.tables import reminders, users
from core.kernel.turn import Turn

KIND: Final = "review"

#: What a weekly row (the review's, a band digest's) is read with.
WEEKLY_COLUMNS = (
    reminders.c.id,
    reminders.c.schedule,
    reminders.c.paused,
    reminders.c.next_due_at,
    reminders.c.last_sent_at,
)
_ROW = select(*WEEKLY_COLUMNS).where(
    reminders.c.user_id == bindparam("uid"), reminders.c.kind == literal_column("'review'")
)
_QUIET = select(reminders.c.quiet_start, reminders.c.quiet_end).where(
    reminders.c.user_id == bindparam("uid"), reminders.c.kind == literal_column("'schedule'")
)
_INSERT = insert(reminders)
_UPDATE = update(reminders).where(reminders.c.id == bindparam("rid"))
_REACHABLE = update(users).where(users.c.id == bindparam("uid")).values(unreachable=false())


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """The musician's review reminder as ``/review`` sees it."""

    id: uuid.UUID
    slot: Slot
    on: bool
    next_due_at: datetime | None
    last_sent_at: datetime | None = None


async def of_user(ex: Executor, user_id: uuid.UUID) -> ReviewRow | None:
    """The musician's review row, if they have one."""
    found = await ex.rows(_ROW, {"uid": user_id})
    if not found:
        return None
    rid, schedule, paused, due, sent = found[0]
    return ReviewRow(rid, Slot.from_json(schedule), not paused, due, sent)


def next_due(
    slot: Slot,
    tz_name: str,
    profile_id: uuid.UUID,
    now: datetime,
    last_sent: datetime | None = None,
) -> datetime:
    """When a weekly row (the review, a band's digest) is next due; the tick moves it out of
    quiet hours (:func:`~core.coaching.review.week.next_weekly`)."""
    return next_weekly(slot, zone(tz_name), spread(profile_id), now, last_sent)


def _target(turn: Turn) -> str:
    """This chat when private, else the musician's direct chat (a review is personal)."""
    inbound = turn.inbound
    return inbound.chat_id if inbound.chat_type == "private" else inbound.user_id


async def save_weekly(
    ex: Executor,
    rid: uuid.UUID | None,
    *,
    owner: dict[str, uuid.UUID | None],
    kind: str,
    slot: Slot,
    timezone: str,
    platform: str,
    target: str,
    due: datetime,
    quiet: tuple[str | None, str | None],
    now: datetime,
) -> None:
    """Write a weekly row switched on (the review's, a band digest's): update row ``rid``, or
    insert one for ``owner`` (``user_id`` / ``band_id``) with ``quiet`` hours copied in."""
    values: dict[str, Any] = {
        "schedule": slot.to_json(),
        "timezone": timezone,
        "platform": platform,
        "target_chat": target,
        "next_due_at": due,
        "paused": False,
        "stage": 0,
        "attempts": 0,
        "claimed_until": None,
        "claimed_by": None,
    }
    if rid is not None:
        await ex.run(_UPDATE, {"rid": rid, **values})
        return
    start, end = quiet
    await ex.run(
        _INSERT,
        {
            "id": uuid.uuid4(),
            "user_id": owner.get("user_id"),
            "band_id": owner.get("band_id"),
            "kind": kind,
            "quiet_start": start,
            "quiet_end": end,
            "last_sent_at": None,
            "created_at": now,
            **values,
        },
    )


async def pause_weekly(ex: Executor, rid: uuid.UUID, slot: Slot) -> None:
    """Pause a weekly row and mark it ``"off"``: switched off by a person, so a general
    resume (``/remind on``, ``/band channel``) leaves it off."""
    schedule = {**slot.to_json(), "off": True}
    await ex.run(_UPDATE, {"rid": rid, "paused": True, "schedule": schedule, "claimed_by": None})


async def switch_on(turn: Turn, slot: Slot | None) -> tuple[Slot, datetime]:
    """Turn the weekly review on (at ``slot``, else the slot it had, else Monday 10:00)."""
    ex, rec = turn.ex, turn.rec
    current = await of_user(ex, rec.user_id)
    chosen = slot or (current.slot if current is not None else Slot())
    sent = current.last_sent_at if current is not None else None
    due = next_due(chosen, rec.timezone, rec.profile_id, turn.now, sent)
    await ex.run(_REACHABLE, {"uid": rec.user_id})  # they're talking to us right now
    quiet = await ex.rows(_QUIET, {"uid": rec.user_id}) if current is None else []
    await save_weekly(
        ex,
        current.id if current is not None else None,
        owner={"user_id": rec.user_id},
        kind=KIND,
        slot=chosen,
        timezone=rec.timezone,
        platform=turn.inbound.platform,
        target=_target(turn),
        due=due,
        quiet=(quiet[0][0], quiet[0][1]) if quiet else (None, None),
        now=turn.now,
    )
    return chosen, due


async def switch_off(turn: Turn) -> bool:
    """Pause the weekly review (kept off by ``/remind on``); False when it was not on."""
    current = await of_user(turn.ex, turn.rec.user_id)
    if current is None or not current.on:
        return False
    await pause_weekly(turn.ex, current.id, current.slot)
    return True


def switched_off(schedule: dict[str, Any] | None) -> bool:
    """Whether the musician turned the review off themselves (``/review off``)."""
    return bool((schedule or {}).get("off"))
