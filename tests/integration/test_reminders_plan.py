"""Plan reminders (kind ``plan``, core/reminders/plan_kind.py) on SQLite and PostgreSQL: one row
per profile, created when the release date is set and moved when it changes; the tick nudges on
a dated task's day at 10:00 local time, naming it and why now, then moves to the next date;
the same due time is never sent twice; a task done since is not reminded of; /undo moves the
row back."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bandkit import GuildDriver
from coachkit import Driver
from reminderkit import FakeClock, RecordingNotifier, delivery_rows, reminder_rows
from support.plankit import good_friday, plan_roadmap

from core.app.engine import Coach
from core.db.engine import Database
from core.progress.timeline import show_date
from core.reminders.tick import ReminderTick
from core.roadmaps.sync import sync_roadmaps

BERLIN = ZoneInfo("Europe/Berlin")


async def _setup(database: Database) -> tuple[Driver, RecordingNotifier, ReminderTick, FakeClock]:
    start = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    clock = FakeClock(start)
    async with database.transaction() as session:
        await sync_roadmaps(session, [plan_roadmap()])
    coach = Coach(database, clock=clock)
    maya = Driver(coach, "maya")
    await maya.onboard(roadmap_name="Plan test")
    await maya.say("/timezone Europe/Berlin")
    notifier = RecordingNotifier()
    tick = ReminderTick(database, {"console": notifier}, clock=clock)
    return maya, notifier, tick, clock


def _at_ten(day: object) -> datetime:
    return datetime.combine(day, time(10), tzinfo=BERLIN).astimezone(UTC)  # type: ignore[arg-type]


async def _plan_rows(database: Database) -> list[object]:
    return [r for r in await reminder_rows(database) if r.kind == "plan"]


async def test_release_date_creates_and_moves_one_plan_row(database: Database) -> None:
    maya, _notifier, _tick, clock = await _setup(database)
    assert await _plan_rows(database) == []
    await maya.say("/plan")
    await maya.press("Set your release date")
    friday = good_friday(clock().date())
    await maya.say(friday.isoformat())
    (row,) = await _plan_rows(database)
    assert row.next_due_at == _at_ten(friday - timedelta(days=28))  # the upload is due
    assert row.timezone == "Europe/Berlin"
    assert row.target_chat == "maya"
    assert not row.paused

    later = friday + timedelta(days=14)
    await maya.say("/plan")
    await maya.press("Change the release date")
    await maya.say(later.isoformat())
    (moved,) = await _plan_rows(database)
    assert moved.id == row.id
    assert moved.next_due_at == _at_ten(later - timedelta(days=28))

    await maya.say("/undo")
    (back,) = await _plan_rows(database)
    assert back.next_due_at == _at_ten(friday - timedelta(days=28))


async def test_the_tick_nudges_on_the_due_day_once_and_moves_on(database: Database) -> None:
    maya, notifier, tick, clock = await _setup(database)
    friday = good_friday(clock().date())
    await maya.say("/skip")  # the master checklist
    await maya.say(friday.isoformat())
    assert (await tick.run()).claimed == 0  # not due yet

    clock.set(_at_ten(friday - timedelta(days=28)) + timedelta(minutes=1))
    report = await tick.run()
    assert report.sent == 1
    assert notifier.texts()[0] == (
        "📌 Upload to your distributor is due today: 28 days before your release on "
        f"{show_date(friday)} (T−28).\nOpen it now, or see the whole plan."
    )
    labels = [b.label for b in notifier.sent[0][1][0].all_buttons()]
    assert labels == ["▶ Open", "🗓️ Plan"]
    await maya.press_payload(notifier.sent[0][1][0].buttons[0][0].payload)
    assert "Upload to your distributor" in maya.text  # the task's card, ready to tick
    (row,) = await _plan_rows(database)
    assert row.next_due_at == _at_ten(friday - timedelta(days=7))  # the pitch next
    deliveries = await delivery_rows(database, "plan")
    assert [(d.status, d.due_at) for d in deliveries] == [
        ("sent", _at_ten(friday - timedelta(days=28)))
    ]
    assert (await tick.run()).claimed == 0  # the same due time is never sent twice
    assert len(notifier.sent) == 1

    # The pitch is done before its day: nothing is sent for it; on to the streams question.
    await maya.say("/skip")  # the upload
    await maya.say("/skip")  # the pitch
    clock.set(_at_ten(friday - timedelta(days=7)) + timedelta(minutes=1))
    report = await tick.run()
    assert report.sent == 0
    (row,) = await _plan_rows(database)
    assert row.next_due_at == _at_ten(friday + timedelta(days=28))  # the look-back opens

    clock.set(_at_ten(friday + timedelta(days=28)) + timedelta(minutes=5))
    report = await tick.run()
    assert report.sent == 1
    assert (
        "Streams in the first 28 days opens today: 28 days after your release"
        in (notifier.texts()[-1])
    )
    (row,) = await _plan_rows(database)
    assert row.next_due_at == _at_ten(friday + timedelta(days=35))


async def test_a_late_tick_skips_a_stale_plan_nudge(database: Database) -> None:
    maya, notifier, tick, clock = await _setup(database)
    friday = good_friday(clock().date())
    await maya.say("/skip")
    await maya.say(friday.isoformat())
    clock.set(_at_ten(friday - timedelta(days=28)) + timedelta(days=1, hours=1))
    report = await tick.run()
    assert report.sent == 0
    assert report.skipped == 1
    assert notifier.sent == []
    (row,) = await _plan_rows(database)
    assert row.next_due_at == _at_ten(friday - timedelta(days=7))


async def test_a_bands_release_date_gets_the_bands_plan_row(database: Database) -> None:
    start = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    clock = FakeClock(start)
    async with database.transaction() as session:
        await sync_roadmaps(session, [plan_roadmap()])
    coach = Coach(database, clock=clock)
    ana = GuildDriver(coach, "1001", name="Ana", manager=True)
    await ana.say("/band create The Night Owls")
    await ana.say("/start")
    await ana.press("Plan test")
    await ana.say("/skip")
    friday = good_friday(clock().date())
    await ana.say(friday.isoformat())
    (row,) = await _plan_rows(database)
    assert row.band_id is not None
    assert row.user_id is None
    assert (row.platform, row.target_chat) == ("discord", "901")
    due = datetime.combine(friday - timedelta(days=28), time(10), tzinfo=UTC)
    assert row.next_due_at == due  # the actor's timezone (UTC here)
    notifier = RecordingNotifier(platform="discord")
    tick = ReminderTick(database, {"discord": notifier}, clock=clock)
    clock.set(due + timedelta(minutes=1))
    assert (await tick.run()).sent == 1
    assert notifier.sent[0][0] == "901"
    assert "Upload to your distributor is due today" in notifier.texts()[0]


async def test_remind_off_pauses_the_plan_nudges_and_on_resumes_them(database: Database) -> None:
    maya, notifier, tick, clock = await _setup(database)
    friday = good_friday(clock().date())
    await maya.say("/skip")
    await maya.say(friday.isoformat())
    await maya.say("/remind off")
    assert "Reminders are off" in maya.text
    (row,) = await _plan_rows(database)
    assert row.paused
    clock.set(_at_ten(friday - timedelta(days=28)) + timedelta(minutes=1))
    assert (await tick.run()).claimed == 0
    await maya.say("/remind on")
    (row,) = await _plan_rows(database)
    assert not row.paused
    assert row.next_due_at > clock()  # nothing missed while off is sent
    clock.set(_at_ten(friday - timedelta(days=7)) + timedelta(minutes=1))
    await tick.run()  # the resumed row finds its place in the plan: the pitch
    await tick.run()
    assert [t.split(" is due")[0] for t in notifier.texts()] == ["📌 Pitch to editorial playlists"]
    await maya.say("/timezone UTC+02:00")
    (row,) = await _plan_rows(database)
    assert row.timezone == "UTC+02:00"
