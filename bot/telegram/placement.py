"""Where the replies to one Telegram update go in its chat: which message an edit may replace,
and which message new ones answer.

In a private chat everything is the person's: a button's reply edits the card it sat on.

In a group every member has their own solo profile, and their cards sit side by side. A card
must change only for its owner, and a hand-made callback (``v1:no`` pressed on any bot
message with a keyboard) must not be able to rewrite someone else's message. The owner must
come from Telegram, not from anything the presser sends: so in a group every reply is sent as
a *reply to the member's own message* (a command, an answer), and a card's owner is the author
of the message it answers — ``callback_query.message.reply_to_message.from_user``, which
Telegram fills in. A press edits the card only when that author is the presser; any other
press (someone else's card, a card whose owner Telegram no longer shows, a forged payload)
is still handled for the presser alone by the core — on their own profile — but its answers
come as new messages and never touch the card. New messages after an owner's press answer
the owner's original message again, so the next card is theirs too.

A group that is a band (issue #17) shares one profile: its cards are the band's, not one
member's, and any member's press acts on the band (the core checks membership on every
press). There a press edits the card it sat on whoever pressed it, as a press does in a Discord
server — still only a card the bot sent, and answers still reply to the message the card
answered. Whether the group is a band is the core's word (``band``), not the presser's.

Telegram's chat ids say the kind of chat: a private chat's id is the user's id (positive),
groups, supergroups and channels are negative — PTB's ``AIORateLimiter`` tells groups apart
the same way. :func:`is_shared` is what the front end's private-reply backstop checks.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Message, Update

from core.kernel.types import Inbound


@dataclass(frozen=True, slots=True)
class Placement:
    """Where replies go: the chat, the message an ``edit`` may replace (``None``: edits are
    sent as new messages) and the message new ones answer (``None``: a plain message)."""

    chat_id: int
    editable: int | None = None
    reply_to: int | None = None


def is_shared(chat_id: int) -> bool:
    """True for a group, supergroup or channel (negative ids), false for a private chat."""
    return chat_id <= 0


def card_owner(message: Message) -> int | None:
    """The user whose message this bot message answers (its owner in a group), if Telegram
    still shows it."""
    replied = message.reply_to_message
    author = replied.from_user if replied is not None else None
    if author is None or author.is_bot:
        return None
    return author.id


def _card(update: Update) -> Message | None:
    """The card a press sat on; ``None`` for a message, or a card too old to touch."""
    query = update.callback_query
    pressed = query.message if query is not None else None
    return pressed if isinstance(pressed, Message) else None


def band_matters(update: Update, inbound: Inbound) -> bool:
    """Whether :func:`place` depends on the group being a band's: only for a press in a group
    on a card that answered someone else. The front end asks the core (a database read) only
    then, not for every press."""
    query, card = update.callback_query, _card(update)
    return (
        is_shared(int(inbound.chat_id))
        and query is not None
        and card is not None
        and card_owner(card) != query.from_user.id
    )


def place(update: Update, inbound: Inbound, *, band: bool = False) -> Placement:
    """Where the replies to ``update`` (translated to ``inbound``) go; ``band``: the group is
    a band's (its cards are everyone's in it)."""
    chat_id = int(inbound.chat_id)
    query = update.callback_query
    card = _card(update)
    if not is_shared(chat_id):
        return Placement(chat_id, editable=card.message_id if card is not None else None)
    if query is None:  # a member's message: the answer replies to it, and is theirs
        return Placement(chat_id, reply_to=int(inbound.message_id or 0) or None)
    if card is None or (not band and card_owner(card) != query.from_user.id):
        return Placement(chat_id)  # not the presser's card: never edited, nothing answered
    replied = card.reply_to_message
    return Placement(
        chat_id,
        editable=card.message_id,
        reply_to=replied.message_id if replied is not None else None,
    )
