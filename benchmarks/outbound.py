"""The outbound budget benchmark (issue #14 §4): waves drain while musicians chat.

Run from the repository root::

    .venv/bin/python benchmarks/outbound.py [--db postgresql://postgres@127.0.0.1:5432/postgres]
        [--reviews 10000] [--broadcast 5000] [--chatters 20] [--quick]

It creates a throwaway database ``coach_bench_<random>``, migrates it and syncs the bundled
roadmaps, and seeds ``--reviews`` musicians with a Telegram identity, a profile and a reminder
due now, ``--broadcast`` of whom take broadcasts (the others opted out). Then, against the
Telegram loopback fake **with its flood limits enforced** (a send beyond 30/s overall, 20/min
per group or a private chat's burst is refused with 429 and counted as a violation), the real
Telegram front end (PTB, the :class:`~bot.telegram.sending.SlotScheduler`) carries at once:

1. **the wave**: the real :class:`~core.reminders.tick.ReminderTick` (batches of 200, 32 sends
   in flight) drains ``--reviews`` **weekly reviews** (the ``review`` reminder kind, each
   musician's slot an hour or two ago with their own offset, so every one is due now and
   composed for real: done, moved, goal pace, the chooser's top three);
2. **the broadcast**: an admin's broadcast to ``--broadcast`` musicians, confirmed as
   ``/admin`` does (rows spread over their window) and drained by the real
   :class:`~core.admin.broadcast.BroadcastSender`, whose clock is set past the spread window:
   every row is due at once, the worst case (a backlog after an outage);
3. **the chat**: ``--chatters`` musicians onboard through the real bot and keep chatting (a
   command or a button press every 2-5 s each) until both waves are drained.

Figures: reply latency p50/p95/p99 (from the update handed to the fake until the bot's reply —
a new or edited message — reached it; goal p95 < 1 s), limit violations counted by the fake
(goal 0) and 429s the bot got, and the drain: all sends per second over the drain, as a share
of Telegram's 30/s (goal >= 90 %) and of the bot's own pace of 28/s. ``--quick`` runs 2 000
reviews and 1 000 broadcast recipients. The last line is ``BENCH_JSON {...}``; the database
is dropped at the end.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import secrets  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

import asyncpg  # noqa: E402

from benchmarks.benchkit import Run, asyncpg_dsn, cpu_model, say, summary_ms  # noqa: E402
from bot.telegram.app import OVERALL_PER_SECOND, TelegramFrontEnd  # noqa: E402
from bot.telegram.sending import Priority  # noqa: E402
from core.admin import broadcast  # noqa: E402
from core.admin.broadcast import BroadcastSender  # noqa: E402
from core.app.engine import Coach  # noqa: E402
from core.clock import system_clock  # noqa: E402
from core.coaching.review.week import Slot, spread  # noqa: E402
from core.db.engine import Database  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.reminders.tick import ReminderTick, TickConfig  # noqa: E402
from core.roadmaps.loader import load_roadmaps  # noqa: E402
from core.roadmaps.sync import sync_roadmaps  # noqa: E402
from tests.support.fakes.telegram_api import FakeTelegram  # noqa: E402

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/postgres"
TELEGRAM_CAP = 30
FIRST_CHAT = 7_000_000
CHATTER_CHAT = 9_000_000
BROADCAST_TEXT = "Outbound budget benchmark: a broadcast"
ZONE = "Europe/Berlin"


async def seed(conn: Any, reviews: int, takers: int) -> None:
    """``reviews`` musicians with a Telegram identity, a profile and a weekly review due now
    (:func:`review_rows`); the first ``takers`` take broadcasts."""
    roadmap = await conn.fetchval("SELECT id FROM roadmaps ORDER BY position LIMIT 1")
    await conn.execute(
        "INSERT INTO users (id, timezone, roles, broadcasts_opt_out, unreachable, created_at) "
        "SELECT md5('u' || i)::uuid, $3, '[]'::jsonb, i > $2, false, now() "
        "FROM generate_series(1, $1::int) i",
        reviews,
        takers,
        ZONE,
    )
    await conn.execute(
        "INSERT INTO identities (id, user_id, platform, external_id, created_at) "
        "SELECT md5('i' || i)::uuid, md5('u' || i)::uuid, 'telegram', ($2 + i)::text, now() "
        "FROM generate_series(1, $1::int) i",
        reviews,
        FIRST_CHAT,
    )
    await conn.execute(
        "INSERT INTO profiles (id, user_id, artist_name, current_stats, roadmap_id, created_at, "
        "updated_at, last_activity_at) SELECT md5('p' || i)::uuid, md5('u' || i)::uuid, "
        "'Artist ' || i, '{}'::jsonb, $2::uuid, now(), now(), now() "
        "FROM generate_series(1, $1::int) i",
        reviews,
        roadmap,
    )
    slot, due = review_rows(reviews, datetime.now(UTC))
    await conn.execute(
        "INSERT INTO reminders (id, user_id, kind, schedule, timezone, platform, target_chat, "
        "next_due_at, paused, created_at, stage, attempts) "
        "SELECT md5('r' || d.k)::uuid, md5('u' || d.k)::uuid, 'review', $1::jsonb, $2, "
        "'telegram', ($3 + d.k)::text, d.at, false, now(), 0, 0 "
        "FROM unnest($4::timestamptz[]) WITH ORDINALITY AS d(at, k)",
        json.dumps(slot.to_json()),
        ZONE,
        FIRST_CHAT,
        due,
    )
    await conn.execute("VACUUM ANALYZE")


def review_rows(n: int, now: datetime) -> tuple[Slot, list[datetime]]:
    """The weekly slot (today, on the hour two hours ago, local) and each musician's due time
    in it (their own offset within the hour, :func:`~core.coaching.review.week.spread`): every
    review is due now and inside its grace, as after a tick that was down over the hour."""
    tz = ZoneInfo(ZONE)
    local = (now - timedelta(hours=2)).astimezone(tz)
    slot = Slot(local.weekday(), local.time().replace(minute=0, second=0, microsecond=0))
    pids = (uuid.UUID(hashlib.md5(f"p{i}".encode()).hexdigest()) for i in range(1, n + 1))  # noqa: S324 - ids
    return slot, [slot.latest_at(now, tz, spread(pid)) for pid in pids]


class Chatter:
    """One musician typing and pressing buttons through the real bot."""

    def __init__(self, fake: FakeTelegram, chat: int, latencies: list[float]) -> None:
        self.fake, self.chat, self.latencies = fake, chat, latencies
        self.actions = 0
        self.silent = 0

    def _newest(self) -> float:
        messages = self.fake.messages(self.chat)
        return max((m.ts for m in messages), default=0.0)

    async def act(self, action: Any, *, measured: bool = True) -> None:
        """Do ``action`` and wait for the bot's reply (a new or edited message)."""
        before = self._newest()
        started = time.monotonic()
        action()
        deadline = started + 15
        while self._newest() <= before:
            if time.monotonic() > deadline:
                self.silent += 1  # a press answered by a toast only, say
                return
            await asyncio.sleep(0.003)
        if measured:
            self.latencies.append(time.monotonic() - started)
            self.actions += 1

    async def run(self, stop: asyncio.Event, rng: random.Random) -> None:
        fake, chat = self.fake, self.chat
        fake.open_private_chat(chat, first_name=f"Chatter {chat}")
        await self.act(lambda: fake.user_message(chat, "/start"), measured=False)
        await self.act(lambda: fake.user_message(chat, f"Chatter {chat}"), measured=False)
        while not stop.is_set():
            await asyncio.sleep(rng.uniform(2.0, 5.0))
            if stop.is_set():
                return
            card = next((m for m in reversed(fake.messages(chat)) if m.buttons()), None)
            if card is not None and rng.random() < 0.5:
                label, data = rng.choice(card.buttons())
                del label
                await self.act(lambda c=card, d=data: fake.press_button(chat, c.message_id, d))
            else:
                text = rng.choice(("/help", "/progress", "/today", "/plan"))
                await self.act(lambda t=text: fake.user_message(chat, t))


