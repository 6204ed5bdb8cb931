"""Replay safety for the paths that work outside the conversation's own transaction.

A chat event records its platform update id in ``processed_updates`` in the same transaction as
its changes (``store.load_turn``), so a replay — a platform sending it again, or the durable
inbox (``core/inbox.py``) handing it over again after a crash — changes nothing. The admin desk
works in transactions of its own, so it asks :func:`already_handled` first and
:func:`mark_handled` after. A crash *during* such a command can repeat it; each of those commands
is harmless to repeat (reads, a second draft, confirmations that find nothing left).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import String, bindparam, select

from core.db.engine import Database
from core.db.tables import processed_updates
from core.kernel.store import first_time

logger = logging.getLogger(__name__)

_SEEN = select(processed_updates.c.update_id).where(
    processed_updates.c.platform == bindparam("for_platform", type_=String()),
    processed_updates.c.update_id == bindparam("uid", type_=String()),
)


async def already_handled(db: Database, platform: str, update_id: str) -> bool:
    """True when this platform update id is recorded as handled (``processed_updates``)."""
    async with db.unit_of_work() as ex:
        rows = await ex.rows(_SEEN, {"for_platform": platform, "uid": update_id})
    return bool(rows)


async def mark_handled(db: Database, platform: str, update_id: str, now: datetime) -> None:
    """Record the update id as handled (its own transaction; a failure is only logged)."""

    async def record() -> None:
        async with db.unit_of_work() as ex:
            await first_time(ex, platform, update_id, now)

    try:
        await db.retrying(record)
    except Exception:
        logger.warning("could not record %s update %s as handled", platform, update_id)
