"""Periodic jobs: each with an interval, all started and stopped in one place, time injected.

Besides answering events a ``coach`` process has work to do now and then: the reminder tick
(every ``REMINDER_TICK_SECONDS``), the broadcast sender (a look for pending rows every 2 s,
draining what it finds), housekeeping (a minute after start, then every
``RETENTION_INTERVAL_MINUTES``) — and later the weekly reviews. Each is a :class:`Job`; one
:class:`JobRunner` per process runs them (which ones: :mod:`core.app.jobs`). The database is
the schedule of what is due (``reminders.next_due_at``, a broadcast's pending rows); a job only
says "look now". Nothing about jobs is stored, so any number of processes run the same jobs and
their claims (:mod:`core.jobs.claim`) split the work.

The same rules for every job:

* **Never overlapped.** A run still going when the next is due is not joined by a second one:
  the next is skipped and counted (:attr:`JobRunner.skipped`), and a job that ``warns`` says so
  at most once per :data:`OVERRUN_LOG_EVERY` — one line, where APScheduler (which ran the tick
  before) logged a WARNING per refused run, once a second into ``coach chat``'s conversation.
  Missed runs are not made up for: the next run sees everything that is due anyway.
* **A failure is logged, never raised** (:func:`log_failure`); the next run tries again. A lost
  database connection is one DEBUG line per run: the database logs one warning per outage.
* **The last success is remembered**: :attr:`JobRunner.last_success` is when each job last
  finished without raising, by the injected clock, in memory (for a health check to read).
* **Time is injected.** ``sleep`` waits between runs (and for the grace at stop), ``monotonic``
  measures how long a run has been going, ``clock`` stamps successes: a test drives the whole
  schedule with a virtual clock and never waits. Production passes ``asyncio.sleep`` and
  ``time.monotonic`` (the defaults).
* **Stopping** starts no new run, tells each job (``stop``, e.g. housekeeping ends after its
  current batch), cancels the jobs that stop by cancellation (``cancel_on_stop``: the broadcast
  sender lets the message in flight finish and hands the rest of its batch back; awaited until it
  has) and gives the other runs still going ``grace_seconds`` to end (a tick records what it
  sent).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from core.clock import Clock
from core.db.failures import connection_lost

logger = logging.getLogger(__name__)

#: Waits this many seconds (``asyncio.sleep`` in production, a virtual clock in tests).
Sleep = Callable[[float], Awaitable[None]]
#: A run still going when the next is due is reported at most once per this many seconds.
OVERRUN_LOG_EVERY: Final = 600.0


def log_failure(what: str, exc: Exception) -> None:
    """How a failed run is logged (by the runner, and by a job run by hand): a lost database
    connection at DEBUG (the database logs the outage once), anything else with its traceback."""
    if connection_lost(exc):
        logger.debug("%s: database unreachable; trying again on the next run", what)
    else:
        logger.error("%s failed; trying again on the next run", what, exc_info=exc)


@dataclass(frozen=True, slots=True)
class Job:
    """One periodic piece of work.

    Attributes:
        name: Unique within a runner (``reminder-tick``, ``broadcasts``, ``housekeeping``).
        run: One run. Returning is a success; raising is a failure, logged by the runner.
        every: Time from one run's start to the next's.
        first_after: Delay of the first run after :meth:`JobRunner.start`.
        label: How the job's log lines start (default: its name).
        noun: What one run is called in the overrun line ("tick").
        warns: Whether a run outlasting ``every`` is worth a warning. Not for a job whose run
            may rightly take long (the broadcast sender drains a whole broadcast).
        about: Said once at start, after the schedule (which worker, which platforms).
        stop: Told when the runner stops, before it waits for the run in progress.
        cancel_on_stop: Whether a run in progress is cancelled at stop (else awaited).
    """

    name: str
    run: Callable[[], Awaitable[object]]
    every: timedelta
    first_after: timedelta = timedelta(0)
    label: str = ""
    noun: str = "run"
    warns: bool = True
    about: str = ""
    stop: Callable[[], None] | None = None
    cancel_on_stop: bool = False

    @property
    def called(self) -> str:
        """The label of its log lines."""
        return self.label or self.name


class JobRunner:
    """Runs :class:`Job` s on their intervals inside the running event loop.

    Args:
        clock: The process's one clock (stamps :attr:`last_success`).
        sleep: Waits between runs.
        monotonic: Measures how long a run has been going.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._monotonic = monotonic
        self.jobs: dict[str, Job] = {}
        #: When each job last finished without raising (by :attr:`clock`).
        self.last_success: dict[str, datetime] = {}
        #: Runs so far per job (finished, failed or cancelled).
        self.runs: Counter[str] = Counter()
        #: Failed runs per job.
        self.failures: Counter[str] = Counter()
        #: Runs skipped per job because the previous one was still going.
        self.skipped: Counter[str] = Counter()
        #: When :meth:`start` ran (by :attr:`clock`): a job that has not succeeded yet is
        #: late from here (``/readyz``, the ``coach_job_lag_seconds`` gauge).
        self.started_at: datetime | None = None
        #: Told what each successful run returned (a tick's report): the process's metrics.
        self.on_result: Callable[[str, object], None] | None = None
        self._schedules: list[asyncio.Task[None]] = []
        self._running: dict[str, asyncio.Task[None]] = {}
        self._began: dict[str, float] = {}
        self._overrun_said: dict[str, float] = {}
        self._stopping = False

    @property
    def clock(self) -> Clock:
        """The process's one clock (read-only)."""
        return self._clock

    @property
    def started(self) -> bool:
        """Whether :meth:`start` ran (and :meth:`stop` did not yet)."""
        return bool(self._schedules)

    def add(self, job: Job) -> Job:
        """Register a job (before :meth:`start`)."""
        if self._schedules or self._stopping:
            raise RuntimeError("add jobs before the runner starts")
        if job.name in self.jobs:
            raise ValueError(f"a job named {job.name!r} is registered already")
        if job.every <= timedelta(0):
            raise ValueError(f"job {job.name!r}: its interval must be positive")
        self.jobs[job.name] = job
        return job

    async def start(self) -> None:
        """Schedule every job on the current loop; a job's first run comes ``first_after``."""
        if self._schedules:
            raise RuntimeError("the runner is running already")
        self.started_at = self._clock()
        for job in self.jobs.values():
            self._schedules.append(
                asyncio.create_task(self._schedule(job), name=f"job schedule: {job.name}")
            )
            logger.info(
                "jobs: %s every %s, first %s%s",
                job.name,
                _duration(job.every),
                f"in {_duration(job.first_after)}" if job.first_after else "at once",
                f" — {job.about}" if job.about else "",
            )
        if not self.jobs:
            logger.info("jobs: none to run")

    async def _schedule(self, job: Job) -> None:
        delay = job.first_after.total_seconds()
        while True:
            await self._sleep(delay)
            self._launch(job)
            delay = job.every.total_seconds()

    def _launch(self, job: Job) -> None:
        running = self._running.get(job.name)
        if running is not None and not running.done():
            self._overran(job)
            return
        self._began[job.name] = self._monotonic()
        self._running[job.name] = asyncio.create_task(self._run(job), name=f"job: {job.name}")

    async def _run(self, job: Job) -> None:
        try:
            result = await job.run()
        except Exception as exc:
            self.failures[job.name] += 1
            log_failure(job.called, exc)
        else:
            self.last_success[job.name] = self._clock()
            if self.on_result is not None:
                self.on_result(job.name, result)
        finally:
            self.runs[job.name] += 1

    def _overran(self, job: Job) -> None:
        self.skipped[job.name] += 1
        if not job.warns:
            return
        now = self._monotonic()
        said = self._overrun_said.get(job.name)
        if said is not None and now - said < OVERRUN_LOG_EVERY:
            return
        self._overrun_said[job.name] = now
        logger.warning(
            "%s: a %s has been running for %.0f s (interval %.2f s); the next %ss are skipped "
            "until it ends (%d skipped so far; said at most every %.0f min)",
            job.called,
            job.noun,
            now - self._began[job.name],
            job.every.total_seconds(),
            job.noun,
            self.skipped[job.name],
            OVERRUN_LOG_EVERY / 60,
        )

    async def stop(self, *, grace_seconds: float = 10.0) -> None:
        """Stop scheduling, tell the jobs, and give the runs in progress ``grace_seconds``.

        A run still going after that is left to end on its own, with a warning (a tick's
        claims then simply expire; housekeeping was told to stop after its batch). A cancelled
        run (``cancel_on_stop``) is awaited until it ends: the broadcast sender's message in
        flight may wait out a platform's rate limit within its own time budget, and is then
        recorded instead of sent again after the lease.
        """
        self._stopping = True
        schedules, self._schedules = self._schedules, []
        for schedule in schedules:
            schedule.cancel()
        await asyncio.gather(*schedules, return_exceptions=True)
        running = {name: task for name, task in self._running.items() if not task.done()}
        for job in self.jobs.values():
            if job.stop is not None:
                job.stop()
            if job.cancel_on_stop and job.name in running:
                running[job.name].cancel()
        cancelled = {task for name, task in running.items() if self.jobs[name].cancel_on_stop}
        pending = set(running.values()) - cancelled
        if pending:
            grace: asyncio.Future[None] = asyncio.ensure_future(self._sleep(grace_seconds))
            while pending and not grace.done():
                done, _ = await asyncio.wait({*pending, grace}, return_when=asyncio.FIRST_COMPLETED)
                pending -= done
            grace.cancel()
        for name, task in running.items():
            if task in pending:
                logger.warning("%s still running at shutdown; left to end", self.jobs[name].called)
        if cancelled:  # their cancellation is their way to stop: it ends by itself
            await asyncio.wait(cancelled)


def _duration(span: timedelta) -> str:
    seconds = span.total_seconds()
    return f"{seconds:g} s" if seconds < 120 else str(span)
