"""``/progress``'s streak line on the in-memory coach: the streak is read through the turn's
store (``TurnStore.streak_history``), so the journey's flows keep running without a database.
The clock starts at the real time (any day: every date is counted from it) and is moved by
hand."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from coachkit import Driver, at_a_checklist
from reminderkit import FakeClock
from support.memory import MemoryCoach

from core.progress.streaks import monday_of


def _coach() -> tuple[MemoryCoach, FakeClock]:
    # Wednesday noon of the real week: a week's Monday and Sunday are never crossed by a day
    now = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    wednesday = monday_of(now.date()) + timedelta(days=2)
    clock = FakeClock(datetime.combine(wednesday, now.timetz()))
    return MemoryCoach(clock=clock), clock


async def _finish_a_checklist(maya: Driver) -> None:
    task = (await at_a_checklist(maya)).split(":")[2]
    for _ in range(20):
        ticks = [b for b in maya.buttons if b.payload.startswith(f"v1:tk:{task}:")]
        if not ticks:
            break
        await maya.press_payload(ticks[0].payload)
    assert "done!" in maya.text


async def test_progress_line_follows_the_weeks() -> None:
    coach, clock = _coach()
    maya = Driver(coach)
    await maya.onboard()
    await maya.say("/progress")
    assert maya.text.endswith("🔥 Streak: none yet — one step this week starts it.")
    await _finish_a_checklist(maya)
    await maya.say("/progress")
    assert maya.text.endswith("🔥 Streak: 1 week — this week's done.")
    clock.advance(days=7)
    await maya.say("/progress")
    assert maya.text.endswith("🔥 Streak: 1 week — keep it alive this week.")
    clock.advance(days=7)
    await maya.say("/progress")
    assert maya.text.endswith("🔥 Streak: none yet — one step this week starts it.")


async def test_progress_line_shows_a_freeze_in_force() -> None:
    coach, clock = _coach()
    maya = Driver(coach)
    await maya.onboard()
    await _finish_a_checklist(maya)
    clock.advance(days=7)
    today = clock.now.date()
    profile_id = coach.record("maya").profile_id
    coach.store.tables.freezes[uuid.uuid4()] = {
        "profile_id": profile_id,
        "starts_on": today,
        "ends_on": today + timedelta(days=6),
    }
    await maya.say("/progress")
    assert "🧊 Streak: 1 week, frozen until" in maya.text
    clock.advance(days=7)  # the freeze ended yesterday, in this week: still bridged
    await maya.say("/progress")
    assert maya.text.endswith("🔥 Streak: 1 week — this week is frozen.")


async def test_a_tick_is_a_step_until_it_is_unticked() -> None:
    coach, clock = _coach()
    maya = Driver(coach)
    await maya.onboard()
    first = await at_a_checklist(maya)
    await maya.press_payload(first)
    await maya.say("/progress")
    assert maya.text.endswith("🔥 Streak: 1 week — this week's done.")
    clock.advance(days=7)
    await maya.say("/progress")
    assert maya.text.endswith("🔥 Streak: 1 week — keep it alive this week.")
    await maya.press_payload(first.replace(":tk:", ":ut:"))  # untick: the step is taken back
    await maya.say("/progress")
    assert maya.text.endswith("🔥 Streak: none yet — one step this week starts it.")
