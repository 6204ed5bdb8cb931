"""What a Telegram group tells the core about its members: who administers the group, and
which commands need to know.

A Telegram group can be a band (issue #17): the core's band logic (:mod:`core.bands.guild`)
decides who may act from ``Inbound.manages_server`` — on Discord the interaction carries the
Manage Server permission; on Telegram nothing in a message says whether its sender is an
admin, so the front end asks ``getChatMember`` (``creator`` or ``administrator``).

Asking costs a Bot API call, so answers are kept for :data:`ADMIN_TTL` seconds — and only
used where a stale answer cannot let anyone do a manager's thing:

* every event the band's own commands and buttons handle (``/band …``, ``/assign``, the band's
  ``/remind``, ``/streak``, the reset button — the registry's ``band`` door, where every
  manager-only action lives) asks Telegram afresh: the rules want the check on every call,
  and a member demoted a second ago must be refused now;
* any other event (a tick, an answer, ``/today``) reads a kept answer if there is one, else
  reports "not an admin": there it only lets a group admin who never joined the band act on
  it, which a demotion a minute ago does not make dangerous.

A failed ``getChatMember`` (Telegram unreachable, the bot not in the group any more) is "not
an admin": refusing a manager's command is safe, allowing it is not.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from telegram import Bot
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

from core.kernel.commands import parse_command
from core.kernel.markup import italic
from core.kernel.registry import Command, Option, Registry, Routed
from core.kernel.types import Card, Inbound, Outbound
from core.observe.context import ref

logger = logging.getLogger(__name__)

#: How long a member's status is kept for events that are no manager's business (seconds).
#: Telegram sends no update when someone is promoted or demoted unless the bot is an admin
#: itself and asks for ``chat_member`` updates, so this is the staleness those events accept.
ADMIN_TTL = 60.0
#: Past this many kept answers, the expired ones are dropped.
MAX_KEPT = 4096
_ADMIN = frozenset({ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR})


@dataclass(frozen=True, slots=True)
class _Kept:
    admin: bool
    until: float


class GroupAdmins:
    """Whether a user administers a group, from ``getChatMember``, kept for :data:`ADMIN_TTL`."""

    def __init__(self, bot: Bot, now: Callable[[], float], ttl: float = ADMIN_TTL) -> None:
        self._bot, self._now, self._ttl = bot, now, ttl
        self._kept: dict[tuple[int, int], _Kept] = {}
        #: ``getChatMember`` calls made (a test reads how often Telegram was asked).
        self.asked = 0

    def kept(self, chat_id: int, user_id: int) -> bool:
        """The kept answer while it is fresh; "not an admin" without one (no call made)."""
        found = self._kept.get((chat_id, user_id))
        return found is not None and found.until > self._now() and found.admin

    async def fresh(self, chat_id: int, user_id: int) -> bool:
        """Ask Telegram now (and keep the answer for :meth:`kept`)."""
        self.asked += 1
        try:
            member = await self._bot.get_chat_member(chat_id, user_id)
        except TelegramError as exc:
            logger.info(
                "telegram: getChatMember in group %s failed (%s): not an admin",
                ref("telegram", chat_id),
                exc,
            )
            self._kept.pop((chat_id, user_id), None)
            return False
        admin = member.status in _ADMIN
        if len(self._kept) >= MAX_KEPT:
            now = self._now()
            self._kept = {key: kept for key, kept in self._kept.items() if kept.until > now}
        self._kept[(chat_id, user_id)] = _Kept(admin, self._now() + self._ttl)
        return admin

    def forget(self, chat_id: int) -> None:
        """Drop what is kept about a group (it moved to a new id, or the bot left it)."""
        self._kept = {key: kept for key, kept in self._kept.items() if key[0] != chat_id}


def band_door(route: Callable[[Inbound], Routed], inbound: Inbound) -> bool:
    """Whether a group event would run through the band's own door if the group is a band:
    a band command or button (where every manager-only action is decided). ``route`` is the
    core's pure router (:meth:`core.app.engine.Coach.route`)."""
    return route(inbound.model_copy(update={"chat_type": "guild"})).door == "band"


def takes_member(registry: Registry) -> Callable[[str], bool]:
    """A test of a command line: does it name a band member (``/assign <task> @member``,
    ``/band remove @member``)? Read from the registry's options: a ``member`` option, or one
    the band's members are suggested for."""

    def member_option(options: tuple[Option, ...]) -> bool:
        return any(o.kind == "member" or o.suggest == "band_members" for o in options)

    def test(text: str) -> bool:
        parsed = parse_command(text)
        if parsed is None:
            return False
        command = registry.command(parsed.name, "band")
        if not isinstance(command, Command):
            return False
        if command.subcommands:
            sub = parsed.args.split(maxsplit=1)[0].casefold() if parsed.args else ""
            found = next((s for s in command.subcommands if s.name == sub), None)
            return found is not None and member_option(found.options)
        return member_option(command.options)

    return test


# ------------------------------------------------------------------------ answers in groups

#: The card forms whose answer is typed (a data-input question, a prompt for a value).
ANSWER_FORMS = frozenset({"question", "prompt"})
#: Under a question in a group: with privacy mode on (the default, and fine), the bot sees a
#: member's message only when it is a command, a mention or a *reply to the bot's message* —
#: so the answer must be a reply.
REPLY_HINT = "↩️ Reply to this message with your answer."
#: A question without buttons opens the reply box for its member only: ``selective`` targets
#: the author of the message it answers (the front end answers the member's own message).
FORCE_REPLY = json.dumps(
    {"force_reply": True, "selective": True, "input_field_placeholder": "Your answer"}
)


def answered_by_reply(reply: Outbound) -> bool:
    """Whether this reply, in a group, asks for a typed answer (so it must be replied to)."""
    return isinstance(reply, Card) and reply.form in ANSWER_FORMS


def with_reply_hint(reply: Outbound) -> Outbound:
    """The question with :data:`REPLY_HINT` under it."""
    return reply.model_copy(update={"text": f"{reply.text}\n\n{italic(REPLY_HINT)}"})
