"""``/today`` with the next-step chooser, skipped key tasks that come back, ``/progress`` with
skipped tasks and the honest end of a roadmap — on the in-memory coach, over the small test
roadmap of ``tests/support/keyroadmap.py`` (key and timed tasks of its own).

The clock starts at the real time and is moved by hand; every date is counted from it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from coachkit import Driver, valid_answer
from keyroadmap import NAME, key_roadmap
from reminderkit import FakeClock
from support.memory import MemoryCoach

from core.journey.buttons import OPEN, SKIP, TICK
from core.kernel.markup import to_plain
from core.progress.service import ProgressRecord
from core.roadmaps.catalog import TaskInfo


def _coach() -> tuple[MemoryCoach, FakeClock]:
    clock = FakeClock(datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0))
    return MemoryCoach(roadmaps=[key_roadmap()], clock=clock), clock


def _task(coach: MemoryCoach, slug: str) -> TaskInfo:
    return coach.catalog.tasks_by_slug[slug]


def _row(coach: MemoryCoach, slug: str) -> ProgressRecord | None:
    return coach.progress_row(_task(coach, slug).id)


def _set_release(coach: MemoryCoach, clock: FakeClock, days: int) -> None:
    """The release anchor ``days`` from the clock's today (the date question's job, elsewhere)."""
    profile_id = coach.record("maya").profile_id
    release = (clock.now.date() + timedelta(days=days)).isoformat()
    coach.store.tables.profiles[profile_id]["anchors"] = {"release": release}


async def _tick_all(maya: Driver, task: TaskInfo) -> None:
    for item in task.items:
        await maya.press_payload(TICK.encode(task.slug, item.key))


async def test_a_skipped_key_task_says_why_and_comes_back_in_a_later_stage() -> None:
    coach, clock = _coach()
    maya = Driver(coach)
    await maya.onboard(roadmap_name="Key Release")
    rights, photo = _task(coach, "kr-rights"), _task(coach, "kr-photo")

    await maya.say("/skip")
    assert maya.text.splitlines()[:2] == [
        "⏭️ Skipped Register your rights — but it's a key task: Every stream pays the "
        "songwriter and the performer.",
        "I'll bring it back once you've moved on to the next stage. /undo brings it back now.",
    ]
    await _tick_all(maya, photo)
    assert "Stage 1 complete — Basics!" in maya.text
    assert "Release date" in maya.text, "stage 2 opens with its first task"

    await maya.say("/today")
    assert "Register your rights" not in maya.text, "skipped today: it rests a few days"

    clock.advance(days=3)
    await maya.say("/today")
    assert maya.text.splitlines()[0] == (
        "👉 You skipped “Register your rights” in stage 1, and you're on stage 2 now: "
        "it's a key task the next steps build on."
    )
    assert "Stage 1 · Basics — task 1 of 2" in maya.text

    await maya.press_payload(TICK.encode(rights.slug, rights.items[0].key))
    row = _row(coach, "kr-rights")
    assert row is not None
    assert row.status == "skipped", "half done, it stays skipped: stage 1 stays done"
    assert row.task_data["ticked"] == [rights.items[0].key]
    await maya.press_payload(TICK.encode(rights.slug, rights.items[1].key))
    row = _row(coach, "kr-rights")
    assert row is not None
    assert row.status == "completed", "done, it is no longer skipped"
    assert "Register your rights — done!" in maya.text
    assert "Stage 1 complete" not in maya.text, "an earlier stage is not celebrated twice"
    assert "Release date" in maya.text, "then back to where the musician was"
    assert coach.record("maya").current_stage_id == coach.catalog.roadmaps[0].stages[1].id


async def test_a_skipped_key_task_brought_back_can_be_skipped_again_and_rests() -> None:
    coach, clock = _coach()
    maya = Driver(coach)
    await maya.onboard(roadmap_name="Key Release")
    await maya.say("/skip")
    await _tick_all(maya, _task(coach, "kr-photo"))
    clock.advance(days=4)
    await maya.say("/today")
    assert "You skipped “Register your rights”" in maya.text
    await maya.say("/skip")  # the task on screen, from stage 1, not stage 2's next
    assert "Skipped Register your rights" in maya.text
    assert "Release date" in maya.text
    row = _row(coach, "kr-date")
    assert row is None, "stage 2's task was not skipped"
    await maya.say("/today")
    assert "Register your rights" not in maya.text


async def test_a_key_task_due_soon_comes_from_a_later_stage_and_can_be_done() -> None:
    coach, clock = _coach()
    maya = Driver(coach)
    await maya.onboard(roadmap_name="Key Release")
    upload = _task(coach, "kr-upload")
    await maya.press_payload(TICK.encode(upload.slug, upload.items[0].key))
    assert "later stage" in maya.text, "not pressing yet: the stage order holds"

    _set_release(coach, clock, 30)  # the upload (T-28) is due in 2 days
    await maya.say("/today")
    assert maya.text.splitlines()[0] == (
        "👉 Your release is in 30 days and “Upload to your distributor” isn't done: "
        "it must be in at least 28 days before."
    )
    assert "Stage 2 · Release — task 2 of 3" in maya.text
    await _tick_all(maya, upload)
    assert "Upload to your distributor — done!" in maya.text
    assert "Register your rights" in maya.text, "then the current stage's next task"
    assert coach.record("maya").current_stage_id == coach.catalog.roadmaps[0].stages[0].id


async def test_skipping_a_timed_key_task_says_when_it_comes_back() -> None:
    coach, clock = _coach()
    maya = Driver(coach)
    await maya.onboard(roadmap_name="Key Release")
    _set_release(coach, clock, 20)  # upload 8 days overdue
    await maya.say("/today")
    assert "“Upload to your distributor” is 8 days overdue" in maya.text
    await maya.say("/skip")
    due = clock.now.date() + timedelta(days=20 - 28)
    assert (
        f"I'll bring it back before it's due on {due:%a %d %b}: it must be done at least "
        "28 days before your release."
    ) in maya.text


async def test_a_stale_tracked_number_is_suggested_above_the_next_task() -> None:
    coach, clock = _coach()
    maya = Driver(coach)
    await maya.onboard(roadmap_name="Key Release")
    profile_id = coach.record("maya").profile_id
    at = (clock.now - timedelta(days=40)).isoformat()
    coach.store.tables.profiles[profile_id]["current_stats"] = {
        "monthly_listeners": {"value": "900", "display": "900", "at": at}
    }
    await maya.say("/today")
    assert maya.text.splitlines()[:2] == [
        "📊 Monthly listeners: last updated 40 days ago — a monthly check-in keeps your chart "
        "honest.",
        "Send /update listeners <number> to log today's figure.",
    ]
    assert "Register your rights" in maya.text, "the roadmap's next task under it"


async def test_progress_says_done_with_skips_and_names_the_key_ones() -> None:
    coach, _clock = _coach()
    maya = Driver(coach)
    await maya.onboard(roadmap_name="Key Release")
    await maya.say("/skip")
    await maya.say("/skip")
    await maya.say("/progress")
    assert maya.text == (
        f"{NAME} — 0% overall\n"
        "\n"
        "☑️ 1. Basics — done, 2 skipped\n"
        "    ░░░░░░░░░░ 0% (0/2)\n"
        "    ⚠️ Skipped key task: Register your rights\n"
        "▶️ 2. Release\n"
        "    ░░░░░░░░░░ 0% (0/3)\n"
        "🔒 3. Campaign\n"
        "    ░░░░░░░░░░ 0% (0/4)\n"
        "\n"
        "2 task(s) skipped — they don't hold you back, but the key ones come back when they "
        "matter.\n"
        "\n"
        "🔥 Streak: none yet — one step this week starts it."  # skips are not steps
    )
    assert [b.label for b in maya.buttons] == ["↩ Register your rights", "Next task"]
    await maya.press("Register your rights")
    assert "Stage 1 · Basics — task 1 of 2" in maya.text, "the button opens it again"


async def test_the_end_of_a_roadmap_is_honest_about_skipped_key_tasks() -> None:
    coach, _clock = _coach()
    maya = Driver(coach)
    await maya.onboard(roadmap_name="Key Release")
    await maya.say("/skip")  # the rights: a key task
    today = coach.clock().date()
    for _ in range(20):
        shown = coach.record("maya").state_task_id
        task = coach.catalog.tasks_by_id.get(shown) if shown else None
        if task is None:
            break
        if task.is_checklist:
            await _tick_all(maya, task)
        else:
            await maya.say(valid_answer(coach.catalog, task.slug, today))
    end = [r for r in maya.replies if "end of the" in r.text]
    assert len(end) == 1, maya.text
    honest, coming = to_plain(end[0].text).split("\n\n🗓️ Still to come: ")
    assert honest == (
        f"🏁 You've reached the end of the {NAME} roadmap — with 1 key task skipped:\n"
        "• Register your rights (stage 1)\n"
        "\n"
        "They're what protects your music and your money, so they still matter. Tap one to do "
        "it now. Keep your numbers fresh with /stats, or pick a new path with /roadmap."
    )
    # the streams question opens 28 days after the release: named, not asked yet
    assert coming.startswith("28-day streams, which opens on ")
    assert [b.payload for b in end[0].all_buttons()] == [OPEN.encode("kr-rights")]
    await maya.press("Register your rights")
    await _tick_all(maya, _task(coach, "kr-rights"))
    # nothing skipped any more; only the streams question waits for its day
    assert "Everything you can do right now is done. Next: 28-day streams" in maya.text
    assert "Stage 1 complete" not in maya.text


async def test_a_skipped_ordinary_task_stays_done() -> None:
    coach, _clock = _coach()
    maya = Driver(coach)
    await maya.onboard(roadmap_name="Key Release")
    await _tick_all(maya, _task(coach, "kr-rights"))
    await maya.say("/skip")  # the photo: ordinary
    assert maya.text.startswith("⏭️ Skipped Take a photo. /undo brings it back.")
    await maya.press_payload(OPEN.encode("kr-photo"))
    assert "already done" in maya.text


async def test_a_stale_skip_of_a_skipped_key_task_changes_nothing() -> None:
    coach, clock = _coach()
    maya = Driver(coach)
    await maya.onboard(roadmap_name="Key Release")
    await maya.say("/skip")
    row = _row(coach, "kr-rights")
    assert row is not None
    skipped_on = row.task_data["skipped_on"]
    clock.advance(days=1)
    await maya.press_payload(SKIP.encode("kr-rights"))  # the old card's Skip
    assert "already done" in maya.text
    row = _row(coach, "kr-rights")
    assert row is not None
    assert row.task_data["skipped_on"] == skipped_on, "its rest did not restart"


async def test_stage_keeps_an_open_button_for_a_skipped_key_task_only() -> None:
    coach, _clock = _coach()
    maya = Driver(coach)
    await maya.onboard(roadmap_name="Key Release")
    await maya.say("/skip")  # the rights: key
    await maya.say("/stage")
    assert "⏭ 1. Register your rights" in maya.text
    assert OPEN.encode("kr-rights") in [b.payload for b in maya.buttons]
    await maya.press_payload(OPEN.encode("kr-rights"))
    assert "Stage 1 · Basics — task 1 of 2" in maya.text, "opened again"


async def test_help_says_what_today_does() -> None:
    coach, _clock = _coach()
    maya = Driver(coach)
    await maya.onboard(roadmap_name="Key Release")
    await maya.say("/help")
    assert "/today — Your next best step, and why it comes first" in maya.text
