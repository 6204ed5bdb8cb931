"""The terminal's :class:`~core.kernel.notify.Notifier`: nudges appear in ``coach chat``.

``coach chat`` runs the reminder worker in its own process against the same database, so a
nudge that falls due while you chat is printed between your messages, with numbered buttons
like any reply (typing the number presses it). Only the musician of this terminal can be
reached here: a nudge for another console user is ``failed`` (retried, then given up), which
only happens when several people share one SQLite file.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.console.chat import ConsoleChat
from core.kernel.notify import SENT, DeliveryResult, DeliveryStatus
from core.kernel.types import Outbound


class ConsoleNotifier:
    """Prints notices into one terminal chat."""

    platform = "console"

    def __init__(self, chat: ConsoleChat, *, prompt: str = "") -> None:
        self.chat = chat
        self.prompt = prompt

    async def notify(self, chat_id: str, replies: Sequence[Outbound]) -> DeliveryResult:
        """Show the nudge (never as an edit) if it is for this terminal's musician."""
        if chat_id != self.chat.user:
            return DeliveryResult(DeliveryStatus.FAILED, "not this terminal's musician")
        if self.prompt:
            self.chat.out.write("\n")
        for reply in replies:
            self.chat.show(reply.model_copy(update={"edit": False}))
        if self.prompt:
            self.chat.out.write(self.prompt)
            self.chat.out.flush()
        return SENT
