"""Housekeeping: delete bookkeeping rows that no longer guard anything, a small batch at a time.

Without it ``processed_updates``, ``deliveries`` and ``link_codes`` grow for as long as the bot
runs. What goes, and why each deletion breaks no guarantee:

* **processed_updates** older than ``RETENTION_UPDATES_DAYS`` (7). A row exists to refuse a
  replay of the same platform update. Telegram keeps an undelivered update for at most 24 hours
  and a Discord interaction expires after 15 minutes, so nothing older is ever replayed.
* **Nudge deliveries** (rows with a ``reminder_id``) older than ``RETENTION_DELIVERIES_DAYS``
  (30). The tick never reads ``deliveries`` to decide whether to send: it sends what the
  reminder row says is due (``next_due_at``, under its lease; :mod:`core.reminders.tick`). The
  key, reminder id + due time, makes the *record* exactly-once: a repeat of that key (a retried
  send, a lease another worker took over) counts an attempt instead of adding a row. A key can
  be written again only while the reminder still points at that due time — minutes: retries
  come 1 and 2 minutes later, a lease runs 2 minutes — and a schedule occurrence is sent at all
  only within ``REMINDER_GRACE_MINUTES`` of its due time (:func:`core.reminders.dispatch.plan`
  records an older one as ``skipped``). Once recorded, the row moves on to a later due time, and
  unpausing recomputes it from *now*. So a record older than the window (which settings keep
  longer than the grace window) is never consulted nor written again: deleting it changes no
  send. ``created_at`` is the first record time, at or after the due time.
* **Celebration deliveries** (``kind = 'milestone'``: a milestone's notice, a band channel's
  announcement) older than ``RETENTION_DELIVERIES_DAYS``. What makes a milestone celebrated
  once is its ``milestones`` row (unique per profile and key), inserted in the same
  transaction as the delivery row; the delivery's key is only ever written then. A row a crash
  left ``sending`` (the at-most-once case, :mod:`core.coaching.milestones.consumer`) tells an
  operator which notice was lost for that window, then goes like the rest.
* **Broadcast deliveries of finished broadcasts** (``done``, finished longer ago than the
  deliveries window). Their rows are the send queue while a broadcast is ``sending`` — those are
  never touched. A finished one has nothing left to send, and its final counts were stored on
  its ``broadcasts`` row when it finished (:mod:`core.admin.broadcast`), which is where
  ``/admin broadcasts`` reads them; a broadcast without stored counts keeps its rows.
* **link_codes** past ``expires_at``. Redeeming one already answers "unknown or has expired",
  exactly as for a code that does not exist.
* **band_invites** expired more than ``Retention.invites`` (30 days) ago. An expired invite
  is refused anyway; its row is kept that long only so the refusal can say "has expired"
  rather than "unknown" to someone who opens an old link (core/bands/invites.py).
* **Denied attempts in audit_log** (``outcome = 'denied'``) older than
  ``RETENTION_AUDIT_DENIALS_DAYS`` (90). A denial is evidence while someone might still look
  into it; months later it is noise that anyone can make grow (each refused button press
  writes a row a minute). Every other audit row — admin actions, role grants, broadcasts,
  exports, forgets, refused reloads (``ok``, ``refused``, ``unchanged``) — is the record of
  what was *done*, and is never pruned.

* **Processed outbox events** (``events`` with ``processed_at``) older than
  ``RETENTION_EVENTS_DAYS`` (30, at least 8). The milestone consumer
  (:mod:`core.coaching.milestones`) reads only unprocessed events, and what it decided is kept
  in ``milestones``, so a processed event guards nothing; ``/admin stats`` counts the last
  week's, so the window is longer than that. An unprocessed event is never pruned.

Kept for ever: the rest of ``audit_log``, like every other table.

How: each kind of row is deleted in batches of ``batch_size`` (5 000), one short transaction per
batch — ``DELETE … WHERE ctid IN (SELECT ctid … WHERE <old> LIMIT n)``, ``rowid`` on SQLite —
until a batch comes back short. Every inner SELECT walks an index (``processed_at``,
``deliveries.created_at``, the partial ``deliveries.broadcast_id``, ``link_codes.expires_at``,
``band_invites.expires_at``,
the partial ``audit_log.at`` of denials, ``events (processed_at, created_at)``)
and the DELETE fetches the chosen rows by address, so no batch scans a table or holds locks
for long. On PostgreSQL the inner SELECT takes ``FOR UPDATE SKIP LOCKED``: two
workers pruning at once delete disjoint rows and never wait for each other (or for a row the bot
holds), so running it in every worker is harmless. On SQLite each batch takes the process's
write lock, so the bot's events get their turn between batches.

When: a job of the process's runner (:meth:`Housekeeping.job`, registered by
:mod:`core.app.jobs` next to the reminder tick, whose switch ``REMINDERS_ENABLED`` it shares),
a minute after start and then every ``RETENTION_INTERVAL_MINUTES``; ``coach db prune`` runs
:func:`prune` once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import (
    Delete,
    Select,
    Table,
    any_,
    bindparam,
    delete,
    exists,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.sql.elements import BindParameter, ColumnElement, TextClause

from core.clock import Clock
from core.db.engine import Database
from core.db.models import CELEBRATION_ROWS, DENIED_ROWS, MILESTONE_EVENTS, NUDGE_ROWS
from core.db.tables import (
    audit_log,
    band_invites,
    broadcasts,
    deliveries,
    events,
    link_codes,
    processed_updates,
)
from core.jobs.runner import Job, log_failure
from core.settings import Settings

logger = logging.getLogger(__name__)

#: Its name on the job runner.
JOB_ID = "housekeeping"


@dataclass(frozen=True, slots=True)
class Retention:
    """How long rows are kept, and how many one statement deletes."""

    updates: timedelta = timedelta(days=7)
    deliveries: timedelta = timedelta(days=30)
    audit_denials: timedelta = timedelta(days=90)
    events: timedelta = timedelta(days=30)
    unprocessed_events: timedelta = timedelta(days=90)
    #: After expiry (not a setting: only what an old invite's refusal says depends on it).
    invites: timedelta = timedelta(days=30)
    batch_size: int = 5000

    @classmethod
    def from_settings(cls, settings: Settings) -> Retention:
        """``RETENTION_UPDATES_DAYS``, ``RETENTION_DELIVERIES_DAYS``,
        ``RETENTION_AUDIT_DENIALS_DAYS``, ``RETENTION_EVENTS_DAYS``,
        ``RETENTION_EVENTS_UNPROCESSED_DAYS``, ``RETENTION_BATCH_SIZE``."""
        return cls(
            updates=timedelta(days=settings.retention_updates_days),
            deliveries=timedelta(days=settings.retention_deliveries_days),
            audit_denials=timedelta(days=settings.retention_audit_denials_days),
            events=timedelta(days=settings.retention_events_days),
            unprocessed_events=timedelta(days=settings.retention_events_unprocessed_days),
            batch_size=settings.retention_batch_size,
        )


@dataclass
class PruneReport:
    """Rows deleted by one run."""

    processed_updates: int = 0
    nudge_deliveries: int = 0
    celebration_deliveries: int = 0
    broadcast_deliveries: int = 0
    link_codes: int = 0
    band_invites: int = 0
    audit_denials: int = 0
    events: int = 0

    def per_table(self) -> Mapping[str, int]:
        """Rows deleted per table."""
        return {
            "processed_updates": self.processed_updates,
            "deliveries": self.nudge_deliveries
            + self.celebration_deliveries
            + self.broadcast_deliveries,
            "link_codes": self.link_codes,
            "band_invites": self.band_invites,
            "audit_log": self.audit_denials,
            "events": self.events,
        }

    @property
    def total(self) -> int:
        """Rows deleted in all."""
        return sum(self.per_table().values())

    def add(self, other: PruneReport) -> None:
        """Fold another run's counts into these."""
        self.processed_updates += other.processed_updates
        self.nudge_deliveries += other.nudge_deliveries
        self.celebration_deliveries += other.celebration_deliveries
        self.broadcast_deliveries += other.broadcast_deliveries
        self.link_codes += other.link_codes
        self.band_invites += other.band_invites
        self.audit_denials += other.audit_denials
        self.events += other.events


