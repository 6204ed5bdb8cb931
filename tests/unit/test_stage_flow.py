"""``/stage`` and its "open" buttons: the registry's worked example of a command and a button
added inside one feature package (core/journey), and a real way to do a stage's tasks in any
order. On the in-memory coach (moved from ``tests/test_stage_view.py``)."""

from __future__ import annotations

from coachkit import Driver
from support.memory import MemoryCoach

from core.journey.buttons import OPEN
from core.kernel.payloads import decode


async def test_stage_lists_its_tasks_and_opens_any_open_one() -> None:
    coach = MemoryCoach()
    maya = Driver(coach)
    await maya.onboard()
    catalog = coach.catalog
    roadmap = catalog.roadmap_by_slug("indie-singer-songwriter")
    assert roadmap is not None
    stage = roadmap.stages[0]
    assert len(stage.tasks) >= 3

    await maya.say("/stage")
    for n, task in enumerate(stage.tasks, start=1):
        assert f"{n}. {task.title}" in maya.text
    opens = [decode(b.payload) for b in maya.buttons]
    assert [p.args[0] for p in opens if p is not None and p.action == OPEN.name] == [
        t.slug for t in stage.tasks
    ], "every open task of the stage has its button"

    third = stage.tasks[2]
    await maya.press_payload(OPEN.encode(third.slug))
    assert third.title in maya.text, "the chosen task, not the first open one"
    await maya.say("/skip")  # /skip acts on the task that is open now: the third
    rows = coach.store.progress_rows(coach.record("maya").profile_id)
    assert {(catalog.tasks_by_id[r.task_id].slug, r.status) for r in rows} == {
        (third.slug, "skipped")
    }

    await maya.say("/stage")
    assert f"⏭ 3. {third.title}" in maya.text
    assert OPEN.encode(third.slug) not in [b.payload for b in maya.buttons], "done: no button"
    await maya.press_payload(OPEN.encode(third.slug))  # a stale "open" of a task dealt with
    assert "already done" in maya.text


async def test_stage_is_in_help_and_waits_for_an_artist_name() -> None:
    coach = MemoryCoach()
    newcomer = Driver(coach, "leo")
    await newcomer.say("/stage")
    assert "set up first" in newcomer.text
    await newcomer.say("Leo")
    await newcomer.say("/help")
    assert "/stage — This stage's tasks" in newcomer.text
