"""A reset starts the plan over too (issue #13 §2/§3): ``/band reset`` and ``/admin reset``
delete the answers a plan was dated from, so its dates (``profiles.anchors``) go with them —
before, a reset band's ``/plan`` still showed the old release date, and its plan reminder kept
nudging about it. A member's solo plan is never touched by the band's reset."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bandkit import GuildDriver
from coachkit import Driver, synced_coach
from reminderkit import FakeClock, RecordingNotifier, reminder_rows
from sqlalchemy import select
from support.memory import bundled_roadmaps
from support.plankit import good_friday, plan_roadmap

from core.app.engine import Coach
from core.db.engine import Database
from core.db.models import Profile
from core.progress.timeline import show_date
from core.reminders.tick import ReminderTick
from core.roadmaps.sync import sync_roadmaps


def _clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0))


async def _anchors(database: Database) -> dict[bool, dict[str, str]]:
    """Each profile's anchors, by whether it is a band's."""
    async with database.transaction() as session:
        rows = (await session.execute(select(Profile.band_id, Profile.anchors))).all()
    return {band is not None: dict(anchors) for band, anchors in rows}


async def _dated(driver: Driver, day: str) -> None:
    """Pick the plan roadmap and answer its release date (the first checklist skipped)."""
    await driver.press("Plan test")
    await driver.say("/skip")
    await driver.say(day)
    assert "Saved" in driver.text


async def test_a_band_reset_and_an_admin_reset_undate_the_plan(database: Database) -> None:
    clock = _clock()
    coach = await synced_coach(database, clock=clock)
    async with database.transaction() as session:
        await sync_roadmaps(session, [*bundled_roadmaps(), plan_roadmap()])
    coach.catalog.invalidate()
    friday = good_friday(clock().date()).isoformat()
    boss = Coach(database, admins=["discord:9"], catalog=coach.catalog, clock=clock)
    solo = Driver(boss, "1001", platform="discord")  # Ana's DMs
    await solo.onboard(name="Ana", roadmap_name="Plan test")
    await solo.say("/skip")
    await solo.say(friday)
    ana = GuildDriver(coach, "1001", name="Ana", manager=True)
    await ana.say("/band create The Night Owls")
    await ana.say("/start")
    await _dated(ana, friday)
    assert await _anchors(database) == {True: {"release": friday}, False: {"release": friday}}

    await ana.say("/band reset")
    await ana.press("Yes, reset everything")
    assert await _anchors(database) == {True: {}, False: {"release": friday}}
    await ana.press("Plan test")
    await ana.say("/plan")
    assert "isn't set yet" in ana.text
    await solo.say("/plan")
    assert f"Release: {show_date(good_friday(clock().date()))}" in solo.text

    [band_plan] = [r for r in await reminder_rows(database) if r.kind == "plan" and r.band_id]
    clock.now = band_plan.next_due_at  # the band's next plan date: no nudge about the old one
    notifier = RecordingNotifier(platform="discord")
    await ReminderTick(database, {"discord": notifier}, clock=clock).run()
    assert [chat for chat, _ in notifier.sent] == ["1001"], "only Ana's own plan nudges"
    [band_plan] = [r for r in await reminder_rows(database) if r.kind == "plan" and r.band_id]
    assert band_plan.paused

    admin = Driver(boss, "9", platform="discord")
    await admin.say("/admin reset discord:1001")
    await admin.press("Yes, reset")
    assert await _anchors(database) == {True: {}, False: {}}


async def test_a_bands_plan_nudges_go_to_its_updates_channel(database: Database) -> None:
    """Like the band's reminder: to the updates channel (``/band channel``), wherever the date
    was set, and along when the channel moves."""
    clock = _clock()
    coach = await synced_coach(database, clock=clock)
    async with database.transaction() as session:
        await sync_roadmaps(session, [*bundled_roadmaps(), plan_roadmap()])
    coach.catalog.invalidate()
    ana = GuildDriver(coach, "1001", name="Ana", manager=True)  # in channel 901
    news = GuildDriver(coach, "1001", name="Ana", manager=True, channel="902")
    await ana.say("/band create The Night Owls")
    await news.say("/band channel")
    await ana.say("/remind daily 18:00")
    await ana.say("/start")
    await _dated(ana, good_friday(clock().date()).isoformat())

    def targets(rows: list[Any]) -> dict[str, str]:
        return {r.kind: r.target_chat for r in rows if r.band_id is not None}

    # the band's weekly digest (on since /band channel) goes there too
    assert targets(await reminder_rows(database)) == {
        "schedule": "902",
        "plan": "902",
        "digest": "902",
    }
    moved = GuildDriver(coach, "1001", name="Ana", manager=True, channel="903")
    await moved.say("/band channel")
    assert targets(await reminder_rows(database)) == {
        "schedule": "903",
        "plan": "903",
        "digest": "903",
    }