#: A row's physical address: the outer DELETE fetches exactly the rows the inner SELECT chose.
_ADDRESS: Mapping[str, str] = {"postgresql": "ctid", "sqlite": "rowid"}


def _batch_delete(
    table: Table, *old: ColumnElement[bool] | TextClause, walk: ColumnElement[Any] | None = None
) -> Mapping[str, Delete]:
    """Per dialect: ``DELETE FROM t WHERE ctid = ANY(ARRAY(SELECT ctid FROM t WHERE old ORDER
    BY walk LIMIT :batch FOR UPDATE SKIP LOCKED))``; on SQLite ``rowid IN (SELECT rowid …)``
    without ``FOR UPDATE``.

    Why the row address and not the key: for ``id IN (SELECT id …)`` PostgreSQL's planner
    joined the chosen ids against the whole table (a hash semi join over a sequential scan,
    ~70 ms a batch at 400 000 rows); with ``ctid`` it fetches each chosen row by address (a TID
    scan, ~12 ms). The inner SELECT is what walks the index. Rows this old are no longer
    updated by anyone, and the inner SELECT's row locks keep it so until the DELETE ran.

    Why ``ORDER BY walk`` (the indexed column the predicate ranges over): without it the
    planner may read ``LIMIT n`` of a range as "the first n rows of a sequential scan" — cheap
    if it guesses a third of the table matches (its guess for a range it has no statistics for:
    a generic plan's parameter, or statistics older than the rows). With nothing to delete that
    scan reads the whole table (69 ms a run at 100 000 musicians, issue #18). Ordered by the
    index's column, a sequential scan would have to sort every match first, so the index walk,
    which stops at the first row past the cutoff, is the plan whatever the statistics say.
    """
    statements = {}
    for dialect, address in _ADDRESS.items():
        row: ColumnElement[Any] = literal_column(address)
        chosen = select(row).select_from(table).where(*old)
        if walk is not None:
            chosen = chosen.order_by(walk)
        chosen = chosen.limit(bindparam("batch"))
        if dialect == "postgresql":
            chosen = chosen.with_for_update(skip_locked=True)
            # ctid = ANY(ARRAY(…)): the chosen addresses as one value, so the DELETE is a TID
            # scan in every plan (``ctid IN (…)`` became a hash semi join over a sequential
            # scan of the table in a generic plan, where the LIMIT is a parameter)
            statements[dialect] = delete(table).where(
                row == any_(func.array(chosen.scalar_subquery()))
            )
            continue
        statements[dialect] = delete(table).where(row.in_(chosen))
    return statements


