"""From Telegram's raw updates to the PTB application, through the durable inbox.

Polling (:mod:`bot.telegram.polling`) and the webhook (:mod:`bot.telegram.webhook`) both hand
what Telegram sent to :meth:`Intake.accept`: each update is read with PTB's public
``Update.de_json``, written down in the inbox (``core/inbox.py``, one statement per batch) and
only then put on the application's ``update_queue``, where PTB and
:class:`~bot.telegram.app.PerChatOrder` process it as before. Only after ``accept`` returned
may the caller confirm the batch to Telegram (the next ``getUpdates`` offset, the webhook's
``200``). When a handler is done, :class:`~bot.telegram.app.PerChatOrder` calls
:meth:`Intake.done` and the row goes.

An update PTB cannot read is logged (its id and the error, never its content) and skipped: it
is acknowledged like any other, so Telegram does not send it again and again, and it is not
written down, since no later attempt could read it either.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from telegram import Bot, Update
from telegram.ext import Application

from core.inbox import Entry, Inbox

logger = logging.getLogger(__name__)

JSONDict = dict[str, Any]


def update_id_of(raw: object) -> int | None:
    """The ``update_id`` of a raw update, if it has a proper one."""
    if isinstance(raw, dict):
        value = raw.get("update_id")
        if type(value) is int:
            return value
    return None


class Intake:
    """Writes updates down, then feeds them to the application (see the module docstring).

    Args:
        bot: The bot the updates are read for (PTB binds it to every object).
        application: Whose ``update_queue`` gets the updates.
        inbox: Where they are written down.
    """

    def __init__(
        self, bot: Bot, application: Application[Any, Any, Any, Any, Any, Any], inbox: Inbox
    ):
        self.bot = bot
        self.application = application
        self.inbox = inbox
        #: Updates acknowledged without handling because PTB could not read them.
        self.unreadable = 0

    def read(self, raw: object) -> Update | None:
        """The update as PTB's object, or ``None`` (logged) when PTB cannot read it."""
        update_id = update_id_of(raw)
        if update_id is None:
            self.unreadable += 1
            logger.warning("a telegram update without an update_id was skipped")
            return None
        try:
            return Update.de_json(raw, self.bot)  # type: ignore[arg-type]
        except Exception as exc:  # whatever a malformed field makes PTB raise
            self.unreadable += 1
            logger.warning(
                "telegram update %s could not be read (%s: %s); acknowledged and skipped",
                update_id,
                type(exc).__name__,
                str(exc)[:200],
            )
            return None

    async def accept(self, raws: Sequence[object]) -> None:
        """Write the readable updates down, then queue the new ones for the handlers.

        Raises whatever the database raised: then nothing is queued, and the caller must not
        confirm the batch (Telegram sends it again).
        """
        readable: list[tuple[Entry, Update]] = []
        for raw in raws:
            update = self.read(raw)
            if update is None:
                continue
            try:
                payload = json.dumps(raw)
            except (TypeError, ValueError, RecursionError) as exc:  # pragma: no cover - PTB read it
                logger.warning("telegram update %s not stored: %s", update.update_id, exc)
                continue
            chat = update.effective_chat
            entry = Entry(update.update_id, payload, chat.id if chat is not None else None)
            readable.append((entry, update))
        if not readable:
            return
        new = await self.inbox.put([entry for entry, _ in readable])
        for entry, update in readable:
            if entry.update_id in new:  # one already there is being (or was) handled
                await self.application.update_queue.put(update)

    async def resume(self, *, everything: bool) -> int:
        """Queue what the inbox holds for this worker to take over; how many were queued.

        ``everything``: the polling worker at start (the only consumer: whatever is there was
        left by its predecessor); else only rows whose lease ran out (webhook workers).
        """
        entries = await (self.inbox.take_all() if everything else self.inbox.take_orphans())
        queued = 0
        for entry in entries:
            try:
                raw = json.loads(entry.payload)
            except ValueError:  # pragma: no cover - only valid JSON is ever written
                raw = None
            update = self.read(raw)
            if update is None:
                self.inbox.finished(entry.update_id)
                continue
            await self.application.update_queue.put(update)
            queued += 1
        if entries:
            logger.info(
                "telegram: %d update(s) left in the inbox taken over and queued", len(entries)
            )
        return queued

    def done(self, update: object) -> None:
        """A handler finished with this update: its inbox row can go."""
        if isinstance(update, Update):
            self.inbox.finished(update.update_id)
