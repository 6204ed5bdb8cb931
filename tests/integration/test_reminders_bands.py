"""A band's reminder, set from its server: managers set it, members see and act on its nudges.

Everything goes through ``Coach.handle()`` with guild events and the real tick (fake clock,
recording notifier), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bandkit import GuildDriver, first_checklist, night_owls
from coachkit import Driver, catalog_of, synced_coach
from reminderkit import FakeClock, RecordingNotifier, reminder_rows

from core.app.engine import Coach
from core.db.engine import Database
from core.kernel.audit import latest
from core.kernel.payloads import encode
from core.kernel.types import Toast
from core.reminders.tick import ReminderTick

START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday
INDIE = "indie-singer-songwriter"


async def _band(database: Database, clock: FakeClock) -> tuple[Coach, GuildDriver, GuildDriver]:
    """The Night Owls on the indie roadmap: Ana manages, Ben joined (and never onboarded solo)."""
    coach = await synced_coach(database, clock=clock)
    ana, ben = await night_owls(coach)
    return coach, ana, ben


async def _band_rows(database: Database) -> list[object]:
    """The band's reminder (its weekly digest, made by /band channel, is tested apart)."""
    return [
        r for r in await reminder_rows(database) if r.band_id is not None and r.kind == "schedule"
    ]


async def test_manager_sets_the_band_reminder_for_the_band_channel(database: Database) -> None:
    clock = FakeClock(START)
    _coach, ana, ben = await _band(database, clock)
    await ana.say("/remind daily 18:00")
    assert "The Night Owls" in ana.text
    assert "every day at 18:00" in ana.text
    assert "this channel" in ana.text
    rows = await reminder_rows(database)
    assert len(rows) == 1  # the band's row only: nothing personal for Ana
    [row] = rows
    assert row.band_id is not None
    assert row.user_id is None
    assert (row.kind, row.platform, row.target_chat) == ("schedule", "discord", "901")
    assert row.next_due_at.replace(tzinfo=UTC) == START.replace(hour=18)

    # the updates channel, when the band has one, is where nudges go — also after the fact
    ana.channel = "905"
    await ana.say("/band channel")
    assert [r.target_chat for r in await _band_rows(database)] == ["905"]
    ana.channel = "901"
    await ana.say("/remind weekly mon,thu 09:30")
    [row] = await _band_rows(database)
    assert row.target_chat == "905"
    assert "updates channel" in ana.text

    # anyone in the band may look
    await ben.say("/remind")
    assert "band reminder" in ben.text
    assert "Mon, Thu at 09:30" in ben.text
    assert "the band's channel" in ben.text


async def test_a_member_cannot_change_it_and_is_audited(database: Database) -> None:
    clock = FakeClock(START)
    _coach, ana, ben = await _band(database, clock)
    await ana.say("/remind daily 18:00")
    for attempt in ("/remind off", "/remind daily 07:00", "/timezone Europe/Berlin", "/quiet off"):
        replies = await ben.say(attempt)
        assert "Only the band's managers" in ben.text, attempt
        assert all(r.ephemeral for r in replies)
    await ben.press_payload(encode("reminders", "daily", "0900"))  # a card button, crafted
    assert "Only the band's managers" in ben.text
    assert isinstance(ben.replies[0], Toast)
    [row] = await _band_rows(database)
    assert not row.paused
    assert row.timezone == "UTC"
    assert row.next_due_at.replace(tzinfo=UTC) == START.replace(hour=18)
    denials = [e for e in await latest(database) if e.action == "band.reminder"]
    assert len(denials) == 1, "Ben's four repeats within the minute are counted, not written"
    assert all(e.outcome == "denied" and e.actor == "discord:1002" for e in denials)
    assert {e.target for e in denials} == {f"band:{row.band_id}"}
    # a stranger is not let near it at all
    eve = GuildDriver(ana.coach, "1009", name="Eve")
    await eve.say("/remind")
    assert "not in" in eve.text
    assert "band reminder" not in eve.text


async def test_manager_turns_it_off_on_and_sets_timezone_and_quiet(database: Database) -> None:
    clock = FakeClock(START)
    _coach, ana, _ben = await _band(database, clock)
    await ana.say("/timezone Europe/Berlin")
    assert "no reminder yet" in ana.text  # the band's timezone lives on its reminder
    await ana.say("/remind daily 18:00")
    await ana.say("/timezone Europe/Berlin")
    assert "Europe/Berlin" in ana.text
    [row] = await _band_rows(database)
    assert row.timezone == "Europe/Berlin"
    assert row.next_due_at.replace(tzinfo=UTC) == START.replace(hour=17)  # 18:00 in Berlin
    await ana.say("/quiet 22:00-08:00")
    assert "22:00" in ana.text
    [row] = await _band_rows(database)
    assert (row.quiet_start, row.quiet_end) == ("22:00", "08:00")
    await ana.say("/remind off")
    assert "off" in ana.text
    [row] = await _band_rows(database)
    assert row.paused
    await ana.say("/remind on")
    assert "back on" in ana.text
    [row] = await _band_rows(database)
    assert not row.paused
    await ana.press_payload(encode("reminders", "daily", "0900"))  # the card's preset
    [row] = await _band_rows(database)
    assert row.schedule["time"] == "09:00"
    await ana.press_payload(encode("reminders", "idle", "off"))  # a solo-only button
    assert "doesn't apply to the band" in ana.text
    # Ana's own reminders (in a DM) are untouched by all of this
    solo = Driver(ana.coach, "1001", platform="discord")
    await solo.onboard("Ana")
    await solo.say("/remind")
    assert "No reminder set yet" in solo.text


