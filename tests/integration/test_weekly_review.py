"""The weekly review on SQLite and PostgreSQL: ``/review`` from real rows (tasks done and
skipped this week, numbers that moved, a goal's pace, the focus buttons acting like
``/today``'s), its settings and their errors, one musician never seeing another's week, and
the tick delivering the review exactly once per week with two claimers."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from coachkit import Driver, at_a_checklist, catalog_of, synced_coach
from querykit import BIG_TABLES, ExplainingExecutor, seed
from reminderkit import FakeClock, RecordingNotifier, delivery_rows, reminder_rows
from sqlalchemy import select
from support.memory import bundled_roadmaps

from core.app.engine import Coach
from core.coaching.review import read
from core.coaching.review.week import Slot, spread
from core.db.engine import Database
from core.db.executor import AsyncpgExecutor
from core.db.models import Profile, Task, UserTaskProgress
from core.kernel.markup import to_plain
from core.reminders.tick import ReminderTick
from core.roadmaps.sync import sync_roadmaps

BERLIN = ZoneInfo("Europe/Berlin")


def _wednesday_noon() -> datetime:
    """Noon in Berlin on this week's Wednesday, whatever today is."""
    today = datetime.now(UTC).date()
    wednesday = today - timedelta(days=today.weekday()) + timedelta(days=2)
    return datetime.combine(wednesday, time(12), tzinfo=BERLIN).astimezone(UTC)


async def _maya(database: Database, clock: FakeClock) -> tuple[Coach, Driver]:
    coach = await synced_coach(database, clock=clock)
    maya = Driver(coach, "maya")
    await maya.onboard()
    await maya.say("/timezone Europe/Berlin")
    return coach, maya


async def _statuses(database: Database, status: str) -> list[str]:
    async with database.transaction() as session:
        rows = await session.execute(
            select(Task.title)
            .join(UserTaskProgress, UserTaskProgress.task_id == Task.id)
            .where(UserTaskProgress.status == status)
        )
        return [r[0] for r in rows]


async def _profile_id(database: Database) -> object:
    async with database.transaction() as session:
        return (await session.execute(select(Profile.id))).scalars().one()


async def _complete_a_checklist(maya: Driver) -> None:
    first = await at_a_checklist(maya)
    slug = first.split(":")[2]
    for _ in range(12):
        ticks = [b.payload for b in maya.buttons if b.payload.startswith(f"v1:tk:{slug}:")]
        if not ticks:
            return
        await maya.press_payload(ticks[0])
    raise AssertionError("the checklist never completed")


async def test_review_shows_the_week_from_real_rows(database: Database) -> None:
    clock = FakeClock(_wednesday_noon() - timedelta(days=7))
    _coach, maya = await _maya(database, clock)
    await maya.say("/update listeners 1200")  # last week
    clock.set(_wednesday_noon())
    await maya.say("/skip")
    await _complete_a_checklist(maya)
    await maya.say("/update listeners 1400")
    by = (clock().date() + timedelta(days=120)).isoformat()
    await maya.say(f"/goal listeners 2000 by {by}")

    await maya.say("/review")
    text = maya.text
    (done,) = await _statuses(database, "completed")
    skipped = await _statuses(database, "skipped")
    assert "Your week (so far)" in text
    assert f"Done (1): {done}" in text
    assert f"Skipped ({len(skipped)}): " in text
    assert "Monthly listeners: 1,200 → 1,400 (▲ +200)" in text
    assert "🎯 2,000 by" in text
    assert "Next week's focus" in text
    # A number last week, a task this week: two weeks in a row, in /progress's words.
    assert "🔥 Streak: 2 weeks — this week's done." in text
    assert "/review on" in text  # not weekly yet: says how
    focus = [b for b in maya.buttons if b.label[:2] in {"1.", "2.", "3."}]
    assert 1 <= len(focus) <= 3
    assert all(b.payload.startswith(("v1:op:", "v1:nv:")) for b in focus)

    first = focus[0]
    await maya.press_payload(first.payload)  # acts like /today's card
    assert first.label[3:].rstrip("…") in maya.text

    # A focus button whose task got done since answers clearly, and saves nothing.
    (done_slug,) = await _done_slugs(database)
    replies = await maya.press_payload(f"v1:op:{done_slug}")
    assert "already done" in to_plain(replies[0].text)


async def _done_slugs(database: Database) -> list[str]:
    async with database.transaction() as session:
        rows = await session.execute(
            select(Task.slug)
            .join(UserTaskProgress, UserTaskProgress.task_id == Task.id)
            .where(UserTaskProgress.status == "completed")
        )
        return [r[0] for r in rows]


