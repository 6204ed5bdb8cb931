"""Content that branches on the musician's answers, and release cycles that repeat (issue #15
§2), on the in-memory coach with a small roadmap of its own (``tests/support/cycleroadmap.py``)
and on the shipped content where it branches."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from coachkit import Driver
from cycleroadmap import ENGINEER, HOME, cycle_roadmap, cycle_stages
from pydantic import ValidationError
from support.memory import MemoryCoach, bundled_catalog

from core.journey.buttons import NEXT_CYCLE
from core.progress.service import ProgressRecord, applies, live_tasks, stage_counts, stage_done
from core.roadmaps.schema import Roadmap


async def _onboard(coach: MemoryCoach, user: str = "maya") -> Driver:
    driver = Driver(coach, user)
    await driver.onboard(name=user.capitalize(), roadmap_name="Cycle Test")
    return driver


async def _tick_all(driver: Driver) -> None:
    await driver.say("1")
    await driver.say("2")


# --- the schema: a condition names an earlier choice question and one of its choices --------


def _with(change: Any) -> list[dict[str, Any]]:
    stages = copy.deepcopy(cycle_stages())
    change(stages)
    return stages


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (
            lambda s: s[0]["tasks"][1].update(only_if={"task": "cy-song", "answer": "x"}),
            "not a task before it",
        ),
        (
            lambda s: s[0]["tasks"][1].update(only_if={"task": "cy-how", "answer": "Garage"}),
            "'Garage' is not a choice of 'cy-how'",
        ),
        (
            lambda s: s[1]["tasks"][1].update(only_if={"task": "cy-plan", "answer": "x"}),
            "not a choice question",
        ),
        (
            lambda s: (
                (s[1].pop("repeats") and s[0].update(repeats="release"))
                or s[2].update(repeats="release")
            ),
            "must follow one another",
        ),
        (lambda s: s[2].update(repeats="tour") or s[1].update(repeats="release"), "same cycle"),
        (
            lambda s: (
                s[1]["tasks"][0].update(only_if={"task": "cy-how", "answer": HOME})
                or s[1]["tasks"][1].update(only_if={"task": "cy-how", "answer": HOME})
            ),
            "only conditional tasks",
        ),
    ],
    ids=["later-task", "unknown-answer", "not-a-choice", "gap", "two-names", "all-conditional"],
)
def test_a_condition_or_cycle_that_cannot_hold_is_a_load_error(change: Any, says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        cycle_roadmap(_with(change))


def test_an_answer_from_inside_the_cycle_cannot_steer_a_task_outside_it() -> None:
    def change(stages: list[dict[str, Any]]) -> None:
        stages[1]["tasks"].insert(0, copy.deepcopy(stages[0]["tasks"][0]) | {"slug": "cy-how2"})
        stages[2]["tasks"].append(
            {
                "slug": "cy-late",
                "title": "Late task",
                "description": "Depends on the cycle.",
                "type": "checklist",
                "items": [{"key": "a", "text": "Do it"}],
                "only_if": {"task": "cy-how2", "answer": HOME},
            }
        )

    with pytest.raises(ValidationError, match="starts fresh every cycle"):
        cycle_roadmap(_with(change))


# --- applies(): what counts as an answer ---------------------------------------------------


def _rows(catalog: Any, answer: str | None, status: str = "completed") -> dict[uuid.UUID, Any]:
    how = catalog.tasks_by_slug["cy-how"]
    if answer is None:
        return {}
    data = {"value": answer, "display": answer}
    return {how.id: ProgressRecord(task_id=how.id, status=status, task_data=data)}


def test_a_task_applies_until_the_question_is_answered_otherwise() -> None:
    coach = MemoryCoach(roadmaps=[cycle_roadmap()])
    catalog = coach.catalog
    engineer, own = catalog.tasks_by_slug["cy-engineer"], catalog.tasks_by_slug["cy-self"]
    stage = catalog.roadmaps[0].stages[0]
    unanswered, home = _rows(catalog, None), _rows(catalog, HOME)
    assert applies(engineer, unanswered)
    assert applies(own, unanswered)
    assert applies(engineer, _rows(catalog, HOME, status="skipped"))  # skipped: no answer
    assert not applies(engineer, home)
    assert applies(own, home)
    assert applies(engineer, _rows(catalog, ENGINEER.upper()))  # the choice, in any case
    assert [t.slug for t in live_tasks(stage, home)] == ["cy-how", "cy-self", "cy-song"]
    assert stage_counts(stage, home) == (1, 3)  # not counted: 1 of 3, not 1 of 4


def test_the_home_studio_artist_is_not_told_to_brief_an_engineer() -> None:
    """The issue's example, on the shipped singer-songwriter roadmap."""
    catalog = bundled_catalog()
    how = catalog.tasks_by_slug["iss-recording-setup"]
    stage = next(s for r in catalog.roadmaps for s in r.stages if how in s.tasks)

    def shown(answer: str) -> set[str]:
        row = ProgressRecord(task_id=how.id, status="completed", task_data={"value": answer})
        return {t.slug for t in live_tasks(stage, {how.id: row})}

    home = shown("Home studio, self-produced")
    assert "iss-self-mix-master" in home
    assert "iss-mix-master" not in home
    studio = shown("Studio with an engineer")
    assert "iss-mix-master" in studio
    assert "iss-self-mix-master" not in studio
    engineer_items = catalog.tasks_by_slug["iss-mix-master"].items
    assert any("engineer" in item.text for item in engineer_items)


