"""Nudges through real front ends: Telegram (PTB against the fake Bot API) and the terminal,
with the job runner running the tick."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from coachkit import Driver, start_coach_run, stop_coach_run, synced_coach
from fakes.telegram_api import CANT_INITIATE, FakeTelegram, SentMessage
from reminderkit import FakeClock, delivery_rows, reminder_rows, schedule_row
from sqlalchemy import select, update

from bot.console.chat import ConsoleChat
from bot.console.notify import ConsoleNotifier
from bot.telegram.app import TelegramFrontEnd
from core.db.engine import Database
from core.db.models import Reminder, User
from core.kernel.notify import by_platform
from core.kernel.types import Inbound, Message
from core.reminders.tick import ReminderTick
from core.reminders.worker import ReminderWorker

MAYA = 1001
LEO = 1002
GROUP = -100_200_300
START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


class GroupDriver(Driver):
    """A musician writing in the Telegram group ``GROUP`` (events straight to the core)."""

    def inbound(self, **kw: Any) -> Inbound:
        return super().inbound(**{"chat_id": str(GROUP), "chat_type": "group", **kw})


async def _until(predicate: Callable[[], bool], within: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def test_telegram_user_gets_the_nudge_and_snoozes_it(database: Database) -> None:
    clock = FakeClock(START)
    coach = await synced_coach(database, clock=clock)
    async with FakeTelegram() as fake:
        front = TelegramFrontEnd(coach, fake.token, api_base_url=fake.url)
        await front.start(poll_timeout=1)
        try:

            async def say(text: str) -> SentMessage:
                before = len(fake.sent)
                fake.user_message(MAYA, text)
                await fake.wait_for(lambda: len(fake.sent) > before)
                return fake.last(MAYA)

            await say("/start")
            await say("Maya")
            first = fake.last(MAYA)
            data = next(d for label, d in first.buttons() if "Indie" in label)
            before = len(fake.sent)
            fake.press_button(MAYA, first.message_id, data)
            await fake.wait_for(lambda: len(fake.sent) > before)
            reply = await say("/remind daily 18:00")
            assert "every day at 18:00" in reply.plain_text

            tick = ReminderTick(database, by_platform(front), clock=clock)
            clock.set(START.replace(hour=18, second=1))
            report = await tick.run()
            assert report.sent == 1
            nudge = fake.last(MAYA)
            assert "Time for your music, Maya!" in nudge.plain_text
            labels = [label for label, _ in nudge.buttons()]
            assert labels[-3:] == ["✅ Done", "⏰ Snooze 1 h", "📅 Tomorrow"]
            assert any(label.startswith("☐ 1.") for label in labels)  # the task's own ticks

            snooze = next(d for label, d in nudge.buttons() if "Snooze" in label)
            answers = len(fake.callback_answers)
            fake.press_button(MAYA, nudge.message_id, snooze)
            await fake.wait_for(lambda: len(fake.callback_answers) > answers)
            await fake.wait_for(lambda: "Snoozed" in fake.last(MAYA).plain_text)
            row = await schedule_row(database)
            assert row.next_due_at == START.replace(hour=19, second=1)

            clock.set(START.replace(hour=19, second=2))
            sent_before = len(fake.messages(MAYA))
            assert (await tick.run()).sent == 1
            assert len(fake.messages(MAYA)) == sent_before + 1
            assert "Time for your music" in fake.last(MAYA).plain_text

            # She blocks the bot: the next nudge is refused, everything of hers is paused.
            fake.block(MAYA)
            clock.set(START.replace(hour=18, second=1) + timedelta(days=1))
            assert (await tick.run()).blocked == 1
            assert all(r.paused for r in await reminder_rows(database))
            async with database.transaction() as session:
                assert (await session.scalars(select(User))).one().unreachable
            assert [d.status for d in await delivery_rows(database)] == ["sent", "sent", "blocked"]
        finally:
            await front.stop()


async def test_nudge_to_someone_who_never_opened_a_private_chat_fails_and_pauses_nothing(
    database: Database,
) -> None:
    """Leo sets /remind in a group and never talks to the bot privately: Telegram answers the
    nudge with 403 "can't initiate conversation". That is a failed send with its reason — not
    a block: his reminders keep running and he is told how to fix it; once he opens the chat
    the retry arrives. A real block still pauses everything."""
    clock = FakeClock(START)
    coach = await synced_coach(database, clock=clock)
    async with FakeTelegram() as fake:
        front = TelegramFrontEnd(coach, fake.token, api_base_url=fake.url)
        await front.start(poll_timeout=1)
        try:
            # He meets the coach in the group only. (Onboarding goes straight to the core:
            # through PTB, Telegram's 20-a-minute pace in a group would make a slow test.)
            leo = GroupDriver(coach, str(LEO), platform="telegram")
            await leo.onboard("Leo")
            fake.user_message(LEO, "/remind daily 18:00", chat_id=GROUP, chat_type="supergroup")
            await fake.wait_for(lambda: bool(fake.messages(GROUP)))
            reply = fake.last(GROUP).plain_text
            assert "every day at 18:00" in reply
            assert "Your nudges come in our private chat, not in this group" in reply
            assert "open a private chat with me and press Start" in reply

            tick = ReminderTick(database, by_platform(front), clock=clock)
            clock.set(START.replace(hour=18, second=1))
            report = await tick.run()
            assert not any(r.paused for r in await reminder_rows(database))
            async with database.transaction() as session:
                assert not (await session.scalars(select(User))).one().unreachable
            assert (report.sent, report.failed, report.blocked) == (0, 1, 0)
            assert front.failures["forbidden_no_private_chat"] == 1
            [delivery] = await delivery_rows(database)
            assert delivery.status == "failed"
            assert delivery.last_error.startswith("no direct chat: they must open a private chat")
            assert CANT_INITIATE in delivery.last_error  # Telegram's own words, for the logs

            await leo.say("/remind")
            assert "My last nudge couldn't reach you" in leo.text
            assert "Open one and press Start" in leo.text

            # he opens the private chat; the retry (a minute later) gets through
            fake.user_message(LEO, "/start")
            await fake.wait_for(lambda: bool(fake.messages(LEO)))
            clock.advance(seconds=61)
            assert (await tick.run()).sent == 1
            assert "Time for your music" in fake.last(LEO).plain_text
            assert [d.status for d in await delivery_rows(database)] == ["sent"]
            await leo.say("/remind")
            assert "couldn't reach you" not in leo.text
            assert "Your nudges come in our private chat" in leo.text

            # blocking is different: the next nudge pauses his reminders
            fake.block(LEO)
            clock.set(START.replace(hour=18, second=1) + timedelta(days=1))
            assert (await tick.run()).blocked == 1
            assert all(r.paused for r in await reminder_rows(database))
            async with database.transaction() as session:
                assert (await session.scalars(select(User))).one().unreachable
        finally:
            await front.stop()


async def test_console_chat_prints_nudges_from_the_scheduled_worker(database: Database) -> None:
    clock = FakeClock(START)
    coach = await synced_coach(database, clock=clock)
    out = io.StringIO()
    chat = ConsoleChat(coach, "maya", out)
    await chat.send("/start")
    await chat.send("Maya")
    await chat.send("1")  # the first roadmap
    await chat.send("/remind daily 18:00")
    clock.set(START.replace(hour=18, second=1))

    notifier = ConsoleNotifier(chat)
    tick = ReminderTick(database, by_platform(notifier), clock=clock, catalog=coach.catalog)
    worker = ReminderWorker(tick, interval=0.05)
    await worker.start()
    try:
        await _until(lambda: worker.totals.sent >= 1)
        printed = out.getvalue()
        assert "Time for your music, Maya!" in printed
        assert "⏰ Snooze 1 h" in printed
        # a checklist nudge: typed numbers tick items, its other buttons are typed by name
        assert "[snooze 1 h] ⏰ Snooze 1 h" in printed
        replies = await chat.send("snooze 1 h")
        assert "Snoozed" in replies[0].text
        ticks = worker.ticks
        await _until(lambda: worker.ticks >= ticks + 3)  # a few more ticks after the snooze
    finally:
        await worker.stop()
    assert worker.totals.sent == 1  # the snoozed nudge is not due before 19:00 (fake time)
    assert (await schedule_row(database)).next_due_at == START.replace(hour=19, second=1)


async def test_console_notifier_refuses_another_musician(database: Database) -> None:
    coach = await synced_coach(database)
    out = io.StringIO()
    notifier = ConsoleNotifier(ConsoleChat(coach, "maya", out))
    result = await notifier.notify("leo", [Message(text="hi")])
    assert not result.sent
    assert out.getvalue() == ""
    assert (await notifier.notify("maya", [Message(text="hi *there*")])).sent
    assert out.getvalue() == "hi there\n\n"


@pytest.mark.postgres_only
async def test_coach_run_sends_due_nudges_to_telegram(database: Database, tmp_path: Path) -> None:
    """The real `coach run` process runs the reminder worker next to the Telegram bot."""
    async with FakeTelegram() as fake:
        process = await start_coach_run(
            database,
            tmp_path,
            env={
                "TELEGRAM_BOT_TOKEN": fake.token,
                "TELEGRAM_API_BASE_URL": fake.url,
                "REMINDER_TICK_SECONDS": "0.2",
            },
        )
        try:

            async def say(text: str) -> SentMessage:
                before = len(fake.messages(MAYA))
                fake.user_message(MAYA, text)
                await fake.wait_for(lambda: len(fake.messages(MAYA)) > before, timeout=60)
                return fake.last(MAYA)

            await say("/start")
            await say("Maya")
            menu = fake.last(MAYA)
            data = next(d for label, d in menu.buttons() if "Indie" in label)
            before = len(fake.messages(MAYA))
            fake.press_button(MAYA, menu.message_id, data)
            await fake.wait_for(lambda: len(fake.messages(MAYA)) > before, timeout=30)
            assert "every day at 18:00" in (await say("/remind daily 18:00")).plain_text
            async with database.transaction() as session:  # make it due now (real clock)
                await session.execute(
                    update(Reminder)
                    .where(Reminder.kind == "schedule")
                    .values(next_due_at=datetime.now(UTC) - timedelta(seconds=1))
                )
            await fake.wait_for(
                lambda: "Time for your music" in fake.last(MAYA).plain_text, timeout=20
            )
            assert [label for label, _ in fake.last(MAYA).buttons()][-3:] == [
                "✅ Done",
                "⏰ Snooze 1 h",
                "📅 Tomorrow",
            ]
        finally:
            log = await stop_coach_run(process)
        assert process.returncode == 0, log[-2000:]
        assert "reminders: worker" in log
        assert fake.token not in log
