"""Test helpers for the Discord front end: the fake Discord, a coach, the real discord.py client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from coachkit import synced_coach
from fakes.discord_api import FakeDiscord, FakeInteraction, FakeMessage

from bot.discord.client import DiscordFrontEnd
from core.app.engine import Coach
from core.clock import Clock
from core.db.engine import Database

GUILD, CHANNEL, ROLE = 900_000_000_000_000_001, 900_000_000_000_000_002, 900_000_000_000_000_003
NEWS = 900_000_000_000_000_004  # a second channel of the band's server
OTHER_GUILD, OTHER_CHANNEL = 700_000_000_000_000_001, 700_000_000_000_000_002
ANA, BEN, CLEO = 100_000_000_000_000_001, 100_000_000_000_000_002, 100_000_000_000_000_003


def world(fake: FakeDiscord) -> None:
    """Two servers: the band's (Ana manages it, Ben is in it) and Cleo's."""
    fake.add_guild(GUILD, "The Venue", channels=[CHANNEL, NEWS], roles=[ROLE])
    fake.add_guild(OTHER_GUILD, "Cleo's Place", channels=[OTHER_CHANNEL])
    fake.add_member(GUILD, ANA, "Ana", manage=True)
    fake.add_member(GUILD, BEN, "Ben")
    fake.add_member(GUILD, CLEO, "Cleo")
    fake.add_member(OTHER_GUILD, CLEO, "Cleo", manage=True)


def front_end(fake: FakeDiscord, coach: Coach, **kw: Any) -> DiscordFrontEnd:
    """The real front end pointed at the fake (REST base; the gateway comes from /gateway/bot)."""
    return front_end_at(fake.api_base, coach, **kw)


def front_end_at(api_base: str, coach: Coach, **kw: Any) -> DiscordFrontEnd:
    """The real front end with the fake's token, pointed at ``api_base`` (which may be down)."""
    kw.setdefault("guild_ready_timeout", 0.2)
    return DiscordFrontEnd(coach, FakeDiscord.token, api_base_url=api_base, **kw)


@dataclass
class Bench:
    """A running fake, coach and front end."""

    fake: FakeDiscord
    coach: Coach
    front: DiscordFrontEnd

    async def answered(self, iid: int) -> FakeInteraction:
        """Wait until the interaction is acknowledged (or refused) and the front end is done."""
        inter = self.fake.interaction(iid)
        await self.fake.wait_for(lambda: inter.acked or bool(inter.errors))
        await self.settled()
        return inter

    async def settled(self) -> None:
        """Wait until the front end has finished every answer it is working on."""
        await asyncio.wait_for(self.front.idle(), timeout=10)

    async def command(
        self, user: int, name: str, /, *, sub: str | None = None, **options: object
    ) -> FakeInteraction:
        """A member runs a slash command in the band's channel; its answered interaction."""
        iid = self.fake.member_runs_command(GUILD, CHANNEL, user, name, sub=sub, **options)
        return await self.answered(iid)

    async def dm(self, user: int, text: str) -> list[FakeMessage]:
        """``user`` types ``text`` in their DM with the bot; the messages the bot sent back."""
        before = len(self.fake.dm_messages(user))
        self.fake.dm_message(user, text)
        await self.fake.wait_for(lambda: len(self.fake.dm_messages(user)) > before)
        await self.settled()
        return self.fake.dm_messages(user)[before:]

    async def press(self, user: int, message: FakeMessage, label: str) -> FakeInteraction:
        """Press the button whose label contains ``label``."""
        return await self.answered(self.fake.press_button(user, message, message.button(label)))


@asynccontextmanager
async def running(
    database: Database, *, clock: Clock | None = None, **kw: float
) -> AsyncIterator[Bench]:
    """The fake Discord with :func:`world`, a synced coach (on ``clock`` if given) and a
    started front end whose slash commands are synced globally — so every command a test runs
    must fit them (options, types, where it is offered), as on Discord."""
    async with FakeDiscord() as fake:
        world(fake)
        coach = await synced_coach(database, **({"clock": clock} if clock else {}))
        front = front_end(fake, coach, **kw)
        await front.start(ready_timeout=15)
        await front.sync_commands()
        try:
            yield Bench(fake, coach, front)
        finally:
            await front.stop()
