"""Dates that follow the rules, anchors and dated tasks, on the in-memory coach (issue #13 §2):
a rule-breaking release date gets the reasons and the nearest good Fridays as buttons, the
musician may insist, a stale press saves nothing, /undo puts the old date back, and a task whose
day has not come is not asked (nor holds its stage back) until it opens."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from coachkit import Driver
from support.memory import MemoryCoach
from support.plankit import RELEASE_TASK, WHY, MovableClock, good_friday, plan_roadmap

from core.kernel.types import Toast
from core.progress.timeline import show_date


def _coach() -> tuple[MemoryCoach, MovableClock]:
    clock = MovableClock(datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0))
    return MemoryCoach(roadmaps=[plan_roadmap()], clock=clock), clock


async def _at_release_question(coach: MemoryCoach) -> Driver:
    maya = Driver(coach)
    await maya.onboard(roadmap_name="Plan test")
    await maya.say("/skip")  # the master checklist
    assert "What is your release date?" in maya.text
    return maya


def _anchors(coach: MemoryCoach) -> dict[str, str]:
    return dict(coach.record("maya").anchors)


def _completions(coach: MemoryCoach, slug: str) -> int:
    return sum(1 for e in coach.store.events_of("task.completed") if e["payload"]["task"] == slug)


async def test_a_thursday_gets_reasons_and_the_nearest_fridays() -> None:
    coach, clock = _coach()
    maya = await _at_release_question(coach)
    today = clock().date()
    thursday = good_friday(today) - timedelta(days=1)
    await maya.say(thursday.isoformat())
    assert maya.text == "\n".join(
        [
            f"📅 {show_date(thursday)} doesn't quite fit:",
            "• That's a Thursday — it should be a Friday.",
            WHY,
            "",
            "The nearest dates that work:",
            "Or type another date.",
        ]
    )
    labels = [b.label for b in maya.buttons]
    assert labels[0] == show_date(thursday + timedelta(days=1))
    assert labels[-1] == f"Keep {show_date(thursday)} anyway"
    assert _anchors(coach) == {}  # nothing saved yet
    await maya.press(show_date(thursday + timedelta(days=1)))
    assert f"Saved: {show_date(thursday + timedelta(days=1))}" in maya.text
    assert _anchors(coach) == {"release": (thursday + timedelta(days=1)).isoformat()}
    assert "Upload to your distributor" in maya.text  # on to the next stage


async def test_too_soon_says_so_and_a_double_tap_saves_once() -> None:
    coach, clock = _coach()
    maya = await _at_release_question(coach)
    soon = clock().date() + timedelta(days=5)
    await maya.say(soon.isoformat())
    assert "Only 5 days away — plan at least 4 weeks ahead." in maya.text
    pick = maya.buttons[0]
    await maya.press_payload(pick.payload)
    saved = _anchors(coach)
    assert list(saved) == ["release"]
    replies = await maya.press_payload(pick.payload)  # the same button again
    assert isinstance(replies[0], Toast)
    assert "expired" in replies[0].text
    assert _anchors(coach) == saved
    assert _completions(coach, RELEASE_TASK) == 1


async def test_the_musician_may_keep_a_date_that_breaks_a_rule() -> None:
    coach, clock = _coach()
    maya = await _at_release_question(coach)
    thursday = good_friday(clock().date()) - timedelta(days=1)
    await maya.say(thursday.isoformat())
    await maya.press("anyway")
    assert _anchors(coach) == {"release": thursday.isoformat()}
    row = coach.progress_row(coach.catalog.tasks_by_slug[RELEASE_TASK].id)
    assert row is not None
    assert row.status == "completed"


async def test_a_good_date_is_saved_at_once_and_undo_restores_the_anchor() -> None:
    coach, clock = _coach()
    maya = await _at_release_question(coach)
    friday = good_friday(clock().date())
    await maya.say(friday.isoformat())
    assert "doesn't quite fit" not in maya.text
    assert _anchors(coach) == {"release": friday.isoformat()}
    await maya.say("/undo")
    assert _anchors(coach) == {}
    assert "What is your release date?" in maya.text


async def test_a_task_waits_for_its_day_without_holding_its_stage_back() -> None:
    coach, clock = _coach()
    maya = await _at_release_question(coach)
    friday = good_friday(clock().date())
    await maya.say(friday.isoformat())
    streams = coach.catalog.tasks_by_slug["pl-streams"]
    await maya.say("/skip")  # upload
    await maya.say("/skip")  # pitch: the streams question is not open, so stage 2 is done
    assert "How many streams" not in maya.text
    assert "Talk to your fans" in maya.text
    opens = show_date(friday + timedelta(days=28))
    early = await maya.press_payload(f"v1:sk:{streams.slug}")
    assert isinstance(early[0], Toast)
    assert f"opens on {opens}" in early[0].text
    await maya.say("/skip")  # the last stage's checklist
    # The end is honest: the pitch (a key task) was skipped, and the streams question waits.
    assert "with 1 key task skipped" in maya.text
    assert f"Still to come: Streams in the first 28 days, which opens on {opens}" in maya.text
    assert "finished the whole" not in maya.text
    clock.now = datetime.combine(friday + timedelta(days=28), clock.now.timetz())
    await maya.say("/today")
    assert "How many streams in 28 days?" in maya.text
    await maya.say("1200")
    assert "Saved" in maya.text
    assert "reached the end" in maya.text  # nothing waits any more; the pitch stays skipped
    assert "Still to come" not in maya.text
    assert "Stage 2 complete" not in maya.text  # celebrated once, when it was passed
    completed = [e["payload"]["stage"] for e in coach.store.events_of("stage.completed")]
    assert completed == ["pl-finish", "pl-release", "pl-grow"]


async def test_without_a_release_date_the_after_release_question_waits() -> None:
    coach, _clock = _coach()
    maya = Driver(coach)
    await maya.onboard(roadmap_name="Plan test")
    await maya.say("/skip")
    await maya.say("/skip")  # the release date, skipped: no anchor
    await maya.say("/skip")
    await maya.say("/skip")
    assert "How many streams" not in maya.text
    assert "Talk to your fans" in maya.text
    await maya.say("/skip")
    assert "once your release date is set" in maya.text


def test_show_date_is_the_answer_echo() -> None:
    assert show_date(date(2027, 3, 5)) == "Fri 5 Mar 2027"


async def test_made_up_date_payloads_change_nothing() -> None:
    coach, clock = _coach()
    maya = await _at_release_question(coach)
    friday = good_friday(clock().date())
    day = f"{friday:%Y%m%d}"
    for payload in (
        f"v1:pd:{RELEASE_TASK}:20271399",  # no such date
        f"v1:pd:pl-streams:{day}",  # not the open question, and not a date question
        f"v1:pi:pl-master:{day}",  # a checklist
        f"v1:pd:no-such-task:{day}",
    ):
        replies = await maya.press_payload(payload)
        assert isinstance(replies[0], Toast)
        assert "expired" in replies[0].text
    assert _anchors(coach) == {}
    assert "What is your release date?" not in maya.text
    await maya.say(friday.isoformat())  # the question is still open
    assert _anchors(coach) == {"release": friday.isoformat()}
