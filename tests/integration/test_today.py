"""``/today`` bringing back a key task skipped in an earlier stage, on both databases: the
reason line, the task card of stage 1 while the musician is on stage 2, the ticks that complete
it (the stage pointer stays where it was), and what is stored.

The test roadmap (``tests/support/keyroadmap.py``) is synced into the database like the bundled
content; the clock starts at the real time and is moved by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from coachkit import Driver
from keyroadmap import key_roadmap
from reminderkit import FakeClock
from sqlalchemy import select

from core.app.engine import Coach
from core.db.engine import Database
from core.db.models import Profile, RoadmapStage, Task, UserTaskProgress
from core.journey.buttons import TICK
from core.roadmaps.schema import Task as TaskContent
from core.roadmaps.sync import sync_roadmaps

CONTENT = {task.slug: task for _, task in key_roadmap().iter_tasks()}
RIGHTS: TaskContent = CONTENT["kr-rights"]
PHOTO: TaskContent = CONTENT["kr-photo"]


async def _coach(database: Database) -> tuple[Coach, FakeClock]:
    async with database.transaction() as session:
        await sync_roadmaps(session, [key_roadmap()])
    clock = FakeClock(datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0))
    return Coach(database, clock=clock), clock


async def _statuses(database: Database) -> dict[str, str]:
    """Every progress row's status by task slug."""
    async with database.transaction() as session:
        result = await session.execute(
            select(Task.slug, UserTaskProgress.status).join(
                Task, Task.id == UserTaskProgress.task_id
            )
        )
        return {slug: status for slug, status in result}


async def test_today_brings_back_a_skipped_key_task_of_an_earlier_stage(
    database: Database,
) -> None:
    coach, clock = await _coach(database)
    maya = Driver(coach)
    await maya.onboard(roadmap_name="Key Release")
    await maya.say("/skip")
    assert "it's a key task" in maya.text
    for item in PHOTO.items or ():
        await maya.press_payload(TICK.encode(PHOTO.slug, item.key))
    assert "Stage 1 complete — Basics!" in maya.text

    clock.advance(days=3)
    await maya.say("/today")
    assert maya.text.splitlines()[0] == (
        "👉 You skipped “Register your rights” in stage 1, and you're on stage 2 now: "
        "it's a key task the next steps build on."
    )
    assert "Stage 1 · Basics — task 1 of 2" in maya.text
    for item in RIGHTS.items or ():
        await maya.press_payload(TICK.encode(RIGHTS.slug, item.key))
    assert "Register your rights — done!" in maya.text
    assert "Stage 1 complete" not in maya.text
    assert "Release date" in maya.text, "back to stage 2's next task"

    assert await _statuses(database) == {"kr-rights": "completed", "kr-photo": "completed"}
    async with database.transaction() as session:
        profile = (await session.scalars(select(Profile))).one()
        stage = await session.get(RoadmapStage, profile.current_stage_id)
    assert stage is not None
    assert stage.slug == "release", "the musician stays on stage 2"


@pytest.mark.postgres_only
async def test_today_reads_the_roadmaps_progress_in_one_statement(database: Database) -> None:
    """The chooser looks at every stage, from one read of the roadmap's rows."""
    coach, _clock = await _coach(database)
    maya = Driver(coach)
    await maya.onboard(roadmap_name="Key Release")
    await maya.say("/skip")
    statements: list[str] = []
    database.statement_hook = statements.append
    try:
        await maya.say("/today")
    finally:
        database.statement_hook = None
    assert "Take a photo" in maya.text
    reads = [s for s in statements if "user_task_progress" in s and "SELECT" in s.upper()]
    assert len(reads) == 1, statements