_CUTOFF: BindParameter[datetime] = bindparam("cutoff")

_Old = Callable[[BindParameter[datetime]], tuple[ColumnElement[bool] | TextClause, ...]]

#: Per kind of row: its table, what makes a row old enough (given the cutoff), the indexed
#: column its batches walk. The batch DELETEs and the look before them (:data:`PENDING`) are
#: both built from these, so they cannot disagree.
_KINDS: Mapping[str, tuple[Table, _Old, ColumnElement[Any]]] = {
    "updates": (
        processed_updates,
        lambda cut: (processed_updates.c.processed_at < cut,),
        processed_updates.c.processed_at,
    ),
    # nudge rows by ix_deliveries_nudges_created_at (partial: nudges only; its literal)
    "nudges": (
        deliveries,
        lambda cut: (text(NUDGE_ROWS), deliveries.c.created_at < cut),
        deliveries.c.created_at,
    ),
    # milestone celebrations by ix_deliveries_celebrations_created_at (partial; its literal)
    "celebrations": (
        deliveries,
        lambda cut: (text(CELEBRATION_ROWS), deliveries.c.created_at < cut),
        deliveries.c.created_at,
    ),
    "codes": (link_codes, lambda cut: (link_codes.c.expires_at < cut,), link_codes.c.expires_at),
    "invites": (
        band_invites,
        lambda cut: (band_invites.c.expires_at < cut,),
        band_invites.c.expires_at,
    ),
    # only denials: the predicate is the partial index's own (a literal), so both backends use it
    "denials": (audit_log, lambda cut: (text(DENIED_ROWS), audit_log.c.at < cut), audit_log.c.at),
    # consumed outbox events: ``processed_at < :cutoff`` walks the (processed_at, created_at)
    # index and leaves the unprocessed (NULL) ones out by itself
    "events": (events, lambda cut: (events.c.processed_at < cut,), events.c.processed_at),
    # unprocessed events of a type no milestone comes from (MILESTONE_EVENTS), as old as
    # processed ones may get: only a milestone consumer that is switched off leaves them, and
    # nothing else reads them. The same index: ``processed_at IS NULL``, then ``created_at``.
    # The list is a literal (constants of ours): no expanding parameter, one plan.
    "irrelevant_events": (
        events,
        lambda cut: (
            events.c.processed_at.is_(None),
            events.c.created_at < cut,
            text("type NOT IN ({})".format(", ".join(f"'{t}'" for t in MILESTONE_EVENTS))),
        ),
        events.c.created_at,
    ),
    # any unprocessed event older than Retention.unprocessed_events: a milestone that late is
    # not worth telling, and a queue that old is stuck (its consumer off, or failing on it)
    "stale_events": (
        events,
        lambda cut: (events.c.processed_at.is_(None), events.c.created_at < cut),
        events.c.created_at,
    ),
}


