"""Broadcasts: an admin's message to every musician, durable and resumable.

1. ``/admin broadcast <text>`` stores a *draft* (``broadcasts`` row) and shows a preview with
   the audience: who gets it, who is skipped (opted out, unreachable, only on the terminal).
2. Confirming writes one ``deliveries`` row per recipient (kind ``broadcast``, status
   ``pending``, idempotency key ``broadcast:<id>:<user>``, unique, and ``broadcast_id``) in one
   transaction: the database now knows exactly who is owed the message. The rows come due
   spread over a window (one second per ten recipients, at most an hour; a stable offset per
   broadcast and person, :func:`spread_offset`) rather than all at once, and the messages say
   they are a broadcast (:class:`~core.kernel.types.NoticeKind`), so a front end sends them
   after replies and reminders.
3. :class:`BroadcastSender` (a background job of ``coach run``) claims pending rows in small
   batches through the claimer the reminder tick uses too (:mod:`core.jobs.claim`: ``FOR
   UPDATE SKIP LOCKED`` on PostgreSQL, so several workers share the work without sending
   anything twice, and a lease), sends each through the platform's
   :class:`~core.kernel.notify.Notifier` (the front end's own rate limiter paces it), and
   records the outcome per row: ``sent``, ``skipped`` (opted out or unreachable by the time
   it is their turn, or blocked the bot — which also marks them unreachable and pauses their
   reminders, :func:`core.accounts.reachability.mark_unreachable`) or, after three
   failed attempts, ``failed``.
4. Progress goes to the admin's chat every tenth of the way, and the final count once. The
   final counts are stored on the ``broadcasts`` row with ``done``: housekeeping
   (:mod:`core.housekeeping`) later deletes the delivery rows of old finished broadcasts, and
   ``/admin broadcasts`` reads the stored counts, so an old broadcast still shows its outcome.

Crash behaviour: a claimed row is ``sending`` with a lease (``due_at``). A sender that is
cancelled (SIGTERM) lets the messages in flight (at most ``concurrency``, 8) finish and be
recorded, and hands the rest of its batch back; a process that dies outright leaves its batch
leased until the lease runs out, then another sender takes it. Only the few messages in
flight at a hard kill can arrive twice (at-least-once for those); every other musician gets
it exactly once.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Select, and_, bindparam, func, insert, literal_column, select, text, update

from core.accounts.reachability import mark_unreachable
from core.clock import Clock
from core.db.engine import Database
from core.db.executor import SQLAlchemyExecutor
from core.db.models import OPEN_BROADCAST_ROWS
from core.db.tables import (
    broadcasts as _broadcasts,
)
from core.db.tables import (
    deliveries as _deliveries,
)
from core.db.tables import (
    identities as _identities,
)
from core.db.tables import (
    users as _users,
)
from core.jobs.claim import Claim, claim
from core.jobs.runner import Job, JobRunner
from core.kernel.markup import bold, esc
from core.kernel.notify import DeliveryResult, DeliveryStatus, Notifier
from core.kernel.types import Message, NoticeKind, Outbound
from core.observe.context import ref

logger = logging.getLogger(__name__)

#: Longest broadcast text (characters); one Telegram message holds 4096.
MAX_TEXT: Final = 2000
#: A draft not confirmed within this time can no longer be sent.
DRAFT_TTL: Final = timedelta(hours=1)
#: Platforms with an inbox; a person known only on the terminal can't receive notices.
NOTICE_PLATFORMS: Final = ("telegram", "discord")
#: Attempts before a failing delivery is given up.
MAX_ATTEMPTS: Final = 3
KIND: Final = "broadcast"
#: The sender's name on the job runner.
JOB_ID: Final = "broadcasts"
#: A broadcast's deliveries come due spread over one second per this many recipients ...
SPREAD_PER_SECOND: Final = 10
#: ... and at most this long: the wave of a big broadcast is spread over its hour.
SPREAD_MAX: Final = timedelta(hours=1)
#: The end states of a delivery; a finished broadcast keeps their counts in same-named columns.
_FINAL: Final = ("sent", "skipped", "failed")


def key(broadcast_id: uuid.UUID, user_id: uuid.UUID) -> str:
    """The idempotency key of one recipient's delivery."""
    return f"{KIND}:{broadcast_id.hex}:{user_id.hex}"


