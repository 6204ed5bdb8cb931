"""Concurrent events for one musician are serialised by a row lock: no lost tick, no double count.

These run on PostgreSQL only: SQLite is the single-process embedded mode (one writer at a time by
design), while PostgreSQL is what several workers share.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from coachkit import Driver, catalog_of, count, synced_coach, valid_answer
from sqlalchemy import select

from core.app.engine import SORRY, Coach
from core.db.engine import Database
from core.db.models import (
    ConversationState,
    Event,
    Identity,
    Profile,
    StatSample,
    UserTaskProgress,
)
from core.kernel.payloads import encode

pytestmark = pytest.mark.postgres_only


async def _setup(database: Database) -> tuple[Coach, Driver]:
    coach = await synced_coach(database)
    maya = Driver(coach)
    await maya.onboard()
    return coach, maya


async def test_concurrent_ticks_lose_nothing(database: Database) -> None:
    coach, maya = await _setup(database)
    roadmap = (await catalog_of(database)).roadmap_by_slug("indie-singer-songwriter")
    assert roadmap is not None
    checklist = next(t for t in roadmap.stages[0].tasks if t.is_checklist)
    for task in roadmap.stages[0].tasks:
        if task.id == checklist.id:
            break
        await maya.say("/skip")
    # every item ticked at once, each twice (a double-tapped button), from two "workers"
    other_worker = Coach(Database(database.url))
    try:
        presses = [
            (c.handle(maya.inbound(kind="button", payload=encode("tick", checklist.slug, i.key))))
            for i in checklist.items
            for c in (coach, other_worker)
        ]
        results = await asyncio.gather(*presses)
    finally:
        await other_worker.db.dispose()
    assert all(replies for replies in results)
    assert not any(SORRY in r.text for replies in results for r in replies)
    async with database.transaction() as session:
        row = (
            await session.scalars(
                select(UserTaskProgress).where(UserTaskProgress.task_id == checklist.id)
            )
        ).one()
    assert sorted(row.task_data["ticked"]) == sorted(i.key for i in checklist.items)
    assert row.status == "completed"
    completed = await count(database, Event, Event.type == "task.completed")
    assert completed == 1, "the checklist completed exactly once"


async def test_two_answers_at_once_complete_once(database: Database) -> None:
    coach, maya = await _setup(database)
    catalog = await catalog_of(database)
    roadmap = catalog.roadmap_by_slug("indie-singer-songwriter")
    assert roadmap is not None
    task = next(t for t in roadmap.stages[0].tasks if t.input is not None and t.input.metric)
    for t in roadmap.stages[0].tasks:
        if t.id == task.id:
            break
        await maya.say("/skip")
    await maya.say("/today")
    answer = valid_answer(catalog, task.slug, datetime.now(UTC).date())
    results = await asyncio.gather(
        *(coach.handle(maya.inbound(kind="text", text=answer)) for _ in range(4))
    )
    assert not any(SORRY in r.text for replies in results for r in replies)
    # the messages are handled one after the other: the first answers this question, the others
    # land on whatever is asked next — never a second completion or sample for the same task
    assert await count(database, StatSample, StatSample.task_id == task.id) == 1
    assert await count(database, UserTaskProgress, UserTaskProgress.task_id == task.id) == 1


async def test_new_musician_double_start_creates_one_user(database: Database) -> None:
    coach = await synced_coach(database)
    ben = Driver(coach, "ben")
    results = await asyncio.gather(
        *(coach.handle(ben.inbound(kind="command", text="/start")) for _ in range(5))
    )
    assert all(replies for replies in results)
    assert not any(SORRY in r.text for replies in results for r in replies)
    assert await count(database, Identity, Identity.external_id == "ben") == 1


async def test_double_confirmation_keeps_the_next_question(database: Database) -> None:
    """Several "yes" at once: one saves, the other must see the state the first one left.

    A waiting transaction re-reads only the rows it locked; if the conversation state were not
    locked with the profile, the second "yes" would act on the old question and wipe the next.
    """
    coach, maya = await _setup(database)
    catalog = await catalog_of(database)
    roadmap = catalog.roadmap_by_slug("indie-singer-songwriter")
    assert roadmap is not None
    stage = roadmap.stages[0]
    index, task = next(
        (i, t)
        for i, t in enumerate(stage.tasks)
        if t.input is not None and t.input.metric and t.input.type.value == "integer"
    )
    assert task.input is not None
    for _ in range(index):
        await maya.say("/skip")
    async with database.transaction() as session:
        profile = (await session.scalars(select(Profile))).one()
        profile.current_stats = {task.input.metric: {"value": "100", "display": "100"}}
    await maya.say("/today")
    await maya.say("5000")
    assert "more than 10×" in maya.text
    results = await asyncio.gather(
        *(coach.handle(maya.inbound(kind="text", text="yes")) for _ in range(4))
    )
    assert sum(any("Saved:" in r.text for r in replies) for replies in results) == 1
    async with database.transaction() as session:
        state = (await session.scalars(select(ConversationState))).one()
    following = stage.tasks[index + 1] if index + 1 < len(stage.tasks) else None
    if following is not None:
        assert state.task_id == following.id, "the next question is still open"
        assert state.awaiting in {"answer", "checklist"}


async def test_a_tick_is_three_round_trips_inside_its_transaction(database: Database) -> None:
    """The hot path's statement budget on PostgreSQL: lock and read the musician (with the
    replay check), read the stage's progress, then write the progress row and the state in
    ONE statement. A regression to separate writes fails here before it shows in a benchmark."""
    _, maya = await _setup(database)
    statements: list[str] = []
    database.statement_hook = statements.append
    try:
        first_item = next(b for b in maya.buttons if b.payload.startswith("v1:tk:"))
        await maya.press_payload(first_item.payload, update_id="tick-1")
    finally:
        database.statement_hook = None
    assert "☑" in maya.text or "✅" in maya.text, maya.text
    kinds = [" ".join(sql.split())[:40] for sql in statements]
    assert len(statements) == 3, kinds
    assert statements[2].lstrip().startswith("WITH progress_write"), kinds
    async with database.transaction() as session:
        row = (await session.scalars(select(UserTaskProgress))).one()
        state = (await session.scalars(select(ConversationState))).one()
    assert row.status == "in_progress"
    assert state.undo is not None, "the undo record was written by the same statement"
