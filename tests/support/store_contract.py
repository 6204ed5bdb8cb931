"""What every :class:`~core.kernel.store.TurnStore` does, checked through the protocol alone.

The unit layer trusts :class:`~support.memory.MemoryTurnStore` to stand in for the database;
these cases are why it may. Each runs on the memory store (``tests/unit/test_memory_store.py``)
and on :class:`~core.kernel.store.SqlTurnStore` on SQLite and PostgreSQL
(``tests/integration/test_turn_store.py``): a behaviour the two disagree on fails on one side.

A case gets a :class:`Setting`: the store, a freshly created musician's record, the catalog
the store's tasks come from, and ``reload()`` — the musician's rows read back as the engine
loads them at the start of an event.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from core.kernel.store import GoalRecord, TurnRecord, TurnStore
from core.progress.service import ProgressRecord
from core.roadmaps.catalog import Catalog, RoadmapInfo

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Setting:
    """One store with one musician in it."""

    store: TurnStore
    record: TurnRecord
    catalog: Catalog
    reload: Callable[[], Awaitable[TurnRecord]]

    @property
    def roadmap(self) -> RoadmapInfo:
        """The first roadmap with at least two stages (the bundled ones all have)."""
        return next(r for r in self.catalog.roadmaps if len(r.stages) >= 2)


async def progress_rows_round_trip(s: Setting) -> None:
    """A saved row comes back by task, stage and roadmap; it is marked stored; reads are
    copies; an update and a delete are seen by the next read."""
    roadmap, pid = s.roadmap, s.record.profile_id
    first, later = roadmap.stages[0].tasks[0], roadmap.stages[1].tasks[0]
    row = ProgressRecord(task_id=first.id, status="in_progress", task_data={"ticked": ["a"]})
    await s.store.save_progress(pid, row, NOW)
    assert row.stored
    other = ProgressRecord(task_id=later.id, status="skipped")
    await s.store.save_progress(pid, other, NOW)

    by_task = await s.store.load_progress(pid, "task", first.id)
    assert set(by_task) == {first.id}
    got = by_task[first.id]
    assert (got.id, got.status, got.task_data, got.stored) == (
        row.id,
        "in_progress",
        {"ticked": ["a"]},
        True,
    )
    assert set(await s.store.load_progress(pid, "stage", roadmap.stages[0].id)) == {first.id}
    assert set(await s.store.load_progress(pid, "stage", roadmap.stages[1].id)) == {later.id}
    assert set(await s.store.load_progress(pid, "roadmap", roadmap.id)) == {first.id, later.id}

    got.task_data["ticked"].append("b")  # a read is a copy: changing it stores nothing
    got.status = "completed"
    again = (await s.store.load_progress(pid, "task", first.id))[first.id]
    assert (again.status, again.task_data) == ("in_progress", {"ticked": ["a"]})

    done_at = NOW + timedelta(minutes=1)
    got.completed_at, got.completed_by = done_at, s.record.user_id
    await s.store.save_progress(pid, got, done_at)
    again = (await s.store.load_progress(pid, "task", first.id))[first.id]
    assert (again.status, again.task_data) == ("completed", {"ticked": ["a", "b"]})
    assert (again.completed_at, again.completed_by) == (done_at, s.record.user_id)

    await s.store.delete_progress(row.id)
    assert await s.store.load_progress(pid, "task", first.id) == {}
    assert set(await s.store.load_progress(pid, "roadmap", roadmap.id)) == {later.id}


async def json_comes_back_as_json(s: Setting) -> None:
    """JSON columns hold JSON: a tuple comes back a list, nested values intact."""
    task = s.roadmap.stages[0].tasks[0]
    data = {"ticked": ("a", "b"), "nested": {"n": 1, "s": "x", "none": None}}
    await s.store.save_progress(s.record.profile_id, ProgressRecord(task.id, task_data=data), NOW)
    got = (await s.store.load_progress(s.record.profile_id, "task", task.id))[task.id]
    assert got.task_data == {"ticked": ["a", "b"], "nested": {"n": 1, "s": "x", "none": None}}


async def progress_and_state_together(s: Setting) -> None:
    """One progress row and the conversation state in one call: both are stored."""
    task = s.roadmap.stages[0].tasks[0]
    rec = s.record
    rec.awaiting, rec.state_task_id, rec.state_data = "checklist", task.id, {"k": [1]}
    rec.undo = {"label": "x", "task_id": str(task.id)}
    row = ProgressRecord(task_id=task.id, status="in_progress", task_data={"ticked": ["a"]})
    await s.store.save_progress_and_state(rec, row, NOW)
    assert row.stored
    loaded = await s.reload()
    assert (loaded.awaiting, loaded.state_task_id, loaded.state_data, loaded.undo) == (
        "checklist",
        task.id,
        {"k": [1]},
        {"label": "x", "task_id": str(task.id)},
    )
    assert (await s.store.load_progress(rec.profile_id, "task", task.id))[task.id].status == (
        "in_progress"
    )
    row.status = "completed"  # the same call updates a stored row
    rec.awaiting = None
    await s.store.save_progress_and_state(rec, row, NOW)
    assert (await s.reload()).awaiting is None
    assert (await s.store.load_progress(rec.profile_id, "task", task.id))[task.id].status == (
        "completed"
    )


async def state_profile_and_user_columns(s: Setting) -> None:
    """The state, the changed profile columns and the user's activity are read back."""
    rec = s.record
    stage = s.roadmap.stages[1]
    rec.awaiting, rec.state_data, rec.undo = "answer", {"raw": "12k"}, None
    await s.store.save_state(rec, NOW)
    stats = {"monthly_listeners": {"value": "12000", "display": "12,000", "unit": None}}
    await s.store.update_profile(
        rec.profile_id,
        artist_name="Maya",
        roadmap_id=s.roadmap.id,
        current_stage_id=stage.id,
        current_stats=stats,
        updated_at=NOW,
    )
    later = NOW + timedelta(hours=1)
    await s.store.update_user(rec.user_id, last_active_at=later)
    loaded = await s.reload()
    assert (loaded.awaiting, loaded.state_data) == ("answer", {"raw": "12k"})
    assert (loaded.artist_name, loaded.roadmap_id, loaded.current_stage_id) == (
        "Maya",
        s.roadmap.id,
        stage.id,
    )
    assert loaded.current_stats == stats
    assert loaded.user_last_active_at == later
    await s.store.update_profile(rec.profile_id, current_stage_id=None)
    assert (await s.reload()).current_stage_id is None