def broadcast_of(idempotency_key: str) -> uuid.UUID:
    """The broadcast a delivery key belongs to."""
    return uuid.UUID(idempotency_key.split(":")[1])


def _final(counts: Mapping[str, int]) -> dict[str, int]:
    """The ``broadcasts`` column values that keep a finished broadcast's counts."""
    return {status: counts.get(status, 0) for status in _FINAL}


@dataclass(frozen=True, slots=True)
class Audience:
    """Who a broadcast would reach now, and who it skips."""

    recipients: int
    opted_out: int
    unreachable: int
    no_inbox: int


async def _recipients(db: Database) -> tuple[list[tuple[uuid.UUID, str, str]], Audience]:
    """(user, platform, chat) per recipient — their oldest identity with an inbox."""
    async with db.transaction() as session:
        rows = (
            await session.execute(
                select(
                    _users.c.id,
                    _users.c.broadcasts_opt_out,
                    _users.c.unreachable,
                    _identities.c.platform,
                    _identities.c.external_id,
                )
                .outerjoin(
                    _identities,
                    and_(
                        _identities.c.user_id == _users.c.id,
                        _identities.c.platform.in_(NOTICE_PLATFORMS),
                    ),
                )
                .order_by(_users.c.id, _identities.c.created_at, _identities.c.platform)
            )
        ).all()
    chosen: dict[uuid.UUID, Any] = {}
    for row in rows:
        chosen.setdefault(row.id, row)
    recipients, opted, unreachable, no_inbox = [], 0, 0, 0
    for row in chosen.values():
        if row.broadcasts_opt_out:
            opted += 1
        elif row.unreachable:
            unreachable += 1
        elif row.platform is None:
            no_inbox += 1
        else:
            recipients.append((row.id, row.platform, row.external_id))
    return recipients, Audience(len(recipients), opted, unreachable, no_inbox)


async def audience(db: Database) -> Audience:
    """Who a broadcast sent now would reach."""
    return (await _recipients(db))[1]


async def draft(
    db: Database,
    text: str,
    *,
    created_by: uuid.UUID | None,
    report_platform: str,
    report_chat: str,
    now: datetime,
) -> uuid.UUID:
    """Store a draft; nothing is sent until :func:`confirm`."""
    if not text.strip() or len(text) > MAX_TEXT:
        raise ValueError("broadcast text must be 1–2000 characters")
    broadcast_id = uuid.uuid4()
    async with db.transaction() as session:
        await session.execute(
            insert(_broadcasts).values(
                id=broadcast_id,
                text=text,
                status="draft",
                created_by=created_by,
                report_platform=report_platform,
                report_chat=report_chat,
                recipients=0,
                created_at=now,
            )
        )
    return broadcast_id


def message(text: str) -> list[Outbound]:
    """What a musician receives (the admin's words, escaped: they are shown as typed)."""
    return [
        Message(
            text=f"📣 {esc(text)}\n\n_/broadcasts off stops these messages._",
            notice=NoticeKind.BROADCAST,
        )
    ]


@dataclass(frozen=True, slots=True)
class Confirmed:
    """The outcome of confirming a draft."""

    ok: bool
    recipients: int = 0
    reason: str = ""