# --- branching in the conversation ---------------------------------------------------------


async def test_the_answer_decides_what_the_stage_shows_counts_and_asks() -> None:
    coach = MemoryCoach(roadmaps=[cycle_roadmap()])
    maya = await _onboard(coach)
    assert "How are you recording?" in maya.text
    await maya.say(HOME)
    assert "Check your own mix" in maya.text, "the next task is the home studio's"
    assert "Brief your engineer" not in maya.text

    await maya.say("/stage")
    assert "Check your own mix" in maya.text
    assert "Brief your engineer" not in maya.text
    await maya.say("/today")
    assert "Check your own mix" in maya.text
    await maya.say("/progress")
    assert "(1/3)" in maya.text, "the engineer's task is not counted"

    await _tick_all(maya)
    await _tick_all(maya)  # the song: the stage is done without the engineer's task
    assert "Stage 1 complete" in maya.text
    await maya.say("/progress")
    assert "(3/3)" in maya.text

    leo = await _onboard(coach, "leo")
    await leo.say(ENGINEER)
    await leo.say("/stage")
    assert "Brief your engineer" in leo.text
    assert "Check your own mix" not in leo.text
    await leo.press_payload(  # a button to the other branch's task: a kind no
        "v1:op:cy-self"
    )
    assert "doesn't apply to you" in leo.text


# --- cycles --------------------------------------------------------------------------------


async def _through_release_one(maya: Driver) -> None:
    await maya.say(HOME)
    await _tick_all(maya)
    await _tick_all(maya)
    await _tick_all(maya)  # plan the release
    await maya.say("8%")  # the save rate


async def test_a_finished_release_offers_the_next_with_last_releases_numbers() -> None:
    coach = MemoryCoach(roadmaps=[cycle_roadmap()])
    maya = await _onboard(coach)
    await maya.say("/next")
    assert "Finish release 1 first" in maya.text

    await _through_release_one(maya)
    assert "Stage 2 complete" in maya.text
    assert "Release 1 is done." in maya.text
    assert maya.find("Start release 2").payload == NEXT_CYCLE.encode("2")
    assert "Book a gig" in maya.text, "the roadmap goes on meanwhile"

    await maya.press("Start release 2")
    assert "Release 2 starts now." in maya.text
    assert "Plan the release" in maya.text, "the cycle's first task, fresh"
    pid = coach.record("maya").profile_id
    cycles = coach.store.tables.cycles.values()
    assert sorted(
        (coach.catalog.tasks_by_id[c["task_id"]].slug, c["cycle"], c["status"]) for c in cycles
    ) == [("cy-plan", 1, "completed"), ("cy-save", 1, "completed")]
    save = coach.catalog.tasks_by_slug["cy-save"]
    live = coach.store.progress_row(pid, save.id)
    assert live is not None
    assert live.status == "not_started"

    await _tick_all(maya)
    assert "Last release: 8%. Aim for 10% this time." in maya.text
    await maya.say("9.5%")
    assert "✅ Saved: 9.5%" in maya.text
    assert "Up 1.5 points since last time" in maya.text, "compared with last release"
    assert "Release 2 is done." in maya.text
    assert maya.find("Start release 3")

    await maya.say("/progress")
    assert "Release 2 now. Earlier:" in maya.text
    assert "Release 1: 2 of 2 tasks done" in maya.text

    await maya.press_payload(NEXT_CYCLE.encode("2"))  # the first offer's button, again
    assert "already under way" in maya.text
    assert len(coach.store.tables.cycles) == 2, "a stale button starts nothing"


