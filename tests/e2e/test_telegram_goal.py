"""``/goal`` through the real python-telegram-bot application and the loopback fake Bot API
(issue #13 §3): the guided goal with its buttons, the projection's verdict, and a met goal
celebrated once.

The terminal (``tests/e2e/test_cli.py``) and Discord (``test_discord_commands``,
``test_discord_band_numbers``) drove ``/goal``; Telegram — where its metric and date buttons are
inline keyboards — did not, nor did any front end see the celebration.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fakes.telegram_api import FakeTelegram, SentMessage
from numberskit import tracked_roadmap
from reminderkit import FakeClock
from sqlalchemy import select
from telegramkit import settle

from bot.telegram.app import TelegramFrontEnd
from core.app.engine import Coach
from core.coaching.numbers.goals import add_months
from core.db.engine import Database
from core.db.models import Goal
from core.roadmaps.sync import sync_roadmaps

MAYA = 1001


@dataclass
class Rig:
    """The fake API, the running front end and the coach's clock."""

    fake: FakeTelegram
    front: TelegramFrontEnd
    clock: FakeClock

    async def say(self, text: str) -> str:
        """Send a message; the plain text of the bot's messages in answer to it."""
        before = len(self.fake.messages(MAYA))
        self.fake.user_message(MAYA, text)
        await self.fake.wait_for(lambda: len(self.fake.messages(MAYA)) > before)
        await self.idle()
        return "\n".join(m.plain_text for m in self.fake.messages(MAYA)[before:])

    async def press(self, label: str) -> str:
        """Press the button ``label`` on the latest message that has buttons."""
        message: SentMessage = next(m for m in reversed(self.fake.messages(MAYA)) if m.buttons())
        data = next(d for text, d in message.buttons() if text == label)
        before, answers = len(self.fake.messages(MAYA)), len(self.fake.callback_answers)
        self.fake.press_button(MAYA, message.message_id, data)
        await self.fake.wait_for(lambda: len(self.fake.callback_answers) > answers)
        await self.idle()
        return "\n".join(m.plain_text for m in self.fake.messages(MAYA)[before:])

    def labels(self) -> list[str]:
        message = next(m for m in reversed(self.fake.messages(MAYA)) if m.buttons())
        return [text for text, _ in message.buttons()]

    async def idle(self) -> None:
        await settle(self.fake, self.front)


@pytest.fixture
async def rig(database: Database) -> AsyncIterator[Rig]:
    async with database.transaction() as session:
        await sync_roadmaps(session, [tracked_roadmap()])
    clock = FakeClock(datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0))
    coach = Coach(database, clock=clock)
    async with FakeTelegram() as fake:
        front = TelegramFrontEnd(coach, fake.token, api_base_url=fake.url)
        await front.start(poll_timeout=1)
        try:
            yield Rig(fake, front, clock)
        finally:
            with contextlib.suppress(Exception):
                await front.stop()


async def test_guided_goal_projection_and_one_celebration_on_telegram(
    rig: Rig, database: Database
) -> None:
    await rig.say("/start")
    await rig.say("Maya")
    await rig.press("Numbers Test")
    await rig.say("/update listeners 1000")
    rig.clock.advance(days=7)
    await rig.say("/update listeners 1100")

    assert "No goals yet" in await rig.say("/goal")
    assert "Monthly listeners" in rig.labels()
    asked = await rig.press("Monthly listeners")
    assert "What monthly listeners do you want to reach?" in asked
    assert "By when?" in await rig.say("1.5k")
    assert rig.labels() == ["In 1 month", "In 3 months", "In 6 months"]
    goal = await rig.press("In 3 months")
    assert "Goal set: Monthly listeners 1,500 by" in goal
    assert "on track" in goal  # +100 a week makes 400 more well within three months
    assert "How I project" in goal
    async with database.transaction() as session:
        (row,) = (await session.scalars(select(Goal))).all()
    assert (row.target, row.due_on, row.met_at) == (1500, add_months(rig.clock.now.date(), 3), None)

    rig.clock.advance(days=7)
    reached = await rig.say("/update listeners 1600")
    assert "Goal reached! Monthly listeners hit 1,600 listeners" in reached
    rig.clock.advance(days=7)
    assert "Goal reached" not in await rig.say("/update listeners 1700"), "celebrated once"
    async with database.transaction() as session:
        (row,) = (await session.scalars(select(Goal))).all()
    assert row.met_at is not None