def spread_window(recipients: int) -> timedelta:
    """How long after confirming the last delivery of a broadcast to ``recipients`` comes due:
    whole seconds, one per :data:`SPREAD_PER_SECOND` recipients, at most :data:`SPREAD_MAX`.

    Spread so that a big broadcast does not come due as one block that the sender leases and
    queues at once: its rows come due at about 10 a second — a third of Telegram's cap, the
    rest left for replies and reminders — and more slowly than the sender can send them, so
    few are leased at a time while the front end's scheduler holds them back for higher
    classes (a row waiting there holds its lease). A broadcast to fewer than ten goes at once.
    """
    seconds = min(recipients // SPREAD_PER_SECOND, int(SPREAD_MAX.total_seconds()))
    return timedelta(seconds=seconds)


def spread_offset(broadcast_id: uuid.UUID, user_id: uuid.UUID, window: timedelta) -> timedelta:
    """A recipient's place in the window, in whole seconds: stable for this broadcast and
    person (a hash of both, so a re-run of the same rows gives the same times, and the same
    people are not always last), evenly spread over many recipients."""
    seconds = int(window.total_seconds())
    if seconds <= 0:
        return timedelta(0)
    digest = hashlib.blake2b(broadcast_id.bytes + user_id.bytes, digest_size=8).digest()
    return timedelta(seconds=int.from_bytes(digest, "big") % (seconds + 1))


async def confirm(db: Database, broadcast_id: uuid.UUID, now: datetime) -> Confirmed:
    """Turn a draft into one pending delivery per recipient, in one transaction, due over
    the broadcast's :func:`spread_window` (each at its :func:`spread_offset`).

    A second press (or a second admin) finds the draft no longer a draft and changes nothing.
    """
    recipients, _ = await _recipients(db)
    window = spread_window(len(recipients))
    async with db.transaction() as session:
        row = (
            await session.execute(
                select(_broadcasts.c.status, _broadcasts.c.created_at)
                .where(_broadcasts.c.id == broadcast_id)
                .with_for_update()
            )
        ).first()
        if row is None:
            return Confirmed(False, reason="unknown")
        if row.status != "draft":
            return Confirmed(False, reason=row.status)
        if now - row.created_at > DRAFT_TTL:
            await session.execute(
                update(_broadcasts).where(_broadcasts.c.id == broadcast_id).values(status="expired")
            )
            return Confirmed(False, reason="expired")
        if recipients:
            await session.execute(
                insert(_deliveries),
                [
                    {
                        "id": uuid.uuid4(),
                        "idempotency_key": key(broadcast_id, user_id),
                        "broadcast_id": broadcast_id,
                        "user_id": user_id,
                        "kind": KIND,
                        "platform": platform,
                        "target_chat": chat,
                        "status": "pending",
                        "attempts": 0,
                        "due_at": now + spread_offset(broadcast_id, user_id, window),
                        "created_at": now,
                    }
                    for user_id, platform, chat in recipients
                ],
            )
        await session.execute(
            update(_broadcasts)
            .where(_broadcasts.c.id == broadcast_id)
            .values(
                status="sending" if recipients else "done",
                recipients=len(recipients),
                confirmed_at=now,
                finished_at=None if recipients else now,
                **({} if recipients else _final({})),
            )
        )
    return Confirmed(True, len(recipients))


async def drop(db: Database, broadcast_id: uuid.UUID) -> bool:
    """Cancel a draft; False when it was no longer a draft."""
    async with db.transaction() as session:
        result = await session.execute(
            update(_broadcasts)
            .where(_broadcasts.c.id == broadcast_id, _broadcasts.c.status == "draft")
            .values(status="cancelled")
        )
    return bool(getattr(result, "rowcount", 0))


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a broadcast stands."""

    broadcast_id: uuid.UUID
    status: str
    text: str
    recipients: int
    counts: Mapping[str, int]
    created_at: datetime

    @property
    def handled(self) -> int:
        """Deliveries that reached an end (sent, skipped or failed)."""
        return sum(v for k, v in self.counts.items() if k in {"sent", "skipped", "failed"})

    def summary(self) -> str:
        """``"990 sent, 5 skipped, 5 failed"``."""
        c = self.counts
        return (
            f"{c.get('sent', 0):,} sent, {c.get('skipped', 0):,} skipped, "
            f"{c.get('failed', 0):,} failed"
        )


async def progress(db: Database, broadcast_id: uuid.UUID) -> Progress | None:
    """Counts by delivery status of one broadcast.

    A finished broadcast's counts were stored with it (its delivery rows may be gone by now);
    otherwise they are counted from its delivery rows.
    """
    async with db.transaction() as session:
        row = (
            await session.execute(select(_broadcasts).where(_broadcasts.c.id == broadcast_id))
        ).first()
        if row is None:
            return None
        if row.sent is not None:
            counts = {status: int(getattr(row, status) or 0) for status in _FINAL}
        else:
            counts = dict(
                (
                    await session.execute(
                        select(_deliveries.c.status, func.count())
                        .where(_deliveries.c.broadcast_id == broadcast_id)
                        .group_by(_deliveries.c.status)
                    )
                )
                .tuples()
                .all()
            )
    return Progress(row.id, row.status, row.text, row.recipients, counts, row.created_at)


async def recent(db: Database, limit: int = 5) -> list[Progress]:
    """The latest broadcasts with their counts, newest first."""
    async with db.transaction() as session:
        ids = list(
            (
                await session.execute(
                    select(_broadcasts.c.id)
                    .where(_broadcasts.c.status != "draft")
                    .order_by(_broadcasts.c.created_at.desc())
                    .limit(limit)
                )
            ).scalars()
        )
    found = [await progress(db, i) for i in ids]
    return [p for p in found if p is not None]


# ---------------------------------------------------------------------------------- sending


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: uuid.UUID
    key: str
    user_id: uuid.UUID | None
    platform: str
    chat: str
    attempts: int
    opted_out: bool
    unreachable: bool


#: Open broadcast rows due by ``:now`` on ``:platforms``, oldest first (:mod:`core.jobs.claim`).
#: The lease is the row itself: ``sending``, an attempt counted, due again at ``:until`` — a
#: sender that dies leaves it to be claimed once that passes. The open-row condition is written
#: as the partial index's own predicate (:data:`~core.db.models.OPEN_BROADCAST_ROWS`, literals
#: rather than parameters), so the poll walks that index instead of every delivery row ever
#: written. ``platforms`` is an expanding ``IN``: this claim runs through SQLAlchemy on both
#: backends, never on the asyncpg hot path.
OPEN_ROWS = Claim(
    _deliveries,
    claimable=(
        text(OPEN_BROADCAST_ROWS),
        _deliveries.c.platform.in_(bindparam("platforms", expanding=True)),
        _deliveries.c.due_at <= bindparam("now"),
    ),
    order_by=(_deliveries.c.due_at, _deliveries.c.id),
    lease={
        "status": literal_column("'sending'"),
        "attempts": _deliveries.c.attempts + literal_column("1"),
        "due_at": bindparam("until"),
    },
    returning=(
        _deliveries.c.id,
        _deliveries.c.idempotency_key,
        _deliveries.c.user_id,
        _deliveries.c.platform,
        _deliveries.c.target_chat,
        _deliveries.c.attempts,
    ),
)


def claim_statement(
    platforms: list[str], now: datetime, batch: int, *, dialect: str = "postgresql"
) -> Select[Any]:
    """The rows the sender's claim would take, with these values bound (to look at the plan
    of its poll: the claim's inner ``SELECT``, :meth:`core.jobs.claim.Claim.choosing`)."""
    return OPEN_ROWS.choosing(dialect).params(platforms=platforms, now=now, limit=batch)


class BroadcastSender:
    """Sends pending broadcast deliveries through the notifiers of this process.

    Args:
        db: The database.
        notifiers: Notifier per platform; rows of other platforms are left for another process.
        batch: Rows claimed per transaction.
        concurrency: Rows of a batch sent at once. One at a time, each send waits for its
            slot and then for its row's write, so the broadcast alone could not keep the
            front end's scheduler fed at the platform's pace (not measured apart: the
            benchmark ran with 8); a few in flight can. At a hard kill these few may arrive
            twice.
        lease: How long a claimed row is reserved for this sender.
        idle: Seconds between looks for work when there is none.
    """

    def __init__(
        self,
        db: Database,
        notifiers: Mapping[str, Notifier],
        *,
        batch: int = 20,
        concurrency: int = 8,
        lease: timedelta = timedelta(minutes=2),
        idle: float = 2.0,
        clock: Clock,
    ) -> None:
        self.db = db
        self.notifiers = dict(notifiers)
        self.batch = batch
        self.concurrency = concurrency
        self.lease = lease
        self.idle = idle
        self._clock = clock
        self._texts: dict[uuid.UUID, str] = {}
        self._reported: dict[uuid.UUID, int] = {}

    @property
    def clock(self) -> Clock:
        """The process's one clock (read-only)."""
        return self._clock

    def job(self) -> Job:
        """The sender as a job: every ``idle`` seconds a look for due rows, and a run drains
        everything due. Stopping cancels it, which finishes the message in flight and hands
        the rest of the batch back (:meth:`run_once`). A long run is no overrun: a broadcast
        to thousands takes minutes at the platforms' pace."""
        return Job(
            JOB_ID,
            self.drain,
            every=timedelta(seconds=self.idle),
            label="broadcast sender",
            warns=False,
            cancel_on_stop=True,
        )

    async def drain(self) -> int:
        """Batch after batch until none is due. Returns rows handled."""
        handled = 0
        while done := await self.run_once():
            handled += done
        return handled

    async def run(self) -> None:
        """Send until cancelled, on a job runner of its own (a ``coach`` process runs
        :meth:`job` on its one runner instead); a cancelled sender finishes the message in
        flight first."""
        runner = JobRunner(clock=self.clock)
        runner.add(self.job())
        await runner.start()
        try:
            await asyncio.Event().wait()  # until cancelled
        finally:
            await runner.stop()

    async def run_once(self) -> int:
        """Claim one batch, send it, record it, report progress. Returns rows handled."""
        if not self.notifiers:
            return 0
        claimed = await self._claim()
        for broadcast_id in {broadcast_of(row.key) for row in claimed}:
            # read once before the sends: a read inside them would fail (not be retried) if
            # the database went away while the first messages were on their way
            await self._text(broadcast_id)
        gate = asyncio.Semaphore(self.concurrency)
        started: set[uuid.UUID] = set()

        async def send(row: _Claimed) -> None:
            async with gate:
                started.add(row.id)
                await self._deliver(row)

        sends = [asyncio.ensure_future(send(row)) for row in claimed]
        everything = asyncio.gather(*sends, return_exceptions=True)
        try:
            outcomes = await asyncio.shield(everything)
        except asyncio.CancelledError:
            for row, task in zip(claimed, sends, strict=True):
                if row.id not in started:
                    task.cancel()
            # the messages in flight may be on their way: let them finish and be recorded
            await asyncio.gather(*sends, return_exceptions=True)
            await self._release([r.id for r in claimed if r.id not in started])
            raise
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        touched = {broadcast_of(row.key) for row in claimed}
        for broadcast_id in touched:
            await self._report(broadcast_id)
        return len(claimed)

    async def _claim(self) -> list[_Claimed]:
        now = self.clock()
        async with self.db.transaction() as session:
            rows = await claim(
                SQLAlchemyExecutor(await session.connection()),
                OPEN_ROWS,
                now=now,
                lease=self.lease,
                limit=self.batch,
                params={"platforms": sorted(self.notifiers)},
            )
            if not rows:
                return []
            people = {
                r.id: r
                for r in await session.execute(
                    select(_users.c.id, _users.c.broadcasts_opt_out, _users.c.unreachable).where(
                        _users.c.id.in_([user for _, _, user, *_ in rows if user is not None])
                    )
                )
            }
        claimed = []
        for row_id, row_key, user_id, platform, chat, attempts in rows:
            person = people.get(user_id)
            claimed.append(
                _Claimed(
                    row_id,
                    row_key,
                    user_id,
                    platform,
                    chat,
                    attempts,  # this one counted already (the claim's lease)
                    bool(person.broadcasts_opt_out) if person is not None else True,
                    bool(person.unreachable) if person is not None else True,
                )
            )
        return claimed

    async def _text(self, broadcast_id: uuid.UUID) -> str | None:
        if broadcast_id not in self._texts:
            async with self.db.transaction() as session:
                text = (
                    await session.execute(
                        select(_broadcasts.c.text).where(_broadcasts.c.id == broadcast_id)
                    )
                ).scalar_one_or_none()
            if text is None:
                return None
            self._texts[broadcast_id] = text
        return self._texts[broadcast_id]

    async def _deliver(self, row: _Claimed) -> None:
        if row.opted_out or row.unreachable:
            reason = "opted out" if row.opted_out else "unreachable"
            await self._record(row, "skipped", reason)
            return
        text = await self._text(broadcast_of(row.key))
        if text is None:
            await self._record(row, "skipped", "broadcast gone")
            return
        result = await _notify(self.notifiers[row.platform], row.chat, message(text))
        if result.status is DeliveryStatus.SENT:
            await self._record(row, "sent", None)
        elif result.status is DeliveryStatus.BLOCKED:
            await self._record(row, "skipped", f"blocked: {result.detail}"[:300], block=True)
        elif row.attempts >= MAX_ATTEMPTS:
            await self._record(row, "failed", result.detail[:300] or "failed")
        else:
            retry_at = self.clock() + timedelta(seconds=30 * row.attempts)
            await self._record(row, "pending", result.detail[:300] or "failed", due=retry_at)

    async def _record(
        self,
        row: _Claimed,
        status: str,
        error: str | None,
        *,
        block: bool = False,
        due: datetime | None = None,
    ) -> None:
        now = self.clock()
        values: dict[str, Any] = {"status": status, "last_error": error}
        if status == "sent":
            values["sent_at"] = now
        if due is not None:
            values["due_at"] = due

        async def write() -> None:
            async with self.db.transaction() as session:
                await session.execute(
                    update(_deliveries).where(_deliveries.c.id == row.id).values(**values)
                )
                if block and row.user_id is not None:  # as every part that learns of a block
                    await mark_unreachable(
                        SQLAlchemyExecutor(await session.connection()), [row.user_id]
                    )

        # The message is out: record it through a database restart rather than leave the row
        # leased to be sent again. Safe to repeat: it sets absolute values.
        await self.db.retrying(write)

    async def _release(self, ids: list[uuid.UUID]) -> None:
        """Hand claimed rows back (this sender is stopping before it got to them)."""
        if not ids:
            return

        async def write() -> None:
            async with self.db.transaction() as session:
                await session.execute(
                    update(_deliveries)
                    .where(_deliveries.c.id.in_(ids), _deliveries.c.status == "sending")
                    .values(
                        status="pending", due_at=self.clock(), attempts=_deliveries.c.attempts - 1
                    )
                )

        await self.db.retrying(write)  # repeatable: only rows still "sending" are handed back

    async def _report(self, broadcast_id: uuid.UUID) -> None:
        """Progress to the admin every tenth of the way; the final count exactly once."""
        state = await progress(self.db, broadcast_id)
        if state is None or state.recipients == 0:
            return
        open_rows = state.counts.get("pending", 0) + state.counts.get("sending", 0)
        final = False
        if open_rows == 0:
            async with self.db.transaction() as session:
                result = await session.execute(
                    update(_broadcasts)
                    .where(_broadcasts.c.id == broadcast_id, _broadcasts.c.status == "sending")
                    .values(status="done", finished_at=self.clock(), **_final(state.counts))
                )
            final = bool(getattr(result, "rowcount", 0))
            if not final:
                return
        tenth = state.handled * 10 // state.recipients
        if not final and tenth <= self._reported.get(broadcast_id, 0):
            return
        self._reported[broadcast_id] = tenth
        if final:
            text = f"📣 {bold('Broadcast finished')}: {state.summary()}."
            logger.info("broadcast %s finished: %s", broadcast_id, state.summary())
        else:
            text = (
                f"📣 Broadcast: {state.handled:,} of {state.recipients:,} done ({state.summary()})."
            )
        await self._tell_admin(broadcast_id, text)

    async def _tell_admin(self, broadcast_id: uuid.UUID, text: str) -> None:
        async with self.db.transaction() as session:
            row = (
                await session.execute(
                    select(_broadcasts.c.report_platform, _broadcasts.c.report_chat).where(
                        _broadcasts.c.id == broadcast_id
                    )
                )
            ).first()
        if row is None or row.report_platform is None or row.report_chat is None:
            return
        notifier = self.notifiers.get(row.report_platform)
        if notifier is None:
            return  # e.g. an admin on the terminal: /admin broadcasts shows the counts
        await _notify(notifier, row.report_chat, [Message(text=text)])


async def _notify(notifier: Notifier, chat: str, replies: list[Outbound]) -> DeliveryResult:
    """``notifier.notify``, with a raise turned into ``failed`` (retried like any failure).

    The contract says a notifier never raises, but a bug or an unexpected network error in one
    front end must not abort the round: the rest of the batch (other platforms' musicians too)
    would sit leased for minutes, and the raising row would be claimed again and again without
    ever counting as failed. The reminder tick guards its sends the same way.
    """
    try:
        return await notifier.notify(chat, replies)
    except Exception as exc:
        logger.exception(
            "broadcast: the %s notifier raised for chat %s",
            notifier.platform,
            ref(notifier.platform, chat),
        )
        return DeliveryResult(DeliveryStatus.FAILED, type(exc).__name__)
