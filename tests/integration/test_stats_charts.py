"""``/stats`` charts kept in the database (SQLite and PostgreSQL): served without drawing while
nothing they show changed, redrawn after a new number or goal — in the background right after
the event committed (coalesced per profile), so the ``/stats`` that follows finds it ready —
and drawn in worker processes that end with the coach.

The clock is injected (a fixed instant, moved by hand)."""

from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from bandkit import GuildDriver
from chartkit import CountingOffload
from coachkit import Driver, run_coach, synced_coach
from reminderkit import FakeClock
from sqlalchemy import func, select

from core.app.engine import Coach
from core.coaching.numbers.drawing import chart_workers
from core.db.engine import Database
from core.db.models import StatsChart
from core.kernel.offload import InProcesses
from core.kernel.types import Picture
from core.progress.charts import chart_of, draw

START = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)  # the injected clock's start, never the wall's


async def _stored(database: Database) -> list[tuple[str, bytes]]:
    async with database.transaction() as session:
        rows = (await session.execute(select(StatsChart.digest, StatsChart.png))).all()
    return [(digest, png) for digest, png in rows]


async def _png(maya: Driver) -> bytes:
    await maya.say("/stats")
    [picture] = maya.replies
    assert isinstance(picture, Picture)
    return picture.image


async def _two_numbers(maya: Driver, clock: FakeClock) -> None:
    await maya.onboard("Maya")
    await maya.say("/update monthly listeners 500")
    clock.advance(days=7)
    await maya.say("/update monthly listeners 650")


async def test_stats_serves_the_stored_chart_until_what_it_shows_changes(
    database: Database,
) -> None:
    clock, offload = FakeClock(START), CountingOffload()
    coach = await synced_coach(database, clock=clock, offload=offload)
    maya = Driver(coach)
    await _two_numbers(maya, clock)
    first = await _png(maya)
    assert offload.calls == 1
    [(digest, png)] = await _stored(database)
    assert png == first
    clock.advance(days=1)
    assert await _png(maya) == first
    assert offload.calls == 1, "nothing changed: served, not drawn"

    await maya.say("/update monthly listeners 700")
    second = await _png(maya)
    assert offload.calls == 2
    await maya.say("/goal monthly listeners 2000 by 30 June")
    third = await _png(maya)
    assert offload.calls == 3
    assert len({first, second, third}) == 3
    [(last_digest, stored)] = await _stored(database)
    assert (last_digest != digest, stored) == (True, third), "one row per profile, replaced"


async def test_a_new_number_warms_the_chart_after_the_commit(database: Database) -> None:
    clock, offload = FakeClock(START), CountingOffload()
    coach = await synced_coach(database, clock=clock, offload=offload, warm_charts=True)
    assert coach.charts is not None
    maya = Driver(coach)
    await _two_numbers(maya, clock)
    await offload.reached(1)  # the warm-up runs in the background, after the reply
    await coach.charts.idle()
    assert offload.calls == 1, "the second number drew the chart (one number draws nothing)"
    [(_digest, warmed)] = await _stored(database)
    assert await _png(maya) == warmed
    assert offload.calls == 1, "/stats found it ready"
    assert not coach.charts.queue.busy, "/stats changes nothing: no warm-up"
    await maya.say("/goal monthly listeners 2000 by 30 June")
    await coach.charts.idle()
    assert offload.calls == 2, "a goal is on the chart: warmed too"
    assert await _png(maya) != warmed
    assert offload.calls == 2
    await coach.close()
    assert offload.closed == 1
    await maya.say("/update monthly listeners 900")  # after close: no warm-up, no error
    assert not coach.charts.queue.busy
    assert offload.calls == 2


async def test_warm_ups_of_one_profile_are_coalesced(database: Database) -> None:
    clock, offload = FakeClock(START), CountingOffload()
    coach = await synced_coach(database, clock=clock, offload=offload, warm_charts=True)
    assert coach.charts is not None
    maya = Driver(coach)
    await maya.onboard("Maya")
    await maya.say("/update monthly listeners 500")
    clock.advance(days=7)
    offload.hold()  # the next warm-up stops in the middle of drawing
    await maya.say("/update monthly listeners 650")
    await offload.reached(1)  # that warm-up is drawing (held) before the next numbers come
    for value in (700, 750, 800):
        clock.advance(days=1)
        await maya.say(f"/update monthly listeners {value}")
    assert offload.calls == 1
    assert coach.charts.queue.waiting == 1, "three numbers meanwhile: one more warm-up"
    offload.let_go()
    await coach.charts.idle()
    assert offload.calls == 2
    assert coach.charts.queue.coalesced >= 2
    await _png(maya)
    assert offload.calls == 2, "the last warm-up drew what /stats shows"
    await coach.close()


