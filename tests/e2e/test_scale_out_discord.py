"""Two Discord shards in two ``coach run`` processes serving one bot, one PostgreSQL (issue #16
§3): ``DISCORD_SHARD_ID=0|1 DISCORD_SHARD_COUNT=2``, against the loopback fake Discord, which
delivers each server's events only on shard ``(guild_id >> 22) % 2`` and DMs on shard 0, as
Discord does. Each band's slash commands are answered by its shard's process only (each
process counts what it handled on its own ``/metrics``), a DM by shard 0's, and the bands'
reminders and weekly digests — claimed from the shared database by both processes' job
runners — arrive once each. Both shards are ready on their own ``/readyz``.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections import Counter
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from coachkit import free_port, synced_coach
from fakes.discord_api import FakeDiscord, FakeMessage
from scaleoutkit import dsn, make_due, wait_until
from workerkit import WorkerProcesses

from core.db.engine import Database

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

#: Four servers, two on each shard: the shard of a server is (id >> 22) % 2.
GUILDS = [(900 + i) << 22 | 5 for i in range(4)]
DM_USER = 100_000_000_000_000_099


def _channel(guild: int) -> int:
    return guild + 1


def _manager(guild: int) -> int:
    return 100_000_000_000_000_000 + (guild >> 22)


def _env(fake: FakeDiscord, shard: int | None = None, port: int | None = None) -> dict[str, str]:
    env = {
        "DISCORD_BOT_TOKEN": fake.token,
        "DISCORD_API_BASE_URL": fake.api_base,
        "DISCORD_GATEWAY_URL": fake.gateway,
        "TELEGRAM_BOT_TOKEN": "",
    }
    if shard is not None:
        env |= {"DISCORD_SHARD_ID": str(shard), "DISCORD_SHARD_COUNT": "2"}
    if port is not None:
        env |= {"HEALTH_PORT": str(port)}
    return env


async def _sync_commands(fake: FakeDiscord) -> None:
    """``coach discord sync-commands``, as an operator runs it before the shards start."""
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot.cli", "discord", "sync-commands"),
        env={**os.environ, **_env(fake)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, (out + err).decode()[-2000:]


async def _answered(fake: FakeDiscord, iid: int) -> None:
    inter = fake.interaction(iid)
    await fake.wait_for(lambda: inter.acked or bool(inter.errors), timeout=30)
    assert not inter.errors, inter.errors


async def _band(fake: FakeDiscord, guild: int) -> None:
    """The manager makes a band, picks the indie roadmap, sets a reminder and the digest."""
    chan, who = _channel(guild), _manager(guild)
    await _answered(
        fake,
        fake.member_runs_command(
            guild, chan, who, "band", sub="create", name=f"Band {guild >> 22}"
        ),
    )
    start = fake.member_runs_command(guild, chan, who, "start")
    await _answered(fake, start)

    def menu() -> FakeMessage | None:
        return next(
            (
                m
                for m in fake.interaction(start).messages()
                if any("Indie" in b for b, _ in m.buttons())
            ),
            None,
        )

    await fake.wait_for(lambda: menu() is not None, timeout=30)
    shown = menu()
    assert shown is not None
    await _answered(fake, fake.press_button(who, shown, shown.button("Indie")))
    await _answered(fake, fake.member_runs_command(guild, chan, who, "remind", when="daily 18:00"))
    await _answered(fake, fake.member_runs_command(guild, chan, who, "band", sub="channel"))


async def _handled(port: int) -> int:
    """Discord events this process handled, from its ``/metrics``."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/metrics") as response,
    ):
        text = await response.text()
    found = re.findall(r'^coach_events_total\{[^}]*platform="discord"[^}]*\} (\S+)$', text, re.M)
    return int(sum(float(v) for v in found))


async def test_two_shards_in_two_processes_each_serve_their_servers(
    pg_database: Database, tmp_path: Path
) -> None:
    await synced_coach(pg_database)
    shards = {0: free_port(), 1: free_port()}
    async with FakeDiscord() as fake:
        for guild in GUILDS:
            fake.add_guild(guild, f"Venue {guild >> 22}", channels=[_channel(guild)])
            fake.add_member(guild, _manager(guild), f"Manager {guild >> 22}", manage=True)
        fake.add_member(GUILDS[0], DM_USER, "Dee")
        assert sorted((g >> 22) % 2 for g in GUILDS) == [0, 0, 1, 1]  # two on each shard
        await _sync_commands(fake)
        workers = WorkerProcesses(tmp_path)
        conn = await asyncpg.connect(dsn(pg_database.url))
        try:
            await asyncio.gather(
                *(
                    workers.launch_coach_run(
                        f"shard{shard}",
                        pg_database.url,
                        env=_env(fake, shard, port),
                        ready="connected to the gateway",
                    )
                    for shard, port in shards.items()
                )
            )
            assert sorted(fake.identified_shards) == [(0, 2), (1, 2)]
            for port in shards.values():
                async with (
                    aiohttp.ClientSession() as http,
                    http.get(f"http://127.0.0.1:{port}/readyz") as response,
                ):
                    body = await response.json()
                    assert response.status == 200, body
                    assert body["checks"]["discord"] == "ok"

            await asyncio.gather(*(_band(fake, guild) for guild in GUILDS))
            await _answered(fake, fake.user_runs_command_in_dm(DM_USER, "start"))

            # Each process handled exactly what its shard was sent: its servers (and DMs on 0).
            sent = Counter(s for event, s in fake.dispatched_to if event == "INTERACTION_CREATE")
            assert sent[0] > 0
            assert sent[1] > 0
            for shard, port in shards.items():
                await wait_until(
                    lambda port=port, shard=shard: _eq(_handled(port), sent[shard]),
                    within=10,
                    what=f"shard {shard}'s metrics to count {sent[shard]} events",
                )
            assert ("INTERACTION_CREATE", 0) == fake.dispatched_to[-1]  # the DM: shard 0

            # Every band's reminder and weekly digest, claimed by both processes' job runners
            # from the one database, arrives once.
            targets = [f"c:{_channel(g)}" for g in GUILDS]
            before = {g: len(fake.messages(_channel(g))) for g in GUILDS}
            due = await make_due(conn, targets, platform="discord", weekly="digest")
            assert due == 2 * len(GUILDS)
            await wait_until(
                lambda: conn.fetchval(
                    "SELECT count(*) = $1 FROM deliveries d JOIN reminders r "
                    "ON r.id = d.reminder_id WHERE r.band_id IS NOT NULL AND d.status = 'sent'",
                    due,
                ),
                within=60,
                what="the bands' reminders and digests",
            )
            await asyncio.sleep(1.5)  # a second copy would have arrived by now
            new = {g: fake.messages(_channel(g))[before[g] :] for g in GUILDS}
        finally:
            await conn.close()
            await workers.stop_all()
        for guild, messages in new.items():
            assert len(messages) == 2, (guild, [m.text()[:80] for m in messages])
            assert any("Time for your music" in m.text() for m in messages)


async def _eq(value: object, want: int) -> bool:
    return await value == want  # type: ignore[misc]
