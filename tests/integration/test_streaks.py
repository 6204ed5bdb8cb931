"""Streaks on a database (SQLite and PostgreSQL): ``/streak`` counts weeks with a step done
(a task completed, a number recorded — never a skip), freezes keep it through a break within
their limits, bad input gets a clear answer, one musician never sees or changes another's,
a band's streak is the band's (only managers freeze it, a member's try is audited), and
``/progress`` shows it in one line.

Every date comes from the injected clock, which starts on a fixed day (a Thursday in the
first quarter of 2027), so the suite's year-ahead run changes nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from bandkit import night_owls
from coachkit import Driver, at_a_checklist, count, synced_coach
from querykit import BIG_TABLES, ExplainingExecutor, musician, seed
from reminderkit import FakeClock
from sqlalchemy import select
from support.memory import bundled_roadmaps

from core.app.engine import Coach
from core.db.engine import Database
from core.db.executor import AsyncpgExecutor
from core.db.models import Profile, StreakFreeze
from core.kernel import store as turn_store
from core.kernel.audit import latest
from core.kernel.types import Document
from core.roadmaps.sync import sync_roadmaps

START = datetime(2027, 2, 11, 12, 0, tzinfo=UTC)  # Thursday, ISO week 6, Q1 2027


async def _coach(database: Database) -> tuple[Coach, FakeClock]:
    clock = FakeClock(START)
    return await synced_coach(database, clock=clock), clock


async def _freezes(database: Database) -> list[tuple[date, date]]:
    async with database.transaction() as session:
        rows = await session.execute(
            select(StreakFreeze.starts_on, StreakFreeze.ends_on).order_by(StreakFreeze.starts_on)
        )
        return [(a, b) for a, b in rows.all()]


async def _complete_a_checklist(driver: Driver) -> None:
    """Tick every item of the first checklist (skipping the tasks before it)."""
    first = await at_a_checklist(driver)
    task = first.split(":")[2]
    for _ in range(20):
        ticks = [b for b in driver.buttons if b.payload.startswith(f"v1:tk:{task}:")]
        if not ticks:
            break
        await driver.press_payload(ticks[0].payload)
    assert "done!" in driver.text


async def test_weeks_with_a_step_make_the_streak_and_skips_do_not(database: Database) -> None:
    coach, clock = await _coach(database)
    maya = Driver(coach)
    await maya.onboard()
    await maya.say("/streak")
    assert "Streak: none yet" in maya.text
    assert "Freezes left this quarter: 2 of 2" in maya.text
    await maya.say("/skip")
    await maya.say("/streak")
    assert "none yet" in maya.text, "a skip is not a step"
    await maya.say("/update monthly listeners 500")
    await maya.say("/streak")
    assert "Streak: 1 week — this week's done." in maya.text
    clock.advance(days=7)
    await maya.say("/streak")
    assert "Streak: 1 week — keep it alive this week." in maya.text
    await _complete_a_checklist(maya)  # a task completed is a step too
    await maya.say("/streak")
    assert "Streak: 2 weeks — this week's done." in maya.text
    clock.advance(days=14)  # a whole week missed
    await maya.say("/streak")
    assert "Streak: none yet" in maya.text
    assert "Best so far: 2 weeks." in maya.text


async def test_progress_shows_the_streak_in_one_line(database: Database) -> None:
    coach, clock = await _coach(database)
    maya = Driver(coach)
    await maya.onboard()
    await maya.say("/progress")
    assert maya.text.endswith("🔥 Streak: none yet — one step this week starts it.")
    await maya.say("/update monthly listeners 500")
    clock.advance(days=7)
    await maya.say("/progress")
    assert maya.text.endswith("🔥 Streak: 1 week — keep it alive this week.")
    assert maya.text.count("Streak") == 1


async def test_a_freeze_keeps_the_streak_through_a_break(database: Database) -> None:
    coach, clock = await _coach(database)
    maya = Driver(coach)
    await maya.onboard()
    await maya.say("/update monthly listeners 500")
    clock.advance(days=7)
    await maya.say("/update monthly listeners 600")
    await maya.say("/streak freeze 2w")
    assert "Frozen: Thu 18 Feb 2027 – Wed 3 Mar 2027." in maya.text
    assert "Your 2-week streak waits for you." in maya.text
    assert "Freezes left this quarter: 1." in maya.text
    assert await _freezes(database) == [(date(2027, 2, 18), date(2027, 3, 3))]
    clock.advance(days=7)
    await maya.say("/streak")
    assert "Streak: 2 weeks, frozen until Wed 3 Mar 2027." in maya.text
    clock.advance(days=14)  # Thursday after the freeze: its last week is still bridged
    await maya.say("/streak")
    assert "Streak: 2 weeks — keep it alive this week." in maya.text
    await maya.say("/update monthly listeners 700")
    await maya.say("/streak")
    assert "Streak: 3 weeks — this week's done." in maya.text
    clock.advance(days=7)
    await maya.say("/progress")
    assert "🔥 Streak: 3 weeks — keep it alive this week." in maya.text


async def test_freeze_limits_one_at_a_time_two_per_quarter(database: Database) -> None:
    coach, clock = await _coach(database)
    maya = Driver(coach)
    await maya.onboard()
    await maya.say("/streak freeze 1w")
    assert "Frozen:" in maya.text
    await maya.say("/streak freeze 3d from 2027-03-01")
    assert "You already have a freeze in force" in maya.text
    await maya.say("/streak unfreeze")
    assert "Freeze dropped" in maya.text, "one that started today doesn't count"
    assert await _freezes(database) == []
    await maya.say("/streak freeze 10d")
    clock.advance(days=2)
    await maya.say("/streak unfreeze")
    assert "Freeze ended" in maya.text
    assert await _freezes(database) == [(date(2027, 2, 11), date(2027, 2, 12))]
    await maya.say("/streak freeze 1w from 2027-03-01")
    assert "Freezes left this quarter: 0." in maya.text
    await maya.say("/streak freeze 2w from 2027-03-20")
    assert "You already have a freeze planned" in maya.text
    clock.set(datetime(2027, 3, 10, 12, tzinfo=UTC))
    await maya.say("/streak freeze 3d")
    assert "used both freezes of this quarter" in maya.text
    await maya.say("/streak freeze 3d from 2027-04-02")
    assert "Frozen: Fri 2 Apr 2027 – Sun 4 Apr 2027." in maya.text
    assert "Freezes left that quarter: 1." in maya.text
    await maya.say("/streak")
    assert "Freeze planned: Fri 2 Apr 2027 – Sun 4 Apr 2027" in maya.text
    assert "Freezes left this quarter: 0 of 2" in maya.text
    assert len(await _freezes(database)) == 3


async def test_bad_input_gets_a_clear_answer_and_changes_nothing(database: Database) -> None:
    coach, _clock = await _coach(database)
    maya = Driver(coach)
    await maya.onboard()
    answers = {
        "/streak freeze -2w": "1 day to 4 weeks",
        "/streak freeze 99w": "at most 4 weeks",
        "/streak freeze 🧊🧊": "didn't get how long",
        "/streak freeze 2w from last year": "date",
        "/streak 🔥" * 300: "I don't know",
        "/streak unfreeze": "no freeze to end",
    }
    for said, expected in answers.items():
        await maya.say(said[:4000])
        assert expected in maya.text, (said[:40], maya.text)
    assert await count(database, StreakFreeze) == 0


async def test_a_musician_never_sees_or_changes_anothers_streak(database: Database) -> None:
    coach, _clock = await _coach(database)
    maya, ben = Driver(coach, "maya"), Driver(coach, "ben")
    await maya.onboard(name="Maya")
    await ben.onboard(name="Ben")
    await maya.say("/update monthly listeners 500")
    await maya.say("/streak freeze 1w from 2027-02-20")
    await ben.say("/streak")
    assert "none yet" in ben.text
    assert "Freezes left this quarter: 2 of 2" in ben.text
    assert "Freeze planned" not in ben.text
    await ben.say("/streak unfreeze")
    assert "no freeze to end" in ben.text
    assert await _freezes(database) == [(date(2027, 2, 20), date(2027, 2, 26))]
    await maya.say("/streak")
    assert "Streak: 1 week" in maya.text
    assert "Freeze planned: Sat 20 Feb 2027 – Fri 26 Feb 2027" in maya.text


async def test_freezes_are_exported_and_forgotten(database: Database) -> None:
    coach, _clock = await _coach(database)
    maya = Driver(coach, "1001", platform="discord")
    await maya.onboard()
    await maya.say("/streak freeze 2w")
    [reply] = await maya.say("/export")
    assert isinstance(reply, Document)
    exported = json.loads(reply.file)
    [row] = exported["your_rows"]["streak_freezes"]
    assert (row["starts_on"], row["ends_on"]) == ("2027-02-11", "2027-02-24")
    await maya.say("/forget")
    await maya.press("Yes, delete")
    assert await count(database, StreakFreeze) == 0


async def test_a_bands_streak_is_the_bands_and_only_managers_freeze_it(
    database: Database,
) -> None:
    coach, _clock = await _coach(database)
    ana, ben = await night_owls(coach)
    await ben.say("/update monthly listeners 9000")
    await ben.say("/streak")
    assert "Streak: 1 week — this week's done." in ben.text
    await ben.say("/streak freeze 2w")
    assert "Only server managers" in ben.text
    assert await count(database, StreakFreeze) == 0
    entry = next(e for e in await latest(database) if e.action == "band.streak")
    assert (entry.outcome, entry.actor) == ("denied", "discord:1002")
    await ana.say("/streak freeze 2w")
    assert "Frozen:" in ana.text
    await ben.say("/streak unfreeze")
    assert "Only server managers" in ben.text
    async with database.transaction() as session:
        band_profile = (
            await session.scalars(select(Profile).where(Profile.band_id.is_not(None)))
        ).one()
        owners = (await session.scalars(select(StreakFreeze.profile_id))).all()
    assert owners == [band_profile.id]
    # Ben's own streak, in his DMs, is his: the band's number and freeze are not in it
    ben_solo = Driver(coach, "1002", platform="discord")
    await ben_solo.onboard(name="Ben")
    await ben_solo.say("/streak")
    assert "none yet" in ben_solo.text
    assert "Freeze" not in ben_solo.text.replace("Freezes left", "")


async def test_progress_pays_one_read_for_the_streak(pg_database: Database) -> None:
    """``/progress`` adds exactly one statement for its streak line: the one union read of
    completions, numbers and freezes (``core.kernel.store.streak_history``)."""
    coach, _clock = await _coach(pg_database)
    maya = Driver(coach)
    await maya.onboard()
    await maya.say("/update monthly listeners 500")
    await maya.say("/streak freeze 1w from 2027-03-01")
    await maya.say("/progress")  # warm: the activity stamp is written at most once a minute
    statements: list[str] = []
    pg_database.statement_hook = statements.append
    try:
        await maya.say("/progress")
    finally:
        pg_database.statement_hook = None
    assert "Streak: 1 week" in maya.text
    streak_reads = [sql for sql in statements if "streak_freezes" in sql]
    assert len(streak_reads) == 1, statements
    assert "UNION ALL" in streak_reads[0]
    # lock and read the musician, the current stage's progress, the roadmap's progress (the
    # three /progress ran before streaks), the streak's one read, and (issue #15 §2: the indie
    # roadmap repeats its release) the earlier cycles, for "Release 2 now" and their history
    assert len(statements) == 5, [" ".join(s.split())[:60] for s in statements]
    assert "cycle_tasks" in statements[-1]


async def test_the_streak_read_walks_its_indexes(pg_database: Database) -> None:
    """The streak's one read, on a seeded database with sequential scans priced out, reads
    one profile's rows by index from each of its four tables (the contract of
    test_query_plans.py, for this statement)."""
    now = datetime.now(UTC)  # the seed's times are relative to it: any day will do
    async with pg_database.transaction() as session:
        await sync_roadmaps(session, list(bundled_roadmaps()))
    async with pg_database.unit_of_work() as plain:
        assert isinstance(plain, AsyncpgExecutor)
        await seed(plain.conn, 50, now)
        who = await musician(plain.conn, 50)
    async with pg_database.unit_of_work() as plain:
        assert isinstance(plain, AsyncpgExecutor)
        await plain.conn.execute("SET LOCAL enable_seqscan = off")
        ex = ExplainingExecutor(plain.conn, analyze=False)
        history = await ex.named("streak", turn_store.streak_history(ex, who.profile_id))
    [done] = ex.explained
    shown = "\n".join(done.plan.key_lines())
    expected = {
        "uq_user_task_progress_profile_id_task_id",
        "ix_stat_samples_profile_id",
        "ix_streak_freezes_profile_id",
        "uq_cycle_tasks_profile_id_task_id_cycle",  # earlier release cycles (issue #15 §2)
    }
    assert expected <= done.plan.indexes(), shown
    assert not done.plan.seq_scans() & (BIG_TABLES | {"streak_freezes"}), shown
    assert history.steps, "the seeded musician has completions and numbers"


async def test_weeks_are_counted_in_the_musicians_timezone(database: Database) -> None:
    """A number recorded late on Sunday in UTC is Monday's in Tokyo: with ``/timezone``
    set there, it counts for the new week."""
    coach, clock = await _coach(database)
    maya, ben = Driver(coach, "maya"), Driver(coach, "ben")
    await maya.onboard(name="Maya")
    await ben.onboard(name="Ben")
    await maya.say("/timezone Asia/Tokyo")
    assert "Asia/Tokyo" in maya.text
    clock.set(datetime(2027, 2, 14, 16, 0, tzinfo=UTC))  # Sun 16:00 UTC = Mon 01:00 in Tokyo
    await maya.say("/update monthly listeners 500")
    await ben.say("/update monthly listeners 500")
    clock.set(datetime(2027, 2, 15, 12, 0, tzinfo=UTC))  # Monday in both
    await maya.say("/streak")
    assert "Streak: 1 week — this week's done." in maya.text
    await ben.say("/streak")
    assert "Streak: 1 week — keep it alive this week." in ben.text