async def drive(args: argparse.Namespace, url: str, figures: dict[str, Any]) -> None:
    db = Database(url)
    coach = Coach(db, admins=[f"telegram:{CHATTER_CHAT - 1}"])
    async with FakeTelegram(enforce_limits=True) as fake:
        for i in range(1, args.reviews + 1):
            fake.open_private_chat(FIRST_CHAT + i)
        fake.open_private_chat(CHATTER_CHAT - 1, first_name="Admin")
        front = TelegramFrontEnd(coach, fake.token, api_base_url=fake.url)
        await front.start(poll_timeout=1)
        now = system_clock()
        broadcast_id = await broadcast.draft(
            db,
            BROADCAST_TEXT,
            created_by=None,
            report_platform="telegram",
            report_chat=str(CHATTER_CHAT - 1),
            now=now,
        )
        confirmed = await broadcast.confirm(db, broadcast_id, now)
        say(
            f"   broadcast confirmed to {confirmed.recipients:,} (window "
            f"{broadcast.spread_window(confirmed.recipients)}); the sender looks past it"
        )
        tick = ReminderTick(db, {"telegram": front}, clock=system_clock, config=TickConfig())
        sender = BroadcastSender(
            db, {"telegram": front}, clock=lambda: system_clock() + broadcast.SPREAD_MAX
        )
        latencies: list[float] = []
        stop = asyncio.Event()
        rng = random.Random(14)
        chatters = [Chatter(fake, CHATTER_CHAT + n, latencies) for n in range(args.chatters)]
        chatting = [asyncio.create_task(c.run(stop, rng)) for c in chatters]
        await asyncio.sleep(3)  # the chatters are through onboarding, most of them

        async def wave() -> int:
            sent = 0
            while True:
                report = await tick.run()
                sent += report.sent
                if not report.claimed:
                    return sent

        started = time.monotonic()
        cpu_started = time.process_time()
        sent_before = len(fake.sent)
        reviews_sent, broadcast_rows = await asyncio.gather(wave(), sender.drain())
        drained = time.monotonic() - started
        cpu = time.process_time() - cpu_started
        load = os.getloadavg()[0]
        stop.set()
        await asyncio.gather(*chatting)
        await front.stop()
        wave_msgs = [m for m in fake.sent if FIRST_CHAT < m.chat_id <= FIRST_CHAT + args.reviews]
        broadcast_msgs = [m for m in wave_msgs if BROADCAST_TEXT in (m.plain_text or "")]
        total = len(fake.sent) - sent_before
        window = max(m.ts for m in wave_msgs) - min(m.ts for m in wave_msgs)
        rate = total / drained
        wave_rate = len(wave_msgs) / window if window else 0.0
        lat = summary_ms(sorted(latencies))
        actions = sum(c.actions for c in chatters)
        silent = sum(c.silent for c in chatters)
        slots = front.limiter.slots
        say("")
        say(
            f"   wave: {reviews_sent:,} weekly reviews sent (of {args.reviews:,}); broadcast: "
            f"{len(broadcast_msgs):,} sent ({broadcast_rows:,} rows handled)"
        )
        say(
            f"   drained in {drained:.1f} s: {total:,} sends = {rate:.1f}/s = "
            f"{100 * rate / TELEGRAM_CAP:.1f} % of Telegram's {TELEGRAM_CAP}/s, "
            f"{100 * rate / OVERALL_PER_SECOND:.1f} % of the bot's {OVERALL_PER_SECOND}/s "
            f"(goal >= 90 %); waves alone {wave_rate:.1f}/s"
        )
        say(
            f"   chat: {actions:,} replies to {args.chatters} musicians, latency p50 "
            f"{lat['p50']:.0f} ms, p95 {lat['p95']:.0f} ms, p99 {lat['p99']:.0f} ms, max "
            f"{lat['max']:.0f} ms (goal p95 < 1000 ms); {silent} presses with no message"
        )
        say(
            f"   limits: {len(fake.violations)} violations counted by the fake (goal 0), "
            f"{front.failures['rate_limited']} 429s, {front.failures['gave_up']} given up; "
            f"slots granted {dict((p.name, n) for p, n in slots.granted.items())}, "
            f"expired {dict((p.name, n) for p, n in slots.expired.items())}"
        )
        say(
            f"   the process (bot, fake, tick, broadcast sender, chatters) used {cpu:.0f} s of "
            f"CPU in {drained:.0f} s ({100 * cpu / drained:.0f} % of one core); load average "
            f"{load:.1f} on {os.cpu_count()} cores at the end"
        )
        figures.update(
            reviews=args.reviews,
            broadcast=confirmed.recipients,
            chatters=args.chatters,
            reviews_sent=reviews_sent,
            broadcast_sent=len(broadcast_msgs),
            drain_seconds=round(drained, 1),
            sends=total,
            sends_per_second=round(rate, 2),
            share_of_telegram_cap=round(rate / TELEGRAM_CAP, 3),
            share_of_bot_pace=round(rate / OVERALL_PER_SECOND, 3),
            replies=actions,
            reply_ms=lat,
            violations=len(fake.violations),
            rate_limited=front.failures["rate_limited"],
            gave_up=front.failures["gave_up"],
            granted={p.name: n for p, n in slots.granted.items()},
            expired={p.name: n for p, n in slots.expired.items()},
            priorities=[p.name for p in Priority],
            cpu_seconds=round(cpu, 1),
            load_average=round(load, 2),
        )
    await db.dispose()


