"""The in-memory coach keeps the real coach's promises where a flow can tell: routing,
replays, all-or-nothing events, the private-replies gate — and it refuses, loudly, what only a
database can do."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from coachkit import Driver
from support.memory import MemoryCoach, NoDatabase, NotInMemory, ReachedTheDatabase

from core.kernel.registry import Routed
from core.kernel.turn import Turn
from core.kernel.types import Message, Outbound
from core.roadmaps.catalog import TaskInfo


def _first_task(coach: MemoryCoach) -> TaskInfo:
    roadmap = coach.catalog.roadmap_by_slug("indie-singer-songwriter")
    assert roadmap is not None
    return roadmap.stages[0].tasks[0]


async def test_a_flow_with_sql_of_its_own_fails_the_test_and_changes_nothing() -> None:
    coach = MemoryCoach()
    maya = Driver(coach)
    await maya.onboard()
    before = coach.record("maya")
    with pytest.raises(ReachedTheDatabase, match="this flow reached the database"):
        await maya.say("/remind daily 18:00")  # reminders keep their own SQL
    assert coach.record("maya") == before


async def test_reaching_the_database_fails_even_when_the_flow_swallows_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    coach = MemoryCoach()
    maya = Driver(coach)
    await maya.onboard()

    async def careless(turn: Turn, routed: Routed) -> list[Outbound]:
        try:
            await turn.ex.run(object(), {})
        except Exception:  # noqa: S110 - the point: a flow that hides the failure
            pass
        return [Message(text="all fine")]

    monkeypatch.setattr(coach.coach, "dispatch", careless)
    with pytest.raises(ReachedTheDatabase, match="carried on"):
        await maya.say("/today")


async def test_no_database_refuses_every_use() -> None:
    ex = NoDatabase()
    with pytest.raises(ReachedTheDatabase):
        _ = ex.dialect
    with pytest.raises(ReachedTheDatabase):
        await ex.rows("SELECT 1", {})
    with pytest.raises(ReachedTheDatabase):
        await ex.run_many("INSERT", [{}])
    assert len(ex.reached) == 3


@pytest.mark.parametrize("text", ["/link", "/export", "/admin stats"])
async def test_doors_that_are_database_work_are_not_in_memory(text: str) -> None:
    coach = MemoryCoach()
    maya = Driver(coach)
    with pytest.raises(NotInMemory):
        await maya.say(text)


async def test_a_band_chat_is_not_in_memory() -> None:
    coach = MemoryCoach()
    ana = Driver(coach, "ana", platform="discord")
    event = ana.inbound(kind="command", text="/today", chat_type="guild", server_id="g1")
    with pytest.raises(NotInMemory):
        await coach.handle(event)


async def test_a_replayed_update_is_answered_once_and_changes_nothing() -> None:
    coach = MemoryCoach()
    maya = Driver(coach)
    await maya.onboard()
    task = _first_task(coach)
    assert await maya.say("/skip", update_id="41")
    assert coach.progress_row(task.id) is not None
    await maya.say("/undo")
    assert await maya.say("/skip", update_id="41") == []
    assert coach.progress_row(task.id) is None, "the replay skipped nothing"
    assert await maya.say("/skip", update_id="42"), "a new update id is handled"


async def test_a_failed_event_is_rolled_back_and_its_update_id_stays_unhandled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    coach = MemoryCoach()
    maya = Driver(coach)
    await maya.onboard()
    real = coach.coach.dispatch

    async def half_done(turn: Turn, routed: Routed) -> list[Outbound]:
        await turn.store.add_sample(
            {
                "id": uuid.uuid4(),
                "profile_id": turn.rec.profile_id,
                "task_id": None,
                "metric": "monthly_listeners",
                "value": 5,
                "unit": None,
                "recorded_by": None,
                "recorded_at": datetime(2026, 1, 1, tzinfo=UTC),
            }
        )
        turn.set_profile(artist_name="Half")
        raise RuntimeError("a bug in the middle of a flow")

    monkeypatch.setattr(coach.coach, "dispatch", half_done)
    with pytest.raises(RuntimeError, match="bug in the middle"):
        await maya.say("/today", update_id="7")
    assert coach.store.samples_of() == []
    assert coach.record("maya").artist_name == "Maya"
    monkeypatch.setattr(coach.coach, "dispatch", real)
    assert await maya.say("/today", update_id="7"), "the update id was not recorded"


async def test_a_new_musician_of_a_failed_first_event_does_not_exist(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    coach = MemoryCoach()

    async def broken(turn: Turn, routed: Routed) -> list[Outbound]:
        raise RuntimeError("broken")

    monkeypatch.setattr(coach.coach, "dispatch", broken)
    with pytest.raises(RuntimeError):
        await Driver(coach, "leo").say("/start")
    assert coach.store.load_turn("console", "leo") is None


async def test_private_replies_pass_the_real_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    coach = MemoryCoach()

    async def secret(turn: Turn, routed: Routed) -> list[Outbound]:
        return [Message(text="just for you", private=True)]

    monkeypatch.setattr(coach.coach, "dispatch", secret)
    maya = Driver(coach, platform="telegram")
    in_a_group = maya.inbound(kind="text", text="hi", chat_id="-100", chat_type="group")
    replies = await coach.handle(in_a_group)
    assert [(r.text, r.chat_id) for r in replies] == [("just for you", "maya")], (
        "moved to the person's direct chat, not left in the group"
    )


async def test_reads_are_copies_like_a_database_row() -> None:
    coach = MemoryCoach()
    maya = Driver(coach)
    await maya.onboard()
    record: Any = coach.record("maya")
    record.current_stats["x"] = 1
    record.artist_name = "Changed"
    assert coach.record("maya").current_stats == {}
    assert coach.record("maya").artist_name == "Maya"