async def test_band_nudge_reaches_the_channel_and_any_member_acts_on_it(
    database: Database,
) -> None:
    clock = FakeClock(START)
    coach, ana, ben = await _band(database, clock)
    index, checklist = first_checklist(await catalog_of(database), INDIE)
    for _ in range(index):  # the band's current task is now the first checklist
        await ana.say("/skip")
    await ana.say("/remind daily 18:00")
    notifier = RecordingNotifier(platform="discord")
    tick = ReminderTick(database, {"discord": notifier}, clock=clock)
    clock.set(START.replace(hour=18, second=1))
    assert (await tick.run()).sent == 1
    [(chat, [nudge])] = notifier.sent
    assert chat == "901"
    assert "Time for your music, The Night Owls!" in notifier.texts()[0]
    assert checklist.title in notifier.texts()[0]
    labels = [b.label for b in nudge.all_buttons()]
    assert labels[-3:] == ["✅ Done", "⏰ Snooze 1 h", "📅 Tomorrow"]

    # Ben (a member who never set himself up solo) ticks the task right from the nudge
    tick_button = next(b for b in nudge.all_buttons() if b.payload.startswith("v1:tk:"))
    await ben.press_payload(tick_button.payload)
    assert "set up first" not in ben.text
    assert "1/" in ben.text
    assert "done." in ben.text  # the band's checklist, one item ticked by Ben

    # ...and snoozes it; a member of another band pressing a crafted copy is refused
    snooze = next(b for b in nudge.all_buttons() if "Snooze" in b.label)
    cleo = GuildDriver(coach, "2001", server="700", channel="701", name="Cleo", manager=True)
    await cleo.say("/band create Cleo's Crew")
    await cleo.press_payload(snooze.payload)
    assert "isn't yours" in cleo.text
    assert any(e.action == "reminder.foreign_button" for e in await latest(database))
    await ben.press_payload(snooze.payload)
    assert (
        "Ben snoozed the band's nudge for an hour — I'll nudge The Night Owls again at 19:00"
        in (ben.text)
    )
    [row] = await _band_rows(database)
    assert row.next_due_at.replace(tzinfo=UTC) == clock.now + timedelta(hours=1)

    clock.advance(hours=1, seconds=1)
    assert (await tick.run()).sent == 1
    assert notifier.sent[-1][0] == "901"


async def test_band_nudge_buttons_speak_to_the_band_and_solo_ones_to_the_musician(
    database: Database,
) -> None:
    """The answer to Done / Snooze / Tomorrow replaces the nudge where it sits: in the band's
    channel it names who pressed and the band; in a musician's own chat it says "you"."""
    clock = FakeClock(START)
    coach, ana, ben = await _band(database, clock)
    await ana.say("/remind daily 18:00")
    solo = Driver(coach, "1001", platform="discord")  # Ana's own DM with the coach
    await solo.onboard("Ana")
    await solo.say("/remind daily 18:00")
    notifier = RecordingNotifier(platform="discord")
    tick = ReminderTick(database, {"discord": notifier}, clock=clock)
    clock.set(START.replace(hour=18, second=1))
    assert (await tick.run()).sent == 2

    def buttons(chat: str) -> dict[str, str]:
        [nudge] = [replies[0] for where, replies in notifier.sent if where == chat][-1:]
        return {b.label.split()[-1]: b.payload for b in nudge.all_buttons()[-3:]}

    band, own = buttons("901"), buttons("1001")
    assert band.keys() == own.keys() == {"Done", "h", "Tomorrow"}

    replies = await ben.press_payload(band["h"])
    assert replies[0].edit
    assert ben.text == (
        "⏰ Ben snoozed the band's nudge for an hour — I'll nudge The Night Owls again at 19:00."
    )
    await ana.press_payload(band["Tomorrow"])
    assert ana.text == (
        "📅 Ana moved the band's nudge to tomorrow — I'll nudge The Night Owls again on "
        "Fri 27 Nov, 18:00."
    )
    await ben.press_payload(band["Done"])
    assert ben.text.startswith("✅ Ben marked the band's nudge done — nice work, The Night Owls!")

    # the same three buttons under Ana's own nudge keep their words for one musician
    await solo.press_payload(own["h"])
    assert solo.text == "⏰ Snoozed — I'll nudge you again at 19:00."
    await solo.press_payload(own["Tomorrow"])
    assert solo.text == "📅 OK — tomorrow then, Fri 27 Nov, 18:00."
    await solo.press_payload(own["Done"])
    assert solo.text == "✅ Nice work — that's how stars are made. See you at the next check-in!"
