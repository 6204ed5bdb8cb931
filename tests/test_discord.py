"""The Discord front end end to end: the real discord.py client against the loopback fake."""

from __future__ import annotations

from discordkit import ANA, BEN, CHANNEL, running

from core.db.engine import Database


async def test_band_create_in_a_server(database: Database) -> None:
    async with running(database) as bench:
        inter = await bench.command(ANA, "band", sub="create", name="Night Owls")
        assert "Night Owls" in inter.texts()
        assert inter.callback_type == 4
        inter = await bench.command(BEN, "band", sub="join")
        assert "Welcome to" in inter.texts()
        assert bench.fake.messages(CHANNEL)
