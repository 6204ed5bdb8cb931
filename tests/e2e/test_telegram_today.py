"""``/today`` through the real python-telegram-bot application and the loopback fake Bot API:
the reason line above the task card, for a key task skipped in an earlier stage and for a
deadline counted from the release date (the test roadmap of ``tests/support/keyroadmap.py``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fakes.telegram_api import FakeTelegram, SentMessage
from keyroadmap import key_roadmap
from reminderkit import FakeClock
from sqlalchemy import select
from telegramkit import settle

from bot.telegram.app import TelegramFrontEnd
from core.app.engine import Coach
from core.db.engine import Database
from core.db.models import Profile
from core.roadmaps.sync import sync_roadmaps

MAYA = 1001


@dataclass
class Rig:
    """The fake API, the running front end and the coach's clock."""

    fake: FakeTelegram
    front: TelegramFrontEnd
    clock: FakeClock

    async def say(self, text: str) -> SentMessage:
        before = len(self.fake.sent)
        self.fake.user_message(MAYA, text)
        await self.fake.wait_for(lambda: len(self.fake.sent) > before)
        await self.idle()
        return self.fake.last(MAYA)

    async def press(self, label_part: str) -> SentMessage:
        message = next(m for m in reversed(self.fake.messages(MAYA)) if m.buttons())
        data = next(
            d for label, d in message.buttons() if label_part.casefold() in label.casefold()
        )
        answers = len(self.fake.callback_answers)
        self.fake.press_button(MAYA, message.message_id, data)
        await self.fake.wait_for(lambda: len(self.fake.callback_answers) > answers)
        await self.idle()
        return self.fake.last(MAYA)

    async def idle(self) -> None:
        await settle(self.fake, self.front)


@pytest.fixture
async def rig(database: Database) -> AsyncIterator[Rig]:
    async with database.transaction() as session:
        await sync_roadmaps(session, [key_roadmap()])
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


async def test_today_says_why_on_telegram(rig: Rig, database: Database) -> None:
    await rig.say("/start")
    await rig.say("Maya")
    await rig.press("Key Release")
    reply = await rig.say("/skip")
    skipped = next(m for m in rig.fake.messages(MAYA) if "Skipped" in m.plain_text)
    assert "it's a key task" in skipped.plain_text
    assert "I'll bring it back once you've moved on to the next stage." in skipped.plain_text
    await rig.press("☐ 1.")
    reply = await rig.press("☐ 2.")
    assert any("Stage 1 complete" in m.plain_text for m in rig.fake.messages(MAYA))

    rig.clock.advance(days=3)
    reply = await rig.say("/today")
    assert reply.parse_mode == "HTML"
    assert reply.plain_text.splitlines()[0] == (
        "👉 You skipped “Register your rights” in stage 1, and you're on stage 2 now: "
        "it's a key task the next steps build on."
    )
    assert "Stage 1 · Basics — task 1 of 2" in reply.plain_text
    await rig.press("☐ 1.")
    reply = await rig.press("☐ 2.")
    assert any("Register your rights — done!" in m.plain_text for m in rig.fake.messages(MAYA))

    release = rig.clock.now.date() + timedelta(days=30)
    async with database.transaction() as session:
        profile = (await session.scalars(select(Profile))).one()
        profile.anchors = {"release": release.isoformat()}
    reply = await rig.say("/today")
    assert reply.plain_text.splitlines()[0] == (
        "👉 Your release is in 30 days and “Upload to your distributor” isn't done: "
        "it must be in at least 28 days before."
    )
