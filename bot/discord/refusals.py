"""What a Discord refusal means, and telling someone whose DMs are closed how to open them.

Discord answers a refused send with a JSON error code (``HTTPException.code``); only one of
them says the person is gone (modelled on ``bot/telegram/forbidden.py``):

* ``10013 Unknown User`` — no such account any more (deleted): :attr:`Refusal.GONE`. The
  identity is marked unreachable, which pauses their reminders.
* ``50007 Cannot send messages to this user`` — Discord won't let the bot DM them. Almost
  always their privacy setting: *Allow direct messages from server members* is off for the
  servers they share with the bot (the default for big servers, and a click away in any).
  It is also what a person who blocked the bot looks like; Discord does not tell the two
  apart. Either way it is :attr:`Refusal.DMS_CLOSED`: a failed notice with
  ``core.kernel.notify.DMS_CLOSED`` as its reason (retried like any failure), nothing paused — and
  the next time they use the bot in a server they are told, privately, how to open their DMs
  (:class:`ClosedDmsNote`). Pausing on 50007 used to stop the nudges of everyone whose DMs
  happened to be closed, silently and for good.
* ``50001 Missing Access``, ``50013 Missing Permissions``, ``10003 Unknown Channel`` — the
  bot can't post in a channel (removed from the server, a permission taken away, the channel
  deleted): :attr:`Refusal.NOT_IN_CHANNEL`. Nobody's account is affected.
* anything else — :attr:`Refusal.OTHER`: a failure, logged, never taken as "gone".
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import TypeVar

V = TypeVar("V")

#: Discord's JSON error codes this module reads.
UNKNOWN_USER, CANNOT_DM = 10013, 50007
UNKNOWN_CHANNEL, MISSING_ACCESS, MISSING_PERMISSIONS = 10003, 50001, 50013

#: The note a person whose DMs are closed gets, privately, in the server. Discord's own words
#: for the setting, so they can find it.
CLOSED_DMS_NOTE = (
    "📭 I couldn't send you your last reminder or announcement: your direct messages are "
    "closed to me. To get them, open this server's menu (tap or click the server's name) → "
    "**Privacy Settings** → switch on **Direct Messages** (*Allow direct messages from server "
    "members*)."
)


class Refusal(StrEnum):
    """The kinds of Discord refusal the front end tells apart."""

    GONE = "gone"
    DMS_CLOSED = "dms_closed"
    NOT_IN_CHANNEL = "not_in_channel"
    OTHER = "other"


def classify(code: int, *, to_person: bool) -> Refusal:
    """The kind of refusal a Discord error ``code`` stands for, on a DM to a person
    (``to_person``) or a post in a channel."""
    if code == UNKNOWN_USER:
        return Refusal.GONE
    if code == CANNOT_DM and to_person:
        return Refusal.DMS_CLOSED
    if code in {UNKNOWN_CHANNEL, MISSING_ACCESS, MISSING_PERMISSIONS}:
        return Refusal.NOT_IN_CHANNEL
    return Refusal.OTHER


class ClosedDmsNote:
    """Decides whether a person using the bot in a server gets :data:`CLOSED_DMS_NOTE`.

    The fact (their latest notice failed because their DMs are closed) is in the database,
    shared by every process: ``lookup`` asks it and returns that notice's id. What this class
    keeps in memory is only courtesy: the notice each person was already told about (told
    once per failed notice, per process — a restart may say it once more), and, for a minute,
    that someone had nothing to be told (so a burst of button presses costs one query, not
    one each). Both are bounded; the oldest entries go first.
    """

    QUIET_FOR = 60.0
    MAX_PEOPLE = 10_000

    def __init__(
        self,
        lookup: Callable[[str], Awaitable[str | None]],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._clock = clock
        self._told: OrderedDict[str, str] = OrderedDict()
        self._clear_until: OrderedDict[str, float] = OrderedDict()

    async def pending(self, user_id: str) -> str | None:
        """The failed notice to tell ``user_id`` about now, if any (not told yet)."""
        until = self._clear_until.get(user_id)
        if until is not None and self._clock() < until:
            return None
        notice = await self._lookup(user_id)
        if notice is None:
            _remember(self._clear_until, user_id, self._clock() + self.QUIET_FOR)
            return None
        self._clear_until.pop(user_id, None)
        return None if self._told.get(user_id) == notice else notice

    def told(self, user_id: str, notice: str) -> None:
        """They have seen the note about ``notice``."""
        _remember(self._told, user_id, notice)

    def refused(self, user_id: str) -> None:
        """This process just saw their DMs refused: look again at their next interaction."""
        self._clear_until.pop(user_id, None)


def _remember(memory: OrderedDict[str, V], key: str, value: V) -> None:
    memory[key] = value
    memory.move_to_end(key)
    while len(memory) > ClosedDmsNote.MAX_PEOPLE:
        memory.popitem(last=False)
