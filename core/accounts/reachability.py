"""Account-level facts a front end reports: a musician who blocked the bot, or came back.

The front end learns first (a 403 on send, a ``my_chat_member`` update) and tells the core
through :meth:`core.app.engine.Coach.report_reachability`, which records it here
(:func:`set_reachable`) so every worker (and the reminder engine) stops writing to someone who
can't be reached. A sender that is told "blocked" itself — the reminder tick, the broadcast
sender — records it with the same write, :func:`mark_unreachable`, inside its own transaction:
"unreachable" is written in one place, and always pauses the person's reminders. Whether
someone's direct messages are closed is read from their latest notice's delivery row
(:func:`closed_dms_notice`), which every worker shares — the database is the record.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from sqlalchemy import and_, bindparam, false, or_, select, true, update

from core.db.engine import Database
from core.db.executor import Executor, SQLAlchemyExecutor
from core.db.tables import (
    deliveries as _deliveries,
)
from core.db.tables import (
    identities as _identities,
)
from core.db.tables import (
    reminders as _reminders,
)
from core.db.tables import (
    users as _users,
)
from core.kernel.notify import DMS_CLOSED

logger = logging.getLogger(__name__)

# The person's latest attempted notice on the platform (nudge or broadcast, sent or refused;
# rows never tried, or skipped, say nothing about their settings). By ``due_at``: a nudge's
# due time, a broadcast row's last try. ``ix_deliveries_user_id`` narrows it to their rows.
_LATEST_NOTICE = (
    select(_deliveries.c.id, _deliveries.c.status, _deliveries.c.last_error)
    .join(_identities, _identities.c.user_id == _deliveries.c.user_id)
    .where(
        _identities.c.platform == _deliveries.c.platform,
        or_(
            _deliveries.c.status == "sent",
            and_(
                _deliveries.c.status.in_(("failed", "pending")),  # pending: a retry is due
                _deliveries.c.last_error.is_not(None),
            ),
        ),
    )
    .order_by(_deliveries.c.due_at.desc(), _deliveries.c.id)
    .limit(1)
)


_UNREACHABLE = update(_users).where(_users.c.id == bindparam("uid")).values(unreachable=true())
_REACHABLE = update(_users).where(_users.c.id == bindparam("uid")).values(unreachable=false())
_PAUSED = update(_reminders).where(_reminders.c.user_id == bindparam("uid")).values(paused=true())


async def mark_unreachable(ex: Executor, user_ids: Iterable[uuid.UUID]) -> None:
    """The one write of "this person can't be reached", in the caller's unit of work: the mark
    every sender reads, and their reminders paused (nudges to someone who blocked the bot would
    only fail again). Coming back resumes nothing by itself (see :func:`set_reachable`)."""
    for user_id in sorted(set(user_ids)):
        await ex.run(_UNREACHABLE, {"uid": user_id})
        await ex.run(_PAUSED, {"uid": user_id})


async def set_reachable(db: Database, platform: str, external_id: str, *, reachable: bool) -> bool:
    """Mark the person behind an identity (un)reachable; False when we don't know them.

    Becoming unreachable also pauses their reminders. Coming back does not resume them by
    itself: the musician turns reminders back on (a reminder may have been off on purpose).
    """

    async def write() -> bool:
        async with db.transaction() as session:
            user_id = (
                await session.execute(
                    select(_identities.c.user_id).where(
                        _identities.c.platform == platform,
                        _identities.c.external_id == external_id,
                    )
                )
            ).scalar_one_or_none()
            if user_id is None:
                return False
            ex = SQLAlchemyExecutor(await session.connection())
            if reachable:
                await ex.run(_REACHABLE, {"uid": user_id})
            else:
                await mark_unreachable(ex, [user_id])
        return True

    # the platform told us once and won't again: keep it through a database restart
    # (repeatable: it sets absolute values)
    if not await db.retrying(write):
        return False
    state = "reachable" if reachable else "unreachable (reminders paused)"
    # who, only at DEBUG: an INFO log is kept and shipped, and a platform id names a person
    logger.info("a %s account is now %s", platform, state)
    logger.debug("%s:%s is now %s", platform, external_id, state)
    return True


async def closed_dms_notice(db: Database, platform: str, external_id: str) -> str | None:
    """The id of this person's latest notice if it failed because their settings refuse the
    bot's direct messages (``core.kernel.notify.DMS_CLOSED``); ``None`` if it went through, or there
    is none. A front end uses it to tell them, where it can reach them, how to open them."""
    query = _LATEST_NOTICE.where(
        _identities.c.platform == platform, _identities.c.external_id == external_id
    )
    async with db.transaction() as session:
        row = (await session.execute(query)).first()
    if row is None or row.status == "sent" or not (row.last_error or "").startswith(DMS_CLOSED):
        return None
    return str(row.id)
