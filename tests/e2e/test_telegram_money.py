"""Money in a non-euro profile through the real python-telegram-bot application and the
loopback fake Bot API (issue #15 §3): Telegram's ``language_code`` reaches the core, the first
amount is read and echoed in the musician's currency and locale, and the profile keeps it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from coachkit import synced_coach
from fakes.telegram_api import FakeTelegram
from reminderkit import FakeClock
from sqlalchemy import select
from telegramkit import settle, telegram_chat

from bot.telegram.app import TelegramFrontEnd
from core.db.engine import Database
from core.db.models import Profile, StatSample

BIA = 2002
START = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)


@dataclass
class Rig:
    fake: FakeTelegram
    front: TelegramFrontEnd

    async def say(self, text: str) -> str:
        """Send a message from a Brazilian phone; the plain text of the bot's answer."""
        before = len(self.fake.messages(BIA))
        self.fake.user_message(BIA, text, first_name="Bia", language_code="pt-br")
        await self.fake.wait_for(lambda: len(self.fake.messages(BIA)) > before)
        await settle(self.fake, self.front)
        return "\n".join(m.plain_text for m in self.fake.messages(BIA)[before:])

    async def press(self, label: str) -> str:
        message = next(m for m in reversed(self.fake.messages(BIA)) if m.buttons())
        data = next(d for text, d in message.buttons() if label in text)
        before, answers = len(self.fake.messages(BIA)), len(self.fake.callback_answers)
        self.fake.press_button(BIA, message.message_id, data)
        await self.fake.wait_for(lambda: len(self.fake.callback_answers) > answers)
        await settle(self.fake, self.front)
        return "\n".join(m.plain_text for m in self.fake.messages(BIA)[before:])


@pytest.fixture
async def rig(database: Database) -> AsyncIterator[Rig]:
    coach = await synced_coach(database, clock=FakeClock(START))
    async with telegram_chat(coach) as chat:
        yield Rig(chat.fake, chat.front)


async def test_a_brazilian_musicians_fee_is_in_reais_on_telegram(
    rig: Rig, database: Database
) -> None:
    await rig.say("/start")
    await rig.say("Bia")
    await rig.press("Touring")
    saved = await rig.say("/update gig fee 1.500,50")
    assert "Saved: R$\xa01.500,50" in saved  # read and written the Brazilian way
    assert "I'll count your money in Brazilian reals (BRL)" in saved
    assert "/currency" in saved
    kept = await rig.say("/update gig fee US$ 300")
    assert "Kept in USD, as you typed it" in kept
    async with database.transaction() as session:
        profile = (await session.scalars(select(Profile))).one()
        units = (await session.scalars(select(StatSample.unit).order_by(StatSample.value))).all()
    assert profile.currency == "BRL"
    assert units == ["USD", "BRL"]
