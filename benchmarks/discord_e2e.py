"""The Discord benchmark, end to end: the real discord.py client against the loopback fake.

Run from the repository root::

    .venv/bin/python benchmarks/discord_e2e.py [--db postgresql://postgres@127.0.0.1:5432/postgres]
        [--users 50] [--duration 10]

One process runs everything: the fake Discord (``tests/support/fakes/discord_api.py``: REST +
gateway on
127.0.0.1), the real ``DiscordFrontEnd`` and the coach on a throwaway PostgreSQL database
``coach_bench_<random>`` (migrated, roadmaps synced, dropped at the end). Because the fake and
the simulated users share the bot's process and its event loop, the figures are a lower bound
for the bot alone (the Telegram benchmark separates them; this one is smaller on purpose).

Users: ``--users`` members of one server's band (the band path: lookup of the band by server,
membership check, the band profile's row lock — all users contend for ONE band, the worst
case), and as many musicians in DMs (the solo path). Each user loops with no think time,
pressing the tick / untick button of their checklist card; a press is one INTERACTION_CREATE
on the gateway, answered by an interaction callback (type 7, the card edited in place).
Latency is from the fake's dispatch to the callback it received (what Discord's 3 s rule
measures). The last line is ``BENCH_JSON {...}``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "support")]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

from fakes.discord_api import FakeDiscord, FakeMessage  # noqa: E402

from benchmarks.benchkit import Run, asyncpg_dsn, cpu_model, say, summary_ms  # noqa: E402
from bot.discord.client import DiscordFrontEnd  # noqa: E402
from core.app.engine import Coach  # noqa: E402
from core.db.engine import Database  # noqa: E402
from core.db.migrate import upgrade_async  # noqa: E402
from core.roadmaps.loader import load_roadmaps  # noqa: E402
from core.roadmaps.sync import sync_roadmaps  # noqa: E402

GUILD, CHANNEL = 910_000_000_000_000_001, 910_000_000_000_000_002
MANAGER = 110_000_000_000_000_000


async def _settle(fake: FakeDiscord, front: DiscordFrontEnd, iid: int) -> None:
    await fake.wait_for(lambda: fake.interaction(iid).acked, timeout=30)
    await front.idle()


def _card(messages: list[FakeMessage]) -> FakeMessage:
    for message in reversed(messages):
        if any(c.startswith("v1:tk:") for _, c in message.buttons()):
            return message
    raise RuntimeError("no checklist card")


async def _loop(
    fake: FakeDiscord, user: int, card: FakeMessage, stop: float, latencies: list[float]
) -> None:
    tick = next(c for _, c in card.buttons() if c.startswith("v1:tk:"))
    untick = tick.replace("v1:tk:", "v1:ut:")
    want = tick
    while time.monotonic() < stop:
        message = fake.messages_by_id[card.id]
        if want not in {c for _, c in message.buttons()}:
            want = untick if want == tick else tick
            continue
        iid = fake.press_button(user, message, want)
        inter = fake.interaction(iid)
        await fake.wait_for(lambda inter=inter: inter.acked or bool(inter.errors), timeout=30)
        if inter.acked_at is not None:
            latencies.append(inter.acked_at - inter.dispatched_at)
        want = untick if want == tick else tick


async def main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING)
    run = Run(asyncpg_dsn(args.db), f"coach_bench_{uuid.uuid4().hex[:8]}")
    facts = await run.create()
    url = f"postgresql://{args.db.split('://', 1)[1].rsplit('/', 1)[0]}/{run.name}"
    db = Database(url)
    try:
        await upgrade_async(url)
        async with db.transaction() as session:
            await sync_roadmaps(session, load_roadmaps())
        async with FakeDiscord() as fake:
            fake.add_guild(GUILD, "Bench", channels=[CHANNEL])
            fake.add_member(GUILD, MANAGER, "Manager", manage=True)
            front = DiscordFrontEnd(
                Coach(db), fake.token, api_base_url=fake.api_base, guild_ready_timeout=0.2
            )
            await front.start()
            try:
                figures = await _measure(fake, front, args)
            finally:
                await front.stop()
    finally:
        await db.dispose()
        await run.drop()
    figures |= {"cpu": cpu_model(), "postgres": facts["server_version"]}
    say(f"BENCH_JSON {json.dumps(figures)}")
    return 0


async def _measure(
    fake: FakeDiscord, front: DiscordFrontEnd, args: argparse.Namespace
) -> dict[str, object]:
    # the band: created by the manager, joined by every member, on the indie roadmap
    iid = fake.member_runs_command(GUILD, CHANNEL, MANAGER, "band", sub="create", name="Bench")
    await _settle(fake, front, iid)
    members = [MANAGER + n for n in range(1, args.users + 1)]
    for user in members:
        fake.add_member(GUILD, user, f"member{user}")
        await _settle(
            fake, front, fake.member_runs_command(GUILD, CHANNEL, user, "band", sub="join")
        )
    start = fake.member_runs_command(GUILD, CHANNEL, MANAGER, "start")
    await _settle(fake, front, start)
    menu = next(m for m in fake.interaction(start).messages() if m.buttons())
    await _settle(fake, front, fake.press_button(MANAGER, menu, menu.button("Indie")))
    today = fake.member_runs_command(GUILD, CHANNEL, MANAGER, "today")
    await _settle(fake, front, today)
    band_card = _card(fake.interaction(today).messages())
    # the solo musicians, each onboarded in their DM
    solo = [MANAGER + 10_000 + n for n in range(args.users)]
    cards = {}
    for user in solo:
        fake.add_user(user, f"solo{user}")
        await _settle(fake, front, fake.user_runs_command_in_dm(user, "start"))
        fake.dm_message(user, f"Solo {user}")
        await fake.wait_for(lambda u=user: any(m.buttons() for m in fake.dm_messages(u)))
        await front.idle()
        menu = next(m for m in reversed(fake.dm_messages(user)) if m.buttons())
        await _settle(fake, front, fake.press_button(user, menu, menu.button("Indie")))
        today = fake.user_runs_command_in_dm(user, "today")
        await _settle(fake, front, today)
        cards[user] = _card(fake.interaction(today).messages())
    results = {}
    for label, users, card_of in (
        ("band (one shared card)", members, lambda _u: band_card),
        ("solo DMs", solo, lambda u: cards[u]),
    ):
        latencies: list[float] = []
        stop = time.monotonic() + args.duration
        began = time.monotonic()
        await asyncio.gather(*(_loop(fake, u, card_of(u), stop, latencies) for u in users))
        elapsed = time.monotonic() - began
        await front.idle()
        rate = round(len(latencies) / elapsed, 1)
        summary = summary_ms(latencies)
        say(f"{label}: {len(users)} users, {rate} presses/s, latency ms {summary}")
        results[label] = {"users": len(users), "per_second": rate, "latency_ms": summary}
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=10.0)
    sys.exit(asyncio.run(main(parser.parse_args())))