async def main(args: argparse.Namespace) -> None:
    if args.quick:
        args.reviews, args.broadcast = 2000, 1000
    say(
        f"outbound budget benchmark — {cpu_model()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    say(
        f"   {args.reviews:,} weekly reviews due, a broadcast to {args.broadcast:,}, "
        f"{args.chatters} musicians chatting; the fake enforces Telegram's limits"
    )
    run = Run(admin_dsn=asyncpg_dsn(args.db), name=f"coach_bench_{secrets.token_hex(4)}")
    facts = await run.create()
    figures: dict[str, Any] = {"benchmark": "outbound", "cpu": cpu_model(), **facts}
    try:
        url = asyncpg_dsn(args.db, run.name)
        await asyncio.to_thread(upgrade, url)
        conn = await asyncpg.connect(url)
        try:
            db = Database(url)
            async with db.transaction() as session:
                await sync_roadmaps(session, load_roadmaps())
            await db.dispose()
            await seed(conn, args.reviews, args.broadcast)
        finally:
            await conn.close()
        await drive(args, url, figures)
    finally:
        await run.drop()
    say("")
    print("BENCH_JSON " + json.dumps(figures), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--reviews", type=int, default=10_000)
    parser.add_argument("--broadcast", type=int, default=5_000)
    parser.add_argument("--chatters", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="2 000 reviews, 1 000 recipients")
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(parser.parse_args()))
