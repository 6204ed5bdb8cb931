"""Private replies never reach a shared chat: the one gate every reply passes.

A reply marked :attr:`Outbound.private <core.kernel.types.Outbound.private>` is for one
person's eyes only: a ``/link`` code (whoever reads it can take the account over), an export,
an admin's look at someone. Flows mark what they produce; they do not each have to remember
where the event came from. :meth:`Coach.handle <core.app.engine.Coach.handle>` — the
only door out of the core — passes every reply through :func:`route`, which decides where a
private reply may go:

* in a private chat: where it is (that chat *is* the person's direct chat);
* in a shared chat (a Telegram group, a Discord server channel), when the front end can answer
  this event so that only the sender sees it (``Inbound.can_whisper``: a Discord interaction's
  ephemeral response): in place, ``ephemeral``, never as an edit (an edit would put it into a
  message everybody sees);
* otherwise — and whenever it is addressed to any chat but the person's own — to the person's
  direct chat (``chat_id`` = their platform user id: a Telegram private chat's id is the user's
  id, and the Discord and terminal front ends address a person's DM by their user id), as a
  new message. The front end sends it there and says so in the shared chat, or — when the
  platform won't let the bot write first (Telegram's "can't initiate conversation") — tells
  them how to open that chat (:data:`SENT_PRIVATELY`, :data:`OPEN_PRIVATE_CHAT`).

So a new private reply, from any flow, is safe without a special case of its own. The front
ends' send functions refuse a private reply to a group or channel as a second line (notices
do not pass this gate).
"""

from __future__ import annotations

from core.kernel.types import Inbound, Outbound, as_message

#: Said in the shared chat once the private reply reached the person's direct chat.
SENT_PRIVATELY = "🔒 That's just for you — I've sent it to our private chat."
#: Said in the shared chat when the platform refused the direct chat because the person never
#: opened one (a bot may not write first on Telegram); nothing private was shown.
OPEN_PRIVATE_CHAT = (
    "🔒 That's just for you, so I won't post it here — but I can't write to you privately "
    "yet. Open a private chat with me, press Start, then ask again."
)
#: Said in the shared chat when the direct chat failed for another reason.
NOT_SENT_PRIVATELY = (
    "🔒 That's just for you, so I won't post it here, and I couldn't reach you privately "
    "just now. Please ask again in our private chat."
)


def direct_chat(inbound: Inbound) -> str:
    """The chat id of the sender's direct chat with the bot, on their platform."""
    return inbound.user_id


def route(inbound: Inbound, replies: list[Outbound]) -> list[Outbound]:
    """``replies`` with every private one placed where only its person can see it."""
    if not any(reply.private for reply in replies):
        return replies
    return [_place(inbound, reply) if reply.private else reply for reply in replies]


def _place(inbound: Inbound, reply: Outbound) -> Outbound:
    direct = direct_chat(inbound)
    target = reply.chat_id or inbound.chat_id
    if target == inbound.chat_id:  # an answer in the chat the event came from
        if inbound.chat_type == "private":
            return reply
        if inbound.can_whisper:
            return reply.model_copy(update={"ephemeral": True, "edit": False})
    elif target == direct:  # already addressed to the person's own chat
        return reply
    # a toast answers a press in the chat it came from; elsewhere it is a message
    return as_message(reply).model_copy(
        update={"chat_id": direct, "edit": False, "ephemeral": False}
    )
