"""One clock per process, shared by reference, and a suite that does not depend on the date."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from reminderkit import FakeClock
from timeshift.timeshift_spec import parse_shift

from core.app.engine import Coach
from core.db.engine import Database

START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


async def test_every_part_of_the_coach_reads_the_one_injected_clock(database: Database) -> None:
    """``AdminDesk`` used to keep its own reference: a coach whose clock was swapped afterwards
    answered ``/admin stats`` on the wall clock. The clock is now given once and shared."""
    clock = FakeClock(START)
    coach = Coach(database, clock=clock)
    assert coach.clock is clock
    assert coach.desk.clock is clock
    clock.advance(days=400)
    assert coach.desk.clock() == coach.clock() == START + timedelta(days=400)


async def test_the_clock_cannot_be_swapped_after_construction(database: Database) -> None:
    """Swapping it would leave the parts built with the first clock behind."""
    coach = Coach(database, clock=FakeClock(START))
    with pytest.raises(AttributeError):
        coach.clock = FakeClock(START)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        coach.desk.clock = FakeClock(START)  # type: ignore[misc]


def test_a_shifted_run_moves_the_clock_of_child_processes_too() -> None:
    """With ``COACH_TEST_TIME_SHIFT`` set, this process and every process it starts agree on a
    moved "now"; without it, nothing is moved."""
    probe = "from datetime import UTC, datetime; print(datetime.now(UTC).isoformat())"
    child = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=os.environ
    )
    theirs = datetime.fromisoformat(child.stdout.strip())
    ours = datetime.now(UTC)
    assert abs(theirs - ours) < timedelta(minutes=5)
    shifted = os.environ.get("COACH_TEST_TIME_SHIFT")
    real = datetime.fromtimestamp(float(_real_epoch()), UTC)
    if shifted:  # moved by exactly the shift, once (not again in a worker process)
        assert abs(ours - real - parse_shift(shifted)) < timedelta(minutes=5), (ours, real)
    else:
        assert abs(ours - real) < timedelta(minutes=5)


def _real_epoch() -> str:
    """The machine's real time, read by a process that the shift does not reach (``date``)."""
    date = shutil.which("date") or "/bin/date"
    return subprocess.run(  # noqa: S603 - a fixed command
        [date, "+%s"], capture_output=True, text=True, check=True
    ).stdout.strip()
