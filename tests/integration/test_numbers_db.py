"""The numbers feature on a database (SQLite and PostgreSQL): a band's numbers and a member's
solo numbers stay apart, goals are exported and forgotten with the musician, and check-ins go
out through the reminder tick.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from bandkit import GuildDriver
from coachkit import Driver, synced_coach
from numberskit import tracked_roadmap
from reminderkit import FakeClock, RecordingNotifier, delivery_rows, reminder_rows
from sqlalchemy import select

from core.app.engine import Coach
from core.db.engine import Database
from core.db.models import Band, Goal, Profile, StatSample
from core.kernel.markup import to_plain
from core.kernel.types import Document
from core.reminders.tick import ReminderTick
from core.roadmaps.sync import sync_roadmaps

START = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)  # the injected clock's start, never the wall's


async def _profiles(database: Database) -> tuple[Profile, Profile]:
    """(Ana's solo profile, the band's profile)."""
    async with database.transaction() as session:
        band = (await session.scalars(select(Profile).join(Band, Band.id == Profile.band_id))).one()
        solo = (await session.scalars(select(Profile).where(Profile.band_id.is_(None)))).one()
        return solo, band


async def test_band_numbers_and_a_members_solo_numbers_stay_apart(database: Database) -> None:
    coach = await synced_coach(database, clock=FakeClock(START))
    solo = Driver(coach, "1001", platform="discord")  # Ana's DMs
    await solo.onboard(name="Ana")
    await solo.say("/update monthly listeners 500")
    assert "Saved: 500" in solo.text
    ana = GuildDriver(coach, "1001", name="Ana", manager=True)
    await ana.say("/band create The Night Owls")
    await ana.say("/start")
    await ana.press("Indie")
    await ana.say("/update monthly listeners 9000")
    assert "Saved: 9,000" in ana.text
    assert "since last time" not in ana.text, "the band's first number compared with Ana's"
    await ana.say("/goal monthly listeners 20000 by 31 March")
    mine, band = await _profiles(database)
    assert mine.current_stats["monthly_listeners"]["value"] == "500"
    assert "goal" not in mine.current_stats["monthly_listeners"]
    assert band.current_stats["monthly_listeners"]["value"] == "9000"
    async with database.transaction() as session:
        samples = (await session.execute(select(StatSample.profile_id, StatSample.value))).all()
        goals = (await session.execute(select(Goal.profile_id, Goal.target))).all()
    assert sorted((pid == band.id, value) for pid, value in samples) == [
        (False, Decimal(500)),
        (True, Decimal(9000)),
    ]
    assert [(pid, target) for pid, target in goals] == [(band.id, Decimal(20000))]
    await solo.say("/stats")
    assert "500" in solo.text
    assert "9,000" not in solo.text
    await ana.say("/stats")
    assert "9,000" in ana.text


async def test_band_answers_to_questions_never_touch_a_members_numbers(
    database: Database,
) -> None:
    coach = await synced_coach(database, clock=FakeClock(START))
    solo = Driver(coach, "1001", platform="discord")
    await solo.onboard(name="Ana")
    ana = GuildDriver(coach, "1001", name="Ana", manager=True)
    await ana.say("/band create The Night Owls")
    await ana.say("/start")
    await ana.press("Indie")
    for driver, value in ((solo, "500"), (ana, "9000")):
        await driver.say("/today")
        for _ in range(10):
            if "listeners" in driver.text.casefold() and "?" in driver.text:
                break
            await driver.say("/skip")
        await driver.say(value)
        assert "Saved" in driver.text
    mine, band = await _profiles(database)
    assert mine.current_stats["monthly_listeners"]["value"] == "500"
    assert band.current_stats["monthly_listeners"]["value"] == "9000"


async def test_goals_are_exported_and_forgotten(database: Database) -> None:
    coach = await synced_coach(database, clock=FakeClock(START))
    solo = Driver(coach, "1001", platform="discord")
    await solo.onboard(name="Ana")
    await solo.say("/update monthly listeners 500")
    await solo.say("/goal monthly listeners 800 by 30 June")
    ana = GuildDriver(coach, "1001", name="Ana", manager=True)
    await ana.say("/band create The Night Owls")
    await ana.say("/start")
    await ana.press("Indie")
    await ana.say("/update monthly listeners 9000")
    await ana.say("/goal monthly listeners 20000 by 30 June")
    [reply] = await solo.say("/export")
    assert isinstance(reply, Document)
    exported = json.loads(reply.file)
    assert [g["target"] for g in exported["your_rows"]["goals"]] == ["800.0000"]
    assert [g["target"] for g in exported["rows_that_mention_you"]["goals"]] == ["20000.0000"]
    await solo.say("/forget")
    await solo.press("Yes, delete")
    async with database.transaction() as session:
        left = (await session.execute(select(Goal.target, Goal.set_by))).all()
    assert left == [(Decimal(20000), None)]  # the band's goal stays, credited to nobody


async def test_checkins_ask_for_a_stale_tracked_number_through_the_tick(
    database: Database,
) -> None:
    async with database.transaction() as session:
        await sync_roadmaps(session, [tracked_roadmap()])
    clock = FakeClock(START)
    coach = Coach(database, clock=clock)
    maya = Driver(coach)
    await maya.onboard(roadmap_name="Numbers Test")
    await maya.say("/remind daily 18:00")
    assert [r.kind for r in await reminder_rows(database)].count("checkin") == 1
    await maya.say("/update listeners 1200")
    notifier = RecordingNotifier()
    tick = ReminderTick(database, {"console": notifier}, clock=clock)

    def checkins() -> list[str]:
        return [t for t in notifier.texts() if "check-in" in t]

    clock.advance(hours=2)  # the new row's first look: nothing stale yet, it moves on
    await tick.run()
    assert checkins() == []
    [row] = [r for r in await reminder_rows(database) if r.kind == "checkin"]
    stale = (START + timedelta(days=30)).replace(hour=10)
    assert row.next_due_at == stale

    clock.set(stale + timedelta(seconds=1))
    await tick.run()
    assert checkins() == [
        "📊 Time for your monthly check-in: Monthly listeners — last 1,200 listeners on 4 Jan.\n"
        "Tap Answer and type today's number."
    ]
    assert [d.status for d in await delivery_rows(database, "checkin")] == ["sent"]
    await tick.run()
    assert len(checkins()) == 1, "sent once"
    card = next(replies for _chat, replies in notifier.sent if "check-in" in replies[0].text)[0]
    answer, snooze = card.all_buttons()
    await maya.press_payload(answer.payload)
    assert "What's your monthly listeners now?" in maya.text
    await maya.say("1400")
    assert "+200 since last time" in maya.text

    await maya.press_payload(snooze.payload)
    assert "I'll ask again on" in maya.text
    [row] = [r for r in await reminder_rows(database) if r.kind == "checkin"]
    assert row.next_due_at == stale + timedelta(days=7)
    clock.set(row.next_due_at + timedelta(seconds=1))
    await tick.run()
    assert len(checkins()) == 1, "the number is fresh: no check-in, the row moves on"
    [row] = [r for r in await reminder_rows(database) if r.kind == "checkin"]
    assert row.next_due_at == stale + timedelta(days=30)
    assert "/stats" not in to_plain(card.text)


async def _answer_statements(coach: Coach, database: Database, user: str, goal: str) -> list[str]:
    """The statements of one answer to the listeners question, after a first number (and the
    goal ``goal``, if any)."""
    driver = Driver(coach, user)
    await driver.onboard(roadmap_name="Numbers Test")
    await driver.say("/update listeners 100")
    if goal:
        await driver.say(f"/goal listeners {goal} by 30 June")
        assert "Goal set" in driver.text
    await driver.say("/today")
    statements: list[str] = []
    database.statement_hook = statements.append
    try:
        await driver.say("200", update_id=f"answer-{user}")
    finally:
        database.statement_hook = None
    assert "Saved: 200 listeners" in driver.text
    return [" ".join(sql.split())[:60] for sql in statements]


@pytest.mark.postgres_only
async def test_an_answer_costs_no_statement_for_goals_unless_one_is_reached(
    database: Database,
) -> None:
    """The hot path's contract: without a goal, and with one not reached, an answer runs the
    same statements and none on ``goals``; reaching one adds exactly the one that marks it."""
    async with database.transaction() as session:
        await sync_roadmaps(session, [tracked_roadmap()])
    coach = Coach(database, clock=FakeClock(START))
    plain = await _answer_statements(coach, database, "ann", "")
    aiming = await _answer_statements(coach, database, "bea", "5000")
    reaching = await _answer_statements(coach, database, "cat", "150")
    assert not any("goals" in s for s in plain + aiming), plain
    assert len(aiming) == len(plain)
    assert len(reaching) == len(plain) + 1
    assert [s for s in reaching if "goals" in s] == [
        s for s in reaching if s.startswith("UPDATE goals")
    ]


async def test_a_reset_takes_the_goals_with_the_numbers(database: Database) -> None:
    """A band's reset and an admin's reset of a musician start the numbers over: goals too."""
    coach = await synced_coach(database, clock=FakeClock(START))
    boss = Coach(database, admins=["console:boss"], catalog=coach.catalog, clock=FakeClock(START))
    maya = Driver(boss, "maya")
    await maya.onboard()
    await maya.say("/update monthly listeners 500")
    await maya.say("/goal monthly listeners 800 by 30 June")
    ana = GuildDriver(coach, "1001", name="Ana", manager=True)
    await ana.say("/band create The Night Owls")
    await ana.say("/start")
    await ana.press("Indie")
    await ana.say("/update monthly listeners 9000")
    await ana.say("/goal monthly listeners 20000 by 30 June")
    await ana.say("/band reset")
    await ana.press("Yes, reset everything")
    async with database.transaction() as session:
        assert (await session.execute(select(Goal.target))).scalars().all() == [Decimal(800)]
    admin = Driver(boss, "boss")
    await admin.say("/admin reset console:maya")
    await admin.press("Yes, reset")
    async with database.transaction() as session:
        assert (await session.execute(select(Goal.target))).scalars().all() == []
