"""The tick: claim due reminders in batches, send the nudges, record them, advance the rows.

One batch is two short transactions around the sends:

1. **claim** — lease up to ``batch_size`` due rows of one platform (``FOR UPDATE SKIP LOCKED``
   on PostgreSQL, so several workers split the work without waiting on each other), read their
   owners and progress, decide each row (:mod:`core.reminders.dispatch`), commit;
2. **send** — hand each nudge to the platform's :class:`~core.kernel.notify.Notifier`, a
   few at a time (the front end applies the platform's rate limits);
3. **record** — one ``deliveries`` row per nudge under its idempotency key (reminder id + due
   time), the rows advanced to their next due time and released, in one transaction.

A crash between 1 and 3 leaves leased rows; the lease runs out and another worker repeats what
was in flight (at-least-once). ``blocked`` pauses the person's reminders and marks them
unreachable (:func:`core.accounts.reachability.mark_unreachable`, the write every part that
learns of a block uses); ``failed`` is retried after a delay, up to ``max_attempts`` times.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from core.accounts.reachability import mark_unreachable
from core.clock import Clock
from core.db.engine import Database
from core.kernel.notify import DeliveryResult, DeliveryStatus, Notifier
from core.kernel.types import Outbound
from core.reminders import checkin_kind, digest_kind, nudges, plan_kind, review_kind
from core.reminders.dispatch import DEFAULT_BACKOFF_DAYS, Plan, plan
from core.reminders.store import (
    ClaimedRow,
    Owner,
    advance,
    claim,
    owners,
    progress_of,
    record_deliveries,
)
from core.roadmaps.catalog import CatalogCache

logger = logging.getLogger(__name__)

#: The weekly kinds, which read their own rows (core/reminders/weekly.py).
WEEKLY = frozenset({review_kind.KIND, digest_kind.KIND})


@dataclass(frozen=True, slots=True)
class TickConfig:
    """How the tick batches, leases, forgives lateness and retries."""

    batch_size: int = 200
    lease: timedelta = timedelta(seconds=120)
    grace: timedelta = timedelta(hours=2)
    send_concurrency: int = 32
    retry_delay: timedelta = timedelta(seconds=60)
    max_attempts: int = 3
    inactivity_days: tuple[int, ...] = DEFAULT_BACKOFF_DAYS


@dataclass
class TickReport:
    """What one tick did (counts, and the lateness of each sent nudge in seconds)."""

    claimed: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    skipped: int = 0
    rescheduled: int = 0
    lateness: list[float] = field(default_factory=list)

    def add(self, other: TickReport) -> None:
        """Fold another report into this one."""
        self.claimed += other.claimed
        self.sent += other.sent
        self.blocked += other.blocked
        self.failed += other.failed
        self.skipped += other.skipped
        self.rescheduled += other.rescheduled
        self.lateness.extend(other.lateness)


def worker_name() -> str:
    """``host:pid:random`` — who holds a claim (for the logs and for tests)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(slots=True)
class _Job:
    row: ClaimedRow
    plan: Plan
    owner: Owner | None
    message: Outbound | None = None
    result: DeliveryResult | None = None
    sent_at: datetime | None = None
    pause: bool = False


