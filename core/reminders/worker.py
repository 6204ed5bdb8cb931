"""The reminder worker: the tick as a periodic job (:mod:`core.jobs.runner`), and what the
ticks did so far.

Why one job and not one job per reminder: a job per reminder would keep every reminder in every
worker's memory, and nothing of a job is shared between processes. The database is the
schedule (``reminders.next_due_at``); the job only says "look now", every
``REMINDER_TICK_SECONDS``. Any number of processes may run it: the claim
(:mod:`core.jobs.claim`) splits the due rows between them.

A slow tick is never overlapped by the next one, and it costs at most one log line per
:data:`~core.jobs.runner.OVERRUN_LOG_EVERY` ("reminders: a tick has been running for …"): the
runner's rule for every job. Housekeeping and the broadcast sender are jobs of the same runner
(:mod:`core.app.jobs` registers them), no longer of this worker.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from datetime import timedelta

from core.clock import Clock
from core.db.engine import Database
from core.jobs.runner import OVERRUN_LOG_EVERY, Job, JobRunner, Sleep, log_failure
from core.kernel.notify import Notifier
from core.reminders.dispatch import DEFAULT_BACKOFF_DAYS
from core.reminders.tick import ReminderTick, TickConfig, TickReport
from core.roadmaps.catalog import CatalogCache
from core.settings import Settings

logger = logging.getLogger(__name__)

JOB_ID = "reminder-tick"
__all__ = ["JOB_ID", "OVERRUN_LOG_EVERY", "ReminderWorker", "from_settings"]


class ReminderWorker:
    """Runs :class:`ReminderTick` as a job (:meth:`job`, every ``interval`` seconds) and
    counts what the ticks did.

    A ``coach`` process adds :meth:`job` to its one runner; :meth:`start` / :meth:`stop` run
    it on a runner of its own, for a process that runs nothing but the tick (the multi-process
    tests' ``tests/support/reminder_worker_proc.py``, the benchmark).
    """

    def __init__(
        self,
        tick: ReminderTick,
        *,
        interval: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.tick = tick
        self.interval = interval
        self.totals = TickReport()
        #: Ticks run so far (finished or failed).
        self.ticks = 0
        self._monotonic = monotonic
        self._sleep = sleep
        self._runner: JobRunner | None = None

    def job(self) -> Job:
        """The tick as a job: every ``interval`` seconds, the first at once."""
        return Job(
            JOB_ID,
            self.tick_once,
            every=timedelta(seconds=self.interval),
            label="reminders",
            noun="tick",
            about=(
                f"reminders: worker {self.tick.worker} for "
                f"{', '.join(self.tick.notifiers) or 'no platform'}"
            ),
        )

    async def tick_once(self) -> TickReport:
        """One tick; its failure is raised (the runner logs it and tries on the next run)."""
        try:
            report = await self.tick.run()
        finally:
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

    async def run_once(self) -> TickReport:
        """One tick outside a runner: a failure is logged (as the runner logs it), never raised."""
        try:
            return await self.tick_once()
        except Exception as exc:
            log_failure("reminder tick", exc)
            return TickReport()

    @property
    def skipped(self) -> int:
        """Ticks skipped by :meth:`start`'s runner because the previous was still running."""
        return self._runner.skipped[JOB_ID] if self._runner is not None else 0

    async def start(self) -> None:
        """Run the tick on a runner of its own; the first tick runs at once."""
        runner = JobRunner(clock=self.tick.clock, sleep=self._sleep, monotonic=self._monotonic)
        runner.add(self.job())
        self._runner = runner
        await runner.start()

    async def stop(self, *, grace_seconds: float = 10.0) -> None:
        """Stop ticking and let a tick in progress finish (it records what it sent)."""
        if self._runner is not None:
            await self._runner.stop(grace_seconds=grace_seconds)


def from_settings(
    db: Database,
    notifiers: Mapping[str, Notifier],
    settings: Settings,
    *,
    clock: Clock,
    catalog: CatalogCache | None = None,
) -> ReminderWorker:
    """The worker a ``coach`` process runs, configured by ``REMINDER_*``."""
    config = TickConfig(
        batch_size=settings.reminder_batch_size,
        grace=timedelta(minutes=settings.reminder_grace_minutes),
        inactivity_days=settings.inactivity_backoff() or DEFAULT_BACKOFF_DAYS,
    )
    tick = ReminderTick(db, notifiers, clock=clock, catalog=catalog, config=config)
    return ReminderWorker(tick, interval=settings.reminder_tick_seconds)
