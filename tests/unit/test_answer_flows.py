"""The coach reacts to every answer (issue #13 §1), on the in-memory coach.

The roadmap is the test one of ``answerkit`` (its marks are what these tests talk about): the
reply to a saved answer (golden texts), a suspect value questioned before saving, "idk"
postponing a question (and its coming back), and the choice buttons, stale and double-tapped.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from answerkit import LUFS_ADVICE, coaching_catalog
from coachkit import Driver
from reminderkit import FakeClock
from support.memory import MemoryCoach

from core.kernel.payloads import encode
from core.kernel.types import Card, Toast
from core.progress.service import ProgressRecord, postponed_due
from core.progress.verdicts import short_date
from core.roadmaps.catalog import TaskInfo

START = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)


def _coach() -> tuple[MemoryCoach, FakeClock]:
    clock = FakeClock(START)
    return MemoryCoach(coaching_catalog(), clock=clock), clock


def _task(coach: MemoryCoach, slug: str) -> TaskInfo:
    return coach.catalog.tasks_by_slug[f"ct-{slug}"]


def _row(coach: MemoryCoach, slug: str) -> ProgressRecord | None:
    return coach.progress_row(_task(coach, slug).id)


async def _at(maya: Driver, slug: str) -> None:
    """Onboard, then skip to the question ``slug`` of stage 1."""
    await maya.onboard(roadmap_name="Coaching")
    order = ["followers", "setup", "lufs", "list"]
    for _ in range(order.index(slug)):
        await maya.say("/skip")


async def test_a_loud_master_gets_its_verdict_and_one_next_step() -> None:
    coach, _ = _coach()
    maya = Driver(coach)
    await _at(maya, "lufs")
    replies = await maya.say("-9,5")
    assert replies[0].text == (
        "✅ Saved: *-9.5 LUFS*.\n"
        "⚠️ Louder than the -14 LUFS the big services play at: they'll turn it down by about "
        "4.5 dB.\n"
        f"👉 {LUFS_ADVICE}"
    )
    assert "Four things" in maya.text, "then the next task"


async def test_a_good_value_moved_since_last_time_and_the_goal_line() -> None:
    coach, clock = _coach()
    maya = Driver(coach)
    await maya.onboard(roadmap_name="Coaching")
    then = clock.now - timedelta(days=30)
    by = (clock.now + timedelta(days=100)).date()
    goal = {"target": "2000", "by": by.isoformat()}
    await coach.store.update_profile(
        coach.record("maya").profile_id,
        current_stats={
            "followers": {"value": "1000", "display": "1,000", "at": then.isoformat(), "goal": goal}
        },
    )
    await maya.say("/today")
    replies = await maya.say("1120")
    today = clock.now.date()
    assert replies[0].text == (
        "✅ Saved: *1,120*.\n"
        f"Up 12% since {short_date(then.date(), today)} — nice.\n"
        f"Goal: 2,000 by {short_date(by, today)} — 880 to go."
    )
    entry = coach.record("maya").current_stats["followers"]
    assert entry["value"] == "1120"
    assert entry["goal"] == goal, "saving an answer keeps the goal stored with the metric"


async def test_a_ratio_reference_reads_the_other_metric() -> None:
    coach, _ = _coach()
    maya = Driver(coach)
    await maya.onboard(roadmap_name="Coaching")
    for _ in range(4):
        await maya.say("/skip")
    assert "How many people fit" in maya.text
    await maya.say("200")
    replies = await maya.say("90")
    assert replies[0].text == (
        "✅ Saved: *90*.\n🛑 Only 45% of the room is sold.\n"
        "👉 Email your list with a date-specific link."
    )


async def test_an_answer_without_references_is_just_saved() -> None:
    coach, _ = _coach()
    maya = Driver(coach)
    await _at(maya, "followers")
    replies = await maya.say("1200")
    assert replies[0].text == "✅ Saved: *1,200*."


async def test_a_suspect_value_is_asked_about_before_saving() -> None:
    coach, _ = _coach()
    maya = Driver(coach)
    await _at(maya, "lufs")
    replies = await maya.say("14.2")
    assert replies[0].text == (
        "🤔 Integrated loudness is a negative number (e.g. -14.2). Did you mean -14.2 LUFS?\n"
        "_Tap a button, or type the right figure._"
    )
    assert _row(coach, "lufs") is None, "nothing is saved before the answer"
    await maya.say("yes")  # "yes, I meant -14.2"? or "yes, save 14.2"? — ambiguous
    assert "Tap one of the buttons" in maya.text
    assert _row(coach, "lufs") is None
    await maya.say("-14.2")  # the right figure, typed
    assert "Saved: -14.2 LUFS." in maya.text
    assert "🎯 Right where streaming plays it." in maya.text
    row = _row(coach, "lufs")
    assert row is not None
    assert row.task_data["numeric"] == "-14.2"


async def test_a_suspect_value_confirmed_by_button_is_saved() -> None:
    coach, _ = _coach()
    maya = Driver(coach)
    await _at(maya, "lufs")
    await maya.say("3")
    assert "Did you mean -3.0 LUFS?" in maya.text
    await maya.press("Yes, save it")
    assert "Saved: 3.0 LUFS." in maya.text
    assert coach.record("maya").current_stats["master_lufs"]["value"] == "3"
    # the question's buttons are stale now
    replies = await maya.press_payload(encode("confirm", _task(coach, "lufs").slug, "y"))
    assert isinstance(replies[0], Toast)
    assert len(coach.store.samples_of(metric="master_lufs")) == 1


async def test_the_outlier_check_still_asks() -> None:
    coach, _ = _coach()
    maya = Driver(coach)
    await maya.onboard(roadmap_name="Coaching")
    await coach.store.update_profile(
        coach.record("maya").profile_id,
        current_stats={"followers": {"value": "100", "display": "100"}},
    )
    await maya.say("/today")
    await maya.say("5000")
    assert "more than 10×" in maya.text
    await maya.say("yes")  # not a suspect question: a typed yes saves
    assert "Saved: 5,000." in maya.text


@pytest.mark.parametrize(
    "words", ["idk", "IDK", "I don’t know.", "not sure!", "?", "Later", "dunno", "no idea", " ?? "]
)
async def test_idk_postpones_the_question_for_three_days(words: str) -> None:
    coach, clock = _coach()
    maya = Driver(coach)
    await _at(maya, "followers")
    replies = await maya.say(words)
    assert replies[0].text == "No problem — I'll ask again in 3 days."
    assert "How are you recording" in maya.text, "then the next task"
    row = _row(coach, "followers")
    assert row is not None
    assert row.status == "postponed"
    today = clock.now.date()
    assert row.task_data == {"postponed_until": (today + timedelta(days=3)).isoformat()}
    assert len(coach.store.events_of("task.postponed")) == 1
    rows = coach.store.progress_rows(coach.record("maya").profile_id)
    assert postponed_due(rows, today + timedelta(days=2)) == []
    assert [r.task_id for r in postponed_due(rows, today + timedelta(days=3))] == [row.task_id]


async def test_postponed_shows_as_later_counts_for_the_stage_and_undo_restores_it() -> None:
    coach, _ = _coach()
    maya = Driver(coach)
    await _at(maya, "followers")
    await maya.say("idk")
    await maya.say("/progress")
    assert "⏳ 1 question(s) for later" in maya.text
    await maya.say("/stage")
    assert "⏳ 1. Count your followers" in maya.text
    assert maya.find("1. Count your followers"), "a postponed question can be opened any time"
    await maya.say("/undo")
    assert "Undone: putting off “Count your followers”" in maya.text
    assert _row(coach, "followers") is None
    assert "How many followers" in maya.text


async def test_a_postponed_question_of_a_done_stage_can_be_answered_later() -> None:
    coach, clock = _coach()
    maya = Driver(coach)
    await _at(maya, "followers")
    await maya.say("later")
    for _ in range(3):
        await maya.say("/skip")
    assert "Stage 1 complete" in maya.text, "a postponed question holds no stage back"
    assert "How many people fit" in maya.text
    clock.advance(days=3)
    rows = coach.store.progress_rows(coach.record("maya").profile_id)
    due = postponed_due(rows, clock.now.date())
    assert [r.task_id for r in due] == [_task(coach, "followers").id]
    # what /today's chooser does with it: open the question
    await maya.press_payload(encode("open", _task(coach, "followers").slug))
    assert "How many followers" in maya.text
    await maya.say("1200")
    assert "Saved: 1,200." in maya.text
    assert "Stage 1 complete" not in maya.text, "the stage is not celebrated twice"
    assert "How many people fit" in maya.text, "back to where the musician is"
    row = _row(coach, "followers")
    assert row is not None
    assert row.status == "completed"
    assert coach.record("maya").current_stage_id == _task(coach, "capacity").stage_id


async def test_not_sure_as_a_choice_is_an_answer() -> None:
    coach, _ = _coach()
    maya = Driver(coach)
    await _at(maya, "setup")
    await maya.say("Not sure")
    assert "Saved: Not sure." in maya.text
    row = _row(coach, "setup")
    assert row is not None
    assert row.status == "completed"


async def test_choice_questions_have_a_button_per_choice() -> None:
    coach, _ = _coach()
    maya = Driver(coach)
    await _at(maya, "setup")
    card = maya.replies[-1]
    assert isinstance(card, Card)
    assert card.form == "question"
    assert [b.label for b in card.all_buttons()] == [
        "Home studio",
        "With a producer",
        "Not sure",
        "Skip",
    ]
    replies = await maya.press("With a producer")
    assert replies[0].text == "✅ Saved: *With a producer*."
    row = _row(coach, "setup")
    assert row is not None
    assert row.task_data["value"] == "With a producer"
    assert "integrated loudness" in maya.text


async def test_a_double_tapped_choice_saves_once() -> None:
    coach, _ = _coach()
    maya = Driver(coach)
    await _at(maya, "setup")
    payload = maya.find("Home studio").payload
    await maya.press_payload(payload)
    replies = await maya.press_payload(payload)
    assert isinstance(replies[0], Toast)
    assert "isn't open anymore" in maya.text
    assert len(coach.store.events_of("task.completed")) == 1
    row = _row(coach, "setup")
    assert row is not None
    assert row.task_data["value"] == "Home studio"


async def test_stale_choice_buttons_change_nothing() -> None:
    coach, _ = _coach()
    maya = Driver(coach)
    await _at(maya, "setup")
    setup = _task(coach, "setup").slug
    cases = [
        encode("choose", _task(coach, "lufs").slug, "0"),  # another task's
        encode("choose", setup, "7"),  # a choice that is not there (content changed)
        encode("choose", setup, "x"),
    ]
    for payload in cases:
        replies = await maya.press_payload(payload)
        assert isinstance(replies[0], Toast), payload
    assert _row(coach, "setup") is None
    await maya.say("/cancel")
    replies = await maya.press_payload(encode("choose", setup, "0"))
    assert isinstance(replies[0], Toast), "the question was dropped: its buttons are stale"
    assert _row(coach, "setup") is None


async def test_skip_skips_the_reopened_postponed_question() -> None:
    coach, _ = _coach()
    maya = Driver(coach)
    await _at(maya, "followers")
    await maya.say("idk")
    await maya.press_payload(encode("open", _task(coach, "followers").slug))  # same stage
    await maya.say("/skip")
    assert "Skipped Count your followers" in maya.text
    assert _row(coach, "setup") is None, "not the next task"
    await maya.say("/undo")
    row = _row(coach, "followers")
    assert row is not None
    assert row.status == "postponed", "undo puts the postponement back"
    for _ in range(3):
        await maya.say("/skip")
    assert "How many people fit" in maya.text
    await maya.press_payload(encode("open", _task(coach, "followers").slug))  # an earlier stage
    await maya.say("/skip")
    assert "Skipped Count your followers" in maya.text
    assert "Stage 1 complete" not in maya.text
    assert "How many people fit" in maya.text
    row = _row(coach, "followers")
    assert row is not None
    assert row.status == "skipped"
    assert _row(coach, "capacity") is None
