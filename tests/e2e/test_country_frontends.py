"""The musician's country on the front ends (issue #15 §2): ``/country`` through the real
python-telegram-bot against the fake Bot API (listed in the command menu, a name in another
language read, the profile changed) and through the real discord.py — a slash command with its
option in a DM, and in a band's server, where only a manager changes the band's country and a
member's try is refused and audited.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from coachkit import synced_coach
from discordkit import ANA, BEN, Bench, running
from sqlalchemy import select
from telegramkit import MAYA, TelegramChat, telegram_chat

from core.db.engine import Database
from core.db.models import Band, Profile
from core.kernel.audit import latest


@contextlib.asynccontextmanager
async def _telegram(database: Database) -> AsyncIterator[TelegramChat]:
    coach = await synced_coach(database)
    async with telegram_chat(coach) as chat:
        yield chat


async def _solo_country(database: Database) -> str | None:
    """The one solo profile's country that is set (a band member's own profile has none)."""
    async with database.transaction() as session:
        found = (
            await session.scalars(
                select(Profile.country).where(
                    Profile.band_id.is_(None), Profile.country.is_not(None)
                )
            )
        ).all()
    assert len(found) <= 1, found
    return found[0] if found else None


async def _band_country(database: Database) -> str | None:
    async with database.transaction() as session:
        return (
            await session.scalars(select(Profile.country).join(Band, Band.id == Profile.band_id))
        ).one()


async def test_telegram_country_command(database: Database) -> None:
    async with _telegram(database) as chat:
        await chat.say("/start")
        await chat.say("Maya")
        await chat.press("Indie")
        menu = chat.fake.commands_for({"type": "all_private_chats"})
        assert any(c["command"] == "country" for c in menu), "in the / menu"
        shown = await chat.say("/country")
        assert "isn't set yet" in shown.plain_text
        changed = await chat.say("/country Deutschland")
        assert "Got it: <b>Germany (DE)</b>" in (changed.text or "")  # Telegram's HTML
        assert await _solo_country(database) == "DE"
        wrong = await chat.say("/country Atlantis")
        assert "I don't know the country “Atlantis”" in wrong.plain_text
        assert await _solo_country(database) == "DE"
        assert chat.chat == MAYA


async def _dm_command(bench: Bench, user: int, name: str, **options: object) -> str:
    iid = bench.fake.user_runs_command_in_dm(user, name, **options)
    return (await bench.answered(iid)).texts()


async def test_discord_country_in_a_dm_and_in_the_band(database: Database) -> None:
    async with running(database) as bench:
        # a DM: the slash command with its option; Discord's locale (en-US) is only a hint
        await _dm_command(bench, ANA, "start")
        before = len(bench.fake.dm_messages(ANA))
        bench.fake.dm_message(ANA, "Ana")  # the artist name
        await bench.fake.wait_for(lambda: len(bench.fake.dm_messages(ANA)) > before)
        await bench.settled()
        shown = await _dm_command(bench, ANA, "country")
        assert "isn't set yet (your language setting says United States (US))" in shown
        changed = await _dm_command(bench, ANA, "country", country="United Kingdom")
        assert "Got it: **United Kingdom (GB)**" in changed  # Discord's Markdown
        assert await _solo_country(database) == "GB"

        # the band: one country, the managers'
        await bench.command(ANA, "band", sub="create", name="The Night Owls")
        await bench.command(BEN, "band", sub="join")
        refused = await bench.command(BEN, "country", country="France")
        assert "Only server managers (Manage Server) can change the band's country" in (
            refused.texts()
        )
        assert await _band_country(database) is None
        seen = await bench.command(BEN, "country")
        assert "The band's country isn't set yet" in seen.texts(), "members may look"
        done = await bench.command(ANA, "country", country="Frankreich")
        assert "Got it: **France (FR)**" in done.texts()
        assert await _band_country(database) == "FR"
        assert await _solo_country(database) == "GB", "Ana's own country is untouched"
        denied = [e for e in await latest(database) if e.action == "band.country"]
        assert [e.outcome for e in denied] == ["denied"]
