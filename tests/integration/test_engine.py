"""The conversation engine on a real database (SQLite and PostgreSQL): what only a database
shows — a restart mid-question, a replayed update, two musicians in one database, and the
turn's store really writing the rows.

The journey's flows themselves (onboarding, ticks, answers, skip and undo, progress, switching,
stale buttons, help) are unit tests on the in-memory coach: ``tests/unit/test_journey_flows.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from coachkit import Driver, catalog_of, count, synced_coach, valid_answer
from sqlalchemy import select

from core.app.engine import Coach
from core.db.engine import Database
from core.db.models import Event, Identity, Profile, StatSample, UserTaskProgress
from core.kernel.payloads import encode
from core.progress.metrics import metric_label
from core.roadmaps.catalog import Catalog, RoadmapInfo, TaskInfo

INDIE = "indie-singer-songwriter"


async def _profile(database: Database, user: str = "maya") -> Profile:
    async with database.transaction() as session:
        return (
            await session.scalars(
                select(Profile)
                .join(Identity, Identity.user_id == Profile.user_id)
                .where(Identity.external_id == user)
            )
        ).one()


async def _row(database: Database, task: TaskInfo, user: str = "maya") -> UserTaskProgress | None:
    profile = await _profile(database, user)
    async with database.transaction() as session:
        return (
            await session.scalars(
                select(UserTaskProgress).where(
                    UserTaskProgress.profile_id == profile.id, UserTaskProgress.task_id == task.id
                )
            )
        ).one_or_none()


def _roadmap(catalog: Catalog, slug: str = INDIE) -> RoadmapInfo:
    roadmap = catalog.roadmap_by_slug(slug)
    assert roadmap is not None
    return roadmap


def _first(roadmap: RoadmapInfo, kind: str, stage: int = 0) -> TaskInfo:
    return next(t for t in roadmap.stages[stage].tasks if t.type == kind)


async def _walk_to(driver: Driver, roadmap: RoadmapInfo, target: TaskInfo) -> None:
    """Skip tasks of the first stage until ``target`` is the current one."""
    for task in roadmap.stages[0].tasks:
        if task.id == target.id:
            return
        await driver.say("/skip")
    raise AssertionError("target not in stage 1")


async def test_restart_continues_mid_question(database: Database) -> None:
    coach = await synced_coach(database)
    catalog = await catalog_of(database)
    roadmap = _roadmap(catalog)
    task = next(t for t in roadmap.stages[0].tasks if t.input is not None)
    maya = Driver(coach)
    await maya.onboard()
    await _walk_to(maya, roadmap, task)
    await maya.say("/today")
    # a brand-new process: new engine, new coach, same database
    fresh_db = Database(database.url)
    try:
        again = Driver(Coach(fresh_db))
        await again.say(valid_answer(catalog, task.slug, datetime.now(UTC).date()))
        assert "Saved:" in again.text
    finally:
        await fresh_db.dispose()
    row = await _row(database, task)
    assert row is not None
    assert row.status == "completed"


async def test_replayed_update_changes_nothing(database: Database) -> None:
    coach = await synced_coach(database)
    roadmap = _roadmap(await catalog_of(database))
    checklist = _first(roadmap, "checklist")
    maya = Driver(coach)
    await maya.onboard()
    await _walk_to(maya, roadmap, checklist)
    payload = encode("tick", checklist.slug, checklist.items[0].key)
    first = await maya.press_payload(payload, update_id="777")
    assert first
    await maya.press_payload(encode("untick", checklist.slug, checklist.items[0].key))
    replay = await maya.press_payload(payload, update_id="777")
    assert replay == [], "a replayed update is ignored"
    row = await _row(database, checklist)
    assert row is not None
    assert row.task_data["ticked"] == []


async def test_two_musicians_never_see_each_other(database: Database) -> None:
    coach = await synced_coach(database)
    roadmap = _roadmap(await catalog_of(database))
    maya, ben = Driver(coach, "maya"), Driver(coach, "ben")
    await maya.onboard("Maya")
    await ben.onboard("Ben")
    await maya.say("/skip")
    await ben.say("/progress")
    assert "(0/" in ben.text
    assert "Maya" not in ben.text
    row = await _row(database, roadmap.stages[0].tasks[0], "ben")
    assert row is None


async def test_the_turn_store_is_the_database(database: Database) -> None:
    """An answer, /stats and /undo through the real coach: the turn's rows (progress, profile,
    state, samples, events) are written and read by SQL on this backend (ticks: above)."""
    coach = await synced_coach(database)
    catalog = await catalog_of(database)
    roadmap = _roadmap(catalog)
    task = next(t for t in roadmap.stages[0].tasks if t.input is not None and t.input.metric)
    assert task.input is not None
    metric = task.input.metric
    assert metric is not None
    maya = Driver(coach)
    await maya.onboard()
    await _walk_to(maya, roadmap, task)
    await maya.say(valid_answer(catalog, task.slug, datetime.now(UTC).date()))
    assert "Saved:" in maya.text
    assert await count(database, StatSample, StatSample.metric == metric) == 1
    assert metric in (await _profile(database)).current_stats
    await maya.say("/stats")
    assert metric_label(metric) in maya.text

    await maya.say("/undo")
    assert await count(database, StatSample) == 0
    assert metric not in (await _profile(database)).current_stats
    assert await _row(database, task) is None
    assert await count(database, Event, Event.type == "task.undone") == 1
