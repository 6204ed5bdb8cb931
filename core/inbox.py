"""The durable inbox: an update is written down before the platform is told it arrived.

Why: Telegram forgets an update once the bot confirms it — in polling, the next ``getUpdates``
carries ``offset = last + 1``; with a webhook, the ``200`` answer. python-telegram-bot's own
poller confirms a batch as soon as it has queued it, before any handler ran, so a ``kill -9`` or
an OOM between that confirmation and the handler's commit lost the rest of the batch for good:
``processed_updates`` refuses a replay, but Telegram never sends a confirmed update again.

So a front end writes each update here first — one statement and one commit per batch — and
confirms only after that commit. Then it hands the update to its handlers; once they are done
the row is deleted (:meth:`Inbox.finished`: gathered and deleted a batch at a time, not one
round trip per update). Whatever a dead process left behind is handled by the next one: the
polling worker (Telegram allows one per token) takes every row at start (:meth:`Inbox.take_all`),
webhook workers take the rows whose lease ran out (:meth:`Inbox.take_orphans`).

Handling an update twice is harmless, which is what makes "handle from the inbox" safe when the
crash came after a handler's commit but before its row was deleted: the conversation refuses a
recorded update id (``processed_updates``, in the same transaction as the change), the admin
desk checks and records it around its own transactions (``core/app/replays.py``), and
the rest (a ``my_chat_member`` reachability flag, answering a button press) is idempotent. What
a replay cannot bring back is a *reply* that was in flight at the crash: the state is right, the
musician may have to ask again (a checklist card catches up on the next press).

A chat's order across webhook workers: each row carries its chat, and a webhook worker handles
an update only once no older row of that chat is left (:meth:`Inbox.wait_turn`) — Telegram sends
a chat's next update only after our answer to the previous one, which comes once that one is
written down here, so an older row still here is an update not handled yet, wherever it is.

A row taken :data:`MAX_ATTEMPTS` times without being finished — an update whose handling kills
the process every time — is dropped with an error in the log, so one poisonous update cannot
keep a worker in a crash loop.

Platform-neutral: rows are keyed by platform and the platform's integer update id, the payload
is the update's JSON as the platform sent it. Only the Telegram front end uses it today (Discord
replays missed gateway events itself and interactions are answered within 3 s or lost anyway).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    any_,
    bindparam,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql import ClauseElement

from core.clock import Clock
from core.db.engine import Database
from core.db.tables import inbox_updates

logger = logging.getLogger(__name__)

#: A worker holds an update it took for this long; then another worker may take it over.
DEFAULT_LEASE: Final = timedelta(seconds=60)
#: Takes of one row after which it is dropped instead of handled again (a poisonous update).
MAX_ATTEMPTS: Final = 5
#: Rows taken per statement when taking over.
TAKE_BATCH: Final = 500
#: Seconds finished updates are gathered before one DELETE removes them all.
FLUSH_EVERY: Final = 0.2

_T = inbox_updates.c
_TZ = _T.claimed_until.type  # UTCDateTime: the same conversion as the column on SQLite


@dataclass(frozen=True, slots=True)
class Entry:
    """One update: the platform's id, its JSON text and its chat (``None``: it has none)."""

    update_id: int
    payload: str
    chat_id: int | None = None


# ---------------------------------------------------------------------------------- statements

