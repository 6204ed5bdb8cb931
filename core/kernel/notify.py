"""Messages the coach starts itself — reminder nudges, broadcasts — and who carries them.

A reply answers an inbound event and goes back the way the event came. A *notice* has no event
to answer: the reminder tick or a broadcast decides to write to someone. The core says what to
send (``Outbound`` replies, like any other) and to which chat; a front end implements
:class:`Notifier` to carry it on its platform, through the same rate limits as its replies.

The outcome tells the sender what to record: ``sent``; ``blocked`` (the person blocked the bot
or left: stop writing to them, pause their reminders); ``failed`` (a refusal or a network
failure that the front end's own retries did not cure — the caller may try again later).
A ``failed`` notice whose detail starts with :data:`NO_DIRECT_CHAT` could not reach someone
because they never opened a direct chat with the bot (Telegram lets a bot write to a person
only after they did): not a block, and the core tells them the fix. One whose detail starts
with :data:`DMS_CLOSED` could not reach someone because their privacy settings refuse direct
messages from the bot (Discord: DMs closed for the servers they share with it): not a block
either — nothing is paused, and the front end tells them in the server how to open them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from core.kernel.types import Outbound


class DeliveryStatus(StrEnum):
    """How one notice ended."""

    SENT = "sent"
    BLOCKED = "blocked"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """The outcome of one notice; ``detail`` is a short reason for the logs (never a secret)."""

    status: DeliveryStatus
    detail: str = ""

    @property
    def sent(self) -> bool:
        """True when the platform accepted every message of the notice."""
        return self.status is DeliveryStatus.SENT


SENT = DeliveryResult(DeliveryStatus.SENT)

#: How a ``failed`` detail starts when the person never opened a direct chat with the bot.
NO_DIRECT_CHAT = "no direct chat"


def no_direct_chat(platform_words: str) -> DeliveryResult:
    """``failed``: the person has no direct chat with the bot yet (the platform's words after)."""
    return DeliveryResult(
        DeliveryStatus.FAILED,
        f"{NO_DIRECT_CHAT}: they must open a private chat with the bot first ({platform_words})"[
            :200
        ],
    )


#: How a ``failed`` detail starts when the person's settings refuse direct messages from the bot.
DMS_CLOSED = "dms closed"


def dms_closed(platform_words: str) -> DeliveryResult:
    """``failed``: the person's privacy settings refuse the bot's direct messages (the
    platform's words after). Usually on purpose for one server, rarely for good: not a block."""
    return DeliveryResult(
        DeliveryStatus.FAILED,
        f"{DMS_CLOSED}: their settings refuse direct messages from the bot ({platform_words})"[
            :200
        ],
    )


class Notifier(Protocol):
    """Carries notices on one platform (Telegram, Discord, the terminal)."""

    platform: str

    async def notify(self, chat_id: str, replies: Sequence[Outbound]) -> DeliveryResult:
        """Send ``replies`` as new messages to ``chat_id``; never edits, never raises for a
        platform refusal (that is a ``blocked`` or ``failed`` result)."""
        ...


def by_platform(*notifiers: Notifier) -> Mapping[str, Notifier]:
    """The notifiers of a process keyed by platform, as the reminder tick and broadcast use them."""
    mapping: dict[str, Notifier] = {}
    for notifier in notifiers:
        if notifier.platform in mapping:
            raise ValueError(f"two notifiers for {notifier.platform!r}")
        mapping[notifier.platform] = notifier
    return mapping