async def samples_newest_first(s: Setting) -> None:
    """Samples come back newest first, as Decimals, at most ``limit``; a deleted one is gone."""
    pid = s.record.profile_id
    task = next(t for r in s.catalog.roadmaps for st in r.stages for t in st.tasks if t.input)
    ids = [uuid.uuid4() for _ in range(3)]
    for n, sample_id in enumerate(ids):
        await s.store.add_sample(
            {
                "id": sample_id,
                "profile_id": pid,
                "task_id": task.id,
                "metric": "monthly_listeners",
                "value": Decimal(100 * (n + 1)),
                "unit": None,
                "recorded_by": s.record.user_id,
                "recorded_at": NOW + timedelta(days=n),
            }
        )
    got = await s.store.recent_samples(pid, 2)
    assert [(m, v, at) for m, v, at in got] == [
        ("monthly_listeners", Decimal(300), NOW + timedelta(days=2)),
        ("monthly_listeners", Decimal(200), NOW + timedelta(days=1)),
    ]
    assert all(isinstance(v, Decimal) for _m, v, _at in got)
    await s.store.delete_sample(ids[2])
    got = await s.store.recent_samples(pid, 10)
    assert [v for _m, v, _at in got] == [Decimal(200), Decimal(100)]
    assert await s.store.recent_samples(uuid.uuid4(), 10) == []


async def events_are_accepted(s: Setting) -> None:
    """Outbox events of the turn's shape are taken (none at all is fine too)."""
    await s.store.add_events([])
    await s.store.add_events(
        [
            {
                "id": uuid.uuid4(),
                "type": "task.completed",
                "profile_id": s.record.profile_id,
                "user_id": s.record.user_id,
                "payload": {"task": "x"},
                "created_at": NOW,
                "processed_at": None,
            }
        ]
    )


