"""Telegram updates → the core's ``Inbound``.

Only three kinds of update reach the core: text messages (commands included), button presses
(callback queries) and nothing else; ``my_chat_member`` changes and a group's move to a
supergroup are facts handled by the app. A command addressed to another bot in a group
(``/today@OtherBot``) is not for us.

In a group, ``server_id`` is the group's own chat id: the core's band logic finds the group's
band by it (a group is a band once ``/band create`` made it one). A member named in a command
comes to the core as a mention it reads (``<@id>``, as Discord writes one): a Telegram
``text_mention`` (someone picked from the member list who has no username) is replaced by
one, and a member command sent as a *reply* to someone's message names that message's author
(``/assign Master the mix`` replying to Ben) — a plain ``@username`` carries no id the bot
could check, so it names nobody.
"""

from __future__ import annotations

from collections.abc import Callable

from telegram import Message, Update
from telegram.constants import ChatType, MessageEntityType

from bot.telegram.placement import card_owner
from core.kernel.types import Inbound

_CHAT_TYPES = {ChatType.PRIVATE: "private", ChatType.GROUP: "group", ChatType.SUPERGROUP: "group"}


def _addressed_elsewhere(text: str, bot_username: str | None) -> bool:
    head = text.split(maxsplit=1)[0] if text.strip() else ""
    if not head.startswith("/") or "@" not in head:
        return False
    target = head.split("@", 1)[1]
    return bot_username is None or target.casefold() != bot_username.casefold()


def _with_members(message: Message, text: str, takes_member: Callable[[str], bool] | None) -> str:
    """A group command with the members it names as ``<@id>`` mentions (see the module)."""
    named = message.parse_entities([MessageEntityType.TEXT_MENTION])
    for entity, words in named.items():
        if entity.user is not None and not entity.user.is_bot:
            text = text.replace(words, f"<@{entity.user.id}>", 1)
    if named or takes_member is None or not takes_member(text):
        return text
    author = card_owner(message)  # whose message it replies to (a person, not a bot)
    return text if author is None else f"{text} <@{author}>"


def to_inbound(
    update: Update,
    *,
    bot_username: str | None = None,
    takes_member: Callable[[str], bool] | None = None,
) -> Inbound | None:
    """The core event for this update, or ``None`` when it is not one the core handles.

    ``takes_member`` says whether a command line names a band member (so a reply to someone's
    message names them: :func:`bot.telegram.groups.takes_member`)."""
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
        "server_id": str(chat.id) if chat_type == "group" else None,
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
    if kind == "command" and chat_type == "group":
        text = _with_members(message, text, takes_member)
    return Inbound(kind=kind, text=text, message_id=str(message.message_id), **common)
