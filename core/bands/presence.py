"""Where a band's chat is, as its platform reports it: moved to a new id, or out of reach.

A Telegram group is a band's server *and* its channel (the group's chat id is both). Two
platform facts change that chat without anyone typing a command, and the front end reports
them here through the :class:`~core.app.engine.Coach`:

* **moved**: a group upgraded to a supergroup gets a new chat id (``migrate_to_chat_id``).
  The band keeps everything: :func:`move_server` re-keys it — the band's server id, its
  updates channel and the reminder and digest rows that were sent to the old id — in one
  transaction, so no reader ever sees half a move. Idempotent: Telegram announces a move
  twice (in the old group and in the new supergroup), and a send refused with the new id
  reports it a third time; only the first finds anything to change.
* **out of reach**: the bot was removed from the group, or the group was deleted.
  :func:`set_reachable` marks the band (``bands.unreachable``): the reminder tick then skips
  its notices instead of trying them (a skipped delivery row, the schedule advancing as
  usual), and the milestone announcements stay unsent. The band, its members and progress
  are kept; when the bot is added back, the mark goes and the next notice is sent.
"""

from __future__ import annotations

import logging

from sqlalchemy import bindparam, select, update

from core.db.engine import Database
from core.db.executor import SQLAlchemyExecutor
from core.db.tables import bands, reminders

logger = logging.getLogger(__name__)

_BAND = select(bands.c.id, bands.c.channel_id).where(
    bands.c.platform == bindparam("platform"), bands.c.external_id == bindparam("server")
)
_MOVE_BAND = (
    update(bands).where(bands.c.id == bindparam("bid")).values(external_id=bindparam("new"))
)
_MOVE_CHANNEL = (
    update(bands)
    .where(bands.c.id == bindparam("bid"), bands.c.channel_id == bindparam("old"))
    .values(channel_id=bindparam("new"))
)
_MOVE_REMINDERS = (
    update(reminders)
    .where(reminders.c.band_id == bindparam("bid"), reminders.c.target_chat == bindparam("old"))
    .values(target_chat=bindparam("new"))
)
_REACHABLE = (
    update(bands)
    .where(
        bands.c.platform == bindparam("b_platform"), bands.c.external_id == bindparam("b_server")
    )
    .values(unreachable=bindparam("b_unreachable"))
)


async def bound(db: Database, platform: str, server_id: str) -> bool:
    """Whether a band is bound to ``server_id`` (one short read)."""

    async def read() -> bool:
        async with db.transaction() as session:
            ex = SQLAlchemyExecutor(await session.connection())
            return bool(await ex.rows(_BAND, {"platform": platform, "server": server_id}))

    return await db.retrying(read)


async def move_server(db: Database, platform: str, old: str, new: str) -> bool:
    """Re-key the band of server ``old`` to ``new`` (its channel and reminders with it), in
    one transaction; False when ``old`` has no band (already moved, or never a band) or
    ``new`` already has one (nothing is merged: the log says so)."""

    async def write() -> bool:
        async with db.transaction() as session:
            ex = SQLAlchemyExecutor(await session.connection())
            found = await ex.rows(_BAND, {"platform": platform, "server": old})
            if not found:
                return False
            if await ex.rows(_BAND, {"platform": platform, "server": new}):
                logger.warning("a %s band moved to a chat that has a band already", platform)
                return False
            band_id = found[0][0]
            moved = {"bid": band_id, "old": old, "new": new}
            await ex.run(_MOVE_BAND, moved)
            await ex.run(_MOVE_CHANNEL, moved)
            await ex.run(_MOVE_REMINDERS, moved)
        return True

    # the platform says it once per chat: keep it through a database restart (repeatable:
    # the second attempt finds the band at its new id and changes nothing)
    moved = await db.retrying(write)
    if moved:
        logger.info("a %s band moved to its chat's new id", platform)
    return moved


async def set_reachable(db: Database, platform: str, server_id: str, *, reachable: bool) -> bool:
    """Mark the band of ``server_id`` (un)reachable; False when that server has no band."""

    async def write() -> bool:
        async with db.transaction() as session:
            ex = SQLAlchemyExecutor(await session.connection())
            if not await ex.rows(_BAND, {"platform": platform, "server": server_id}):
                return False
            params = {"b_platform": platform, "b_server": server_id, "b_unreachable": not reachable}
            await ex.run(_REACHABLE, params)
            return True

    found = await db.retrying(write)
    if found:
        state = "reachable again" if reachable else "unreachable (its notices are skipped)"
        logger.info("a %s band is %s", platform, state)
    return found
