"""Reminders end to end through the core: /remind and friends, the tick, nudge buttons.

Every test runs on SQLite and PostgreSQL with a fake clock (no sleeping) and a recording
notifier standing in for a front end.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from coachkit import Driver, synced_coach
from reminderkit import (
    FakeClock,
    RecordingNotifier,
    delivery_rows,
    reminder_rows,
    schedule_row,
)
from sqlalchemy import update

from core.accounts.reachability import set_reachable
from core.app.engine import Coach
from core.db.engine import Database
from core.db.models import Band, BandMember, Profile, Reminder, User
from core.kernel.audit import latest
from core.kernel.notify import DeliveryResult, DeliveryStatus, no_direct_chat
from core.reminders import service
from core.reminders.schedule import Schedule, parse_time
from core.reminders.tick import ReminderTick, TickConfig

START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday


async def _setup(
    database: Database, clock: FakeClock, **config: object
) -> tuple[Driver, RecordingNotifier, ReminderTick]:
    coach = await synced_coach(database, clock=clock)
    maya = Driver(coach, "maya")
    await maya.onboard()
    notifier = RecordingNotifier()
    tick = ReminderTick(
        database,
        {"console": notifier},
        clock=clock,
        config=TickConfig(**config),  # type: ignore[arg-type]
    )
    return maya, notifier, tick


async def test_daily_reminder_is_sent_once_with_the_next_task_and_advances(
    database: Database,
) -> None:
    clock = FakeClock(START)
    maya, notifier, tick = await _setup(database, clock)
    await maya.say("/remind daily 18:00")
    assert "every day at 18:00" in maya.text
    assert "Next: Thu 26 Nov, 18:00" in maya.text

    assert (await tick.run()).claimed == 0  # not due yet
    clock.set(START.replace(hour=18, second=1))
    report = await tick.run()
    assert report.sent == 1
    assert notifier.sent[0][0] == "maya"
    nudge = notifier.sent[0][1][0]
    labels = [b.label for b in nudge.all_buttons()]
    assert "Time for your music, Maya!" in notifier.texts()[0]
    assert labels[-3:] == ["✅ Done", "⏰ Snooze 1 h", "📅 Tomorrow"]
    assert any(b.payload.startswith("v1:tk:") for b in nudge.all_buttons())  # the task's ticks
    row = await schedule_row(database)
    assert row.next_due_at == START.replace(hour=18) + timedelta(days=1)
    assert row.claimed_by is None
    assert row.claimed_until is None
    deliveries = await delivery_rows(database)
    assert [(d.status, d.due_at) for d in deliveries] == [("sent", START.replace(hour=18))]
    assert (
        deliveries[0].idempotency_key == f"{row.id.hex}:{int(START.replace(hour=18).timestamp())}"
    )

    assert (await tick.run()).claimed == 0  # the same due time is never sent twice
    assert len(notifier.sent) == 1


async def test_missed_nudges_coalesce_into_one_and_stale_ones_are_skipped(
    database: Database,
) -> None:
    clock = FakeClock(START)
    _maya, notifier, tick = await _setup(database, clock)
    await _maya.say("/remind daily 18:00")
    # Down for three days; back at 18:30 on Sunday: one nudge (Sunday's), not four.
    clock.set(START.replace(hour=18, minute=30) + timedelta(days=3))
    report = await tick.run()
    assert len(notifier.scheduled()) == 1
    deliveries = await delivery_rows(database)
    assert [d.due_at for d in deliveries] == [START.replace(hour=18) + timedelta(days=3)]
    row = await schedule_row(database)
    assert row.next_due_at == START.replace(hour=18) + timedelta(days=4)

    # Down again; back at 03:00 — Monday's 18:00 nudge is 9 h old, past the 2 h grace: skipped.
    clock.set(START.replace(hour=3) + timedelta(days=5))
    report = await tick.run()
    assert report.skipped == 1
    assert len(notifier.scheduled()) == 1
    skipped = [d for d in await delivery_rows(database) if d.status == "skipped"]
    assert len(skipped) == 1
    assert skipped[0].due_at == START.replace(hour=18) + timedelta(days=4)
    row = await schedule_row(database)
    assert row.next_due_at == START.replace(hour=18) + timedelta(days=5)


async def test_dst_keeps_local_time_through_the_tick(database: Database) -> None:
    clock = FakeClock(datetime(2026, 3, 27, 12, 0, tzinfo=UTC))
    maya, notifier, tick = await _setup(database, clock)
    await maya.say("/timezone Europe/Berlin")
    await maya.say("/remind daily 09:30")
    sent_at = []
    for n in (1, 2, 3):
        row = await schedule_row(database)
        clock.set(row.next_due_at + timedelta(seconds=1))
        await tick.run()
        assert len(notifier.scheduled()) == n
        sent_at.append(row.next_due_at)
    assert sent_at == [
        datetime(2026, 3, 28, 8, 30, tzinfo=UTC),  # 09:30 CET
        datetime(2026, 3, 29, 7, 30, tzinfo=UTC),  # 09:30 CEST
        datetime(2026, 3, 30, 7, 30, tzinfo=UTC),
    ]


async def test_quiet_hours_move_the_nudge(database: Database) -> None:
    clock = FakeClock(START)
    maya, notifier, tick = await _setup(database, clock)
    await maya.say("/quiet 22:00-08:00")
    assert "no reminder yet" in maya.text  # nothing to attach quiet hours to (not stored)
    await maya.say("/remind daily 23:00")
    await maya.say("/quiet 22:00-08:00")
    assert "22:00–08:00" in maya.text
    row = await schedule_row(database)
    assert row.next_due_at == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    clock.set(START.replace(hour=23, minute=1))
    assert (await tick.run()).sent == 0
    clock.set(datetime(2026, 11, 27, 8, 0, 1, tzinfo=UTC))
    assert (await tick.run()).sent == 1
    await maya.say("/quiet off")
    assert (await schedule_row(database)).next_due_at == datetime(2026, 11, 27, 23, 0, tzinfo=UTC)
    assert len(notifier.sent) == 1


async def test_snooze_and_tomorrow_buttons(database: Database) -> None:
    clock = FakeClock(START)
    maya, notifier, tick = await _setup(database, clock)
    await maya.say("/remind daily 18:00")
    clock.set(START.replace(hour=18, second=5))
    await tick.run()
    nudge = notifier.sent[-1][1][0]
    snooze = next(b for b in nudge.all_buttons() if "Snooze" in b.label)
    replies = await maya.press_payload(snooze.payload)
    assert "Snoozed" in maya.text
    assert replies[0].edit
    assert (await schedule_row(database)).next_due_at == START.replace(hour=19, second=5)
    clock.set(START.replace(hour=19, second=6))
    assert (await tick.run()).sent == 1
    assert len(notifier.sent) == 2
    # The snoozed nudge was its own delivery; afterwards the schedule continues.
    assert (await schedule_row(database)).next_due_at == START.replace(hour=18) + timedelta(days=1)

    tomorrow = next(b for b in notifier.sent[-1][1][0].all_buttons() if "Tomorrow" in b.label)
    await maya.press_payload(tomorrow.payload)
    assert "tomorrow" in maya.text
    assert (await schedule_row(database)).next_due_at == START.replace(
        hour=19, second=6
    ) + timedelta(days=1)
    done = next(b for b in notifier.sent[-1][1][0].all_buttons() if "Done" in b.label)
    await maya.press_payload(done.payload)
    assert "Nice work" in maya.text
    assert len({d.idempotency_key for d in await delivery_rows(database)}) == 2


async def test_nudge_buttons_of_someone_else_change_nothing(database: Database) -> None:
    clock = FakeClock(START)
    maya, notifier, tick = await _setup(database, clock)
    await maya.say("/remind daily 18:00")
    clock.set(START.replace(hour=18, second=1))
    await tick.run()
    snooze = next(b for b in notifier.sent[0][1][0].all_buttons() if "Snooze" in b.label)
    leo = Driver(maya.coach, "leo")
    await leo.onboard("Leo")
    before = (await schedule_row(database)).next_due_at
    await leo.press_payload(snooze.payload)
    assert "isn't yours" in leo.text
    assert (await schedule_row(database)).next_due_at == before
    entry = (await latest(database, 1))[0]
    assert (entry.action, entry.outcome, entry.actor) == (
        "reminder.foreign_button",
        "denied",
        "console:leo",
    )
    await leo.press_payload("v1:nu:s:" + "0" * 32)
    assert "doesn't exist" in leo.text
    await leo.press_payload("v1:nu:x:" + (await schedule_row(database)).id.hex)
    assert (await schedule_row(database)).next_due_at == before


async def test_blocked_user_is_paused_and_not_written_to_again(database: Database) -> None:
    clock = FakeClock(START)
    maya, notifier, tick = await _setup(database, clock)
    await maya.say("/remind daily 18:00")
    notifier.answers["maya"] = DeliveryResult(DeliveryStatus.BLOCKED, "403: bot was blocked")
    clock.set(START.replace(hour=18, second=1))
    report = await tick.run()
    assert report.blocked == 1
    assert not notifier.sent
    assert all(r.paused for r in await reminder_rows(database))
    user_id = (await schedule_row(database)).user_id
    async with database.transaction() as session:
        user = await session.get(User, user_id)
        assert user is not None
        assert user.unreachable
    assert [d.status for d in await delivery_rows(database)] == ["blocked"]
    clock.advance(days=3)
    assert (await tick.run()).claimed == 0
    # She unblocks (the platform's update may never arrive) and turns reminders back on.
    del notifier.answers["maya"]
    await maya.say("/remind on")
    assert "back on" in maya.text
    async with database.transaction() as session:
        user = await session.get(User, user_id)
        assert user is not None
        assert not user.unreachable
    clock.set((await schedule_row(database)).next_due_at + timedelta(seconds=1))
    await tick.run()
    assert len(notifier.scheduled()) == 1


async def test_unreachable_user_is_not_nudged_even_if_a_row_was_left_unpaused(
    database: Database,
) -> None:
    clock = FakeClock(START)
    maya, notifier, tick = await _setup(database, clock)
    await maya.say("/remind daily 18:00")
    assert await set_reachable(database, "console", "maya", reachable=False)
    async with database.transaction() as session:  # a row paused by nobody (e.g. set later)
        await session.execute(update(Reminder).values(paused=False))
    clock.set(START.replace(hour=18, second=1))
    report = await tick.run()
    assert report.claimed == 3  # schedule, inactivity and check-in rows
    assert report.sent == 0
    assert not notifier.sent
    assert all(r.paused for r in await reminder_rows(database))


async def test_failed_send_is_retried_then_given_up(database: Database) -> None:
    clock = FakeClock(START)
    maya, notifier, tick = await _setup(database, clock, retry_delay=timedelta(seconds=60))
    await maya.say("/remind daily 18:00")
    notifier.answers["maya"] = DeliveryResult(DeliveryStatus.FAILED, "timed out")
    clock.set(START.replace(hour=18, second=1))
    assert (await tick.run()).failed == 1
    assert (await tick.run()).claimed == 0  # waiting for the retry delay
    clock.advance(seconds=61)
    del notifier.answers["maya"]
    assert (await tick.run()).sent == 1
    deliveries = await delivery_rows(database)
    assert [(d.status, d.attempts) for d in deliveries] == [("sent", 2)]
    # Three failures in a row: given up, the schedule moves on.
    notifier.answers["maya"] = DeliveryResult(DeliveryStatus.FAILED, "timed out")
    clock.set(START.replace(hour=18, second=1) + timedelta(days=1))
    for _ in range(3):
        assert (await tick.run()).failed == 1
        clock.advance(seconds=200)
    row = await schedule_row(database)
    assert row.next_due_at == START.replace(hour=18) + timedelta(days=2)
    assert row.attempts == 0


async def test_inactivity_backoff_then_stop_until_the_musician_returns(database: Database) -> None:
    clock = FakeClock(START)
    maya, notifier, tick = await _setup(database, clock)
    await maya.say("/remind weekly sun 10:00")  # the schedule itself stays out of the way
    sent: list[float] = []
    for _hour in range(0, 24 * 16, 6):  # 16 days in 6-hour steps
        clock.advance(hours=6)
        before = len(notifier.sent)
        await tick.run()
        sent += [(clock.now - START).total_seconds() / 86400] * (len(notifier.sent) - before)
    idle = [t for t in notifier.texts() if "Time for your music" not in t]
    assert len(idle) == 3
    assert "couple of days" in idle[0]
    assert "few days" in idle[1]
    assert "last nudge" in idle[2]
    # Sent on day 2, 5 and 10 after the last activity (with the 6-hour tick granularity).
    schedule_nudges = [t for t in notifier.texts() if "Time for your music" in t]
    assert len(schedule_nudges) == 2  # two Sundays
    idle_days = [d for d, t in zip(sent, notifier.texts(), strict=True) if t in idle]
    assert [round(d) for d in idle_days] == [2, 5, 10]

    await maya.say("hi")  # back: the back-off starts over
    returned = clock.now
    clock.advance(days=1, hours=23)
    await tick.run()
    assert len([t for t in notifier.texts() if t not in schedule_nudges]) == 3
    clock.set(returned + timedelta(days=2, minutes=1))
    await tick.run()
    clock.advance(hours=2)
    await tick.run()
    again = [t for t in notifier.texts() if "couple of days" in t]
    assert len(again) == 2


async def test_a_check_in_never_comes_with_the_schedule_nudge(database: Database) -> None:
    clock = FakeClock(START)
    maya, notifier, tick = await _setup(database, clock)
    await maya.say("/remind daily 12:00")
    # Away until Saturday 12:00:30: the schedule nudge and the 2-day check-in are both due.
    clock.set(START.replace(second=30) + timedelta(days=2))
    await tick.run()
    assert len(notifier.sent) == 1
    assert "Time for your music" in notifier.texts()[0]
    clock.advance(hours=2, minutes=59)
    await tick.run()
    assert len(notifier.sent) == 1  # still too close to the schedule nudge
    clock.advance(minutes=2)
    await tick.run()
    assert len(notifier.sent) == 2
    assert "couple of days" in notifier.texts()[1]


async def test_remind_command_settings_and_errors(database: Database) -> None:
    clock = FakeClock(START)
    maya, _notifier, _tick = await _setup(database, clock)
    await maya.say("/remind")
    assert "No reminder set yet" in maya.text
    await maya.press("Daily 18:00")
    assert "every day at 18:00" in maya.text
    await maya.say("/remind weekly mon,thu 09:30")
    assert "Mon, Thu at 09:30" in maya.text
    row = await schedule_row(database)
    assert row.schedule == {"type": "weekly", "time": "09:30", "days": [0, 3]}
    assert row.next_due_at == datetime(2026, 11, 30, 9, 30, tzinfo=UTC)  # next Monday
    await maya.say("/remind sometimes maybe")
    assert "couldn't read that schedule" in maya.text
    await maya.say("/remind daily 25:00")
    assert "couldn't read" in maya.text
    await maya.say("/timezone Narnia/Cair_Paravel")
    assert "don't know the timezone" in maya.text
    assert maya.buttons
    await maya.press("Tokyo")
    assert "Asia/Tokyo" in maya.text
    row = await schedule_row(database)
    assert row.timezone == "Asia/Tokyo"
    assert row.next_due_at == datetime(2026, 11, 30, 0, 30, tzinfo=UTC)
    await maya.say("/timezone UTC+2")
    assert "UTC+02:00" in maya.text
    assert "doesn't follow daylight saving" in maya.text
    await maya.say("/quiet sometimes")
    assert "couldn't read those hours" in maya.text
    await maya.say("/remind off")
    assert all(r.paused for r in await reminder_rows(database))
    await maya.say("/remind off")
    assert "already off" in maya.text
    await maya.say("/remind")
    assert "Off (was Mon, Thu at 09:30)" in maya.text
    await maya.say("/remind on")
    assert "back on" in maya.text
    assert not any(r.paused for r in await reminder_rows(database))
    await maya.say("/remind")
    await maya.press("Check-ins off")
    rows = {r.kind: r for r in await reminder_rows(database)}
    assert rows["inactivity"].paused
    assert not rows["schedule"].paused
    await maya.say("/help")
    assert "/remind" in maya.text
    assert "/quiet" in maya.text
    assert "/timezone" in maya.text


async def test_band_reminder_goes_to_the_band_channel(database: Database) -> None:
    clock = FakeClock(START)
    maya, notifier, tick = await _setup(database, clock)
    leo = Driver(maya.coach, "leo")
    await leo.onboard("Leo")
    async with database.transaction() as session:
        band = Band(
            name="The Tickets", platform="console", external_id="guild-1", channel_id="ch-9"
        )
        session.add(band)
        await session.flush()
        maya_id = (
            await session.execute(
                __import__("sqlalchemy")
                .select(Profile.user_id)
                .where(Profile.artist_name == "Maya")
            )
        ).scalar_one()
        session.add(BandMember(band_id=band.id, user_id=maya_id, role="manager"))
        session.add(Profile(band_id=band.id, artist_name="The Tickets", current_stats={}))
        band_id = band.id
    async with database.unit_of_work() as ex:
        due = await service.set_band_schedule(
            ex,
            band_id,
            Schedule("daily", parse_time("17:00")),  # type: ignore[arg-type]
            timezone="UTC",
            platform="console",
            channel_id="ch-9",
            now=clock.now,
        )
    assert due == START.replace(hour=17)
    clock.set(due + timedelta(seconds=1))
    assert (await tick.run()).sent == 1
    chat, replies = notifier.sent[-1]
    assert chat == "ch-9"
    assert "Time for your music, The Tickets!" in notifier.texts()[-1]
    snooze = next(b for b in replies[0].all_buttons() if "Snooze" in b.label)
    await leo.press_payload(snooze.payload)  # not a member
    assert "isn't yours" in leo.text
    await maya.press_payload(snooze.payload)  # a member of the band
    assert "snoozed the band's nudge" in maya.text
    rows = [r for r in await reminder_rows(database) if r.band_id == band_id]
    assert rows[0].next_due_at == clock.now + timedelta(hours=1)


async def test_coach_without_reminders_still_routes_other_commands(database: Database) -> None:
    coach = Coach(database)
    maya = Driver(coach, "maya")
    await maya.say("/remind")
    assert "set up first" in maya.text  # gated like every command before onboarding


async def test_admin_stats_count_the_nudges_the_tick_sent(database: Database) -> None:
    """``/admin stats`` counted deliveries of kind "reminder", which the tick never writes
    (its kinds are "schedule" and "inactivity"): the week's figure was always 0."""
    clock = FakeClock(START)
    maya, _notifier, tick = await _setup(database, clock)
    await maya.say("/remind daily 18:00")
    clock.set(START.replace(hour=18, second=1))
    assert (await tick.run()).sent == 1
    admin_coach = Coach(database, admins=["console:boss"], catalog=maya.coach.catalog, clock=clock)
    boss = Driver(admin_coach, "boss")
    await boss.say("/admin stats")
    assert "Reminders this week: 1 sent, 0 failed" in boss.text


