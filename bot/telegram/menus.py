"""Telegram's command menus, built from the core's registry, one per scope.

Telegram shows a chat the menu of the most specific scope that has one (``setMyCommands`` with a
``scope``), so the coach publishes:

* **all private chats** (``BotCommandScopeAllPrivateChats``): the commands offered in a private
  chat to everyone;
* **all group chats** (``BotCommandScopeAllGroupChats``): the commands offered in a group to
  everyone, then a band's own (``/band``, ``/assign``: any group may be a band, issue #17);
* **each bot admin's private chat** (``BotCommandScopeChat``; a private chat's id is the
  person's user id): the private menu plus the admin-audience commands (``/admin``) — for every
  ``telegram:<id>`` in ``COACH_ADMINS`` and every Telegram identity of a user holding the admin
  role (:meth:`core.admin.access.Access.admins_on`). Nobody else is offered ``/admin``; the core
  checks every call anyway;
* **the default scope**: the private menu. Nobody sees it while the two above exist; it
  replaces what earlier versions put there (a menu with ``/admin`` for everyone).

When: at start (:meth:`Menus.publish`, from ``TelegramFrontEnd.register_commands``); after a
``/admin grant`` or ``revoke`` handled by this process (the core's
:meth:`~core.admin.access.Access.on_roles_changed`): the person's chat scope is published again,
or deleted so they fall back to the private menu — in the background, the admin's answer never
waits for Telegram. Telegram refuses the scope of a chat it doesn't have ("chat not found": the
admin never opened a private chat with the bot); such an admin is remembered and their menu
published at their first private message (:meth:`Menus.seen`).

Telegram's limits are kept here: at most 100 commands a scope, names ``[a-z0-9_]{1,32}`` (a
name outside that is left out and logged), descriptions of 1–256 characters (cut).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, Final

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
)
from telegram.error import BadRequest, TelegramError

from core.admin.access import Access
from core.kernel.registry import Command, Registry
from core.observe.context import ref

logger = logging.getLogger(__name__)

#: Telegram's limits on ``setMyCommands``.
MAX_COMMANDS: Final = 100
MAX_DESCRIPTION: Final = 256
_NAME: Final = re.compile(r"[a-z0-9_]{1,32}")
#: Where a person's identities on Telegram are in ``platform:id`` labels.
_PREFIX: Final = "telegram:"


def bot_commands(commands: Iterable[Command]) -> list[BotCommand]:
    """The registry's commands as Telegram takes them (see the module's limits)."""
    out: list[BotCommand] = []
    for command in commands:
        if not _NAME.fullmatch(command.name):
            logger.warning("telegram: /%s can't be in a menu (a-z, 0-9, _ only)", command.name)
            continue
        out.append(BotCommand(command.name, (command.help or command.name)[:MAX_DESCRIPTION]))
    if len(out) > MAX_COMMANDS:
        logger.warning("telegram: %d commands, a menu shows the first %d", len(out), MAX_COMMANDS)
    return out[:MAX_COMMANDS]


def group_menu(registry: Registry) -> list[Command]:
    """A group's commands: the solo ones offered in a group, then the band's own (``/band``,
    ``/assign``) — any Telegram group may be a band (``/band create`` makes it one), and one
    menu serves every group."""
    group = registry.menu("group", ("everyone",))
    names = {command.name for command in group}
    return group + [c for c in registry.menu("band", ("everyone",)) if c.name not in names]


class Menus:
    """Publishes the menus of one bot and keeps the admins' up to date."""

    def __init__(self, bot: Bot, access: Access, registry: Registry) -> None:
        self.bot = bot
        self.access = access
        self.private = bot_commands(registry.menu("private", ("everyone",)))
        self.group = bot_commands(group_menu(registry))
        self.admin = bot_commands(registry.menu("private", ("everyone", "admins")))
        #: Admins whose chat Telegram didn't know when their menu was due.
        self.waiting: set[str] = set()
        self._unsubscribe: Callable[[], None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def publish(self) -> None:
        """Every scope: the shared menus, then each admin's chat.

        Raises:
            TelegramError: a shared menu was refused, or Telegram could not be reached (the
                caller's start fails and is tried again); an admin's chat that Telegram refuses
                is only logged and waits for their first message.
        """
        if self._unsubscribe is None:
            self._unsubscribe = self.access.on_roles_changed(self._roles_changed)
        await self.bot.set_my_commands(self.private)
        await self.bot.set_my_commands(self.private, scope=BotCommandScopeAllPrivateChats())
        await self.bot.set_my_commands(self.group, scope=BotCommandScopeAllGroupChats())
        for user_id in await self.access.admins_on("telegram"):
            await self._publish_admin(user_id)

    def seen(self, user_id: str) -> None:
        """Someone wrote in their private chat: an admin whose menu was waiting for that chat
        gets it now (in the background)."""
        if user_id in self.waiting:
            self.waiting.discard(user_id)  # once: a refused publish puts them back
            self._spawn(self._refresh([user_id]))

    async def close(self) -> None:
        """Stop listening for role changes and finish nothing half-way (tasks cancelled)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        tasks, self._tasks = self._tasks, set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ------------------------------------------------------------------ internals

    async def _roles_changed(self, identities: frozenset[str]) -> None:
        ids = [i.removeprefix(_PREFIX) for i in identities if i.startswith(_PREFIX)]
        if ids:
            self._spawn(self._refresh(ids))

    async def _refresh(self, user_ids: Iterable[str]) -> None:
        """Publish or clear each person's chat scope by what they are now."""
        for user_id in user_ids:
            try:
                actor = await self.access.actor("telegram", user_id)
                if self.access.is_bot_admin(actor):
                    await self._publish_admin(user_id)
                else:
                    self.waiting.discard(user_id)
                    await self._clear(user_id)
            except TelegramError as exc:
                self.waiting.add(user_id)
                logger.warning(
                    "telegram: the menu of %s was not updated: %s", ref("telegram", user_id), exc
                )
            except Exception:  # the database, say: the menu stays as it was
                logger.exception(
                    "telegram: the menu of %s was not updated", ref("telegram", user_id)
                )

    async def _publish_admin(self, user_id: str) -> None:
        if not user_id.isdecimal():
            logger.warning("telegram: admin id %r is not a user id; no admin menu", user_id)
            return
        try:
            await self.bot.set_my_commands(self.admin, scope=BotCommandScopeChat(int(user_id)))
        except BadRequest as exc:  # "chat not found": no private chat with the bot yet
            self.waiting.add(user_id)
            logger.info(
                "telegram: admin menu of %s waits for their chat: %s", ref("telegram", user_id), exc
            )
            return
        self.waiting.discard(user_id)

    async def _clear(self, user_id: str) -> None:
        if not user_id.isdecimal():
            return
        try:
            await self.bot.delete_my_commands(scope=BotCommandScopeChat(int(user_id)))
        except BadRequest as exc:  # a chat Telegram doesn't know has no menu of its own
            logger.info(
                "telegram: no admin menu to clear for %s: %s", ref("telegram", user_id), exc
            )

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work, name="telegram:menus")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
