"""The journey's flows through ``handle()``, on the in-memory coach: onboarding, ticks, answers,
skip and undo, progress, switching roadmaps, stale buttons, help, the words people type.

Moved here from ``tests/integration/test_engine.py`` (which keeps what is about the database:
replays,
restarts, two musicians in one database): the same conversations and the same facts, read
from the memory store instead of the database's rows.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from coachkit import Driver, valid_answer
from support.memory import MemoryCoach

from core.kernel.markup import parse, to_plain
from core.kernel.payloads import encode
from core.kernel.types import Picture, Toast
from core.progress.metrics import metric_label
from core.progress.service import ProgressRecord
from core.roadmaps.catalog import Catalog, RoadmapInfo, TaskInfo

INDIE = "indie-singer-songwriter"


def _roadmap(catalog: Catalog, slug: str = INDIE) -> RoadmapInfo:
    roadmap = catalog.roadmap_by_slug(slug)
    assert roadmap is not None
    return roadmap


def _first(roadmap: RoadmapInfo, kind: str, stage: int = 0) -> TaskInfo:
    return next(t for t in roadmap.stages[stage].tasks if t.type == kind)


def _row(coach: MemoryCoach, task: TaskInfo, user: str = "maya") -> ProgressRecord | None:
    return coach.progress_row(task.id, user)


async def _walk_to(driver: Driver, roadmap: RoadmapInfo, target: TaskInfo) -> None:
    """Skip tasks of the first stage until ``target`` is the current one."""
    for task in roadmap.stages[0].tasks:
        if task.id == target.id:
            return
        await driver.say("/skip")
    raise AssertionError("target not in stage 1")


async def test_start_greets_asks_name_and_offers_roadmaps() -> None:
    coach = MemoryCoach()
    catalog = coach.catalog
    maya = Driver(coach)
    await maya.say("/start")
    assert "artist name" in maya.text
    await maya.say("Maya")
    assert "Nice to meet you, Maya" in maya.text
    for roadmap in catalog.roadmaps:
        assert roadmap.name in maya.text
        assert roadmap.pitch in maya.text
    assert "How it works" in maya.text
    assert len(maya.buttons) == len(catalog.roadmaps)
    # /start again later is a welcome back, not a second onboarding
    await maya.press("Indie")
    await maya.say("/start")
    assert "Welcome back, Maya" in maya.text


async def test_checklist_ticks_by_button_and_text() -> None:
    coach = MemoryCoach()
    roadmap = _roadmap(coach.catalog)
    checklist = _first(roadmap, "checklist")
    maya = Driver(coach)
    await maya.onboard()
    await _walk_to(maya, roadmap, checklist)
    await maya.say("/today")
    first, second = checklist.items[0], checklist.items[1]

    replies = await maya.press_payload(encode("tick", checklist.slug, first.key))
    assert replies[0].edit, "a tick by button edits the checklist message in place"
    assert f"☑ 1. {first.text}" in maya.text
    await maya.press_payload(encode("untick", checklist.slug, first.key))
    assert f"☐ 1. {first.text}" in maya.text
    await maya.say("done 2")
    assert f"☑ 2. {second.text}" in maya.text
    await maya.say("2")  # a bare number toggles, like the button
    assert f"☐ 2. {second.text}" in maya.text
    await maya.say("tick 1")
    row = _row(coach, checklist)
    assert row is not None
    assert row.task_data["ticked"] == [first.key]
    assert row.status == "in_progress"
    await maya.say("untick 1")
    row = _row(coach, checklist)
    assert row is not None
    assert row.task_data["ticked"] == []
    await maya.say("done 99")
    assert f"items 1 to {len(checklist.items)}" in maya.text


async def test_completing_a_checklist_moves_on() -> None:
    coach = MemoryCoach()
    roadmap = _roadmap(coach.catalog)
    checklist = _first(roadmap, "checklist")
    maya = Driver(coach)
    await maya.onboard()
    await _walk_to(maya, roadmap, checklist)
    await maya.say("/today")
    for item in checklist.items:
        await maya.press_payload(encode("tick", checklist.slug, item.key))
    assert f"{checklist.title} — done!" in maya.text
    row = _row(coach, checklist)
    assert row is not None
    assert row.status == "completed"
    assert row.completed_at is not None
    assert len(coach.store.events_of("task.completed")) == 1


async def test_double_tapped_button_ticks_once() -> None:
    coach = MemoryCoach()
    roadmap = _roadmap(coach.catalog)
    checklist = _first(roadmap, "checklist")
    maya = Driver(coach)
    await maya.onboard()
    await _walk_to(maya, roadmap, checklist)
    payload = encode("tick", checklist.slug, checklist.items[0].key)
    await maya.press_payload(payload)
    replies = await maya.press_payload(payload)
    assert isinstance(replies[0], Toast)
    assert "Already ticked" in maya.text
    row = _row(coach, checklist)
    assert row is not None
    assert row.task_data["ticked"] == [checklist.items[0].key]


async def test_data_input_reasks_then_saves_and_tracks_the_metric() -> None:
    coach = MemoryCoach()
    catalog = coach.catalog
    roadmap = _roadmap(catalog)
    task = next(
        t
        for t in roadmap.stages[0].tasks
        if t.input is not None and t.input.metric and t.input.min is not None and t.input.min >= 0
    )
    maya = Driver(coach)
    await maya.onboard()
    await _walk_to(maya, roadmap, task)
    await maya.say("/today")
    assert task.input is not None
    assert task.input.question in maya.text
    await maya.say("-5")
    assert "negative" in maya.text
    await maya.say("abc")
    assert "number" in maya.text
    assert _row(coach, task) is None, "a bad answer stores nothing"
    answer = valid_answer(catalog, task.slug, datetime.now(UTC).date())
    await maya.say(answer)
    assert "Saved:" in maya.text
    row = _row(coach, task)
    assert row is not None
    assert row.status == "completed"
    metric = task.input.metric
    assert metric is not None
    assert metric in coach.record("maya").current_stats
    assert len(coach.store.samples_of(metric=metric)) == 1


async def test_far_off_value_asks_for_confirmation() -> None:
    coach = MemoryCoach()
    roadmap = _roadmap(coach.catalog)
    task = next(
        t
        for s in roadmap.stages
        for t in s.tasks
        if t.input is not None
        and t.input.metric
        and t.input.type.value == "integer"
        and s.position == roadmap.stages[0].position
    )
    assert task.input is not None
    metric = task.input.metric
    assert metric is not None
    maya = Driver(coach)
    await maya.onboard()
    await coach.store.update_profile(
        coach.record("maya").profile_id,
        current_stats={metric: {"value": "100", "display": "100", "unit": None}},
    )
    await _walk_to(maya, roadmap, task)
    await maya.say("/today")
    assert "last time: 100" in maya.text
    await maya.say("5000")
    assert "more than 10×" in maya.text
    assert _row(coach, task) is None
    await maya.press("No")
    assert "type the right figure" in maya.text
    await maya.say("5000")
    await maya.say("yes")
    assert "Saved:" in maya.text
    assert Decimal(coach.record("maya").current_stats[metric]["value"]) == 5000
    # the confirm button of the old question is stale now
    replies = await maya.press_payload(encode("confirm", task.slug, "y"))
    assert isinstance(replies[0], Toast)
    assert "expired" in maya.text


async def test_skip_then_undo_restores_the_task() -> None:
    coach = MemoryCoach()
    roadmap = _roadmap(coach.catalog)
    first, second = roadmap.stages[0].tasks[0], roadmap.stages[0].tasks[1]
    maya = Driver(coach)
    await maya.onboard()
    await maya.say("/skip")
    assert f"Skipped {first.title}" in maya.text
    assert second.title in maya.text
    row = _row(coach, first)
    assert row is not None
    assert row.status == "skipped"
    await maya.say("/undo")
    assert "Undone" in maya.text
    assert first.title in maya.text
    assert _row(coach, first) is None
    await maya.say("/undo")
    assert "nothing to undo" in maya.text


async def test_undo_an_answer_restores_stats_and_removes_the_sample() -> None:
    coach = MemoryCoach()
    catalog = coach.catalog
    roadmap = _roadmap(catalog)
    task = next(t for t in roadmap.stages[0].tasks if t.input is not None and t.input.metric)
    assert task.input is not None
    maya = Driver(coach)
    await maya.onboard()
    await _walk_to(maya, roadmap, task)
    await maya.say(valid_answer(catalog, task.slug, datetime.now(UTC).date()))
    assert len(coach.store.samples_of()) == 1
    await maya.say("/undo")
    assert len(coach.store.samples_of()) == 0
    assert task.input.metric not in coach.record("maya").current_stats
    assert _row(coach, task) is None
    assert task.input.question in maya.text, "after undo the question is asked again"


async def test_progress_shows_each_stage_with_a_bar() -> None:
    coach = MemoryCoach()
    roadmap = _roadmap(coach.catalog)
    maya = Driver(coach)
    await maya.onboard()
    first = roadmap.stages[0].tasks[0]
    for n in range(1, len(first.items) + 1):
        await maya.say(f"done {n}")
    await maya.say("/skip")
    await maya.say("/progress")
    text = maya.text
    assert f"{roadmap.name} — " in text
    assert "% overall" in text
    for stage in roadmap.stages:
        assert stage.title in text
    assert "█" in text
    assert "░" in text
    assert "🔒" in text
    # a skipped task is not a completed one: the bar counts completed tasks, the skip is said
    assert f"(1/{len(roadmap.stages[0].tasks)})" in text
    assert f"{roadmap.stages[0].title} — 1 skipped" in text


async def test_switching_roadmap_asks_first_and_keeps_progress() -> None:
    coach = MemoryCoach()
    catalog = coach.catalog
    indie = _roadmap(catalog)
    other = next(r for r in catalog.roadmaps if r.slug != INDIE)
    checklist = _first(indie, "checklist")
    maya = Driver(coach)
    await maya.onboard()
    await _walk_to(maya, indie, checklist)
    old_tick = encode("tick", checklist.slug, checklist.items[0].key)
    await maya.press_payload(old_tick)

    await maya.say("/roadmap")
    await maya.press(f"Switch to {other.name}")
    assert "stays saved" in maya.text
    assert coach.record("maya").roadmap_id == indie.id, "nothing changes before yes"
    confirm = maya.find("Yes").payload
    await maya.press_payload(confirm)
    assert f"You're on {other.name}" in maya.text
    assert coach.record("maya").roadmap_id == other.id
    # a second press of the same confirmation is stale
    replies = await maya.press_payload(confirm)
    assert isinstance(replies[0], Toast)
    assert "expired" in maya.text
    # a button from the old roadmap's message changes nothing
    replies = await maya.press_payload(encode("untick", checklist.slug, checklist.items[0].key))
    assert isinstance(replies[0], Toast)
    assert "another roadmap" in maya.text
    # switch back by text: the old tick is still there
    await maya.say("/roadmap")
    await maya.press(f"Switch to {indie.name}")
    await maya.say("yes")
    row = _row(coach, checklist)
    assert row is not None
    assert row.task_data["ticked"] == [checklist.items[0].key]


async def test_stale_buttons_get_a_kind_answer_and_change_nothing() -> None:
    coach = MemoryCoach()
    roadmap = _roadmap(coach.catalog)
    later = roadmap.stages[2].tasks[0]
    maya = Driver(coach)
    await maya.onboard()
    first = roadmap.stages[0].tasks[0]
    await maya.say("/skip")
    cases = [
        ("garbage", "older version"),
        ("v9:tk:x:y", "older version"),
        (encode("skip", first.slug), "already done"),
        (encode("skip", later.slug), "later stage"),
        (encode("tick", "no-such-task", "a"), "isn't part of the roadmap"),
        (encode("confirm", first.slug, "y"), "expired"),
        (encode("switch", "touring-band"), "expired"),
        (encode("cmd", "nonsense"), "don't know the command"),
    ]
    for payload, expected in cases:
        await maya.press_payload(payload)
        assert expected in maya.text, (payload, maya.text)
    assert _row(coach, later) is None
    row = _row(coach, first)
    assert row is not None
    assert row.status == "skipped"


async def test_pick_button_after_choosing_asks_to_switch() -> None:
    coach = MemoryCoach()
    maya = Driver(coach)
    await maya.onboard()
    await maya.press_payload(encode("pick", "touring-band"))
    assert "Switch to" in maya.text


async def test_unknown_commands_and_stray_text_get_help() -> None:
    coach = MemoryCoach()
    maya = Driver(coach)
    await maya.onboard()
    await maya.say("/todya")
    assert "Did you mean /today?" in maya.text
    await maya.say("/cancel")
    await maya.say("/frobnicate now please")
    assert "/help" in maya.text
    await maya.say("what is this")
    assert "/today" in maya.text


async def test_help_lists_every_command() -> None:
    coach = MemoryCoach()
    maya = Driver(coach)
    await maya.say("/help")
    listed = coach.registry.menu("private")
    assert {"start", "today", "remind", "link", "export", "help"} <= {c.name for c in listed}
    assert "band" not in {c.name for c in listed}, "a band's commands are listed in a band chat"
    for command in listed:
        assert f"/{command.name}" in maya.text
        assert command.help in maya.text


async def test_artist_name_markup_is_shown_literally() -> None:
    coach = MemoryCoach()
    maya = Driver(coach)
    await maya.say("/start")
    await maya.say("*DJ_Snake* <b>x</b>")
    spans = parse(maya.replies[0].text)
    shown = "".join(s.text for s in spans)
    assert "*DJ_Snake* <b>x</b>" in shown
    assert any(s.bold and "*DJ_Snake*" in s.text for s in spans)
    assert coach.record("maya").artist_name == "*DJ_Snake* <b>x</b>"


async def test_skipping_everything_finishes_the_roadmap_honestly() -> None:
    coach = MemoryCoach()
    roadmap = _roadmap(coach.catalog)
    # Without a release date, a task that opens relative to it is never asked (so never
    # skipped): it is named as still to come instead.
    dated = [t for s in roadmap.stages for t in s.tasks if t.when and t.when.opens is not None]
    keys = [t.title for s in roadmap.stages for t in s.tasks if t.key and t not in dated]
    assert keys, "the shipped roadmap marks key tasks"
    assert dated, "the shipped roadmap dates tasks from the release"
    maya = Driver(coach)
    await maya.onboard()
    seen_stage_completions = 0
    for _ in range(roadmap.task_count + 5):
        await maya.say("/skip")
        seen_stage_completions += maya.text.count("complete — ")
        if "reached the end" in maya.text:
            break
    # The end says what was skipped instead of "That's huge": every key task, with a button.
    assert "finished the whole" not in maya.text
    assert f"with {len(keys)} key tasks skipped" in maya.text
    assert all(title in maya.text for title in keys)
    assert len(maya.buttons) == len(keys)
    assert f"Still to come: {dated[0].title}, which opens once your release date is set" in (
        to_plain(maya.text)
    )
    assert seen_stage_completions == len(roadmap.stages)
    assert coach.record("maya").current_stage_id is None
    # /today then brings the first skipped key task back.
    await maya.say("/today")
    assert keys[0] in maya.text
    # Not complete while tasks wait for a release date that was never set.
    assert coach.store.events_of("roadmap.completed") == []


@pytest.mark.parametrize("word", ["skip", "undo", "help", "progress"])
async def test_bare_command_words_work(word: str) -> None:
    coach = MemoryCoach()
    maya = Driver(coach)
    await maya.onboard()
    await maya.say(word)
    assert "not sure what to do" not in maya.text


async def test_stats_show_numbers_trend_and_a_chart() -> None:
    coach = MemoryCoach()
    catalog = coach.catalog
    roadmap = _roadmap(catalog)
    task = next(t for t in roadmap.stages[0].tasks if t.input is not None and t.input.metric)
    assert task.input is not None
    metric = task.input.metric
    assert metric is not None
    maya = Driver(coach)
    await maya.onboard()
    await maya.say("/stats")
    assert "No numbers yet" in maya.text
    assert not isinstance(maya.replies[0], Picture)
    await _walk_to(maya, roadmap, task)
    await maya.say(valid_answer(catalog, task.slug, datetime.now(UTC).date()))
    await coach.store.add_sample(
        {
            "id": uuid.uuid4(),
            "profile_id": coach.record("maya").profile_id,
            "task_id": task.id,
            "metric": metric,
            "value": Decimal(1),
            "unit": None,
            "recorded_by": None,
            "recorded_at": datetime(2026, 1, 1, tzinfo=UTC),
        }
    )
    await maya.say("/stats")
    assert metric_label(metric) in maya.text
    assert "▲" in maya.text
    assert "since last time" in maya.text
    picture = maya.replies[0]
    assert isinstance(picture, Picture)
    assert picture.image.startswith(b"\x89PNG")