async def test_a_band_chart_is_the_bands(database: Database) -> None:
    """A band's numbers warm the band profile's chart, not the member's."""
    clock, offload = FakeClock(START), CountingOffload()
    coach = await synced_coach(database, clock=clock, offload=offload, warm_charts=True)
    assert coach.charts is not None
    ana = GuildDriver(coach, "1001", name="Ana", manager=True)
    await ana.say("/band create The Night Owls")
    await ana.say("/start")
    await ana.press("Indie")
    await ana.say("/update monthly listeners 9000")
    clock.advance(days=7)
    await ana.say("/update monthly listeners 9500")
    await offload.reached(1)  # the warm-up runs in the background, after the reply
    await coach.charts.idle()
    assert offload.calls == 1
    await ana.say("/stats")
    assert isinstance(ana.replies[0], Picture)
    assert offload.calls == 1
    await coach.close()


async def test_charts_are_drawn_in_worker_processes_that_end_with_close() -> None:
    chart = chart_of(
        {"monthly_listeners": [(START, Decimal(1)), (START + timedelta(days=7), Decimal(3))]},
        title="Maya",
    )
    assert chart is not None
    pool = chart_workers()
    assert pool.workers >= 1
    assert not pool.started, "created on the first chart, not before"
    try:
        assert await pool.run(draw, chart) == draw(chart), "the same picture as drawn here"
        worker = await pool.run(os.getpid)
        assert worker != os.getpid()
        assert worker in pool.pids()
    finally:
        await pool.close()
    assert not pool.started
    assert multiprocessing.active_children() == [], "no worker process left behind"
    await pool.close()  # twice: nothing to do


async def test_a_dead_worker_fails_one_call_and_the_next_gets_a_fresh_pool() -> None:
    pool = InProcesses(1)
    try:
        first = await pool.run(os.getpid)
        os.kill(first, signal.SIGKILL)
        with pytest.raises(BrokenProcessPool):
            await pool.run(os.getpid)
        second = await pool.run(os.getpid)
        assert second != first
    finally:
        await pool.close()
    assert multiprocessing.active_children() == []


@pytest.mark.postgres_only
async def test_the_coach_warms_in_worker_processes_and_closes_them(database: Database) -> None:
    clock = FakeClock(START)
    pool = chart_workers()
    coach: Coach = await synced_coach(database, clock=clock, offload=pool, warm_charts=True)
    assert coach.charts is not None
    try:
        maya = Driver(coach)
        await _two_numbers(maya, clock)
        await coach.charts.idle()
        assert coach.charts.drawn == 1
        assert pool.started
        [(_digest, png)] = await _stored(database)
        assert png.startswith(b"\x89PNG")
        assert await _png(maya) == png
    finally:
        await coach.close()
    assert not pool.started
    assert multiprocessing.active_children() == []
    async with database.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(StatsChart)) == 1


async def test_a_reset_takes_the_chart_with_the_numbers(database: Database) -> None:
    """A band's reset and an admin's reset delete the numbers: the picture of them goes too."""
    clock, offload = FakeClock(START), CountingOffload()
    coach = await synced_coach(database, clock=clock, offload=offload)
    boss = Coach(database, admins=["console:boss"], catalog=coach.catalog, clock=clock)
    maya = Driver(boss, "maya")
    await _two_numbers(maya, clock)
    await _png(maya)
    ana = GuildDriver(coach, "1001", name="Ana", manager=True)
    await ana.say("/band create The Night Owls")
    await ana.say("/start")
    await ana.press("Indie")
    await ana.say("/update monthly listeners 9000")
    clock.advance(days=7)
    await ana.say("/update monthly listeners 9500")
    await ana.say("/stats")
    assert len(await _stored(database)) == 2
    await ana.say("/band reset")
    await ana.press("Yes, reset everything")
    assert len(await _stored(database)) == 1, "the band's chart is gone, Maya's stays"
    admin = Driver(boss, "boss")
    await admin.say("/admin reset console:maya")
    await admin.press("Yes, reset")
    assert await _stored(database) == []


async def test_coach_chat_draws_the_chart_and_ends_its_workers(tmp_path: Path) -> None:
    """``coach chat``: the chart arrives (drawn in a worker process, by the warm-up or by
    /stats) and the process ends cleanly, workers and all."""
    result = await run_coach(
        "chat",
        "--db",
        f"sqlite+aiosqlite:///{tmp_path / 'coach.db'}",
        "--user",
        "maya",
        stdin="/start\nMaya\n1\n/update monthly listeners 500\n"
        "/update monthly listeners 650\n/stats\n",
        env={"XDG_DATA_HOME": str(tmp_path / "data")},
    )
    assert result.returncode == 0, result.stderr
    assert "[picture: saved to" in result.stdout