async def test_the_next_cycle_waits_for_the_numbers_and_stage_gates_stay_honest() -> None:
    """The cycle is not done while one of its required tasks is open; a roadmap without a
    cycle says so."""
    coach = MemoryCoach(roadmaps=[cycle_roadmap()])
    maya = await _onboard(coach)
    await maya.say(HOME)
    await _tick_all(maya)
    await _tick_all(maya)
    await _tick_all(maya)
    await maya.say("/next")
    assert "Finish release 1 first" in maya.text
    assert "Release" in maya.text
    assert "1 task(s)" in maya.text
    roadmap = coach.catalog.roadmaps[0]
    rows = {r.task_id: r for r in coach.store.progress_rows(coach.record("maya").profile_id)}
    assert not stage_done(roadmap.stages[1], rows)

    plain = MemoryCoach()
    ana = Driver(plain, "ana")
    await ana.onboard(name="Ana", roadmap_name="Indie")
    await ana.say("/next")
    assert "Finish release 1 first" in ana.text  # the indie roadmap repeats its release


async def test_onboarding_offers_the_new_careers() -> None:
    """The menu is built from the catalog: the two new roadmaps are offered with no code."""
    coach = MemoryCoach()
    ana = Driver(coach, "ana")
    await ana.say("/start")
    await ana.say("Ana")
    labels = [b.label for b in ana.buttons]
    assert "Rapper / Hip-Hop Artist" in labels
    assert "Songwriter / Producer (Sync and Cuts)" in labels
    await ana.press("Rapper")
    assert "Lock in your rap name and look" in ana.text


@pytest.mark.parametrize("slug", ["rapper-hip-hop-artist", "songwriter-producer-sync"])
def test_the_new_careers_are_full_roadmaps_that_branch_and_repeat(slug: str) -> None:
    """Issue #15 §2: each new career has at least 5 stages and 25 tasks, checklists and data
    inputs, content that branches on an answer and a cycle that repeats."""
    roadmap = bundled_catalog().roadmap_by_slug(slug)
    assert roadmap is not None
    tasks = [t for s in roadmap.stages for t in s.tasks]
    assert len(roadmap.stages) >= 5
    assert len(tasks) >= 25
    assert {t.type for t in tasks} == {"checklist", "data_input"}
    assert any(t.only_if is not None for t in tasks), "something depends on an answer"
    assert roadmap.cycle is not None, "a cycle that repeats"


# --- once-only tasks inside a repeating stage -------------------------------------------------


def _with_once_channel() -> Any:
    """The cycle roadmap with a once-only task in its release stage: *Set up your channel*."""
    stages = copy.deepcopy(cycle_stages())
    channel = {
        "slug": "cy-channel",
        "title": "Set up your channel",
        "description": "Claim your artist channel; it carries every release after this one.",
        "type": "checklist",
        "items": [{"key": "one", "text": "Claim it"}, {"key": "two", "text": "Link it"}],
        "once": True,
    }
    stages[1]["tasks"].insert(1, channel)
    return Roadmap.model_validate({**cycle_roadmap().model_dump(mode="json"), "stages": stages})


async def test_a_once_only_task_is_not_reopened_by_the_next_cycle() -> None:
    coach = MemoryCoach(roadmaps=[_with_once_channel()])
    maya = await _onboard(coach)
    await maya.say(HOME)
    await _tick_all(maya)
    await _tick_all(maya)
    await _tick_all(maya)  # plan the release
    assert "Set up your channel" in maya.text, "in release 1 it is asked like any task"
    await _tick_all(maya)
    await maya.say("8%")
    await maya.press("Start release 2")
    assert "Plan the release" in maya.text
    await _tick_all(maya)
    assert "Set up your channel" not in maya.text, "done once: not asked again"
    assert "Save rate" in maya.text
    channel = coach.catalog.tasks_by_slug["cy-channel"]
    row = coach.store.progress_row(coach.record("maya").profile_id, channel.id)
    assert row is not None
    assert row.status == "completed", "its row is kept, not reset"
    await maya.say("/progress")
    assert "(2/3)" in maya.text, "counted as done in release 2"


def test_once_only_belongs_in_a_repeating_stage() -> None:
    stages = copy.deepcopy(cycle_stages())
    stages[0]["tasks"][3]["once"] = True  # Pick the song: not in a repeating stage
    with pytest.raises(ValidationError, match="does not repeat"):
        Roadmap.model_validate({**cycle_roadmap().model_dump(mode="json"), "stages": stages})
    stages = copy.deepcopy(cycle_stages())
    for task in stages[1]["tasks"]:
        task["once"] = True
    with pytest.raises(ValidationError, match="all its tasks are once-only"):
        Roadmap.model_validate({**cycle_roadmap().model_dump(mode="json"), "stages": stages})


def test_the_shipped_once_only_tasks() -> None:
    catalog = bundled_catalog()
    once = {slug for slug, t in catalog.tasks_by_slug.items() if t.once}
    assert {"iss-youtube", "tb-money-admin", "tb-money-admin-gb"} <= once
    assert all(catalog.tasks_by_slug[slug].cycle for slug in once), "all in repeating stages"
