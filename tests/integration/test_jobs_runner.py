"""The job runner (core/jobs/runner.py) on a virtual clock: no test here waits in real time.

Jobs run at their first delay and then on their interval; a run still going is never joined by
a second (the skip is counted, said once per ten minutes); a failure is logged and the next run
comes anyway; the last success is stamped by the injected clock; stopping starts nothing new,
tells the jobs, cancels those that stop by cancellation and waits (a grace, also virtual) for
the rest. And which jobs a ``coach`` process registers (core/app/jobs.py).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from datetime import UTC, datetime, timedelta

import pytest

from core.admin.broadcast import JOB_ID as BROADCASTS
from core.app.jobs import background_jobs
from core.coaching.milestones.consumer import JOB_ID as MILESTONES
from core.db.engine import Database
from core.db.failures import DatabaseUnavailable
from core.housekeeping import JOB_ID as HOUSEKEEPING
from core.jobs.runner import OVERRUN_LOG_EVERY, Job, JobRunner
from core.reminders.worker import JOB_ID as REMINDER_TICK
from core.settings import load_settings

START = datetime(2031, 5, 6, 7, 0, tzinfo=UTC)


class VirtualTime:
    """``sleep``, ``monotonic`` and ``clock`` of one virtual timeline; :meth:`advance` moves it,
    waking every sleeper due on the way, in order, and letting the woken tasks run."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def monotonic(self) -> float:
        return self.now

    def clock(self) -> datetime:
        return START + timedelta(seconds=self.now)

    async def sleep(self, delay: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + delay, next(self._order), future))
        await future

    async def settle(self) -> None:
        """Let every task that can run, run (a few loop turns)."""
        for _ in range(20):
            await asyncio.sleep(0)

    async def advance(self, seconds: float) -> None:
        await self.settle()
        until = self.now + seconds
        while self._sleepers and self._sleepers[0][0] <= until:
            at, _, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, at)
            if not future.done():
                future.set_result(None)
            await self.settle()
        self.now = until
        await self.settle()


def _runner(time: VirtualTime) -> JobRunner:
    return JobRunner(clock=time.clock, sleep=time.sleep, monotonic=time.monotonic)


async def _stop(runner: JobRunner, time: VirtualTime) -> None:
    """Stop the runner, moving virtual time through its grace (a run that never ends must not
    hang a failing test)."""
    stopping = asyncio.create_task(runner.stop())
    for _ in range(20):
        if stopping.done():
            break
        await time.advance(1)
    await stopping


async def test_jobs_run_after_their_first_delay_then_on_their_interval() -> None:
    time = VirtualTime()
    runner = _runner(time)
    seen: list[tuple[str, float]] = []

    async def tick() -> None:
        seen.append(("tick", time.now))

    async def chores() -> None:
        seen.append(("chores", time.now))

    runner.add(Job("tick", tick, every=timedelta(seconds=1)))
    runner.add(Job("chores", chores, every=timedelta(hours=1), first_after=timedelta(minutes=1)))
    await runner.start()
    try:
        await time.advance(0)
        assert seen == [("tick", 0.0)], "the tick's first run comes at once"
        await time.advance(59.5)
        assert [t for name, t in seen if name == "tick"] == [float(n) for n in range(60)]
        assert not [t for name, t in seen if name == "chores"]
        await time.advance(0.5)
        assert [t for name, t in seen if name == "chores"] == [60.0]
        await time.advance(3600)
        assert [t for name, t in seen if name == "chores"] == [60.0, 3660.0]
        assert runner.last_success == {
            "tick": START + timedelta(seconds=3660),
            "chores": START + timedelta(seconds=3660),
        }
        assert runner.runs == {"tick": 3661, "chores": 2}
    finally:
        await _stop(runner, time)
    await time.advance(10)
    assert runner.runs["tick"] == 3661, "nothing runs after stop"


