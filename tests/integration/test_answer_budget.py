"""A coached answer costs no statement more than a plain one did (issue #13 §5).

The verdict, the change since last time and the goal line are read from what the turn already
holds (the profile's stats come with its locked row), so an answer with a verdict is still: lock
and read the musician, read the stage's progress, add the sample, write the progress row and the
state in one statement, update the profile's stats, add the event — six on PostgreSQL, as
before the coaching.
"""

from __future__ import annotations

import pytest
from answerkit import coaching_roadmap
from coachkit import Driver

from core.app.engine import Coach
from core.db.engine import Database
from core.roadmaps.sync import sync_roadmaps


@pytest.mark.postgres_only
async def test_an_answer_with_its_verdict_keeps_the_statement_budget(database: Database) -> None:
    async with database.transaction() as session:
        await sync_roadmaps(session, [coaching_roadmap()])
    maya = Driver(Coach(database))
    await maya.onboard(roadmap_name="Coaching")
    await maya.say("/skip")
    await maya.say("/skip")
    statements: list[str] = []
    database.statement_hook = statements.append
    try:
        await maya.say("-9,5")
    finally:
        database.statement_hook = None
    assert "⚠️ Louder than" in maya.text
    kinds = [" ".join(sql.split())[:40] for sql in statements]
    assert len(statements) == 6, kinds
