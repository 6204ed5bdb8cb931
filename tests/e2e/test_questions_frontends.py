"""Questions answered from the content, and "done all", on the front ends (issue #15 §4):
through the real python-telegram-bot against the fake Bot API (the answer in Telegram's HTML,
its buttons as an inline keyboard, a 📖 button answered with the other task's guidance, "done
all" confirmed by its button) and through the real discord.py in a DM (Markdown, components).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from coachkit import synced_coach
from discordkit import ANA, Bench, running
from fakes.discord_api import FakeMessage
from fakes.telegram_api import FakeTelegram, SentMessage

from bot.telegram.app import TelegramFrontEnd
from core.db.engine import Database

MAYA = 1001


class _Chat:
    """Maya's Telegram chat with the running front end."""

    def __init__(self, fake: FakeTelegram, front: TelegramFrontEnd) -> None:
        self.fake, self.front = fake, front

    async def idle(self) -> None:
        await self.fake.wait_for(lambda: not self.fake.pending_updates)
        app = self.front.application
        await self.fake.wait_for(app.update_queue.empty)
        processor = app.update_processor
        await self.fake.wait_for(lambda: processor.current_concurrent_updates == 0)

    async def say(self, text: str) -> SentMessage:
        before = len(self.fake.sent)
        self.fake.user_message(MAYA, text)
        await self.fake.wait_for(lambda: len(self.fake.sent) > before)
        await self.idle()
        return self.fake.last(MAYA)

    async def press(self, label_part: str) -> SentMessage:
        message = next(m for m in reversed(self.fake.messages(MAYA)) if m.buttons())
        data = next(d for label, d in message.buttons() if label_part in label)
        answers = len(self.fake.callback_answers)
        self.fake.press_button(MAYA, message.message_id, data)
        await self.fake.wait_for(lambda: len(self.fake.callback_answers) > answers)
        await self.idle()
        return self.fake.last(MAYA)


@contextlib.asynccontextmanager
async def _telegram(database: Database) -> AsyncIterator[_Chat]:
    coach = await synced_coach(database)
    async with FakeTelegram() as fake:
        front = TelegramFrontEnd(coach, fake.token, api_base_url=fake.url)
        await front.start(poll_timeout=1)
        try:
            yield _Chat(fake, front)
        finally:
            await front.stop()


async def test_telegram_question_answer_and_done_all(database: Database) -> None:
    async with _telegram(database) as chat:
        await chat.say("/start")
        await chat.say("Maya")
        await chat.press("Indie")
        answer = await chat.say("whats a split sheet??")
        assert answer.text is not None
        assert "💡 <b>Sign a split sheet for the song</b>" in answer.text  # Telegram's HTML
        assert "<i>On your roadmap, stage 2.</i>" in answer.text
        labels = [label for label, _data in answer.buttons()]
        assert labels[0] == "👉 Open this task"
        assert len(labels) == 3
        other = labels[1]
        shown = await chat.press(other)
        assert f"💡 {other.removeprefix('📖 ').rstrip('…')}" in shown.plain_text

        # a statement still gets the old answer (the open checklist stays open)
        plain = await chat.say("finished my demo today")
        assert "I'm not waiting for an answer right now" in plain.plain_text

        # "done all" on the open checklist: asked, then ticked by its button
        asked = await chat.say("done all")
        assert "Tick all 5 items left" in asked.plain_text
        await chat.press("Tick 5")
        said = "\n".join(m.plain_text for m in chat.fake.messages(MAYA)[-3:])
        assert "Lock in your artist name and identity — done!" in said


async def _say(bench: Bench, text: str) -> list[FakeMessage]:
    """Ana writes ``text`` in her DM; the bot's messages in answer to it."""
    fake = bench.fake
    before = len(fake.dm_messages(ANA))
    fake.dm_message(ANA, text)
    await fake.wait_for(lambda: len(fake.dm_messages(ANA)) > before)
    await bench.settled()
    return fake.dm_messages(ANA)[before:]


async def test_discord_question_in_a_dm(database: Database) -> None:
    async with running(database) as bench:
        fake = bench.fake
        await bench.answered(fake.user_runs_command_in_dm(ANA, "start"))
        await _say(bench, "Ana")
        menu = next(m for m in reversed(fake.dm_messages(ANA)) if "Touring" in str(m.buttons()))
        await bench.press(ANA, menu, "Touring")

        asked = "how do we get people to sign up for our email list at shows?"
        (answer,) = await _say(bench, asked)
        assert "💡 **Collect emails at every show**" in answer.content  # Discord's Markdown
        labels = [label for label, _id in answer.buttons()]
        assert labels[0] == "👉 Open this task"
        assert all(label.startswith("📖 ") for label in labels[1:])
        await bench.press(ANA, answer, labels[1])
        shown = fake.dm_messages(ANA)[-1]
        assert f"💡 **{labels[1].removeprefix('📖 ').rstrip('…')}" in shown.content

        (honest,) = await _say(bench, "who won the football last night?")
        assert "I don't have a good answer to that" in honest.text()
