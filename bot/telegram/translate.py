"""Telegram updates → the core's ``Inbound``.

Only three kinds of update reach the core: text messages (commands included), button presses
(callback queries) and nothing else; ``my_chat_member`` changes are account facts handled by the
app. A command addressed to another bot in a group (``/today@OtherBot``) is not for us.
"""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType

from core.kernel.types import Inbound

_CHAT_TYPES = {ChatType.PRIVATE: "private", ChatType.GROUP: "group", ChatType.SUPERGROUP: "group"}


def _addressed_elsewhere(text: str, bot_username: str | None) -> bool:
    head = text.split(maxsplit=1)[0] if text.strip() else ""
    if not head.startswith("/") or "@" not in head:
        return False
    target = head.split("@", 1)[1]
    return bot_username is None or target.casefold() != bot_username.casefold()


def to_inbound(update: Update, *, bot_username: str | None = None) -> Inbound | None:
    """The core event for this update, or ``None`` when it is not one the core handles."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or user.is_bot:
        return None
    chat_type = _CHAT_TYPES.get(ChatType(chat.type), "group") if chat.type else "private"
    common = {
        "platform": "telegram",
        "user_id": str(user.id),
        "chat_id": str(chat.id),
        "chat_type": chat_type,
        "update_id": str(update.update_id),
        "display_name": user.full_name[:120] or None,
        "locale": user.language_code,
    }
    query = update.callback_query
    if query is not None:
        message = query.message
        return Inbound(
            kind="button",
            payload=query.data or "",
            message_id=str(message.message_id) if message is not None else None,
            **common,
        )
    message = update.message
    if message is None:
        return None
    if message.text is None:
        # A sticker, photo or voice note in a private chat still deserves an answer; the core
        # replies to an empty message with what it is waiting for. In groups, stay quiet.
        if chat_type != "private":
            return None
        return Inbound(kind="text", text="", message_id=str(message.message_id), **common)
    text = message.text
    if _addressed_elsewhere(text, bot_username):
        return None
    kind = "command" if text.startswith("/") else "text"
    return Inbound(kind=kind, text=text, message_id=str(message.message_id), **common)
