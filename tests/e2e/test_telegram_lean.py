"""``LeanBot``'s sends: through PTB's public generic call, past the rate limiter, unparsed.

The point of ``bot/telegram/lean.py`` is that the Bot API's answer to our sends and edits is
never turned into ``Message`` objects; these tests hold PTB's public ``do_api_request`` to that
(no ``return_type``: the raw answer), and to taking the same way out as PTB's own methods
(the rate limiter sees every call).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest
import telegram
from fakes.telegram_api import FakeTelegram
from telegram.error import InvalidToken
from telegram.ext import BaseRateLimiter

from bot.telegram.lean import LeanBot

CHAT = 4242


class Counting(BaseRateLimiter[None]):
    """A rate limiter that only records which methods passed through it."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    async def process_request(  # noqa: PLR0917 - PTB's signature
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> Any:
        self.seen.append(endpoint)
        return await callback(*args, **kwargs)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        server.open_private_chat(CHAT)
        yield server


def _bot(fake: FakeTelegram, limiter: Counting) -> LeanBot:
    return LeanBot(
        fake.token,
        base_url=f"{fake.url}/bot",
        base_file_url=f"{fake.url}/file/bot",
        rate_limiter=limiter,
    )


async def test_sends_and_edits_pass_the_rate_limiter_and_build_no_message(
    fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_parsing(*_: object, **__: object) -> None:
        raise AssertionError("the answer was parsed into a Message")

    monkeypatch.setattr(telegram.Message, "de_json", no_parsing)
    limiter = Counting()
    async with _bot(fake, limiter) as bot:
        markup = '{"inline_keyboard": [[{"text": "☐ 1", "callback_data": "v1:tk:a:b"}]]}'
        await bot.send_html(CHAT, "<b>Hi</b> there", markup)
        sent = fake.last(CHAT)
        assert (sent.plain_text, sent.parse_mode) == ("Hi there", "HTML")
        assert sent.buttons() == [("☐ 1", "v1:tk:a:b")]
        await bot.edit_html(CHAT, sent.message_id, "<i>Done</i>")
        edited = fake.last(CHAT)
        assert (edited.plain_text, edited.edited, edited.buttons()) == ("Done", True, [])
    assert limiter.seen == ["getMe", "sendMessage", "editMessageText"]


async def test_a_refused_token_is_reported_as_such(fake: FakeTelegram) -> None:
    """``do_api_request`` calls a refused token an unknown method once the bot is initialised;
    ``sendMessage`` exists, so LeanBot says what it is."""
    async with _bot(fake, Counting()) as bot:
        fake.token = "123456:REVOKED"  # the owner revoked the token while the bot runs
        with pytest.raises(InvalidToken, match="refused the bot token"):
            await bot.send_html(CHAT, "hello")