# PostgreSQL: the whole batch in one statement (arrays unnested server-side); the binds are
# typed so the asyncpg dialect casts them.
# A row already there is returned only when it is this worker's own: then the write being
# repeated is ours (its commit went through but the answer was lost with the connection), and
# the update must still be handed on; someone else's row is being (or was) handled elsewhere.
_PUT_PG = text(
    "INSERT INTO inbox_updates "
    "(platform, update_id, payload, received_at, claimed_by, claimed_until, attempts, chat_id) "
    "SELECT :for_platform, u.update_id, u.payload, :now, :me, :until, 1, u.chat_id "
    "FROM unnest(:ids, :payloads, :chats) AS u(update_id, payload, chat_id) "
    "ON CONFLICT (platform, update_id) DO UPDATE SET claimed_by = excluded.claimed_by "
    "WHERE inbox_updates.claimed_by = excluded.claimed_by "
    "RETURNING update_id"
).bindparams(
    bindparam("for_platform", type_=String()),
    bindparam("now", type_=_TZ),
    bindparam("me", type_=String()),
    bindparam("until", type_=_TZ),
    bindparam("ids", type_=ARRAY(BigInteger())),
    bindparam("payloads", type_=ARRAY(String())),
    bindparam("chats", type_=ARRAY(BigInteger())),
)
# SQLite (one local process, no round trips to save): one row per execution, one transaction.
_PUT_SQLITE = (
    sqlite_insert(inbox_updates)
    .values(
        platform=bindparam("for_platform"),
        update_id=bindparam("uid"),
        payload=bindparam("body"),
        received_at=bindparam("now"),
        claimed_by=bindparam("me"),
        claimed_until=bindparam("until"),
        attempts=1,
        chat_id=bindparam("chat"),
    )
    .on_conflict_do_update(
        index_elements=[_T.platform, _T.update_id],
        set_={"claimed_by": bindparam("me")},
        where=_T.claimed_by == bindparam("me"),
    )
    .returning(_T.update_id)
)


def _take(*, expired_only: bool, skip_locked: bool) -> ClauseElement:
    """Lease rows not held by this worker (``expired_only``: only those whose lease ran out)."""
    chosen = select(_T.update_id).where(
        _T.platform == bindparam("for_platform", type_=String()),
        _T.claimed_by != bindparam("me", type_=String()),
    )
    if expired_only:
        chosen = chosen.where(_T.claimed_until < bindparam("now", type_=_TZ))
    chosen = chosen.order_by(_T.update_id).limit(bindparam("batch", type_=Integer()))
    if skip_locked:  # two workers taking over at once split the rows instead of waiting
        chosen = chosen.with_for_update(skip_locked=True)
    return (
        update(inbox_updates)
        .where(_T.platform == bindparam("for_platform"), _T.update_id.in_(chosen.scalar_subquery()))
        .values(
            claimed_by=bindparam("me"),
            claimed_until=bindparam("until", type_=_TZ),
            attempts=_T.attempts + literal_column("1"),
        )
        .returning(_T.update_id, _T.payload, _T.attempts, _T.chat_id)
    )


_TAKE = {
    (dialect, expired): _take(expired_only=expired, skip_locked=dialect == "postgresql")
    for dialect in ("postgresql", "sqlite")
    for expired in (False, True)
}
_DONE_PG = inbox_updates.delete().where(
    _T.platform == bindparam("for_platform", type_=String()),
    _T.update_id == any_(bindparam("ids", type_=ARRAY(BigInteger()))),
)
_DONE_SQLITE = inbox_updates.delete().where(
    _T.platform == bindparam("for_platform"),
    _T.update_id.in_(bindparam("ids", expanding=True)),
)
_COUNT = select(_T.update_id).where(_T.platform == bindparam("for_platform", type_=String()))
# The rows of a chat older than an update: what must be handled before it (the index
# ix_inbox_updates_chat; the table only holds what is in flight).
_OLDER = (
    select(_T.update_id)
    .where(
        _T.platform == bindparam("for_platform", type_=String()),
        _T.chat_id == bindparam("chat", type_=BigInteger()),
        _T.update_id < bindparam("uid", type_=BigInteger()),
    )
    .order_by(_T.update_id)
    .limit(bindparam("batch", type_=Integer()))
)
#: First pause between two looks at a chat's older rows; it doubles up to :data:`TURN_POLL_MAX`.
TURN_POLL_MIN: Final = 0.02
TURN_POLL_MAX: Final = 0.2