async def test_a_run_still_going_is_never_joined_and_said_once_per_ten_minutes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    time = VirtualTime()
    runner = _runner(time)
    release = asyncio.Event()
    going = 0
    most = 0

    async def stuck() -> None:
        nonlocal going, most
        going += 1
        most = max(most, going)
        try:
            await release.wait()
        finally:
            going -= 1

    runner.add(Job("tick", stuck, every=timedelta(seconds=1), label="reminders", noun="tick"))
    await runner.start()
    try:
        await time.advance(5)
        assert runner.skipped["tick"] == 5
        said = [r for r in caplog.records if "has been running" in r.getMessage()]
        assert len(said) == 1
        assert said[0].levelno == logging.WARNING
        assert said[0].getMessage().startswith("reminders: a tick has been running for 1 s")
        assert "(1 skipped so far" in said[0].getMessage()
        await time.advance(OVERRUN_LOG_EVERY - 5)  # 599 s after it was said
        assert len([r for r in caplog.records if "has been running" in r.getMessage()]) == 1
        await time.advance(1)
        assert len([r for r in caplog.records if "has been running" in r.getMessage()]) == 2
        assert runner.runs["tick"] == 0
        release.set()
        await time.advance(0)
        assert runner.runs["tick"] == 1
        assert runner.last_success["tick"] == START + timedelta(seconds=OVERRUN_LOG_EVERY + 1)
        await time.advance(2)
        assert runner.runs["tick"] == 3, "after it ended, the runs come on their interval"
        assert most == 1, "never two at once"
    finally:
        release.set()
        await _stop(runner, time)


async def test_a_job_that_may_run_long_is_skipped_without_a_word(
    caplog: pytest.LogCaptureFixture,
) -> None:
    time = VirtualTime()
    runner = _runner(time)
    release = asyncio.Event()

    async def drain() -> None:
        await release.wait()

    runner.add(Job("broadcasts", drain, every=timedelta(seconds=2), warns=False))
    await runner.start()
    try:
        await time.advance(60)
        assert runner.skipped["broadcasts"] == 30
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    finally:
        release.set()
        await _stop(runner, time)


