"""What a Telegram 403 means: Telegram says "Forbidden" for several different situations.

Only two of them are about the person turning us away; the rest must not pause anyone's
reminders:

* ``bot was blocked by the user`` — they blocked the bot;
  ``user is deactivated`` — they deleted their account. Both: stop writing to them
  (:attr:`Refusal.GONE`; the identity is marked unreachable, which pauses their reminders).
* ``bot can't initiate conversation with a user`` — they used the bot only in a group and never
  opened a private chat with it, so the bot may not write first (:attr:`Refusal.NO_PRIVATE_CHAT`).
  Nothing is wrong with their account: the send failed with that reason (recorded on the
  nudge's delivery row, shown on their ``/remind`` card) and works once they press Start in a
  private chat with the bot.
* ``bot was kicked from the group chat``, ``bot is not a member of the supergroup chat`` and the
  like — the bot is no longer in that group (:attr:`Refusal.NOT_IN_CHAT`). Nobody's account is
  affected: whoever wrote there did nothing wrong.
* anything else (``bot can't send messages to bots``, new wordings) — :attr:`Refusal.OTHER`: a
  failure, logged, never taken as a block (a wrong "blocked" silently stops someone's nudges).
"""

from __future__ import annotations

from enum import StrEnum


class Refusal(StrEnum):
    """The kinds of 403 the front end tells apart."""

    GONE = "gone"
    NO_PRIVATE_CHAT = "no_private_chat"
    NOT_IN_CHAT = "not_in_chat"
    OTHER = "other"


#: Lower-cased fragments of Telegram's descriptions, in the order they are tried.
_FRAGMENTS: tuple[tuple[str, Refusal], ...] = (
    ("blocked by the user", Refusal.GONE),
    ("user is deactivated", Refusal.GONE),
    ("can't initiate conversation", Refusal.NO_PRIVATE_CHAT),
    ("kicked from the", Refusal.NOT_IN_CHAT),
    ("not a member of the", Refusal.NOT_IN_CHAT),
)


def classify(description: str) -> Refusal:
    """The kind of refusal a 403 ``description`` (PTB's ``Forbidden.message``) stands for."""
    text = description.casefold()
    for fragment, refusal in _FRAGMENTS:
        if fragment in text:
            return refusal
    return Refusal.OTHER