async def one_row_per_task(s: Setting) -> None:
    """A second new row for a task that has one breaks the unique key (last: on PostgreSQL it
    aborts the transaction)."""
    task = s.roadmap.stages[0].tasks[0]
    await s.store.save_progress(s.record.profile_id, ProgressRecord(task.id), NOW)
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        await s.store.save_progress(s.record.profile_id, ProgressRecord(task.id), NOW)


async def metric_samples_oldest_first(s: Setting) -> None:
    """One metric's samples, the latest ``limit`` of them, oldest first; others left out."""
    pid = s.record.profile_id
    for n, metric in enumerate(["monthly_listeners", "followers", "monthly_listeners"] * 2):
        await s.store.add_sample(
            {
                "id": uuid.uuid4(),
                "profile_id": pid,
                "task_id": None,
                "metric": metric,
                "value": Decimal(n),
                "unit": None,
                "recorded_by": s.record.user_id,
                "recorded_at": NOW + timedelta(days=n),
            }
        )
    got = await s.store.metric_samples(pid, "monthly_listeners", 3)
    assert got == [(NOW + timedelta(days=n), Decimal(n)) for n in (2, 3, 5)]
    assert await s.store.metric_samples(pid, "nothing", 3) == []


async def goals_round_trip(s: Setting) -> None:
    """A goal is saved, read back, replaced by a new one for the same metric (``met_at``
    cleared), marked met only once, and removed."""
    pid, uid = s.record.profile_id, s.record.user_id
    first = GoalRecord(
        "monthly_listeners", Decimal(2000), NOW.date() + timedelta(days=90), Decimal(1200), uid, NOW
    )
    await s.store.save_goal(pid, first)
    await s.store.save_goal(
        pid, GoalRecord("followers", Decimal("5.5"), NOW.date(), None, uid, NOW)
    )
    got = await s.store.load_goals(pid)
    assert [(g.metric, g.target, g.due_on, g.baseline, g.met_at) for g in got] == [
        ("followers", Decimal("5.5"), NOW.date(), None, None),
        ("monthly_listeners", Decimal(2000), NOW.date() + timedelta(days=90), Decimal(1200), None),
    ]
    assert await s.store.mark_goal_met(pid, "monthly_listeners", NOW)
    assert not await s.store.mark_goal_met(pid, "monthly_listeners", NOW + timedelta(days=1))
    assert not await s.store.mark_goal_met(pid, "nothing", NOW)
    met = {g.metric: g.met_at for g in await s.store.load_goals(pid)}
    assert met == {"followers": None, "monthly_listeners": NOW}
    again = GoalRecord("monthly_listeners", Decimal(3000), NOW.date(), Decimal(2100), uid, NOW)
    await s.store.save_goal(pid, again)
    got = await s.store.load_goals(pid)
    assert [(g.target, g.met_at) for g in got if g.metric == "monthly_listeners"] == [
        (Decimal(3000), None)
    ]
    assert await s.store.delete_goal(pid, "followers")
    assert not await s.store.delete_goal(pid, "followers")
    assert [g.metric for g in await s.store.load_goals(pid)] == ["monthly_listeners"]
    assert await s.store.load_goals(uuid.uuid4()) == []


async def charts_round_trip(s: Setting) -> None:
    """A stored chart comes back only for its own digest, and a new one replaces it."""
    pid = s.record.profile_id
    assert await s.store.stored_chart(pid, "a" * 32) is None
    await s.store.save_chart(pid, "a" * 32, b"\x89PNG first", NOW)
    assert await s.store.stored_chart(pid, "a" * 32) == b"\x89PNG first"
    assert await s.store.stored_chart(pid, "b" * 32) is None, "another digest: a stale chart"
    await s.store.save_chart(pid, "b" * 32, b"\x89PNG second", NOW + timedelta(days=1))
    assert await s.store.stored_chart(pid, "b" * 32) == b"\x89PNG second"
    assert await s.store.stored_chart(pid, "a" * 32) is None
    assert await s.store.stored_chart(uuid.uuid4(), "b" * 32) is None