async def test_a_failure_is_logged_and_the_next_run_comes_anyway(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    time = VirtualTime()
    runner = _runner(time)
    outcomes: list[Exception | None] = [
        ValueError("a bug"),
        DatabaseUnavailable("the database is down"),
        None,
    ]

    async def flaky() -> None:
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome

    runner.add(Job("chores", flaky, every=timedelta(minutes=1), label="housekeeping"))
    await runner.start()
    try:
        await time.advance(0)
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert [r.getMessage() for r in errors] == [
            "housekeeping failed; trying again on the next run"
        ]
        assert errors[0].exc_info is not None
        assert runner.last_success == {}
        caplog.clear()
        await time.advance(60)  # the database is down: one quiet line, no traceback
        assert [r.levelno for r in caplog.records] == [logging.DEBUG]
        assert "database unreachable" in caplog.records[0].getMessage()
        assert runner.last_success == {}
        await time.advance(60)
        assert runner.last_success == {"chores": START + timedelta(minutes=2)}
        assert runner.failures == {"chores": 2}
        assert runner.runs == {"chores": 3}
    finally:
        await _stop(runner, time)


async def test_stop_tells_cancels_and_waits(caplog: pytest.LogCaptureFixture) -> None:
    time = VirtualTime()
    runner = _runner(time)
    told: list[str] = []
    finishing = asyncio.Event()
    recorded: list[str] = []
    handed_back: list[str] = []
    forever = asyncio.Event()

    async def tick() -> None:  # finishes what it started: its sends are recorded
        await finishing.wait()
        recorded.append("tick")

    in_flight = asyncio.Event()

    async def sender() -> None:  # stops by cancellation: the message in flight, then hand back
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await in_flight.wait()
            handed_back.append("sender")
            raise

    async def stuck() -> None:
        await forever.wait()

    runner.add(Job("tick", tick, every=timedelta(seconds=1), stop=lambda: told.append("tick")))
    runner.add(Job("sender", sender, every=timedelta(seconds=2), cancel_on_stop=True))
    runner.add(Job("stuck", stuck, every=timedelta(seconds=5), label="housekeeping"))
    await runner.start()
    await time.advance(0)
    stopping = asyncio.create_task(runner.stop(grace_seconds=10))
    try:
        await time.advance(0)
        assert told == ["tick"]
        assert not stopping.done(), "the tick is given its grace"
        finishing.set()
        await time.advance(0)
        assert recorded == ["tick"]
        assert not stopping.done(), "the stuck job still has its grace"
        await time.advance(10)
        assert "housekeeping still running at shutdown" in caplog.text
        assert not stopping.done(), "a cancelled run is awaited past the grace"
        in_flight.set()
        await time.advance(0)
        assert handed_back == ["sender"]
        assert stopping.done()
        await stopping
        assert runner.last_success.keys() == {"tick"}
        await time.advance(60)
        assert runner.runs == {"tick": 1, "sender": 1}, "no new run after stop"
    finally:
        finishing.set()
        in_flight.set()
        forever.set()
        await time.advance(10)
        await stopping


async def test_a_job_is_registered_once_and_before_the_start() -> None:
    time = VirtualTime()
    runner = _runner(time)

    async def nothing() -> None:
        return None

    runner.add(Job("a", nothing, every=timedelta(seconds=1)))
    with pytest.raises(ValueError, match="registered already"):
        runner.add(Job("a", nothing, every=timedelta(seconds=1)))
    with pytest.raises(ValueError, match="positive"):
        runner.add(Job("b", nothing, every=timedelta(0)))
    await runner.start()
    try:
        with pytest.raises(RuntimeError):
            runner.add(Job("c", nothing, every=timedelta(seconds=1)))
    finally:
        await _stop(runner, time)


async def test_which_jobs_a_coach_process_runs(database: Database) -> None:
    """``coach run``: tick, housekeeping, milestones, broadcasts; ``coach chat``: no broadcasts;
    the settings switch them as the README says."""
    time = VirtualTime()

    def jobs(broadcasts: bool, **settings: object) -> dict[str, tuple[timedelta, timedelta]]:
        runner = background_jobs(
            database,
            {},
            load_settings(database_url=database.url, **settings),
            clock=time.clock,
            broadcasts=broadcasts,
            sleep=time.sleep,
        )
        return {name: (job.every, job.first_after) for name, job in runner.jobs.items()}

    assert jobs(True, reminder_tick_seconds=0.5) == {
        REMINDER_TICK: (timedelta(seconds=0.5), timedelta(0)),
        HOUSEKEEPING: (timedelta(hours=1), timedelta(minutes=1)),
        MILESTONES: (timedelta(seconds=2), timedelta(0)),
        BROADCASTS: (timedelta(seconds=2), timedelta(0)),
    }
    assert jobs(False).keys() == {REMINDER_TICK, HOUSEKEEPING, MILESTONES}
    assert jobs(True, retention_enabled=False).keys() == {REMINDER_TICK, MILESTONES, BROADCASTS}
    assert jobs(True, milestones_enabled=False).keys() == {REMINDER_TICK, HOUSEKEEPING, BROADCASTS}
    assert jobs(True, reminders_enabled=False).keys() == {BROADCASTS}
    assert jobs(False, reminders_enabled=False) == {}
    assert jobs(False, retention_interval_minutes=30)[HOUSEKEEPING][0] == timedelta(minutes=30)
    assert jobs(False, milestones_tick_seconds=5)[MILESTONES][0] == timedelta(seconds=5)


async def test_the_tick_runs_as_a_job_of_the_runner(database: Database) -> None:
    """The real jobs on the virtual clock: the tick looks at once and every interval, and its
    successes are stamped (an empty database: nothing is due)."""
    time = VirtualTime()
    runner = background_jobs(
        database,
        {},
        load_settings(database_url=database.url, reminder_tick_seconds=1, milestones_enabled=False),
        clock=time.clock,
        broadcasts=True,
        sleep=time.sleep,
        monotonic=time.monotonic,
    )
    await runner.start()

    async def done(tick: int, broadcasts: int) -> None:
        for _ in range(500):  # the database answers in real time
            if runner.runs[REMINDER_TICK] >= tick and runner.runs[BROADCASTS] >= broadcasts:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"runs so far: {runner.runs}")

    try:
        await time.advance(0)
        await done(1, 1)
        for second in (1, 2, 3):
            await time.advance(1)
            await done(second + 1, second // 2 + 1)
        assert runner.failures == {}
        assert runner.runs == {REMINDER_TICK: 4, BROADCASTS: 2}
        assert runner.last_success == {
            REMINDER_TICK: START + timedelta(seconds=3),
            BROADCASTS: START + timedelta(seconds=2),
        }
    finally:
        await _stop(runner, time)