async def test_another_musician_never_sees_her_week(database: Database) -> None:
    clock = FakeClock(_wednesday_noon())
    coach, maya = await _maya(database, clock)
    await _complete_a_checklist(maya)
    await maya.say("/update listeners 1400")
    ben = Driver(coach, "ben")
    await ben.onboard(name="Ben")
    await ben.say("/review")
    assert ben.text.startswith("🌱 A quiet week")  # nothing of Maya's
    assert "1,400" not in ben.text
    stranger = Driver(coach, "nobody")
    await stranger.say("/review")
    assert "Nothing to review yet" in stranger.text or "name" in stranger.text.casefold()


async def test_review_settings_and_bad_input(database: Database) -> None:
    clock = FakeClock(_wednesday_noon())
    _coach, maya = await _maya(database, clock)
    pid = await _profile_id(database)

    for bad, says in [
        ("/review someday", "don't know the day"),
        ("/review monday 25:00", "isn't a time of day"),
        ("/review monday 9pm", "24-hour"),
        ("/review 🎸🎸", "24-hour"),
        ("/review " + "x" * 500, "too long"),
        ("/review -3", "24-hour"),
    ]:
        await maya.say(bad)
        assert says in maya.text, (bad, maya.text)
    assert [r for r in await reminder_rows(database) if r.kind == "review"] == []

    await maya.say("/review off")
    assert "already off" in maya.text
    await maya.say("/remind")  # the reminder card says where the review stands
    assert "Weekly review: off (/review on)" in maya.text

    await maya.say("/review monday 9:00")
    assert "Weekly review on: Monday 09:00 (Europe/Berlin)" in maya.text
    (row,) = [r for r in await reminder_rows(database) if r.kind == "review"]
    assert row.schedule == {"type": "weekly", "time": "09:00", "days": [0]}
    expected = Slot(0, time(9)).next_after(clock(), BERLIN, spread(pid))  # type: ignore[arg-type]
    assert row.next_due_at == expected
    assert (
        timedelta(0)
        <= expected - datetime.combine(expected.astimezone(BERLIN).date(), time(9), tzinfo=BERLIN)
        < timedelta(hours=1)
    )
    assert not row.paused

    await maya.say("/review fri")  # a day alone keeps the time
    assert "Friday 09:00" in maya.text
    await maya.say("/remind")
    assert "Weekly review: Friday 09:00 (/review to change)" in maya.text
    await maya.say("/review off")
    assert "Weekly review off" in maya.text
    (row,) = [r for r in await reminder_rows(database) if r.kind == "review"]
    assert row.paused

    # /remind on resumes every reminder, but not a review switched off with /review off.
    await maya.say("/remind daily 18:00")
    await maya.say("/remind off")
    await maya.say("/remind on")
    (row,) = [r for r in await reminder_rows(database) if r.kind == "review"]
    assert row.paused
    await maya.say("/review on")
    assert "Friday 09:00" in maya.text
    await maya.say("/remind off")  # and /remind off pauses it with the others
    (row,) = [r for r in await reminder_rows(database) if r.kind == "review"]
    assert row.paused
    await maya.say("/remind on")
    (row,) = [r for r in await reminder_rows(database) if r.kind == "review"]
    assert not row.paused


async def test_the_tick_delivers_each_weeks_review_once_with_two_claimers(
    database: Database,
) -> None:
    clock = FakeClock(_wednesday_noon())
    coach, maya = await _maya(database, clock)
    await _complete_a_checklist(maya)
    await maya.say("/review on")
    ben = Driver(coach, "ben")
    await ben.onboard(name="Ben")
    await ben.say("/review on")
    rows = [r for r in await reminder_rows(database) if r.kind == "review"]
    assert len(rows) == 2
    notifier = RecordingNotifier()
    ticks = [
        ReminderTick(database, {"console": notifier}, clock=clock, worker=f"w{n}") for n in range(2)
    ]
    assert [(await t.run()).claimed for t in ticks] == [0, 0]  # not Monday yet

    last = max(r.next_due_at for r in rows)
    clock.set(last + timedelta(seconds=1))
    reports = await asyncio.gather(*(t.run() for t in ticks))
    assert sum(r.sent for r in reports) == 2
    assert sorted(chat for chat, _ in notifier.sent) == ["ben", "maya"]
    texts = dict(zip([c for c, _ in notifier.sent], notifier.texts(), strict=True))
    assert "Your week" in texts["maya"]
    assert "Done (1)" in texts["maya"]
    assert "(so far)" not in texts["maya"]  # on Monday: the week just finished
    # The streak as /progress says it: last week counted, the new week not yet.
    assert "🔥 Streak: 1 week — keep it alive this week." in texts["maya"]
    assert texts["ben"].startswith("🌱 A quiet week")  # nothing done, nothing planned
    assert "Streak" not in texts["ben"]  # no streak to keep alive: not mentioned
    deliveries = await delivery_rows(database, "review")
    assert len(deliveries) == 2
    monday: date = last.astimezone(BERLIN).date()
    year, week, _ = monday.isocalendar()
    assert all(d.idempotency_key.endswith(f":{year}-W{week:02d}:review") for d in deliveries)

    again = await asyncio.gather(*(t.run() for t in ticks))
    assert sum(r.sent for r in again) == 0  # never twice in a week
    # Moving the day after this week's review went out: the new day's first is next week.
    await ben.say("/review wednesday 12:00")
    (ben_row,) = [
        r for r in await reminder_rows(database) if r.kind == "review" and r.target_chat == "ben"
    ]
    assert ben_row.next_due_at.astimezone(BERLIN).date() == monday + timedelta(days=9)
    await ben.say("/review monday 10:00")
    clock.advance(hours=5)
    assert [(await t.run()).sent for t in ticks] == [0, 0]
    assert len(notifier.sent) == 2

    clock.set(last + timedelta(days=7, seconds=1))  # next week's comes, once
    await maya.say("/today")  # both active, so no back-off
    await ben.say("/today")
    reports = await asyncio.gather(*(t.run() for t in ticks))
    assert sum(r.sent for r in reports) == 2
    assert len(await delivery_rows(database, "review")) == 4


