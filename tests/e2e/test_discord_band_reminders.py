"""Reminders through the real Discord front end against the loopback fake.

A band's: a manager sets it with ``/remind``, the tick's nudge arrives in the band channel
through ``DiscordFrontEnd.notify`` with its buttons, and a member acts on it from there. A solo
musician's: set in a DM, delivered to the DM, snoozed or stopped from there.
"""

from __future__ import annotations

from datetime import UTC, datetime

from discordkit import ANA, BEN, CHANNEL, running
from fakes.discord_api import FakeMessage
from reminderkit import FakeClock, reminder_rows

from core.db.engine import Database
from core.kernel.notify import by_platform
from core.reminders.tick import ReminderTick

START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday


async def test_band_nudge_in_the_channel_and_a_member_snoozes_it(database: Database) -> None:
    clock = FakeClock(START)
    async with running(database, clock=clock) as bench:
        await bench.command(ANA, "band", sub="create", name="Night Owls")
        await bench.command(BEN, "band", sub="join")
        start = await bench.command(ANA, "start")
        menu = next(m for m in start.messages() if any("Indie" in b for b, _ in m.buttons()))
        await bench.press(ANA, menu, "Indie")

        refused = await bench.command(BEN, "remind", when="daily 07:00")
        assert any("Only the band's managers" in m.text() for m in refused.messages())
        assert all(m.ephemeral for m in refused.messages())
        assert await reminder_rows(database) == []
        setting = await bench.command(ANA, "remind", when="daily 18:00")
        assert any("every day at 18:00" in m.text() for m in setting.messages())
        [row] = await reminder_rows(database)
        assert (row.band_id is not None, row.target_chat) == (True, f"c:{CHANNEL}")

        before = len(bench.fake.messages(CHANNEL))
        tick = ReminderTick(database, by_platform(bench.front), clock=clock)
        clock.set(START.replace(hour=18, second=1))
        assert (await tick.run()).sent == 1
        # one nudge, one message: the checklist's numbered buttons and menu, then the nudge's
        [nudge] = bench.fake.messages(CHANNEL)[before:]
        assert nudge.interaction_id is None  # a notice, not an answer
        assert "Time for your music, Night Owls!" in nudge.text()
        labels = [label for label, _ in nudge.buttons()]
        assert labels[-3:] == ["✅ Done", "⏰ Snooze 1 h", "📅 Tomorrow"]
        ticks = [(nudge, c) for _, c in nudge.buttons() if c.startswith("v1:tk:")]
        assert ticks  # the band's next task with its own buttons
        assert nudge.select("ticks:")["options"]

        # Ben snoozes it: the nudge says so in place, and comes back in an hour
        pressed = await bench.press(BEN, nudge, "Snooze")
        assert not pressed.errors
        edited = bench.fake.messages_by_id[nudge.id]
        assert "Ben snoozed the band's nudge for an hour" in edited.text(), edited.text()
        [row] = await reminder_rows(database)
        assert row.next_due_at.replace(tzinfo=UTC) == START.replace(hour=19, second=1)

        # the next nudge: Ben ticks the band's task right from it, which turns it into the
        # checklist card showing the tick (as on Telegram, where a nudge is one message too)
        clock.set(START.replace(hour=19, second=2))
        assert (await tick.run()).sent == 1
        [again] = bench.fake.messages(CHANNEL)[before + 1 :]
        custom_id = next(c for _, c in again.buttons() if c.startswith("v1:tk:"))
        ticked = await bench.answered(bench.fake.press_button(BEN, again, custom_id))
        assert not ticked.errors
        card = bench.fake.messages_by_id[again.id]
        assert card.buttons()[0] == ("☑ 1", custom_id.replace("v1:tk:", "v1:ut:"))
        assert [o["default"] for o in card.select("ticks:")["options"]][:2] == [True, False]


def _with_button(messages: list[FakeMessage], label: str) -> FakeMessage:
    return next(m for m in reversed(messages) if any(label in b for b, _ in m.buttons()))


async def test_solo_reminder_in_dms_is_set_delivered_snoozed_and_stopped(
    database: Database,
) -> None:
    clock = FakeClock(START)
    async with running(database, clock=clock) as bench:
        fake = bench.fake
        await bench.answered(fake.user_runs_command_in_dm(BEN, "start"))
        fake.dm_message(BEN, "Ben Solo")
        await fake.wait_for(lambda: any("Indie" in str(m.buttons()) for m in fake.dm_messages(BEN)))
        await bench.press(BEN, _with_button(fake.dm_messages(BEN), "Indie"), "Indie")

        setting = await bench.answered(
            fake.user_runs_command_in_dm(BEN, "remind", when="daily 18:00")
        )
        assert "every day at 18:00" in setting.texts()
        [row] = [r for r in await reminder_rows(database) if r.kind == "schedule"]
        assert (row.band_id, row.platform, row.target_chat) == (None, "discord", str(BEN))

        before = len(fake.dm_messages(BEN))
        tick = ReminderTick(database, by_platform(bench.front), clock=clock)
        clock.set(START.replace(hour=18, second=1))
        assert (await tick.run()).sent == 1
        parts = fake.dm_messages(BEN)[before:]
        assert parts, "the nudge arrives in Ben's DM"
        assert all(m.interaction_id is None for m in parts)  # a notice, not an answer
        labels = [label for m in parts for label, _ in m.buttons()]
        assert labels[-3:] == ["✅ Done", "⏰ Snooze 1 h", "📅 Tomorrow"]

        snoozed = await bench.press(BEN, parts[-1], "Snooze")
        assert not snoozed.errors
        assert "Snoozed" in fake.messages_by_id[parts[-1].id].text()
        [row] = [r for r in await reminder_rows(database) if r.kind == "schedule"]
        assert row.next_due_at.replace(tzinfo=UTC) == START.replace(hour=19, second=1)

        stopped = await bench.answered(fake.user_runs_command_in_dm(BEN, "remind", when="off"))
        assert "off" in stopped.texts()
        clock.set(START.replace(hour=19, minute=5))
        assert (await tick.run()).sent == 0
