"""Invites and deep links on both platforms (issue #17 §2), end to end: the real discord.py
client and python-telegram-bot application on one coach, against the loopback fakes.

A manager's ``/band invite`` in the Discord server answers with a code and — since the Telegram
front end told the coach its bot's username at start — a ``t.me/<bot>?start=inv-…`` link; a
Telegram user opens it (Telegram sends ``/start inv-…``) and is in the band, while the used
code and, a week later on the injected clock, an expired one are refused on Discord. ``/link``
in a Discord DM offers the one-tap Telegram link that completes the link there. ``/start``
with a tracking tag or an unknown payload gets its answer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from bandkit import member_identities
from coachkit import synced_coach
from discordkit import ANA, CLEO, Bench, front_end, world
from fakes.discord_api import FakeDiscord
from fakes.telegram_api import FakeTelegram
from reminderkit import FakeClock
from sqlalchemy import select
from telegramkit import TelegramChat

from bot.telegram.app import TelegramFrontEnd
from core.app.start_payloads import UNKNOWN
from core.db.engine import Database
from core.db.models import Identity, User

TOM, LEA = 5001, 5002
_TME = re.compile(r"https://t\.me/(\w+)\?start=((?:inv|lnk)-[A-Z0-9]{16})")
_JOIN = re.compile(r"/join ((?:[A-Z0-9]{4}-){3}[A-Z0-9]{4})")


@dataclass
class Both:
    """One coach behind both running front ends."""

    discord: Bench
    telegram: FakeTelegram
    front: TelegramFrontEnd
    clock: FakeClock

    def chat(self, user: int) -> TelegramChat:
        return TelegramChat(self.telegram, self.front, user)


@asynccontextmanager
async def _both(database: Database) -> AsyncIterator[Both]:
    clock = FakeClock()
    coach = await synced_coach(database, clock=clock)
    async with FakeTelegram() as tg, FakeDiscord() as dc:
        world(dc)
        telegram = TelegramFrontEnd(coach, tg.token, api_base_url=tg.url)
        await telegram.start(poll_timeout=1)
        discord = front_end(dc, coach)
        try:
            await discord.start(ready_timeout=15)
            await discord.sync_commands()
            yield Both(Bench(dc, coach, discord), tg, telegram, clock)
        finally:
            await discord.stop()
            await telegram.stop()


async def test_a_discord_band_invites_a_telegram_musician(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # every logger: the core's, both front ends', the libraries'
    async with _both(database) as both:
        bench = both.discord
        await bench.command(ANA, "band", sub="create", name="Night Owls")
        invited = await bench.command(ANA, "band", sub="invite")
        assert all(m.ephemeral for m in invited.messages()), "only Ana sees the code"
        text = invited.texts()
        link = _TME.search(text)
        assert link is not None, text
        assert link.group(1) == both.telegram.bot_username, "the name Telegram gave at start"
        code = _JOIN.search(text)
        assert code is not None
        assert link.group(2) == "inv-" + code.group(1).replace("-", "")

        tom = both.chat(TOM)
        welcome = await tom.say(f"/start {link.group(2)}")  # what Telegram sends for the link
        assert "Welcome to Night Owls" in welcome.plain_text
        assert ("telegram", str(TOM)) in await member_identities(database)
        used = await both.chat(LEA).say(f"/start {link.group(2)}")
        assert "already been used" in used.plain_text
        again = await bench.answered(
            bench.fake.user_runs_command_in_dm(CLEO, "join", code=code.group(1))
        )
        assert "already been used" in again.texts()

        second = await bench.command(ANA, "band", sub="invite", uses="3")
        fresh = _JOIN.search(second.texts())
        assert fresh is not None
        both.clock.advance(days=7, seconds=1)
        late = await bench.answered(
            bench.fake.user_runs_command_in_dm(CLEO, "join", code=fresh.group(1))
        )
        assert "has expired" in late.texts()
        assert await member_identities(database) == {("discord", str(ANA)), ("telegram", str(TOM))}
        assert ("discord", str(CLEO)) not in await member_identities(database)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "telegram: polling" in logged, "INFO lines were captured"
    for secret in (code.group(1), fresh.group(1)):
        assert secret not in logged
        assert secret.replace("-", "") not in logged, "not even in the /start payload"


async def test_link_from_discord_completes_with_one_tap_on_telegram(database: Database) -> None:
    async with _both(database) as both:
        bench = both.discord
        asked = await bench.answered(bench.fake.user_runs_command_in_dm(ANA, "link"))
        link = _TME.search(asked.texts())
        assert link is not None, asked.texts()
        assert link.group(2).startswith("lnk-")
        linked = await both.chat(TOM).say(f"/start {link.group(2)}")
        assert "Linked" in linked.plain_text
        async with database.transaction() as session:
            owners = set((await session.scalars(select(Identity.user_id))).all())
        assert len(owners) == 1, "Ana's Discord and Tom's Telegram identity are one person"


async def test_start_payloads_on_telegram(database: Database) -> None:
    async with _both(database) as both:
        kim = both.chat(TOM)
        tagged = await kim.say("/start src-instagram")
        assert "artist name" in tagged.plain_text.casefold()
        odd = both.chat(LEA)
        await odd.say("/start what-is-this")
        shown = "\n".join(m.plain_text for m in both.telegram.messages(LEA))
        assert UNKNOWN in shown
        assert "artist name" in shown.casefold(), "followed by the ordinary start"
        expired = await odd.say("/start inv-ABCDEFGHJKLMNPQR")
        assert "don't know that invite" in expired.plain_text
        async with database.transaction() as session:
            tags = set((await session.scalars(select(User.start_tag))).all())
        assert tags == {"instagram", None}