async def streak_history_has_completions_ticks_and_numbers(s: Setting) -> None:
    """The streak's history: completed rows' times, each item still ticked on a checklist
    (``task_data.ticked_at``) and every sample's — not a skip's, not a stored garbage time;
    aware datetimes; nobody else's rows."""
    roadmap, pid = s.roadmap, s.record.profile_id
    done, skipped = roadmap.stages[0].tasks[0], roadmap.stages[1].tasks[0]
    open_ = roadmap.stages[0].tasks[1]
    completed_at = NOW - timedelta(days=9, hours=3)
    ticked_at = NOW - timedelta(days=4)
    await s.store.save_progress(
        pid, ProgressRecord(task_id=done.id, status="completed", completed_at=completed_at), NOW
    )
    await s.store.save_progress(pid, ProgressRecord(task_id=skipped.id, status="skipped"), NOW)
    ticks = {"ticked": ["a", "b"], "ticked_at": {"a": ticked_at.isoformat(), "b": "garbage"}}
    await s.store.save_progress(
        pid, ProgressRecord(task_id=open_.id, status="in_progress", task_data=ticks), NOW
    )
    await s.store.add_sample(
        {
            "id": uuid.uuid4(),
            "profile_id": pid,
            "task_id": None,
            "metric": "monthly_listeners",
            "value": Decimal(5),
            "unit": None,
            "recorded_by": s.record.user_id,
            "recorded_at": NOW,
        }
    )
    history = await s.store.streak_history(pid)
    assert sorted(history.steps) == [completed_at, ticked_at, NOW]
    assert all(at.tzinfo is not None for at in history.steps)
    assert history.freezes == ()
    other = await s.store.streak_history(uuid.uuid4())
    assert (other.steps, other.freezes) == ((), ())


async def earlier_cycles_round_trip(s: Setting) -> None:
    """A closed cycle's rows come back by roadmap, oldest cycle first, without who ticked
    (``ticked_by`` names users); one row per task and cycle; the streak still counts their
    completions and ticks (issue #15 §2: starting the next release keeps the streak)."""
    roadmap, pid = s.roadmap, s.record.profile_id
    first, second = roadmap.stages[0].tasks[0], roadmap.stages[0].tasks[1]
    done_at = NOW - timedelta(days=2)
    ticked_at = NOW - timedelta(days=1)
    rows = [
        ProgressRecord(
            task_id=first.id,
            status="completed",
            completed_at=done_at,
            task_data={"value": "8", "display": "8%", "numeric": "8"},
        ),
        ProgressRecord(
            task_id=second.id,
            status="in_progress",
            task_data={
                "ticked": ["a"],
                "ticked_by": {"a": str(s.record.user_id)},
                "ticked_at": {"a": ticked_at.isoformat()},
            },
        ),
    ]
    assert await s.store.load_cycles(pid, roadmap.id) == []
    await s.store.archive_cycle(pid, 2, rows[:1], NOW)
    await s.store.archive_cycle(pid, 1, rows, NOW)
    got = await s.store.load_cycles(pid, roadmap.id)
    assert [c.cycle for c in got] == [1, 1, 2]  # oldest cycle first
    assert {(c.cycle, c.task_id, c.status) for c in got} == {
        (1, first.id, "completed"),
        (1, second.id, "in_progress"),
        (2, first.id, "completed"),
    }
    kept = next(c for c in got if c.task_id == second.id)
    assert "ticked_by" not in kept.task_data
    assert kept.task_data["ticked"] == ["a"]
    assert next(c for c in got if c.cycle == 1 and c.task_id == first.id).completed_at == done_at
    assert await s.store.load_cycles(pid, uuid.uuid4()) == []  # another roadmap: nothing
    history = await s.store.streak_history(pid)
    assert sorted(history.steps) == [done_at, done_at, ticked_at]
    # last: on PostgreSQL the unique violation aborts the case's transaction
    with pytest.raises(Exception):  # noqa: B017, PT011 - IntegrityError or the memory's ValueError
        await s.store.archive_cycle(pid, 1, rows[:1], NOW)


CASES: list[Callable[[Setting], Awaitable[None]]] = [
    earlier_cycles_round_trip,
    streak_history_has_completions_ticks_and_numbers,
    charts_round_trip,
    metric_samples_oldest_first,
    goals_round_trip,
    progress_rows_round_trip,
    json_comes_back_as_json,
    progress_and_state_together,
    state_profile_and_user_columns,
    samples_newest_first,
    events_are_accepted,
    one_row_per_task,
]
