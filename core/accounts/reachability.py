"""Account-level facts a front end reports: a musician who blocked the bot, or came back.

The front end learns first (a 403 on send, a ``my_chat_member`` update); the core records it so
every worker (and the reminder engine) stops writing to someone who can't be reached. Whether
someone's direct messages are closed is read from their latest notice's delivery row
(:func:`closed_dms_notice`), which every worker shares — the database is the record.
"""

from __future__ import annotations

import logging

from sqlalchemy import and_, or_, select, update

from core.db.engine import Database
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
            await session.execute(
                update(_users).where(_users.c.id == user_id).values(unreachable=not reachable)
            )
            if not reachable:  # nudges to someone who blocked the bot would only fail again
                await session.execute(
                    update(_reminders).where(_reminders.c.user_id == user_id).values(paused=True)
                )
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
