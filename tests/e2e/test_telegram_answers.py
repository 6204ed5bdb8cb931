"""The coach reacts to answers through the real python-telegram-bot front end (issue #13 §1):
a question put off with "idk", a choice question answered by its button, a master's loudness
answered with its verdict.

The roadmap is ``answerkit``'s test roadmap, synced into the database: the shipped content's
references are another part of the issue, and this test is about the machinery.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from answerkit import LUFS_ADVICE, coaching_roadmap
from coachkit import catalog_of
from fakes.telegram_api import FakeTelegram, SentMessage
from sqlalchemy import select
from telegramkit import settle

from bot.telegram.app import TelegramFrontEnd
from core.app.engine import Coach
from core.db.engine import Database
from core.db.models import UserTaskProgress
from core.roadmaps.sync import sync_roadmaps

MAYA = 1001


@dataclass
class _Rig:
    fake: FakeTelegram
    front: TelegramFrontEnd

    async def idle(self) -> None:
        await settle(self.fake, self.front)

    async def say(self, text: str) -> list[SentMessage]:
        """Send a message; the bot's messages in answer to it."""
        before = len(self.fake.messages(MAYA))
        self.fake.user_message(MAYA, text)
        await self.fake.wait_for(lambda: len(self.fake.messages(MAYA)) > before)
        await self.idle()
        return self.fake.messages(MAYA)[before:]

    async def press(self, label: str) -> list[SentMessage]:
        """Press a button by its label on the latest message that has buttons."""
        message = next(m for m in reversed(self.fake.messages(MAYA)) if m.buttons())
        data = next(d for text, d in message.buttons() if text == label)
        before, answers = len(self.fake.messages(MAYA)), len(self.fake.callback_answers)
        self.fake.press_button(MAYA, message.message_id, data)
        await self.fake.wait_for(lambda: len(self.fake.callback_answers) > answers)
        await self.idle()
        return self.fake.messages(MAYA)[before:]


@pytest.fixture
async def rig(database: Database) -> AsyncIterator[_Rig]:
    async with database.transaction() as session:
        await sync_roadmaps(session, [coaching_roadmap()])
    async with FakeTelegram() as fake:
        front = TelegramFrontEnd(Coach(database), fake.token, api_base_url=fake.url)
        await front.start(poll_timeout=1)
        try:
            yield _Rig(fake, front)
        finally:
            await front.stop()


def _text(messages: list[SentMessage]) -> str:
    return "\n".join(m.plain_text for m in messages)


async def test_a_choice_by_button_and_a_loudness_verdict(rig: _Rig, database: Database) -> None:
    await rig.say("/start")
    await rig.say("Maya")
    await rig.press("Coaching test")
    later = _text(await rig.say("idk"))  # no number yet: asked again in three days
    assert "No problem — I'll ask again in 3 days." in later
    card = rig.fake.last(MAYA)
    assert "How are you recording the single?" in card.plain_text
    assert [label for label, _ in card.buttons()] == [
        "Home studio",
        "With a producer",
        "Not sure",
        "Skip",
    ]

    answered = _text(await rig.press("With a producer"))
    assert "✅ Saved: With a producer." in answered
    assert "integrated loudness" in answered, "then the next question"

    reply = _text(await rig.say("-9,5"))
    assert (
        "✅ Saved: -9.5 LUFS.\n"
        "⚠️ Louder than the -14 LUFS the big services play at: they'll turn it down by about "
        f"4.5 dB.\n👉 {LUFS_ADVICE}"
    ) in reply

    # a second press of the old choice button changes nothing
    old = next(m for m in rig.fake.messages(MAYA) if "How are you recording" in m.plain_text)
    data = next(d for text, d in old.buttons() if text == "Home studio")
    answers = len(rig.fake.callback_answers)
    rig.fake.press_button(MAYA, old.message_id, data)
    await rig.fake.wait_for(lambda: len(rig.fake.callback_answers) > answers)
    await rig.idle()
    assert "isn't open anymore" in str(rig.fake.callback_answers[-1].get("text"))

    catalog = await catalog_of(database)
    async with database.transaction() as session:
        rows = (await session.scalars(select(UserTaskProgress))).all()
    saved = {catalog.tasks_by_id[r.task_id].slug: r for r in rows}
    assert saved["ct-setup"].task_data["value"] == "With a producer"
    assert saved["ct-lufs"].task_data["numeric"] == "-9.5"
    assert saved["ct-followers"].status == "postponed"
    assert "postponed_until" in saved["ct-followers"].task_data