@pytest.mark.postgres_only
async def test_a_batch_of_reviews_reads_by_index(database: Database) -> None:
    """The tick's review reads (profiles, progress, samples, closed cycles, streaks of a batch)
    walk their indexes, with sequential scans priced out, on the query-plan test's seeded
    musicians."""
    now = datetime.now(UTC)
    async with database.transaction() as session:
        await sync_roadmaps(session, list(bundled_roadmaps()))
    async with database.unit_of_work() as plain:
        assert isinstance(plain, AsyncpgExecutor)
        await seed(plain.conn, 200, now)
    catalog = await catalog_of(database)
    async with database.unit_of_work() as plain:
        assert isinstance(plain, AsyncpgExecutor)
        pids = [r[0] for r in await plain.conn.fetch("SELECT id FROM profiles LIMIT 200")]
        await plain.conn.execute("SET LOCAL enable_seqscan = off")
        ex = ExplainingExecutor(plain.conn, analyze=False)
        found = await read.for_profiles(ex, {pid: BERLIN for pid in pids}, catalog, now)  # type: ignore[arg-type]
    assert len(found) == len(pids)
    assert any(i.samples for i in found.values())
    expected = [
        {"pk_profiles"},
        {"uq_user_task_progress_profile_id_task_id"},
        {"ix_stat_samples_profile_id"},
        {"uq_cycle_tasks_profile_id_task_id_cycle"},  # release cycles closed lately (#15 §2)
        {
            "uq_user_task_progress_profile_id_task_id",
            "ix_stat_samples_profile_id",
            "ix_streak_freezes_profile_id",
            "uq_cycle_tasks_profile_id_task_id_cycle",
        },
    ]
    assert len(ex.explained) == len(expected)
    for done, indexes in zip(ex.explained, expected, strict=True):
        shown = "\n".join(done.plan.key_lines())
        assert indexes <= done.plan.indexes(), shown
        assert not done.plan.seq_scans() & BIG_TABLES, shown


async def test_the_review_writes_figures_the_musicians_way(database: Database) -> None:
    """Issue #15 §3: "numbers formatted for the musician's locale" — in the review shown on
    request and in the one the tick sends, which knows the musician only from the database."""
    clock = FakeClock(_wednesday_noon() - timedelta(days=7))
    coach = await synced_coach(database, clock=clock)
    lena = Driver(coach, "lena", locale="de-DE")  # users.locale is set at sign-up
    await lena.onboard(name="Lena")
    await lena.say("/timezone Europe/Berlin")
    await lena.say("/update listeners 1200")
    clock.set(_wednesday_noon())
    await lena.say("/update listeners 1400")
    by = (clock().date() + timedelta(days=120)).isoformat()
    lena.locale = None  # an event without a language (a Discord DM): the stored one holds
    await lena.say(f"/goal listeners 2500 by {by}")
    assert "2,500" not in lena.text
    assert "2.500" in lena.text
    await lena.say("/review")
    assert "Monthly listeners: 1.200 → 1.400 (▲ +200)" in lena.text
    assert "🎯 2.500 by" in lena.text
    await lena.say("/review on")

    notifier = RecordingNotifier()
    tick = ReminderTick(database, {"console": notifier}, clock=clock, worker="w")
    (row,) = [r for r in await reminder_rows(database) if r.kind == "review"]
    clock.set(row.next_due_at + timedelta(seconds=1))
    assert (await tick.run()).sent == 1
    (sent,) = notifier.texts()
    assert "1.200 → 1.400" in sent
    assert "🎯 2.500 by" in sent