def _kind_delete(kind: str) -> Mapping[str, Delete]:
    table, old, walk = _KINDS[kind]
    return _batch_delete(table, *old(_CUTOFF), walk=walk)


OLD_UPDATES = _kind_delete("updates")
OLD_NUDGES = _kind_delete("nudges")
OLD_CELEBRATIONS = _kind_delete("celebrations")
EXPIRED_CODES = _kind_delete("codes")
EXPIRED_INVITES = _kind_delete("invites")
OLD_DENIALS = _kind_delete("denials")
OLD_EVENTS = _kind_delete("events")
IRRELEVANT_EVENTS = _kind_delete("irrelevant_events")
STALE_EVENTS = _kind_delete("stale_events")
BROADCAST_ROWS = _batch_delete(deliveries, deliveries.c.broadcast_id == bindparam("broadcast_id"))


def _finished_broadcasts(cut: BindParameter[datetime]) -> Select[tuple[uuid.UUID]]:
    return select(broadcasts.c.id).where(
        broadcasts.c.status == "done",
        broadcasts.c.finished_at < cut,
        broadcasts.c.sent.is_not(None),
        exists().where(deliveries.c.broadcast_id == broadcasts.c.id),
    )


#: Finished broadcasts whose counts are stored and which still have delivery rows.
FINISHED_BROADCASTS: Select[tuple[uuid.UUID]] = _finished_broadcasts(_CUTOFF)

#: Whether each kind has anything to delete, in one statement: per kind, its oldest row past
#: the cutoff along the index its batches walk (``ORDER BY walk LIMIT 1``, so the walk is the
#: plan whatever the statistics, as in the batches; an ``EXISTS`` was planned as a sequential
#: scan in a generic plan). Its cutoff is the parameter named after it; ``broadcasts`` takes
#: the nudges' window. Most runs find nothing, and then this is all a run costs: one round trip
#: instead of a transaction per kind.
PENDING: Final = select(
    *(
        select(walk)
        .select_from(table)
        .where(*old(bindparam(kind)))
        .order_by(walk)
        .limit(literal_column("1"))
        .scalar_subquery()
        .is_not(None)
        .label(kind)
        for kind, (table, old, walk) in _KINDS.items()
    ),
    exists(_finished_broadcasts(bindparam("nudges"))).label("broadcasts"),
)


async def _drain(
    db: Database,
    statements: Mapping[str, Delete],
    params: dict[str, Any],
    batch: int,
    stop: Callable[[], bool],
) -> int:
    """Run the statement batch after batch, each in its own transaction, until one is short."""
    stmt = statements[db.dialect]
    total = 0
    while not stop():
        async with db.connection() as conn:
            deleted = (await conn.execute(stmt, {**params, "batch": batch})).rowcount
        total += deleted
        if deleted < batch:
            break
        await asyncio.sleep(0)  # let the bot's own work run between batches
    return total


