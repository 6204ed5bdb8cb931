"""One musician's Telegram chat with a running front end, through the loopback fake: type,
press, and wait until the bot has finished with what that caused (the e2e tests' driver)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fakes.telegram_api import FakeTelegram, SentMessage

from bot.telegram.app import TelegramFrontEnd
from core.app.engine import Coach

MAYA = 1001


async def settle(fake: FakeTelegram, front: TelegramFrontEnd) -> None:
    """Until the fake has no update queued and the front end is handling none."""
    await fake.wait_for(lambda: not fake.pending_updates)
    app = front.application
    await fake.wait_for(app.update_queue.empty)
    processor = app.update_processor
    await fake.wait_for(lambda: processor.current_concurrent_updates == 0)


@contextlib.asynccontextmanager
async def telegram_chat(coach: Coach) -> AsyncIterator[TelegramChat]:
    """Maya's chat with ``coach``'s Telegram front end, started (long polling) against a fresh
    fake and stopped after."""
    async with FakeTelegram() as fake:
        front = TelegramFrontEnd(coach, fake.token, api_base_url=fake.url)
        await front.start(poll_timeout=1)
        try:
            yield TelegramChat(fake, front)
        finally:
            await front.stop()


class TelegramChat:
    """``chat``'s conversation with the running front end ``front`` over ``fake``."""

    def __init__(self, fake: FakeTelegram, front: TelegramFrontEnd, chat: int = MAYA) -> None:
        self.fake, self.front, self.chat = fake, front, chat

    async def idle(self) -> None:
        """Until the fake has no update queued and the bot is handling none."""
        await settle(self.fake, self.front)

    async def say(self, text: str) -> SentMessage:
        """Type ``text``; the bot's last message to the chat once it has answered."""
        before = len(self.fake.sent)
        self.fake.user_message(self.chat, text)
        await self.fake.wait_for(lambda: len(self.fake.sent) > before)
        await self.idle()
        return self.fake.last(self.chat)

    async def press(self, label_part: str) -> SentMessage:
        """Press the button whose label holds ``label_part`` on the newest message with buttons."""
        message = next(m for m in reversed(self.fake.messages(self.chat)) if m.buttons())
        data = next(d for label, d in message.buttons() if label_part in label)
        answers = len(self.fake.callback_answers)
        self.fake.press_button(self.chat, message.message_id, data)
        await self.fake.wait_for(lambda: len(self.fake.callback_answers) > answers)
        await self.idle()
        return self.fake.last(self.chat)


class GroupChat:
    """A Telegram group with several members talking to the running front end ``front``.

    Each member writes with :meth:`say` (a reply to a message with ``reply_to``) and presses
    with :meth:`press`; both wait until the bot has finished with what that caused. With the
    fake's privacy mode on, a message the bot may not see is withheld and :meth:`say` returns
    at once (nothing was queued)."""

    def __init__(
        self,
        fake: FakeTelegram,
        front: TelegramFrontEnd,
        chat: int,
        names: dict[int, str],
        chat_type: str = "supergroup",
    ) -> None:
        self.fake, self.front, self.chat = fake, front, chat
        self.names, self.chat_type = names, chat_type

    async def idle(self) -> None:
        """Until the fake has no update queued and the bot is handling none."""
        await settle(self.fake, self.front)

    async def say(self, user: int, text: str, *, reply_to: int | None = None) -> dict[str, Any]:
        """``user`` writes ``text`` in the group; the update (handled by the time it returns)."""
        update = self.fake.user_message(
            user,
            text,
            chat_id=self.chat,
            chat_type=self.chat_type,
            first_name=self.names.get(user, "Maya"),
            reply_to=reply_to,
        )
        await self.idle()
        return update

    async def press(self, user: int, message: SentMessage, label_part: str) -> None:
        """``user`` presses the button of ``message`` whose label holds ``label_part``."""
        data = next(d for label, d in message.buttons() if label_part in label)
        answers = len(self.fake.callback_answers)
        self.fake.press_button(user, message.message_id, data, chat_id=self.chat)
        await self.fake.wait_for(lambda: len(self.fake.callback_answers) > answers)
        await self.idle()

    def messages(self) -> list[SentMessage]:
        """The bot's messages in the group (edits applied)."""
        return self.fake.messages(self.chat)

    def last(self) -> SentMessage:
        """The bot's newest message in the group."""
        return self.fake.last(self.chat)

    def since(self, count: int) -> str:
        """The text of the bot's group messages after the first ``count``."""
        return "\n".join(m.plain_text for m in self.messages()[count:])
