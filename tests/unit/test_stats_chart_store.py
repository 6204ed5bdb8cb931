"""``/stats`` keeps its chart: drawn once per change of what it shows, served from the store
until then (on the in-memory coach; ``tests/integration/test_stats_charts.py`` does the same on
both databases, with the background warm-up).

The clock is injected (a fixed instant, moved by hand)."""

from __future__ import annotations

from datetime import UTC, datetime

from chartkit import CountingOffload
from coachkit import Driver
from numberskit import tracked_roadmap
from reminderkit import FakeClock
from support.memory import MemoryCoach

from bot.cli import make_coach
from core.db.engine import Database
from core.kernel.offload import InProcesses
from core.kernel.types import Picture
from core.settings import Settings

START = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)  # only ever the injected clock


async def _maya() -> tuple[MemoryCoach, Driver, FakeClock, CountingOffload]:
    clock = FakeClock(START)
    offload = CountingOffload()
    coach = MemoryCoach(roadmaps=[tracked_roadmap()], clock=clock, offload=offload)
    maya = Driver(coach)
    await maya.onboard(roadmap_name="Numbers Test")
    return coach, maya, clock, offload


async def _png(maya: Driver) -> bytes:
    await maya.say("/stats")
    [picture] = maya.replies
    assert isinstance(picture, Picture)
    return picture.image


async def test_the_chart_is_drawn_once_and_served_until_a_number_or_goal_changes() -> None:
    coach, maya, clock, offload = await _maya()
    await maya.say("/update listeners 1200")
    await maya.say("/stats")
    assert not any(isinstance(r, Picture) for r in maya.replies), "one number: no chart"
    assert offload.calls == 0
    clock.advance(days=7)
    await maya.say("/update listeners 1400")
    first = await _png(maya)
    assert offload.calls == 1
    pid = coach.record("maya").profile_id
    assert coach.store.tables.charts[pid]["png"] == first

    assert await _png(maya) == first
    clock.advance(days=2)  # later, nothing new: the same chart
    assert await _png(maya) == first
    assert offload.calls == 1, "served from the store, not drawn again"

    await maya.say("/update listeners 1500")
    after_number = await _png(maya)
    assert offload.calls == 2
    assert after_number != first
    await maya.say("/goal listeners 3000 by 30 June")
    after_goal = await _png(maya)
    assert offload.calls == 3
    assert after_goal != after_number
    await maya.say("/update followers 40")  # one sample of another metric: not drawn yet
    assert await _png(maya) == after_goal
    assert offload.calls == 3
    await maya.say("/goal listeners off")
    assert await _png(maya) == after_number, "the same content: the same picture"
    assert offload.calls == 4


async def test_a_drawing_that_fails_leaves_the_figures() -> None:
    """A worker that died (or any drawing failure): the figures still answer, nothing is
    stored, and the next /stats draws again."""
    coach, maya, clock, offload = await _maya()
    await maya.say("/update listeners 1200")
    clock.advance(days=7)
    await maya.say("/update listeners 1400")

    async def broken(*_args: object) -> bytes:
        offload.calls += 1
        raise RuntimeError("the worker died")

    working = offload.run
    offload.run = broken  # type: ignore[method-assign,assignment]
    await maya.say("/stats")
    [card] = maya.replies
    assert not isinstance(card, Picture)
    assert "Monthly listeners" in card.text
    assert coach.store.tables.charts == {}
    offload.run = working  # type: ignore[method-assign]
    await _png(maya)
    assert offload.calls == 2


async def test_coach_run_and_chat_draw_in_worker_processes_and_warm_charts() -> None:
    """The coach ``coach run`` and ``coach chat`` build (``make_coach``): one worker process
    per core, none started before a chart is drawn, and the background redraw on."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    coach = make_coach(Database("sqlite+aiosqlite://"), settings)  # never opened
    assert isinstance(coach.offload, InProcesses)
    assert not coach.offload.started
    assert coach.charts is not None
    assert coach.charts.offload is coach.offload
    assert coach.charts.queue.concurrency == coach.offload.workers
    await coach.close()  # nothing started: nothing to end
