"""Replies a platform would not take: the chat is owed a short, honest note, kept in the database.

A front end retries a reply within a time budget (Telegram: ``429 retry_after``, network errors;
Discord: its library's own retries). When the budget runs out the reply is lost — the change
it reported is stored, only the message is gone — and the musician should hear about it once
the platform accepts messages again, instead of wondering why the bot went quiet.

Why durable: the note is owed exactly when the platform is misbehaving, which is also when an
operator restarts the bot. So an owed note is a ``deliveries`` row (kind ``undelivered``,
status ``pending``, key ``undelivered:<platform>:<chat>``), written when the reply is given up.
The unique key keeps it to **one note per chat per outage**, however many replies of the
backlog were lost; the row is deleted once the note is settled, so the next outage can owe a
new one. The row names the person when the chat is a private one (``user_id``), so ``/export``
shows it and ``/forget`` removes it.

When: :meth:`OwedNotes.accepted` is the front end saying "the platform just took a send". The
first one after start, and the first after a note was owed, drains the owed rows of that
platform in the background through the front end's own :class:`~core.kernel.notify.Notifier` (same
rate limits and retries; a 403 is read there as everywhere). A chat that still has replies
waiting is skipped until its backlog is through, so the note comes after them. Several workers
share the rows safely: a note is claimed with a conditional update and a lease (a worker that
dies mid-send leaves it to the next one after the lease).

Never to someone who blocked the bot: a person already marked unreachable is not owed a note
(nor sent one later), and a note refused as ``blocked`` is dropped (the notifier marks them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.clock import Clock
from core.db.engine import Database
from core.db.tables import deliveries as _deliveries
from core.db.tables import identities as _identities
from core.db.tables import users as _users
from core.kernel.notify import DeliveryResult, DeliveryStatus
from core.kernel.types import Message, Outbound
from core.observe.context import ref

logger = logging.getLogger(__name__)

#: ``deliveries.kind`` of an owed note.
KIND: Final = "undelivered"
#: What the person reads (short; the platform's name is not needed to be honest).
NOTE: Final = (
    "⚠️ Sorry — one of my replies couldn't get through just now. /today shows where you are."
)
#: How long a claimed note belongs to the worker sending it.
LEASE: Final = timedelta(minutes=2)
#: Attempts of one note before it is dropped (a chat the bot can no longer write to).
MAX_ATTEMPTS: Final = 5

Send = Callable[[str, Sequence[Outbound]], Awaitable[DeliveryResult]]


def key(platform: str, chat_id: str) -> str:
    """The idempotency key that keeps one note owed per chat."""
    return f"{KIND}:{platform}:{chat_id}"


@dataclass(frozen=True, slots=True)
class Owed:
    """One owed note as read from the database."""

    id: uuid.UUID
    chat_id: str
    attempts: int


async def owe(db: Database, platform: str, chat_id: str, now: datetime) -> bool:
    """Record that ``chat_id`` is owed the note; False when it already is, or when the person
    behind a private chat is unreachable (they blocked the bot: nothing more goes to them)."""
    async with db.transaction() as session:
        person = (
            await session.execute(
                select(_users.c.id, _users.c.unreachable)
                .join(_identities, _identities.c.user_id == _users.c.id)
                .where(_identities.c.platform == platform, _identities.c.external_id == chat_id)
            )
        ).first()
        if person is not None and person.unreachable:
            return False
        values = {
            "id": uuid.uuid4(),
            "idempotency_key": key(platform, chat_id),
            "user_id": person.id if person is not None else None,
            "kind": KIND,
            "platform": platform,
            "target_chat": chat_id[:64],
            "status": "pending",
            "attempts": 0,
            "due_at": now,
            "created_at": now,
        }
        insert = pg_insert if db.is_postgres else sqlite_insert
        stmt = (
            insert(_deliveries)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[_deliveries.c.idempotency_key])
        )
        result = await session.execute(stmt)
        return bool(result.rowcount)  # type: ignore[attr-defined]


async def owed(db: Database, platform: str, now: datetime) -> list[Owed]:
    """The notes of ``platform`` waiting to be sent (pending, or claimed by a worker whose lease
    ran out), oldest first."""
    async with db.transaction() as session:
        rows = await session.execute(
            select(_deliveries.c.id, _deliveries.c.target_chat, _deliveries.c.attempts)
            .where(
                _deliveries.c.kind == KIND,
                _deliveries.c.platform == platform,
                or_(
                    _deliveries.c.status == "pending",
                    and_(_deliveries.c.status == "sending", _deliveries.c.due_at < now),
                ),
            )
            .order_by(_deliveries.c.created_at)
        )
        return [Owed(r.id, r.target_chat, r.attempts) for r in rows]


async def claim(db: Database, note: Owed, now: datetime) -> bool:
    """Take the note for sending (one worker wins); a note to someone unreachable is dropped."""
    async with db.transaction() as session:
        unreachable = (
            await session.execute(
                select(_users.c.unreachable)
                .join(_deliveries, _deliveries.c.user_id == _users.c.id)
                .where(_deliveries.c.id == note.id)
            )
        ).scalar_one_or_none()
        if unreachable:
            await session.execute(delete(_deliveries).where(_deliveries.c.id == note.id))
            return False
        result = await session.execute(
            update(_deliveries)
            .where(
                _deliveries.c.id == note.id,
                or_(
                    _deliveries.c.status == "pending",
                    and_(_deliveries.c.status == "sending", _deliveries.c.due_at < now),
                ),
            )
            .values(status="sending", due_at=now + LEASE, attempts=_deliveries.c.attempts + 1)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


async def settle(db: Database, note: Owed, result: DeliveryResult, now: datetime) -> None:
    """Record how sending the note went: sent or refused for good → the row is deleted (the
    next outage may owe a new note); failed → pending again, until :data:`MAX_ATTEMPTS`."""
    attempts = note.attempts + 1
    async with db.transaction() as session:
        if result.status is DeliveryStatus.FAILED and attempts < MAX_ATTEMPTS:
            await session.execute(
                update(_deliveries)
                .where(_deliveries.c.id == note.id)
                .values(status="pending", due_at=now, last_error=result.detail[:300] or None)
            )
            return
        await session.execute(delete(_deliveries).where(_deliveries.c.id == note.id))
    if result.status is DeliveryStatus.FAILED:
        logger.warning(
            "gave up the 'reply not delivered' note to %s after %d attempts: %s",
            note.chat_id,
            attempts,
            result.detail,
        )


class OwedNotes:
    """One platform's owed notes: written when a reply is given up, sent once it accepts again.

    Args:
        db: The coach's database.
        platform: ``telegram``, ``discord``, …
        send: The front end's ``notify`` (never raises by contract; a raise counts as failed).
        clock: The coach's clock (leases and row times).
        busy: Whether a chat still has replies waiting to be sent (its note waits for them).
    """

    def __init__(
        self,
        db: Database,
        platform: str,
        send: Send,
        *,
        clock: Clock,
        busy: Callable[[str], bool] | None = None,
    ) -> None:
        self.db = db
        self.platform = platform
        self._send = send
        self._clock = clock
        self._busy = busy or (lambda _chat: False)
        #: Whether the database may hold notes of ours: true at start (a previous run may have
        #: left some), set by :meth:`owe`, cleared by a drain that found nothing left to do.
        self._maybe_owed = True
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def owe(self, chat_id: str) -> None:
        """A reply to ``chat_id`` could not be delivered: owe the chat the note (never raises —
        the caller is a send loop, and a database outage must not stop it)."""
        try:  # safe to run twice (one row per chat), so a database restart is retried
            fresh = await self.db.retrying(
                lambda: owe(self.db, self.platform, chat_id, self._clock())
            )
        except Exception:
            logger.warning(
                "%s: could not record the note owed to %s", self.platform, chat_id, exc_info=True
            )
            return
        self._maybe_owed = True
        if fresh:
            logger.info(
                "%s: a reply to %s was lost; a note is owed",
                self.platform,
                ref(self.platform, chat_id),
            )

    def accepted(self) -> None:
        """The platform just accepted a send: deliver owed notes, if any, in the background."""
        if self._maybe_owed and not self._stopping and (self._task is None or self._task.done()):
            self._maybe_owed = False
            self._task = asyncio.create_task(self._drain(), name=f"{self.platform}-owed-notes")

    async def drain(self) -> None:
        """Deliver what is owed now, and wait for it (tests; :meth:`accepted` runs it in the
        background)."""
        self._maybe_owed = False
        await self._drain()

    async def idle(self) -> None:
        """Wait for a drain in progress to finish (tests)."""
        task = self._task
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    async def close(self, *, grace: float = 5.0) -> None:
        """Let a drain in progress finish the note in hand, then stop (what is left stays owed
        for the next start). Not cancelled outright: a task cancelled inside a database call
        can leave its connection behind; after ``grace`` seconds it is, all the same (a note
        claimed then is sent by the next start, once its lease ran out)."""
        self._stopping = True
        task, self._task = self._task, None
        if task is None or task.done():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), grace)
        if not task.done():
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def _drain(self) -> None:
        try:
            notes = await owed(self.db, self.platform, self._clock())
            for note in notes:
                if self._stopping:
                    return
                if self._busy(note.chat_id):
                    self._maybe_owed = True  # after its backlog: the next accepted send
                    continue
                if not await claim(self.db, note, self._clock()):
                    continue
                try:
                    result = await self._send(note.chat_id, [Message(text=NOTE)])
                except Exception as exc:  # the Notifier contract says never; be safe anyway
                    logger.exception("%s: the notifier raised for an owed note", self.platform)
                    result = DeliveryResult(DeliveryStatus.FAILED, type(exc).__name__)
                await settle(self.db, note, result, self._clock())
                if result.status is DeliveryStatus.FAILED:
                    self._maybe_owed = True  # refusing again: wait for the next accepted send
                    return
        except asyncio.CancelledError:
            raise
        except Exception:
            self._maybe_owed = True
            logger.warning("%s: owed notes could not be sent now", self.platform, exc_info=True)
