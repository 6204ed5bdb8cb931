"""The coach's PTB bot: ``ExtBot`` plus two sends that do not parse Telegram's answer.

Every ``send_message`` and ``edit_message_text`` of python-telegram-bot turns the Bot API's
answer (the whole sent message, its entities and its inline keyboard) into ``Message``
objects. The coach never reads that answer, and the Telegram benchmark measured the parsing
at about a quarter of the bot process's CPU at saturation (``Message.de_json`` and the
keyboard's ``to_dict`` on the way out). These two methods post the same parameters through
PTB's public generic call, ``Bot.do_api_request`` without a ``return_type``, which takes the
same path as PTB's own methods (``ExtBot``'s rate limiter, the request wrapper that turns
4xx/5xx into ``BadRequest``/``Forbidden``/``RetryAfter``, our aiohttp transport) and hands
back the raw answer, which is dropped.

Everything else — photos, documents, callback answers, ``getUpdates`` — stays on PTB's own
methods.
"""

from __future__ import annotations

import warnings
from typing import Any

from telegram.error import EndPointNotFound, InvalidToken
from telegram.ext import ExtBot
from telegram.warnings import PTBUserWarning

#: PTB warns when ``do_api_request`` names a method it has a typed version of ("Please use
#: 'Bot.sendMessage' instead…"): here the generic call is the point, so exactly these two
#: warnings are silenced. If PTB rewords it, the warning shows (and fails the tests, which
#: turn warnings into errors) instead of being hidden.
_GENERIC_CALL_WARNING = (
    r"Please use 'Bot\.(sendMessage|editMessageText)' instead of 'Bot\.do_api_request"
)


class LeanBot(ExtBot[Any]):
    """``ExtBot`` with :meth:`send_html` and :meth:`edit_html`, which skip answer parsing."""

    __slots__ = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # idempotent: warnings replaces an identical filter instead of adding another
        warnings.filterwarnings("ignore", _GENERIC_CALL_WARNING, PTBUserWarning)

    async def _call(self, method: str, data: dict[str, Any], priority: Any) -> None:
        try:
            await self.do_api_request(method, api_kwargs=data, rate_limit_args=priority)
        except EndPointNotFound as exc:
            # do_api_request reports a refused token (401/404) as an unknown method; these
            # two methods exist, so it is the token
            raise InvalidToken(f"Telegram refused the bot token ({method})") from exc

    async def send_html(
        self,
        chat_id: int,
        text: str,
        markup: str | None = None,
        reply_to: int | None = None,
        *,
        rate_limit_args: Any = None,
    ) -> None:
        """``sendMessage`` with HTML text and an optional JSON-serialised inline keyboard;
        ``reply_to`` makes it a reply to that message of the chat (sent plainly if it is gone).
        ``rate_limit_args`` goes to the bot's rate limiter, as with PTB's own methods."""
        data: dict[str, Any] = {"chat_id": chat_id, "text": text, "parse_mode": "HTML"}
        if markup is not None:
            data["reply_markup"] = markup
        if reply_to is not None:
            data["reply_parameters"] = {"message_id": reply_to, "allow_sending_without_reply": True}
        await self._call("sendMessage", data, rate_limit_args)

    async def edit_html(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        markup: str | None = None,
        *,
        rate_limit_args: Any = None,
    ) -> None:
        """``editMessageText`` of a message the bot sent, with HTML text and a keyboard.

        Without ``markup`` the message's keyboard is removed, as Telegram does when an edit
        carries none.
        """
        data: dict[str, Any] = {
            "chat_id": chat_id,
            "message_id": message_id,
            "text": text,
            "parse_mode": "HTML",
        }
        if markup is not None:
            data["reply_markup"] = markup
        await self._call("editMessageText", data, rate_limit_args)
