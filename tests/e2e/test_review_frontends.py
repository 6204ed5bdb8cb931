"""The weekly review through real front ends: Telegram (python-telegram-bot against the
loopback fake Bot API) and the terminal. ``/review`` renders as one HTML message with a button
per focus step; a focus button opens the task like ``/today`` would; a button of a task done
since answers with a toast; ``/review monday 9:00`` and the tick deliver the review there.
Discord: the command tree, and ``/review`` in a DM through the real discord.py."""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace

import discord
import pytest
from coachkit import synced_coach
from discord import app_commands
from discordkit import ANA, running
from fakes.telegram_api import FakeTelegram, SentMessage
from reminderkit import FakeClock, delivery_rows, reminder_rows
from telegramkit import settle

from bot.console.chat import ConsoleChat
from bot.discord import commands
from bot.telegram.app import TelegramFrontEnd
from core.app.features import FEATURES
from core.db.engine import Database
from core.kernel.notify import by_platform
from core.kernel.registry import Registry
from core.reminders.tick import ReminderTick

MAYA = 1001


def _wednesday_noon() -> datetime:
    today = datetime.now(UTC).date()
    wednesday = today - timedelta(days=today.weekday()) + timedelta(days=2)
    return datetime.combine(wednesday, time(12), tzinfo=UTC)


@dataclass
class Rig:
    fake: FakeTelegram
    front: TelegramFrontEnd
    clock: FakeClock

    async def say(self, text: str) -> SentMessage:
        before = len(self.fake.sent)
        self.fake.user_message(MAYA, text)
        await self.fake.wait_for(lambda: len(self.fake.sent) > before)
        await self.idle()
        return self.fake.last(MAYA)

    async def press_data(self, message: SentMessage, data: str) -> None:
        answers = len(self.fake.callback_answers)
        self.fake.press_button(MAYA, message.message_id, data)
        await self.fake.wait_for(lambda: len(self.fake.callback_answers) > answers)
        await self.idle()

    async def idle(self) -> None:
        await settle(self.fake, self.front)


@pytest.fixture
async def rig(database: Database) -> AsyncIterator[Rig]:
    clock = FakeClock(_wednesday_noon())
    coach = await synced_coach(database, clock=clock)
    async with FakeTelegram() as fake:
        front = TelegramFrontEnd(coach, fake.token, api_base_url=fake.url)
        await front.start(poll_timeout=1)
        try:
            yield Rig(fake, front, clock)
        finally:
            with contextlib.suppress(Exception):
                await front.stop()


async def test_review_on_telegram_and_its_weekly_delivery(rig: Rig, database: Database) -> None:
    await rig.say("/start")
    first = await rig.say("Maya")
    data = next(d for label, d in first.buttons() if "Indie" in label)
    await rig.press_data(first, data)
    await rig.say("/update listeners 900")

    review = await rig.say("/review")
    assert review.parse_mode == "HTML"
    assert "<b>Your week</b> (so far)" in review.text
    assert "Monthly listeners: 900 (your first number)" in review.plain_text
    assert "Next week's focus" in review.plain_text
    focus = [(label, d) for label, d in review.buttons() if label[:2] in {"1.", "2.", "3."}]
    assert focus
    label, data = focus[0]
    await rig.press_data(review, data)
    card = rig.fake.last(MAYA)
    assert label[3:].rstrip("…") in card.plain_text  # the task's card, as /today shows it

    # Dealt with since (skipped): the same focus button answers with a toast, sends nothing.
    await rig.say("/skip")
    sent = len(rig.fake.sent)
    await rig.press_data(review, data)
    assert "already done" in str(rig.fake.callback_answers[-1].get("text", ""))
    assert len(rig.fake.sent) == sent

    reply = await rig.say("/review monday 9:00")
    assert "Weekly review on: Monday 09:00" in reply.plain_text
    bad = await rig.say("/review someday 9:00")
    assert "don't know the day" in bad.plain_text

    (row,) = [r for r in await reminder_rows(database) if r.kind == "review"]
    tick = ReminderTick(database, by_platform(rig.front), clock=rig.clock)
    rig.clock.set(row.next_due_at + timedelta(seconds=1))
    before = len(rig.fake.messages(MAYA))
    assert (await tick.run()).sent == 1
    weekly = rig.fake.last(MAYA)
    assert len(rig.fake.messages(MAYA)) == before + 1
    assert "Your week" in weekly.plain_text
    assert "(so far)" not in weekly.plain_text  # Monday: the week just finished
    assert weekly.buttons()
    assert (await tick.run()).sent == 0
    assert [d.status for d in await delivery_rows(database, "review")] == ["sent"]


async def test_review_in_the_terminal(database: Database) -> None:
    clock = FakeClock(_wednesday_noon())
    coach = await synced_coach(database, clock=clock)
    out = io.StringIO()
    chat = ConsoleChat(coach, "maya", out)
    await chat.send("/start")
    await chat.send("Maya")
    await chat.send("1")
    await chat.send("/skip")
    replies = await chat.send("/review")
    printed = out.getvalue()
    assert "Your week (so far)" in printed
    assert "Skipped (1)" in printed
    assert "Next week's focus" in printed
    assert replies[0].buttons  # the focus steps, typed by name in the terminal
    replies = await chat.send("/review tuesday 7:30")
    assert "Tuesday 07:30" in replies[0].text


def test_discord_tree_has_review_with_its_option() -> None:
    client = discord.Client(intents=discord.Intents.none())
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)
    commands.build(tree, SimpleNamespace(coach=SimpleNamespace(registry=Registry(FEATURES))))
    built = {c.name: c.to_dict(tree) for c in tree.get_commands()}
    review = built["review"]
    assert review["description"].startswith("Your weekly review")
    (option,) = review["options"]
    assert option["name"] == "when"
    assert option.get("required", False) is False


async def test_discord_review_in_a_dm(database: Database) -> None:
    clock = FakeClock(_wednesday_noon())
    async with running(database, clock=clock) as bench:
        fake = bench.fake
        await bench.answered(fake.user_runs_command_in_dm(ANA, "start"))
        fake.dm_message(ANA, "Ana")
        await fake.wait_for(lambda: any("Indie" in str(m.buttons()) for m in fake.dm_messages(ANA)))
        menu = next(m for m in fake.dm_messages(ANA) if "Indie" in str(m.buttons()))
        await bench.press(ANA, menu, "Indie")
        await bench.answered(fake.user_runs_command_in_dm(ANA, "skip"))
        shown = await bench.answered(fake.user_runs_command_in_dm(ANA, "review"))
        assert "Your week" in shown.texts()
        assert "Skipped (1)" in shown.texts()
        message = next(m for m in shown.messages() if m.buttons())
        pressed = await bench.press(ANA, message, "1.")
        assert not pressed.errors
        on = await bench.answered(fake.user_runs_command_in_dm(ANA, "review", when="friday 18:00"))
        assert "Friday 18:00" in on.texts()
