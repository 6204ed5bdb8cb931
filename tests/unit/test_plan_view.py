"""``/plan`` and ``/plan ics`` on the in-memory coach: the timeline's golden text, setting and
changing the release date from it (re-dating the plan, /undo), and the calendar file parsed
back with icalendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from coachkit import Driver
from icalendar import Calendar
from support.memory import MemoryCoach
from support.plankit import MovableClock, good_friday, plan_roadmap

from core.kernel.types import Document, Message
from core.progress.timeline import show_date


def _coach() -> tuple[MemoryCoach, MovableClock]:
    clock = MovableClock(datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0))
    return MemoryCoach(roadmaps=[plan_roadmap()], clock=clock), clock


async def _dated(coach: MemoryCoach, clock: MovableClock) -> Driver:
    maya = Driver(coach)
    await maya.onboard(roadmap_name="Plan test")
    await maya.say("/plan")
    assert "isn't set yet" in maya.text
    await maya.press("Set your release date")
    assert "What is your release date?" in maya.text
    await maya.say(good_friday(clock().date()).isoformat())
    return maya


async def test_plan_without_a_release_date_says_how_to_set_it() -> None:
    coach, clock = _coach()
    maya = Driver(coach)
    await maya.onboard(roadmap_name="Plan test")
    await maya.say("/plan")
    assert maya.text == (
        "🗓️ Your plan\nYour 3 dated tasks are counted from your release date, which isn't "
        "set yet. Tap below to set it."
    )
    await maya.say("/plan ics")
    assert "isn't set yet" in maya.text  # no file without dates
    await maya.press("Set your release date")
    await maya.say(good_friday(clock().date()).isoformat())
    assert coach.record("maya").anchors == {"release": good_friday(clock().date()).isoformat()}


async def test_plan_golden_text() -> None:
    coach, clock = _coach()
    maya = await _dated(coach, clock)
    friday = good_friday(clock().date())
    today = clock().date()
    await maya.say("/plan")

    def day(offset: int) -> str:
        return show_date(friday + timedelta(days=offset))

    assert maya.text == "\n".join(
        [
            f"🚀 Release: {show_date(friday)} — in {(friday - today).days} days",
            "",
            f"▶ {day(-28)} · T−28 · Upload to your distributor",
            f"◻ {day(-7)} · T−7 · Pitch to editorial playlists",
            f"◻ {day(35)} · T+35 · Streams in the first 28 days — opens {day(28)}",
            "",
            "/plan ics sends it to your calendar.",
        ]
    )
    assert [b.label for b in maya.buttons] == ["📅 Change the release date", "🗓️ Calendar file"]


async def test_overdue_and_done_tasks_are_marked() -> None:
    coach, clock = _coach()
    maya = await _dated(coach, clock)
    friday = good_friday(clock().date())
    await maya.say("/skip")  # the master checklist (the date question came first)
    await maya.say("/skip")  # the upload
    clock.now = datetime.combine(friday - timedelta(days=3), clock.now.timetz())
    await maya.say("/plan")
    assert "⏭️" in maya.text
    assert "⚠️ " + show_date(friday - timedelta(days=7)) in maya.text
    assert "overdue by 4 days" in maya.text
    assert "⚠️ 1 overdue" in maya.text


async def test_changing_the_date_re_dates_the_plan_and_undo_restores_it() -> None:
    coach, clock = _coach()
    maya = await _dated(coach, clock)
    first = good_friday(clock().date())
    await maya.say("/plan")
    await maya.press("Change the release date")
    assert f"Now: {show_date(first)}" in maya.text
    later_thursday = first + timedelta(days=13)
    await maya.say(later_thursday.isoformat())
    assert "That's a Thursday" in maya.text
    await maya.press(show_date(later_thursday + timedelta(days=1)))
    second = later_thursday + timedelta(days=1)
    assert coach.record("maya").anchors == {"release": second.isoformat()}
    assert "Your plan is dated from it now" in maya.text
    await maya.say("/plan")
    assert show_date(second - timedelta(days=28)) in maya.text
    await maya.say("/undo")
    assert coach.record("maya").anchors == {"release": first.isoformat()}
    await maya.say("/plan")
    assert show_date(first - timedelta(days=28)) in maya.text


async def test_plan_ics_is_a_calendar_with_stable_uids() -> None:
    coach, clock = _coach()
    maya = await _dated(coach, clock)
    friday = good_friday(clock().date())
    await maya.say("/plan ics")
    (document,) = maya.replies
    assert isinstance(document, Document)
    assert document.name == "release-plan.ics"
    cal = Calendar.from_ical(document.file)
    events = cal.walk("VEVENT")
    days = {str(e["SUMMARY"]): e.decoded("DTSTART") for e in events}
    assert days == {
        "🚀 Release day": friday,
        "Upload to your distributor": friday - timedelta(days=28),
        "Pitch to editorial playlists": friday - timedelta(days=7),
        "Streams in the first 28 days": friday + timedelta(days=35),
    }
    for event in events:
        assert event.decoded("DTEND") == event.decoded("DTSTART") + timedelta(days=1)
        assert event.decoded("DTSTAMP") == clock()
    uids = sorted(str(e["UID"]) for e in events)
    assert len(set(uids)) == 4
    clock.advance(hours=1)
    await maya.say("/plan")
    await maya.press("Calendar file")
    again = maya.replies[0]
    assert isinstance(again, Document)
    assert sorted(str(e["UID"]) for e in Calendar.from_ical(again.file).walk("VEVENT")) == uids


async def test_plan_before_a_roadmap_and_a_bad_word() -> None:
    coach, _clock = _coach()
    maya = Driver(coach)
    await maya.say("/start")
    await maya.say("Maya")
    await maya.say("/plan")
    assert "Pick a roadmap first" in maya.text
    await maya.press("Plan test")
    await maya.say("/plan soon")
    assert isinstance(maya.replies[0], Message)
    assert "/plan ics sends it" in maya.text


async def test_help_lists_plan() -> None:
    coach, _clock = _coach()
    maya = Driver(coach)
    await maya.onboard(roadmap_name="Plan test")
    await maya.say("/help")
    assert "/plan [ics] — Your release plan: every dated task, what's overdue" in maya.text