def _worker_name() -> str:
    """``host:pid:random`` — unique per process start, readable in the table."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


class Inbox:
    """One platform's inbox, as seen by one worker (see the module docstring).

    Args:
        db: The database.
        platform: Whose updates (``"telegram"``).
        clock: The process's one clock (``core/clock.py``; leases are stored timestamps).
        lease: How long an update this worker took stays its own.
        worker: This worker's name (default ``host:pid:random``).
        flush_every: Seconds finished updates are gathered before they are deleted together.
    """

    def __init__(
        self,
        db: Database,
        platform: str,
        *,
        clock: Clock,
        lease: timedelta = DEFAULT_LEASE,
        worker: str | None = None,
        flush_every: float = FLUSH_EVERY,
    ) -> None:
        if lease <= timedelta(0):
            raise ValueError("the inbox lease must be positive")
        self.db = db
        self.platform = platform
        self.lease = lease
        self.clock = clock
        self.worker = (worker or _worker_name())[:64]
        self.flush_every = flush_every
        #: Updates dropped after :data:`MAX_ATTEMPTS` takes (counted for tests and metrics).
        self.dropped = 0
        self._finished: set[int] = set()
        self._wake = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._flush_failing = False

    # ------------------------------------------------------------------ writing down

    async def put(self, entries: Sequence[Entry]) -> set[int]:
        """Write updates down (one transaction; one statement on PostgreSQL), leased to this
        worker. Returns the ids to hand on: the new ones (and any this worker wrote already —
        a repeat after a lost connection). One another worker holds is being (or was) handled.

        A lost connection is retried (``Database.retrying``); anything else, or an outage past
        the retry budget, is raised: then nothing may be confirmed to the platform.
        """
        if not entries:
            return set()
        now = self.clock()
        params = {
            "for_platform": self.platform,
            "now": now,
            "me": self.worker,
            "until": now + self.lease,
        }

        async def write() -> set[int]:
            async with self.db.unit_of_work() as ex:
                if ex.dialect == "postgresql":
                    ids = [e.update_id for e in entries]
                    payloads = [e.payload for e in entries]
                    chats = [e.chat_id for e in entries]
                    rows = await ex.rows(
                        _PUT_PG, {**params, "ids": ids, "payloads": payloads, "chats": chats}
                    )
                    return {int(row[0]) for row in rows}
                mine: set[int] = set()
                for entry in entries:
                    rows = await ex.rows(
                        _PUT_SQLITE,
                        {
                            **params,
                            "uid": entry.update_id,
                            "body": entry.payload,
                            "chat": entry.chat_id,
                        },
                    )
                    mine.update(int(row[0]) for row in rows)
                return mine

        return await self.db.retrying(write)

    # ------------------------------------------------------------------ taking over

    async def take_all(self) -> list[Entry]:
        """Every row this worker does not hold, oldest first: what a dead predecessor left.

        For the only consumer of a platform's updates (Telegram polling: one per token), at
        start. Rows a live webhook worker holds would be taken too — polling and webhook are
        not run at once (polling deletes the webhook).
        """
        return await self._take_pages(expired_only=False)

    async def take_orphans(self) -> list[Entry]:
        """Rows whose lease ran out (their worker died or hung), oldest first."""
        return await self._take_pages(expired_only=True)

    async def _take_pages(self, *, expired_only: bool) -> list[Entry]:
        taken: list[Entry] = []
        while True:
            now = self.clock()
            params = {
                "for_platform": self.platform,
                "me": self.worker,
                "now": now,
                "until": now + self.lease,
                "batch": TAKE_BATCH,
            }
            if not expired_only:
                del params["now"]
            rows = await self.db.retrying(partial(self._lease, params, expired_only))
            for update_id, payload, attempts, chat in sorted(rows, key=lambda row: int(row[0])):
                if attempts > MAX_ATTEMPTS:
                    logger.error(
                        "%s update %s was taken %d times without being handled (each try "
                        "ended the worker?); dropped",
                        self.platform,
                        update_id,
                        attempts - 1,
                    )
                    self.dropped += 1
                    self.finished(int(update_id))
                    continue
                taken.append(Entry(int(update_id), str(payload), chat))
            if len(rows) < TAKE_BATCH:
                return taken

    async def _lease(self, params: dict[str, object], expired_only: bool) -> list[Any]:
        async with self.db.unit_of_work() as ex:
            return list(await ex.rows(_TAKE[(ex.dialect, expired_only)], params))

    # ------------------------------------------------------------------ done

    def finished(self, update_id: int) -> None:
        """The update was handled: its row goes with the next batch of deletions."""
        self._finished.add(update_id)
        self._wake.set()

    async def flush(self) -> int:
        """Delete the rows of every finished update now (one statement); how many were asked.

        A failure keeps them for the next flush (a row left over is handled again after a
        crash, which is harmless, see the module docstring).
        """
        ids, self._finished = self._finished, set()
        if not ids:
            return 0

        async def delete() -> None:
            async with self.db.unit_of_work() as ex:
                if ex.dialect == "postgresql":
                    await ex.run(_DONE_PG, {"for_platform": self.platform, "ids": sorted(ids)})
                else:
                    await ex.run(_DONE_SQLITE, {"for_platform": self.platform, "ids": list(ids)})

        try:
            await self.db.retrying(delete)
        except BaseException as exc:
            self._finished |= ids
            if isinstance(exc, Exception):
                log = logger.debug if self._flush_failing else logger.warning
                log("could not delete %d handled inbox rows (%s); trying again", len(ids), exc)
                self._flush_failing = True
                return 0
            raise
        self._flush_failing = False
        return len(ids)

    def start(self) -> None:
        """Delete finished rows in the background (idempotent)."""
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_loop(), name=f"inbox:{self.platform}")

    async def stop(self) -> None:
        """Stop the background deletions and delete what is finished so far."""
        flusher, self._flusher = self._flusher, None
        if flusher is not None:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
        await self.flush()

    async def _flush_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(self.flush_every)  # gather what finishes meanwhile
            await self.flush()
            if self._finished:  # failed: try again after the pause
                self._wake.set()

    # ------------------------------------------------------------------ a chat's order

    async def wait_turn(
        self,
        update_id: int,
        chat_id: int,
        *,
        sleep: Callable[[float], Awaitable[None]],
        patience: float | None = None,
    ) -> bool:
        """Wait until no older update of ``chat_id`` is left in the inbox (bar the ones this
        worker finished and has not deleted yet); ``True`` then, ``False`` after ``patience``
        seconds of waiting (default: two leases) or when the database cannot be asked.

        Why: with several webhook workers behind a load balancer that is not sticky, a chat's
        updates reach different workers. Telegram sends a chat's next update only after the
        previous one was answered — and the answer comes once it is written down here, not once
        it is handled. So an older row still here is an update another worker (or this one) has
        not finished: waiting for it to go keeps the chat's order across workers. A row whose
        worker died stays until its lease runs out and a worker takes it over and handles it,
        which is what the patience allows for; past it the update goes ahead (logged), so one
        stuck row cannot hold a chat for ever. ``sleep`` is the caller's (its injected timer).
        """
        limit = patience if patience is not None else 2 * self.lease.total_seconds()
        params = {
            "for_platform": self.platform,
            "chat": chat_id,
            "uid": update_id,
            "batch": TAKE_BATCH,
        }
        waited, pause = 0.0, TURN_POLL_MIN
        while True:
            try:
                async with self.db.unit_of_work() as ex:
                    rows = await ex.rows(_OLDER, params)
            except Exception as exc:
                logger.warning(
                    "%s update %s: could not look for its chat's older updates (%s); handled "
                    "without waiting",
                    self.platform,
                    update_id,
                    type(exc).__name__,
                )
                return False
            if all(int(row[0]) in self._finished for row in rows):
                return True
            if waited >= limit:
                logger.warning(
                    "%s update %s handled before %d older update(s) of its chat that were "
                    "still unfinished after %.0f s",
                    self.platform,
                    update_id,
                    len(rows),
                    waited,
                )
                return False
            await sleep(pause)
            waited += pause
            pause = min(pause * 2, TURN_POLL_MAX)

    # ------------------------------------------------------------------ looking

    async def held(self) -> set[int]:
        """The update ids in this platform's inbox now (tests, operators)."""
        async with self.db.unit_of_work() as ex:
            rows = await ex.rows(_COUNT, {"for_platform": self.platform})
        return {int(row[0]) for row in rows}
