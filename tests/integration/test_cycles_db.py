"""Release cycles on the database (issue #15 §2), SQLite and PostgreSQL: the next release
archives the cycle's rows into ``cycle_tasks`` and reopens the live ones, ``/progress`` lists the
earlier release, the streak and the weekly review keep the archived steps, and an admin reset
starts at release 1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from coachkit import Driver, count
from cycleroadmap import HOME, cycle_roadmap
from reminderkit import FakeClock

from core.app.engine import Coach
from core.db.engine import Database
from core.db.models import CycleTask, UserTaskProgress
from core.roadmaps.sync import sync_roadmaps


async def test_the_next_release_keeps_the_last_one_and_a_reset_clears_both(
    database: Database,
) -> None:
    async with database.transaction() as session:
        await sync_roadmaps(session, [cycle_roadmap()])
    today = datetime.now(UTC).date()  # a Wednesday of this week: /review covers the week so far
    wednesday = today - timedelta(days=today.weekday()) + timedelta(days=2)
    clock = FakeClock(datetime(wednesday.year, wednesday.month, wednesday.day, 12, tzinfo=UTC))
    coach = Coach(database, admins=["console:boss"], clock=clock)
    maya = Driver(coach, "maya")
    await maya.onboard(name="Maya", roadmap_name="Cycle Test")
    await maya.say(HOME)
    for _ in range(3):  # own mix, the song, the release plan
        await maya.say("1")
        await maya.say("2")
    await maya.say("8%")
    assert "Release 1 is done." in maya.text

    await maya.press("Start release 2")
    assert "Release 2 starts now." in maya.text
    assert await count(database, CycleTask) == 2
    assert await count(database, CycleTask, CycleTask.cycle == 1) == 2
    assert await count(database, UserTaskProgress, UserTaskProgress.status == "completed") == 3
    await maya.say("1")
    await maya.say("2")
    assert "Last release: 8%. Aim for 10% this time." in maya.text

    await maya.say("/progress")
    assert "Release 2 now. Earlier:" in maya.text
    assert "Release 1: 2 of 2 tasks done" in maya.text
    assert "this week's done" in maya.text, "the streak still counts this week"

    await maya.say("/review")  # this week's steps of release 1 are still this week's
    assert "Save rate" in maya.text
    assert "Plan the release" in maya.text

    boss = Driver(coach, "boss")
    await boss.say("/admin reset Maya")
    await boss.press("Yes, reset")
    assert await count(database, CycleTask) == 0, "a reset starts at release 1"


@pytest.mark.postgres_only
async def test_a_tick_in_a_repeating_stage_costs_no_statement_more(database: Database) -> None:
    """The next-release check reads nothing until the step finishes the repeating stage: a
    tick there costs what the same tick costs in a stage that does not repeat."""
    async with database.transaction() as session:
        await sync_roadmaps(session, [cycle_roadmap()])
    maya = Driver(Coach(database))
    await maya.onboard(name="Maya", roadmap_name="Cycle Test")
    await maya.say(HOME)

    async def tick_one() -> list[str]:
        statements: list[str] = []
        database.statement_hook = statements.append
        try:
            await maya.say("1")
        finally:
            database.statement_hook = None
        assert "☑ 1." in maya.text
        return statements

    plain = await tick_one()  # "Check your own mix", stage 1
    await maya.say("2")
    await maya.say("1")
    await maya.say("2")  # the song: stage 1 done, the release plan is on screen
    assert "Plan the release" in maya.text
    repeating = await tick_one()
    kinds = [" ".join(sql.split())[:40] for sql in repeating]
    assert not any("cycle_tasks" in sql for sql in repeating), kinds
    assert len(repeating) == len(plain), kinds
