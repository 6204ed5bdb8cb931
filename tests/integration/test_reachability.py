""" "This person can't be reached" is written in one place (core/accounts/reachability.py).

A front end reports it through the coach (``Coach.report_reachability``); the reminder tick and
the broadcast sender, told "blocked" by a notifier, use the same write. Whoever learns it, the
person is marked and their reminders are paused; coming back clears the mark and resumes
nothing by itself.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from coachkit import Driver, synced_coach
from reminderkit import FakeClock, RecordingNotifier, reminder_rows
from sqlalchemy import select

from core.admin.broadcast import BroadcastSender
from core.app.engine import Coach
from core.db.engine import Database
from core.db.models import Identity, User
from core.kernel.notify import DeliveryResult, DeliveryStatus, by_platform
from core.reminders.tick import ReminderTick

START = datetime(2031, 7, 1, 9, 0, tzinfo=UTC)
ADMIN = "1"
BOT = Path(__file__).resolve().parents[2] / "bot"


async def _unreachable(db: Database, chat: str) -> bool:
    async with db.transaction() as session:
        found = await session.execute(
            select(User.unreachable).join(Identity).where(Identity.external_id == chat)
        )
        return bool(found.scalar_one())


async def _musician_with_reminders(coach: Coach, chat: str) -> Driver:
    musician = Driver(coach, chat, platform="telegram")
    await musician.onboard()
    await musician.say("/remind daily 18:00")
    return musician


async def test_a_front_end_reports_it_through_the_coach(database: Database) -> None:
    coach = await synced_coach(database, clock=FakeClock(START))
    await _musician_with_reminders(coach, "42")
    assert not await _unreachable(database, "42")

    assert await coach.report_reachability("telegram", "42", reachable=False)
    assert await _unreachable(database, "42")
    assert [r.paused for r in await reminder_rows(database)] == [True, True, True]

    assert await coach.report_reachability("telegram", "42", reachable=True)
    assert not await _unreachable(database, "42")
    assert [r.paused for r in await reminder_rows(database)] == [True, True, True], "still paused"

    assert not await coach.report_reachability("telegram", "999", reachable=False), "unknown"


async def test_the_tick_told_blocked_writes_the_same(database: Database) -> None:
    clock = FakeClock(START)
    coach = await synced_coach(database, clock=clock)
    await _musician_with_reminders(coach, "42")
    notifier = RecordingNotifier(platform="telegram")
    notifier.answers["42"] = DeliveryResult(DeliveryStatus.BLOCKED, "blocked")
    clock.set(START.replace(hour=18, second=1))
    tick = ReminderTick(database, by_platform(notifier), clock=clock, catalog=coach.catalog)
    assert (await tick.run()).blocked == 1
    assert await _unreachable(database, "42")
    assert [r.paused for r in await reminder_rows(database)] == [True, True, True]


async def test_the_broadcast_sender_told_blocked_writes_the_same(database: Database) -> None:
    """Before, the sender only marked the person: their nudges went on failing until the tick
    found out by itself."""
    clock = FakeClock(START)
    coach = await synced_coach(database, clock=clock, admins=[f"telegram:{ADMIN}"])
    await _musician_with_reminders(coach, "42")
    admin = Driver(coach, ADMIN, platform="telegram")
    await admin.say("/admin broadcast New roadmap!")
    await admin.press("Send to")
    notifier = RecordingNotifier(platform="telegram")
    notifier.answers["42"] = DeliveryResult(DeliveryStatus.BLOCKED, "blocked")
    clock.advance(seconds=1)
    sender = BroadcastSender(database, by_platform(notifier), clock=clock)
    assert await sender.drain() >= 1
    assert await _unreachable(database, "42")
    assert [r.paused for r in await reminder_rows(database)] == [True, True, True]
    clock.advance(minutes=5)
    assert await sender.drain() == 0, "nothing left to send"


def test_front_ends_write_no_reachability_themselves() -> None:
    """The front ends say it to the coach; none writes it through the database."""
    for path in BOT.rglob("*.py"):
        source = path.read_text()
        for write in ("set_reachable", "mark_unreachable", "users.c.unreachable"):
            assert write not in source, f"{path}: {write}"