async def test_remind_from_a_group_says_the_nudges_come_in_the_private_chat(
    database: Database,
) -> None:
    """Set from a group, a musician's nudges go to their private chat, which (on Telegram) they
    must open first: the confirmation and the group's card say so, and after a nudge failed
    for exactly that reason the card says it couldn't reach them. A private chat hears none of
    this."""
    clock = FakeClock(START)
    maya, notifier, tick = await _setup(database, clock)

    async def in_group(text: str) -> str:
        await maya._push(maya.inbound(kind="command", text=text, chat_id="g-1", chat_type="group"))
        return maya.text

    await maya.say("/remind daily 18:00")
    assert "private chat" not in maya.text
    confirmation = await in_group("/remind daily 18:00")
    assert "every day at 18:00" in confirmation
    assert "Your nudges come in our private chat, not in this group." in confirmation
    assert "open a private chat with me and press Start" in confirmation
    assert (await schedule_row(database)).target_chat == "maya"  # not the group

    notifier.answers["maya"] = no_direct_chat("Forbidden: bot can't initiate conversation")
    clock.set(START.replace(hour=18, second=1))
    assert (await tick.run()).failed == 1
    card = await in_group("/remind")
    assert "My last nudge couldn't reach you" in card
    assert "Your nudges come in" not in card
    await maya.say("/remind")
    assert "couldn't reach you" not in maya.text  # in the private chat, it's open by now

    await in_group("/remind off")
    card = await in_group("/remind")
    assert "private chat" not in card  # nothing is coming, so nothing to warn about
