"""The reminder worker: an APScheduler ``AsyncIOScheduler`` with the tick as its interval job,
and housekeeping (:mod:`core.housekeeping`) as a second, hourly one.

Why one job and not one job per reminder: APScheduler's job stores cannot be shared between
processes (its FAQ), and a job per reminder keeps every reminder in every worker's memory. The
database is the schedule (``reminders.next_due_at``); the scheduler only says "look now", every
``REMINDER_TICK_SECONDS``. Its job lives in the default in-memory store, so nothing of
APScheduler is persisted (no ``SQLAlchemyJobStore`` table outside Alembic). Any number of
processes may run a worker: the claim splits the due rows between them.

A slow tick is never overlapped by the next one, and it costs at most one log line per
:data:`OVERRUN_LOG_EVERY`. With ``max_instances=1`` APScheduler itself refuses the overlapping
run — and logs a WARNING ("maximum number of running instances reached") for every refused
run: one a second with the default interval, which ``coach chat`` printed into the
conversation while a tick hung on a slow database. So the job allows a second instance, and
:meth:`ReminderWorker.run_once` returns at once when a tick is still running, counting the
skip and saying so once. ``coalesce=True`` collapses missed runs into one.

Housekeeping rides on the same scheduler because every ``coach run`` / ``coach chat`` process
already has one: a separate process or cron entry would be one more thing to deploy. Every
worker runs it; on PostgreSQL its batches skip rows another worker is deleting, so N workers
cost N cheap index probes an hour, not N times the work.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from core.clock import Clock
from core.db.engine import Database
from core.db.failures import connection_lost
from core.housekeeping import Housekeeping
from core.kernel.notify import Notifier
from core.reminders.dispatch import DEFAULT_BACKOFF_DAYS
from core.reminders.tick import ReminderTick, TickConfig, TickReport
from core.roadmaps.catalog import CatalogCache
from core.settings import Settings

logger = logging.getLogger(__name__)

JOB_ID = "reminder-tick"
HOUSEKEEPING_JOB_ID = "housekeeping"
#: A tick still running when the next is due is reported at most once per this many seconds.
OVERRUN_LOG_EVERY = 600.0


class ReminderWorker:
    """Runs :class:`ReminderTick` every ``interval`` seconds inside the running event loop, and
    ``housekeeping`` (if given) every ``housekeeping.every``."""

    def __init__(
        self,
        tick: ReminderTick,
        *,
        interval: float = 1.0,
        housekeeping: Housekeeping | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tick = tick
        self.interval = interval
        self.housekeeping = housekeeping
        self.totals = TickReport()
        #: Ticks run so far (finished or failed).
        self.ticks = 0
        #: Runs skipped because the previous tick was still running.
        self.skipped = 0
        self._monotonic = monotonic
        self._tick_started = 0.0
        self._overrun_reported: float | None = None
        self._scheduler: AsyncIOScheduler | None = None
        self._running: asyncio.Task[object] | None = None
        self._housekeeping_run: asyncio.Task[object] | None = None

    @property
    def scheduler(self) -> AsyncIOScheduler | None:
        """The running scheduler (``None`` before :meth:`start` and after :meth:`stop`)."""
        return self._scheduler

    async def start(self) -> None:
        """Start the scheduler on the current loop; the first tick runs at once."""
        scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), timezone=UTC)
        scheduler.add_job(
            self.run_once,
            "interval",
            seconds=self.interval,
            id=JOB_ID,
            max_instances=2,  # the second only notes that the first overran (run_once)
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),
        )
        if self.housekeeping is not None:
            scheduler.add_job(
                self.housekeep,
                "interval",
                seconds=self.housekeeping.every.total_seconds(),
                id=HOUSEKEEPING_JOB_ID,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
                next_run_time=datetime.now(UTC) + self.housekeeping.first_after,
            )
        scheduler.start()
        self._scheduler = scheduler
        logger.info(
            "reminders: worker %s ticking every %.2f s for %s; housekeeping %s",
            self.tick.worker,
            self.interval,
            ", ".join(self.tick.notifiers) or "no platform",
            f"every {self.housekeeping.every}" if self.housekeeping is not None else "off",
        )

    async def run_once(self) -> TickReport:
        """One tick; a failure is logged (the next tick tries again), never raised.

        If the previous tick is still running, nothing is done: the skip is counted, and
        reported at most once per :data:`OVERRUN_LOG_EVERY`.
        """
        if self._running is not None and not self._running.done():
            self._overran()
            return TickReport()
        self._running = asyncio.current_task()
        self._tick_started = self._monotonic()
        try:
            report = await self.tick.run()
        except Exception as exc:
            if connection_lost(exc):  # the database logs one warning per outage
                logger.debug("reminder tick: database unreachable; trying on the next tick")
            else:
                logger.exception("reminder tick failed; retrying on the next tick")
            return TickReport()
        finally:
            self._running = None
            self.ticks += 1
        self.totals.add(report)
        self.totals.lateness.clear()  # the totals keep counts only (memory stays flat)
        if report.claimed:
            logger.info(
                "reminders: %d claimed, %d sent, %d skipped, %d blocked, %d failed",
                report.claimed,
                report.sent,
                report.skipped,
                report.blocked,
                report.failed,
            )
        return report

    def _overran(self) -> None:
        self.skipped += 1
        now = self._monotonic()
        last = self._overrun_reported
        if last is not None and now - last < OVERRUN_LOG_EVERY:
            return
        self._overrun_reported = now
        logger.warning(
            "reminders: a tick has been running for %.0f s (interval %.2f s); the next ticks "
            "are skipped until it ends (%d skipped so far; said at most every %.0f min)",
            now - self._tick_started,
            self.interval,
            self.skipped,
            OVERRUN_LOG_EVERY / 60,
        )

    async def housekeep(self) -> None:
        """One housekeeping run (the second job); it logs its own failures."""
        if self.housekeeping is None:
            return
        self._housekeeping_run = asyncio.current_task()
        try:
            await self.housekeeping.run_once()
        finally:
            self._housekeeping_run = None

    async def stop(self, *, grace_seconds: float = 10.0) -> None:
        """Stop scheduling and let a tick in progress finish (it records what it sent).

        A housekeeping run in progress stops after its current batch (each batch is its own
        transaction, so what it leaves is simply deleted by the next run).
        """
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        if self.housekeeping is not None:
            self.housekeeping.stop()
        for running, what in (
            (self._running, "reminder tick still running at shutdown; its claims will expire"),
            (self._housekeeping_run, "housekeeping still running at shutdown; it is cut short"),
        ):
            if running is not None and not running.done():
                try:
                    await asyncio.wait_for(asyncio.shield(running), grace_seconds)
                except TimeoutError:
                    logger.warning(what)


def from_settings(
    db: Database,
    notifiers: Mapping[str, Notifier],
    settings: Settings,
    *,
    clock: Clock,
    catalog: CatalogCache | None = None,
) -> ReminderWorker:
    """The worker a ``coach`` process runs, configured by ``REMINDER_*`` and ``RETENTION_*``."""
    config = TickConfig(
        batch_size=settings.reminder_batch_size,
        grace=timedelta(minutes=settings.reminder_grace_minutes),
        inactivity_days=settings.inactivity_backoff() or DEFAULT_BACKOFF_DAYS,
    )
    tick = ReminderTick(db, notifiers, clock=clock, catalog=catalog, config=config)
    return ReminderWorker(
        tick,
        interval=settings.reminder_tick_seconds,
        housekeeping=Housekeeping.from_settings(db, settings, clock=clock),
    )
