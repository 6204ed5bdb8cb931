"""The numbers feature's own SQL: snoozing a check-in (the reminder row is the reminders
feature's table; this one statement moves only a ``checkin`` row of the presser's own)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import bindparam, literal_column, null, update

from core.db.executor import Executor
from core.db.tables import reminders

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
