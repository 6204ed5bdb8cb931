"""Telegram's command menus per scope, from the registry, against the loopback fake Bot API.

Private chats and groups get everyone's commands; each bot admin's private chat gets ``/admin``
on top — COACH_ADMINS entries and admins granted in the database — and a grant or revoke in chat
redraws that person's menu. Nobody else is offered ``/admin``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from coachkit import synced_coach
from fakes.telegram_api import FakeTelegram

from bot.telegram.app import TelegramFrontEnd
from bot.telegram.menus import MAX_COMMANDS, MAX_DESCRIPTION, bot_commands
from core.app.engine import Coach
from core.db.engine import Database
from core.kernel.registry import Command
from core.kernel.types import Inbound, Outbound

MAYA, LEO, NEW_ADMIN = 1001, 1002, 1003  # Maya is in COACH_ADMINS; so is NEW_ADMIN
PRIVATE = {"type": "all_private_chats"}
GROUPS = {"type": "all_group_chats"}


def _chat(user: int) -> dict[str, object]:
    return {"type": "chat", "chat_id": user}


def _names(commands: list[dict[str, str]]) -> list[str]:
    return [c["command"] for c in commands]


@dataclass
class Rig:
    fake: FakeTelegram
    coach: Coach
    front: TelegramFrontEnd

    async def say(self, user: int, text: str) -> None:
        """``user`` writes in their private chat; wait until the bot answered."""
        before = len(self.fake.messages(user))
        self.fake.user_message(user, text)
        await self.fake.wait_for(lambda: len(self.fake.messages(user)) > before)


@pytest.fixture
async def rig(database: Database) -> AsyncIterator[Rig]:
    coach = await synced_coach(database, admins=[f"telegram:{MAYA}", f"telegram:{NEW_ADMIN}"])
    async with FakeTelegram() as fake:
        fake.open_private_chat(MAYA)
        fake.open_private_chat(LEO, "Leo")
        front = TelegramFrontEnd(coach, fake.token, api_base_url=fake.url)
        await front.start(poll_timeout=1)
        try:
            yield Rig(fake, coach, front)
        finally:
            await front.stop()


async def test_menus_per_scope(rig: Rig) -> None:
    fake, registry = rig.fake, rig.coach.registry
    private = _names(fake.commands_for(PRIVATE))
    assert private == [c.name for c in registry.menu("private", ("everyone",))]
    assert {"start", "today", "link", "export", "help"} <= set(private)
    assert "admin" not in private
    groups = _names(fake.commands_for(GROUPS))
    solo = [c.name for c in registry.menu("group", ("everyone",))]
    assert groups[: len(solo)] == solo
    assert "admin" not in groups
    # any group may be a band (issue #17): the band's own commands follow, once each
    assert set(groups[len(solo) :]) == {"band", "assign"}
    assert "band" not in private, "a band's: a group's or a server's"
    assert _names(fake.commands) == private, "the default scope never offers /admin either"
    mine = _names(fake.commands_for(_chat(MAYA)))
    assert "admin" in mine
    assert [n for n in mine if n != "admin"] == private
    assert fake.commands_for(_chat(LEO)) == [], "no menu of his own: the private one"
    assert all(1 <= len(c["description"]) <= 256 for c in fake.commands_for(_chat(MAYA)))


async def test_an_admin_without_a_private_chat_gets_the_menu_at_their_first_message(
    rig: Rig,
) -> None:
    fake = rig.fake
    assert fake.commands_for(_chat(NEW_ADMIN)) == [], "Telegram: chat not found"
    assert str(NEW_ADMIN) in rig.front.menus.waiting
    await rig.say(NEW_ADMIN, "/start")
    await fake.wait_for(lambda: "admin" in _names(fake.commands_for(_chat(NEW_ADMIN))))
    assert not rig.front.menus.waiting


async def test_grant_and_revoke_redraw_the_persons_menu(rig: Rig) -> None:
    fake = rig.fake
    await rig.say(LEO, "/start")
    await rig.say(MAYA, "/start")
    await rig.say(MAYA, f"/admin grant telegram:{LEO}")
    assert "now a bot admin" in fake.last(MAYA).plain_text
    await fake.wait_for(lambda: "admin" in _names(fake.commands_for(_chat(LEO))))
    await rig.say(MAYA, f"/admin revoke telegram:{LEO}")
    assert "no longer a bot admin" in fake.last(MAYA).plain_text
    await fake.wait_for(lambda: fake.commands_for(_chat(LEO)) == [])
    # a COACH_ADMINS admin can't be revoked in chat: their menu stays
    await rig.say(MAYA, f"/admin revoke telegram:{MAYA}")
    assert "COACH_ADMINS" in fake.last(MAYA).plain_text
    await rig.say(MAYA, "/help")  # anything in the background had its time
    assert "admin" in _names(fake.commands_for(_chat(MAYA)))


async def test_admins_granted_in_the_database_get_their_menu_at_start(database: Database) -> None:
    coach = await synced_coach(database, admins=[f"telegram:{MAYA}"])

    def said(user: int, text: str) -> Inbound:
        return Inbound(
            platform="telegram", user_id=str(user), chat_id=str(user), kind="command", text=text
        )

    await coach.handle(said(LEO, "/start"))
    replies: list[Outbound] = await coach.handle(said(MAYA, f"/admin grant telegram:{LEO}"))
    assert "now a bot admin" in replies[0].text
    restarted = Coach(database)  # COACH_ADMINS no longer lists anyone: Leo is in the database
    async with FakeTelegram() as fake:
        fake.open_private_chat(LEO, "Leo")
        fake.open_private_chat(MAYA)
        front = TelegramFrontEnd(restarted, fake.token, api_base_url=fake.url)
        await front.start(poll_timeout=1)
        try:
            assert "admin" in _names(fake.commands_for(_chat(LEO)))
            assert fake.commands_for(_chat(MAYA)) == []
            assert await restarted.access.admins_on("telegram") == [str(LEO)]
            assert await restarted.access.admins_on("discord") == []
        finally:
            await front.stop()


async def _nothing(*_args: object) -> list[Outbound]:
    return []


def test_telegrams_limits_are_kept() -> None:
    def command(name: str, help_: str = "help") -> Command:
        return Command(name, help_, "test", _nothing)

    made = bot_commands(
        [command("ok_1"), command("Bad-Name"), command("x" * 33), command("long", "y" * 300)]
    )
    assert [c.command for c in made] == ["ok_1", "long"]
    assert len(made[1].description) == MAX_DESCRIPTION
    many = bot_commands(command(f"c{n}") for n in range(MAX_COMMANDS + 5))
    assert len(many) == MAX_COMMANDS
