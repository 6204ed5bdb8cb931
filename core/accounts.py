"""Account-level facts a front end reports: a musician who blocked the bot, or came back.

The front end learns first (a 403 on send, a ``my_chat_member`` update); the core records it so
every worker (and the reminder engine) stops writing to someone who can't be reached.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from core.db.engine import Database
from core.db.tables import (
    identities as _identities,
)
from core.db.tables import (
    reminders as _reminders,
)
from core.db.tables import (
    users as _users,
)

logger = logging.getLogger(__name__)


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
    logger.info(
        "%s:%s is now %s", platform, external_id, "reachable" if reachable else "unreachable"
    )
    return True
