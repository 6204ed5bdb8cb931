"""A band's digest row (reminder kind ``digest``): one per band, owned by the band (``band_id``,
like the band's reminder), delivered to the band's updates channel.

Decisions (docs/coaching.md, "Band digest"):

* **On once a channel is set.** ``/band channel`` — a manager choosing where the band's updates
  go — creates the row at the default slot, Monday 10:00; the digest is one of those updates.
  A manager turns it off (``/band digest off``: the row is paused and marked ``"off"``, so a
  later ``/band channel`` leaves it off) or on, or moves it (``/band digest friday 18:00``). Without
  an updates channel, ``/band digest on`` delivers it to the channel it was said in.
* **The band's timezone** is the band reminder's (``/timezone`` in the server) when the band
  has one; else the timezone of the manager who switched the digest on (their own
  ``/timezone``, UTC if never set). The band's ``/timezone`` and ``/quiet`` move the digest
  too (:mod:`core.reminders.service`).
* **Quiet hours** are the band's (copied from its reminder when the row is made; moved with
  the band's ``/quiet``).
* **Spread**: the slot plus the stable offset of the band's profile id
  (:func:`~core.coaching.review.week.spread`), so many bands on "Monday 10:00" arrive over the
  hour, each in the same minute every week.

This module writes the ``reminders`` table directly because ``core.coaching`` sits below
``core.reminders`` in the import layers; the tick's side is :mod:`core.reminders.digest_kind`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import bindparam, literal_column, select

from core.coaching.review.settings import WEEKLY_COLUMNS, next_due, pause_weekly, save_weekly
from core.coaching.review.week import Slot
from core.db.executor import Executor
from core.db.tables import reminders

KIND: Final = "digest"

_ROW = select(*WEEKLY_COLUMNS, reminders.c.timezone, reminders.c.target_chat).where(
    reminders.c.band_id == bindparam("bid"), reminders.c.kind == literal_column("'digest'")
)
_BAND_REMINDER = select(reminders.c.timezone, reminders.c.quiet_start, reminders.c.quiet_end).where(
    reminders.c.band_id == bindparam("bid"), reminders.c.kind == literal_column("'schedule'")
)


@dataclass(frozen=True, slots=True)
class DigestRow:
    """The band's digest row as ``/band digest`` sees it."""

    id: uuid.UUID
    slot: Slot
    on: bool
    next_due_at: datetime | None
    last_sent_at: datetime | None
    timezone: str
    target_chat: str


async def of_band(ex: Executor, band_id: uuid.UUID) -> DigestRow | None:
    """The band's digest row, if it has one."""
    found = await ex.rows(_ROW, {"bid": band_id})
    if not found:
        return None
    rid, schedule, paused, due, sent, tz, target = found[0]
    return DigestRow(rid, Slot.from_json(schedule), not paused, due, sent, tz, target)


async def _from_reminder(
    ex: Executor, band_id: uuid.UUID, fallback: str
) -> tuple[str, tuple[str | None, str | None]]:
    """The band reminder's timezone (else ``fallback``) and quiet hours (none without one)."""
    found = await ex.rows(_BAND_REMINDER, {"bid": band_id})
    if not found:
        return fallback, (None, None)
    tz, start, end = found[0]
    return (str(tz) if tz else fallback), (start, end)


async def band_timezone(ex: Executor, band_id: uuid.UUID, fallback: str) -> str:
    """The band's timezone: its digest's, else its reminder's, else ``fallback``."""
    current = await of_band(ex, band_id)
    if current is not None:
        return current.timezone
    return (await _from_reminder(ex, band_id, fallback))[0]


async def switch_on(
    ex: Executor,
    *,
    band_id: uuid.UUID,
    profile_id: uuid.UUID,
    slot: Slot | None,
    timezone: str,
    platform: str,
    target: str,
    now: datetime,
) -> tuple[Slot, datetime, str]:
    """Turn the band's digest on (at ``slot``, else the slot it had, else Monday 10:00), for
    ``target``; ``timezone`` is used only when the band has none yet (:func:`band_timezone`).
    Returns the slot, the next due time and the timezone."""
    current = await of_band(ex, band_id)
    chosen = slot or (current.slot if current is not None else Slot())
    quiet: tuple[str | None, str | None] = (None, None)
    if current is not None:  # its row keeps its own timezone and quiet hours
        tz, sent = current.timezone, current.last_sent_at
    else:  # a new row: the band reminder's, read once
        (tz, quiet), sent = await _from_reminder(ex, band_id, timezone), None
    due = next_due(chosen, tz, profile_id, now, sent)
    await save_weekly(
        ex,
        current.id if current is not None else None,
        owner={"band_id": band_id},
        kind=KIND,
        slot=chosen,
        timezone=tz,
        platform=platform,
        target=target,
        due=due,
        quiet=quiet,
        now=now,
    )
    return chosen, due, tz


async def switch_off(ex: Executor, band_id: uuid.UUID) -> bool:
    """Pause the band's digest (kept off by a later ``/band channel``); False when not on."""
    current = await of_band(ex, band_id)
    if current is None or not current.on:
        return False
    await pause_weekly(ex, current.id, current.slot)
    return True


async def on_channel_set(
    ex: Executor,
    *,
    band_id: uuid.UUID,
    profile_id: uuid.UUID,
    timezone: str,
    platform: str,
    target: str,
    now: datetime,
) -> bool:
    """``/band channel``: a band without a digest row gets one, on, at the default slot (True);
    a band that has one keeps it as it is — off stays off (its target moves with the band's
    other reminders)."""
    if await of_band(ex, band_id) is not None:
        return False
    await switch_on(
        ex,
        band_id=band_id,
        profile_id=profile_id,
        slot=None,
        timezone=timezone,
        platform=platform,
        target=target,
        now=now,
    )
    return True