class ReminderTick:
    """Runs ticks for the platforms this process has notifiers for."""

    def __init__(
        self,
        db: Database,
        notifiers: Mapping[str, Notifier],
        *,
        clock: Clock,
        catalog: CatalogCache | None = None,
        config: TickConfig | None = None,
        worker: str | None = None,
    ) -> None:
        self.db = db
        self.notifiers = dict(notifiers)
        self._clock = clock
        self.catalog = catalog or CatalogCache()
        self.config = config or TickConfig()
        self.worker = worker or worker_name()

    @property
    def clock(self) -> Clock:
        """The process's one clock (read-only)."""
        return self._clock

    async def run(self) -> TickReport:
        """One tick: drain every due row of every platform we can deliver to."""
        report = TickReport()
        for platform in self.notifiers:
            while True:
                batch = await self.run_batch(platform)
                report.add(batch)
                if batch.claimed < self.config.batch_size:
                    break
        return report

    async def run_batch(self, platform: str) -> TickReport:
        """Claim, send and record one batch of one platform."""
        jobs = await self._claim(platform)
        report = TickReport(claimed=len(jobs))
        if not jobs:
            return report
        semaphore = asyncio.Semaphore(self.config.send_concurrency)
        notifier = self.notifiers[platform]
        await asyncio.gather(*(self._send(notifier, job, semaphore) for job in jobs))
        await self._record(jobs, report)
        return report

    # ------------------------------------------------------------------ 1. claim

    async def _claim(self, platform: str) -> list[_Job]:
        now, cfg = self.clock(), self.config
        catalog = await self.catalog.current(self.db)
        async with self.db.unit_of_work() as ex:
            rows = await claim(
                ex,
                platform=platform,
                now=now,
                lease=self.config.lease,
                worker=self.worker,
                limit=self.config.batch_size,
            )
            if not rows:
                return []
            found = await owners(ex, [r.id for r in rows])
            numbers = await checkin_kind.stats_of(ex, rows, found)
            jobs = []
            for row in rows:
                owner = found.get(row.id)
                if row.kind == plan_kind.KIND:
                    decided = plan_kind.waiting(row)  # decided once its owner's progress is read
                elif row.kind == checkin_kind.KIND:
                    decided = checkin_kind.plan(row, owner, numbers, catalog, now)
                elif row.kind == review_kind.KIND:
                    decided = review_kind.plan(row, owner, now)
                elif row.kind == digest_kind.KIND:
                    decided = digest_kind.plan(row, owner, now)
                else:
                    decided = plan(row, owner, now, grace=cfg.grace, backoff=cfg.inactivity_days)
                job = _Job(row, decided, owner)
                if row.user_id is not None and owner is not None and owner.unreachable:
                    job.pause = True  # they blocked us (maybe via another worker): stop writing
                jobs.append(job)
            wanted = [
                j.owner.profile_id
                for j in jobs
                if (j.plan.send or j.row.kind == plan_kind.KIND)
                and j.row.kind not in WEEKLY  # a review or digest reads its own rows (below)
                and not j.pause
                and j.owner
                and j.owner.profile_id
            ]
            rows_by_profile = await progress_of(ex, sorted(set(wanted)))
            reviews = await review_kind.inputs(
                ex,
                [(j.row, j.owner) for j in jobs if j.plan.send == review_kind.KIND and not j.pause],
                catalog,
                now,
            )
            digests = await digest_kind.inputs(
                ex,
                [
                    (j.row, j.owner)
                    for j in jobs
                    if j.plan.send == digest_kind.KIND
                    and not j.pause
                    and not (j.owner and j.owner.band_unreachable)  # not sent (below): not read
                ],
                catalog,
                now,
            )
        for job in jobs:
            if job.row.kind == plan_kind.KIND and not job.pause:
                profile_id = job.owner.profile_id if job.owner else None
                progress = rows_by_profile.get(profile_id, []) if profile_id else []
                job.plan, job.message = plan_kind.decide(job.row, job.owner, catalog, progress, now)
            elif job.plan.send == checkin_kind.KIND and not job.pause:
                job.message = checkin_kind.build(job.row, job.owner, numbers, catalog, now)
            elif job.plan.send == review_kind.KIND and not job.pause:
                job.message = review_kind.build(job.owner, reviews)
            elif job.plan.send == digest_kind.KIND and not job.pause:
                job.message = digest_kind.build(job.owner, digests)
            elif job.plan.send and not job.pause:
                profile_id = job.owner.profile_id if job.owner else None
                job.message = nudges.build(
                    job.plan.send,
                    job.row.id,
                    job.owner,
                    catalog,
                    rows_by_profile.get(profile_id, []) if profile_id else [],
                    stage=job.plan.stage,
                )
            if job.owner is not None and job.owner.band_unreachable and job.plan.send:
                # the band's chat is out of reach (core/bands/presence.py): not tried, and
                # the schedule goes on, so the band hears again once the bot is back
                job.plan = replace(job.plan, send=None, skipped="band chat unreachable")
                job.message = None
        return jobs

    # ------------------------------------------------------------------ 2. send

    async def _send(self, notifier: Notifier, job: _Job, semaphore: asyncio.Semaphore) -> None:
        if job.message is None:
            return
        async with semaphore:
            try:
                job.result = await notifier.notify(job.row.target_chat, [job.message])
            except Exception as exc:  # the contract says never raise; a bug must not stop a batch
                logger.exception(
                    "notifier %s raised for reminder %s", notifier.platform, job.row.id
                )
                job.result = DeliveryResult(DeliveryStatus.FAILED, type(exc).__name__)
            job.sent_at = self.clock()

    # ------------------------------------------------------------------ 3. record

    async def _record(self, jobs: list[_Job], report: TickReport) -> None:
        now = self.clock()
        records: list[dict[str, Any]] = []
        advances: list[dict[str, Any]] = []
        blocked_users: set[uuid.UUID] = set()
        owners: list[uuid.UUID | None] = []  # whose reminder each step advances
        for job in jobs:
            row, p = job.row, job.plan
            step: dict[str, Any] = {
                "rid": row.id,
                "next_due": p.next_due,
                "new_stage": p.stage,
                "new_attempts": 0,
                "sent_at": row.last_sent_at,
                "pause": p.next_due is None,
                "retry_at": None,
            }
            if job.pause:
                step.update(pause=True, next_due=row.next_due_at, new_stage=row.stage)
                report.skipped += 1
            elif p.skipped:
                logger.info("reminder %s: nudge due %s skipped (%s)", row.id, p.due, p.skipped)
                if p.key:
                    records.append(self._delivery(job, "skipped", p.skipped[:300], None))
                report.skipped += 1
            elif job.result is None:
                report.rescheduled += 1
            elif job.result.status is DeliveryStatus.SENT:
                records.append(self._delivery(job, "sent", None, job.sent_at))
                step["sent_at"] = job.sent_at
                report.sent += 1
                report.lateness.append(((job.sent_at or now) - p.due).total_seconds())
                if p.coalesced:
                    logger.info("reminder %s: missed nudges coalesced into one", row.id)
            elif job.result.status is DeliveryStatus.BLOCKED:
                records.append(self._delivery(job, "blocked", job.result.detail, None))
                step.update(pause=True, next_due=row.next_due_at, new_stage=row.stage)
                if row.user_id is not None:
                    blocked_users.add(row.user_id)
                report.blocked += 1
            else:
                attempts = row.attempts + 1
                records.append(self._delivery(job, "failed", job.result.detail, None))
                report.failed += 1
                if attempts < self.config.max_attempts:  # keep the due time, retry later
                    step.update(
                        next_due=row.next_due_at,
                        new_stage=row.stage,
                        new_attempts=attempts,
                        pause=False,
                        retry_at=now + self.config.retry_delay * attempts,
                    )
                else:
                    logger.warning("reminder %s: gave up after %d attempts", row.id, attempts)
            advances.append(step)
            owners.append(row.user_id)
        for step, owner in zip(advances, owners, strict=True):
            if owner in blocked_users:  # every reminder of someone who blocked us stays paused
                step["pause"] = True

        async def write() -> None:
            async with self.db.unit_of_work() as ex:
                # The person's row first, then reminders, like a front end reporting the same
                # block (Coach.report_reachability): two writers taking the same locks in the
                # same order wait for each other instead of deadlocking.
                await mark_unreachable(ex, blocked_users)
                await record_deliveries(ex, records)
                await advance(ex, self.worker, advances)

        # The nudges are out: ride out a database restart rather than leave the rows leased
        # (their lease would expire and another tick send them again). Safe to repeat: the
        # delivery records are keyed, and advancing sets absolute values.
        await self.db.retrying(write)

    def _delivery(
        self, job: _Job, status: str, error: str | None, sent_at: datetime | None
    ) -> dict[str, Any]:
        row = job.row
        return {
            "id": uuid.uuid4(),
            "idempotency_key": job.plan.key,
            "reminder_id": row.id,
            "user_id": row.user_id,
            "kind": job.plan.send or row.kind,
            "platform": row.platform,
            "target_chat": row.target_chat,
            "status": status,
            "attempts": 1,
            "last_error": error,
            "due_at": job.plan.due,
            "sent_at": sent_at,
            "created_at": self.clock(),
        }
