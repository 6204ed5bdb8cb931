"""A Telegram group's band through the core, on SQLite and PostgreSQL (issue #17 §1): the
events the Telegram front end makes in a group (``chat_type="group"``, ``server_id`` = the
group's chat id) run the same band logic as a Discord server's — but only once the group is a
band; the group is its band's channel; the band moves with its group to a supergroup's new
id; and a band out of reach has its notices skipped, not tried, until it is back.

Everything goes through ``Coach.handle()`` and the ``Coach``'s front-end reports, with the real
tick (fake clock, recording notifier)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bandkit import TelegramGroupDriver
from coachkit import synced_coach
from reminderkit import FakeClock, RecordingNotifier, delivery_rows, reminder_rows
from sqlalchemy import select

from core.app.engine import Coach
from core.db.engine import Database
from core.db.models import Band, Profile
from core.kernel.audit import latest
from core.reminders.tick import ReminderTick

START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday
GROUP, NEW = -100_5, -100_6


async def _band(database: Database) -> Band | None:
    async with database.transaction() as session:
        return (await session.scalars(select(Band).where(Band.platform == "telegram"))).first()


async def _set_up(database: Database) -> tuple[Coach, TelegramGroupDriver, TelegramGroupDriver]:
    coach = await synced_coach(database, clock=FakeClock(START))
    ana = TelegramGroupDriver(coach, 11, GROUP, name="Ana", admin=True)
    ben = TelegramGroupDriver(coach, 12, GROUP, name="Ben")
    return coach, ana, ben


async def test_a_group_is_a_band_only_once_created_there(database: Database) -> None:
    coach, ana, ben = await _set_up(database)
    # no band yet: the solo path, as before bands came to groups (Ben's own profile)
    await ben.say("/start")
    assert "no band" not in ben.text.casefold()
    await ben.say("/band progress")
    assert "no band in this group yet" in ben.text
    assert "band's managers (group admins)" in ben.text
    await ben.say("/band create Ben's Band")
    assert "Only the band's managers (group admins) can create the band." in ben.text
    entry = next(e for e in await latest(database) if e.action == "band.create")
    assert (entry.outcome, entry.actor) == ("denied", "telegram:12")
    await ana.say("/band create The Night Owls")
    assert "is this group's band now" in ana.text
    band = await _band(database)
    assert band is not None
    assert band.channel_id == str(GROUP), "the group is the band's channel"
    [digest] = [r for r in await reminder_rows(database) if r.kind == "digest"]
    assert digest.target_chat == str(GROUP)
    assert await coach.has_band("telegram", str(GROUP))
    # now the group's events are the band's: its own help, its profile
    await ben.say("/band join")
    assert "Welcome to" in ben.text
    await ben.say("/band help")
    assert "reply to a member's message" in ben.text
    async with database.transaction() as session:
        bands = (await session.scalars(select(Profile).where(Profile.band_id.is_not(None)))).all()
    assert len(bands) == 1


async def test_the_band_moves_with_its_group_once(database: Database) -> None:
    coach, ana, _ben = await _set_up(database)
    await ana.say("/band create The Night Owls")
    assert await coach.move_server("telegram", str(GROUP), str(NEW))
    assert not await coach.move_server("telegram", str(GROUP), str(NEW)), "said twice: no-op"
    band = await _band(database)
    assert band is not None
    assert (band.external_id, band.channel_id) == (str(NEW), str(NEW))
    [digest] = [r for r in await reminder_rows(database) if r.kind == "digest"]
    assert digest.target_chat == str(NEW)
    moved = TelegramGroupDriver(coach, 11, NEW, name="Ana", admin=True)
    await moved.say("/band members")
    assert "1 member(s)" in moved.text


async def test_an_unreachable_band_is_skipped_until_it_is_back(database: Database) -> None:
    coach, ana, _ben = await _set_up(database)
    clock = coach.clock
    assert isinstance(clock, FakeClock)
    await ana.say("/band create The Night Owls")
    await ana.say("/start")
    await ana.press("Indie")
    assert await coach.report_band_reachability("telegram", str(GROUP), reachable=False)
    assert not await coach.report_band_reachability("telegram", "-1", reachable=False)
    notifier = RecordingNotifier(platform="telegram")
    tick = ReminderTick(database, {"telegram": notifier}, clock=clock)
    [row] = [r for r in await reminder_rows(database) if r.kind == "digest"]
    clock.set(row.next_due_at.replace(tzinfo=UTC) + timedelta(seconds=1))
    report = await tick.run()
    assert (report.sent, report.skipped) == (0, 1)
    assert notifier.sent == []
    [skipped] = await delivery_rows(database, "digest")
    assert skipped.status == "skipped"
    [row] = [r for r in await reminder_rows(database) if r.kind == "digest"]
    assert not row.paused, "the schedule goes on: nothing to switch back on"

    assert await coach.report_band_reachability("telegram", str(GROUP), reachable=True)
    clock.set(row.next_due_at.replace(tzinfo=UTC) + timedelta(seconds=1))
    assert (await tick.run()).sent == 1
    assert [chat for chat, _ in notifier.sent] == [str(GROUP)]