async def prune(
    db: Database,
    *,
    now: datetime,
    retention: Retention | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> PruneReport:
    """Delete what :mod:`core.housekeeping` says may go; the counts per kind of row.

    ``stop`` is asked before each batch: a stopping worker finishes its current batch only.
    """
    keep = retention or Retention()
    batch = keep.batch_size
    report = PruneReport()
    cutoffs = {
        "updates": now - keep.updates,
        "nudges": now - keep.deliveries,
        "celebrations": now - keep.deliveries,
        "codes": now,
        "invites": now - keep.invites,
        "denials": now - keep.audit_denials,
        "events": now - keep.events,
        "irrelevant_events": now - keep.events,
        "stale_events": now - keep.unprocessed_events,
    }
    async with db.connection() as conn:
        due = (await conn.execute(PENDING, cutoffs)).one()._mapping

    async def drain(kind: str, statements: Mapping[str, Delete]) -> int:
        if not due[kind]:
            return 0
        return await _drain(db, statements, {"cutoff": cutoffs[kind]}, batch, stop)

    report.processed_updates = await drain("updates", OLD_UPDATES)
    report.nudge_deliveries = await drain("nudges", OLD_NUDGES)
    report.celebration_deliveries = await drain("celebrations", OLD_CELEBRATIONS)
    if due["broadcasts"]:
        async with db.connection() as conn:
            finished = list(
                (await conn.execute(FINISHED_BROADCASTS, {"cutoff": cutoffs["nudges"]})).scalars()
            )
        for broadcast_id in finished:
            report.broadcast_deliveries += await _drain(
                db, BROADCAST_ROWS, {"broadcast_id": broadcast_id}, batch, stop
            )
    report.link_codes = await drain("codes", EXPIRED_CODES)
    report.band_invites = await drain("invites", EXPIRED_INVITES)
    report.audit_denials = await drain("denials", OLD_DENIALS)
    report.events = await drain("events", OLD_EVENTS)
    report.events += await drain("irrelevant_events", IRRELEVANT_EVENTS)
    report.events += await drain("stale_events", STALE_EVENTS)
    return report


class Housekeeping:
    """:func:`prune` as a recurring job (:meth:`job`, on the process's job runner).

    Args:
        db: The database.
        retention: What to keep.
        every: Time between runs.
        first_after: Delay of the first run after the runner starts — short, because a process
            restarted more often than ``every`` would otherwise never prune.
        clock: The current time (tests move it).
    """

    def __init__(
        self,
        db: Database,
        retention: Retention | None = None,
        *,
        every: timedelta = timedelta(hours=1),
        first_after: timedelta = timedelta(minutes=1),
        clock: Clock,
    ) -> None:
        self.db = db
        self.retention = retention or Retention()
        self.every = every
        self.first_after = first_after
        self._clock = clock
        #: Runs so far (finished or failed).
        self.runs = 0
        self.totals = PruneReport()
        self._stopping = False

    @property
    def clock(self) -> Clock:
        """The process's one clock (read-only)."""
        return self._clock

    def job(self) -> Job:
        """Housekeeping as a job: ``first_after`` the start, then every ``every``; told to stop,
        a run in progress ends after its current batch."""
        return Job(
            JOB_ID,
            self.prune_once,
            every=self.every,
            first_after=self.first_after,
            label="housekeeping",
            stop=self.stop,
        )

    async def prune_once(self) -> PruneReport:
        """One pass; its failure is raised (the runner logs it; the next run tries again)."""
        try:
            report = await prune(
                self.db, now=self.clock(), retention=self.retention, stop=lambda: self._stopping
            )
        finally:
            self.runs += 1
        self.totals.add(report)
        if report.total:
            logger.info(
                "housekeeping: deleted %s",
                ", ".join(f"{n} {table}" for table, n in report.per_table().items() if n),
            )
        return report

    async def run_once(self) -> PruneReport | None:
        """One pass outside a runner; a failure is logged (as the runner logs it) and gives
        ``None``."""
        try:
            return await self.prune_once()
        except Exception as exc:
            log_failure("housekeeping", exc)
            return None

    def stop(self) -> None:
        """Let a run in progress end after its current batch; no later run does anything."""
        self._stopping = True

    @classmethod
    def from_settings(
        cls, db: Database, settings: Settings, *, clock: Clock
    ) -> Housekeeping | None:
        """The job a ``coach`` process runs, or ``None`` with ``RETENTION_ENABLED=false``."""
        if not settings.retention_enabled:
            return None
        return cls(
            db,
            Retention.from_settings(settings),
            every=timedelta(minutes=settings.retention_interval_minutes),
            clock=clock,
        )
