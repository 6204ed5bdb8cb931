"""The weekly review benchmark: 100 000 musicians with a weekly review on PostgreSQL.

Run from the repository root::

    .venv/bin/python benchmarks/reviews.py [--db postgresql://postgres@127.0.0.1:5432/postgres]
        [--musicians 100000] [--worker-reviews 10000]

It creates a throwaway database ``coach_bench_<random>``, migrates it, syncs the bundled
roadmaps and seeds ``--musicians`` musicians on a roadmap, each with a ``review`` reminder
(the slot plus their own offset, core/coaching/review/week.py), three progress rows (one done
this week, one skipped, one in progress), two samples of a number (last week and this week)
and a goal on it. Then it prints:

1. **the claim**: ``EXPLAIN ANALYZE`` of the tick's claim with 1 000 reviews due among the
   100 000 rows (rolled back) — it must walk ``ix_reminders_due``;
2. **composing and recording**: every review made due at once (its slot an hour or two ago),
   drained by one in-process :class:`~core.reminders.tick.ReminderTick` into a notifier that
   only counts: claim, owners, the batch's review reads (profiles, progress, samples), the
   composition (done, moved, goal pace, the chooser's top three), the delivery rows and the
   advance — reviews/s (goal >= 2 000/s);
3. **the worker process** (``tests/support/reminder_worker_proc.py``: the job runner, tick 1 s,
   batch 200, real clock) draining ``--worker-reviews`` reviews: its RSS (goal < 200 MB).

The last line is ``BENCH_JSON {...}``. The database is dropped at the end.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import cProfile  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import secrets  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

import asyncpg  # noqa: E402

from benchmarks.benchkit import (  # noqa: E402
    Run,
    asyncpg_dsn,
    cpu_model,
    peak_rss_mib,
    reminder_worker,
    rss_kib,
    run_dropping,
    say,
)
from core.clock import system_clock  # noqa: E402
from core.coaching.review.week import Slot, spread  # noqa: E402
from core.db.engine import Database  # noqa: E402
from core.db.executor import compiled_for_asyncpg  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.kernel.notify import SENT, DeliveryResult  # noqa: E402
from core.kernel.types import Outbound  # noqa: E402
from core.reminders.store import CLAIM_PG  # noqa: E402
from core.reminders.tick import ReminderTick, TickConfig  # noqa: E402
from core.roadmaps.loader import load_roadmaps  # noqa: E402
from core.roadmaps.sync import sync_roadmaps  # noqa: E402

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/postgres"
ZONE = "Europe/Berlin"


class CountingNotifier:
    """Takes every review and counts it (and checks it is one message with buttons)."""

    platform = "console"

    def __init__(self) -> None:
        self.count = 0
        self.gentle = 0

    async def notify(self, chat_id: str, replies: Sequence[Outbound]) -> DeliveryResult:
        self.count += 1
        if replies[0].text.startswith("🌱"):
            self.gentle += 1
        return SENT


def _pid(i: int) -> uuid.UUID:
    return uuid.UUID(hashlib.md5(f"p{i}".encode()).hexdigest())  # noqa: S324 - ids, not secrets


async def seed(conn: Any, n: int, now: datetime) -> None:
    """``n`` musicians with a week's worth of rows and a review row due next week."""
    roadmap = await conn.fetchval("SELECT id FROM roadmaps ORDER BY position LIMIT 1")
    tasks = [
        r[0]
        for r in await conn.fetch(
            "SELECT t.id FROM tasks t JOIN roadmap_stages s ON s.id = t.stage_id "
            "WHERE t.roadmap_id = $1 ORDER BY s.position, t.position LIMIT 3",
            roadmap,
        )
    ]
    stage = await conn.fetchval(
        "SELECT id FROM roadmap_stages WHERE roadmap_id = $1 ORDER BY position LIMIT 1", roadmap
    )
    goal_by = (now + timedelta(days=90)).date().isoformat()
    stats = json.dumps(
        {
            "monthly_listeners": {
                "value": "1400",
                "display": "1,400",
                "at": now.isoformat(),
                "goal": {"target": "2000", "by": goal_by},
            }
        }
    )
    await conn.execute(
        "INSERT INTO users (id, timezone, roles, broadcasts_opt_out, unreachable, created_at) "
        "SELECT md5('u' || i)::uuid, $2, '[]'::jsonb, false, false, now() "
        "FROM generate_series(1, $1::int) i",
        n,
        ZONE,
    )
    await conn.execute(
        "INSERT INTO profiles (id, user_id, artist_name, current_stats, roadmap_id, "
        "current_stage_id, created_at, updated_at, last_activity_at) "
        "SELECT md5('p' || i)::uuid, md5('u' || i)::uuid, 'Artist ' || i, $2::jsonb, $3::uuid, "
        "$4::uuid, now(), now(), now() FROM generate_series(1, $1::int) i",
        n,
        stats,
        roadmap,
        stage,
    )
    today = now.astimezone(ZoneInfo(ZONE)).date().isoformat()
    await conn.execute(
        "INSERT INTO user_task_progress (id, profile_id, task_id, status, task_data, "
        "completed_at, updated_at) "
        "SELECT gen_random_uuid(), md5('p' || i)::uuid, t.id, t.status, t.data::jsonb, "
        "CASE WHEN t.status = 'completed' THEN $2::timestamptz END, $2::timestamptz "
        "FROM generate_series(1, $1::int) i, (VALUES ($3::uuid, 'completed', '{}'), "
        "($4::uuid, 'skipped', $6), ($5::uuid, 'in_progress', '{}')) AS t(id, status, data)",
        n,
        now - timedelta(hours=1),
        *tasks,
        json.dumps({"skipped_on": today}),
    )
    await conn.execute(
        "INSERT INTO stat_samples (id, profile_id, metric, value, recorded_at) "
        "SELECT gen_random_uuid(), md5('p' || i)::uuid, 'monthly_listeners', v.value, v.at "
        "FROM generate_series(1, $1::int) i, (VALUES (1200, $2::timestamptz), "
        "(1400, $3::timestamptz)) AS v(value, at)",
        n,
        now - timedelta(days=8),
        now - timedelta(hours=1),
    )
    await conn.execute(
        "INSERT INTO reminders (id, user_id, kind, schedule, timezone, platform, target_chat, "
        "next_due_at, paused, created_at, stage, attempts) "
        "SELECT md5('r' || i)::uuid, md5('u' || i)::uuid, 'review', $2::jsonb, $3, 'console', "
        "'u' || i, $4::timestamptz + (i % 3600) * interval '1 second', false, now(), 0, 0 "
        "FROM generate_series(1, $1::int) i",
        n,
        json.dumps(Slot().to_json()),
        ZONE,
        now + timedelta(days=7),
    )
    await conn.execute("VACUUM ANALYZE")


async def make_due(conn: Any, first: int, count: int, now: datetime) -> None:
    """Reviews ``first .. first+count-1`` due now: their slot is today, an hour or two ago
    (their own offset added), so the tick sends them at once, within the grace."""
    local = (now - timedelta(hours=2)).astimezone(ZoneInfo(ZONE))
    slot = Slot(local.weekday(), local.time().replace(minute=0, second=0, microsecond=0))
    tz = ZoneInfo(ZONE)
    due = [slot.latest_at(now, tz, spread(_pid(i))) for i in range(first, first + count)]
    await conn.execute(
        "UPDATE reminders r SET schedule = $1::jsonb, next_due_at = d.at "
        "FROM unnest($2::timestamptz[]) WITH ORDINALITY AS d(at, k) "
        "WHERE r.id = md5('r' || ($3::int + d.k - 1))::uuid",
        json.dumps(slot.to_json()),
        due,
        first,
    )
    await conn.execute("ANALYZE reminders")


async def claim_phase(conn: Any, n: int, figures: dict[str, Any]) -> None:
    """EXPLAIN ANALYZE the tick's claim with 1 000 reviews due (rolled back)."""
    now = datetime.now(UTC)
    await make_due(conn, 1, 1000, now)
    sql, names = compiled_for_asyncpg(CLAIM_PG, ["now", "for_platform", "limit", "worker", "until"])
    values = {
        "now": now,
        "for_platform": "console",
        "limit": 200,
        "worker": "bench",
        "until": now + timedelta(minutes=2),
    }
    args = [values[n] for n in names]
    tr = conn.transaction()
    await tr.start()
    plan = [r[0] for r in await conn.fetch("EXPLAIN (ANALYZE, COSTS OFF) " + sql, *args)]
    await tr.rollback()
    timings = []
    for _ in range(20):
        tr = conn.transaction()
        await tr.start()
        t0 = time.perf_counter()
        await conn.fetch(sql, *args)
        timings.append(time.perf_counter() - t0)
        await tr.rollback()
    text = "\n".join(plan)
    index_scan = "ix_reminders_due" in text and "Seq Scan on reminders" not in text
    med = statistics.median(timings) * 1000
    say("")
    say(f"1. claim (200 of 1,000 due reviews among {n:,} rows; EXPLAIN ANALYZE, rolled back)")
    for line in plan:
        say(f"     {line}")
    say(f"   median {med:.2f} ms; index scan on ix_reminders_due: {'yes' if index_scan else 'NO'}")
    figures["claim"] = {"median_ms": round(med, 2), "index_scan": index_scan, "plan": plan}


async def compose_phase(
    db: Database, conn: Any, n: int, figures: dict[str, Any], profile: str | None = None
) -> None:
    """Every review due at once, one in-process tick: reviews/s of compose + bookkeeping."""
    now = datetime.now(UTC)
    await make_due(conn, 1, n, now)
    notifier = CountingNotifier()
    tick = ReminderTick(db, {"console": notifier}, clock=system_clock, config=TickConfig())
    await tick.catalog.current(db)
    profiler = cProfile.Profile() if profile else None
    if profiler is not None:
        profiler.enable()
    t0 = time.perf_counter()
    report = await tick.run()
    elapsed = time.perf_counter() - t0
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    rate = report.sent / elapsed if elapsed else 0.0
    recorded = await conn.fetchval(
        "SELECT count(*) FROM deliveries WHERE kind = 'review' AND status = 'sent'"
    )
    say("")
    say(f"2. composing and recording {n:,} weekly reviews: one tick, batches of 200")
    say(
        f"   {report.sent:,} reviews in {elapsed:.1f} s = {rate:,.0f} reviews/s "
        f"(recorded {recorded:,}; gentle {notifier.gentle:,}; goal >= 2,000/s)"
    )
    figures["compose"] = {
        "reviews": report.sent,
        "seconds": round(elapsed, 2),
        "per_second": round(rate),
        "recorded": recorded,
        "gentle": notifier.gentle,
    }


async def worker_phase(db_url: str, conn: Any, n: int, figures: dict[str, Any]) -> None:
    """The real worker process draining ``n`` reviews: its RSS."""
    await conn.execute("DELETE FROM deliveries")
    await conn.execute(
        "UPDATE reminders SET last_sent_at = NULL, next_due_at = now() + interval '7 days'"
    )
    async with reminder_worker(db_url) as proc:
        await asyncio.sleep(2)
        idle, _ = rss_kib(proc.pid)
        await make_due(conn, 1, n, datetime.now(UTC))
        t0 = time.perf_counter()
        peak, sent = idle, 0
        while time.perf_counter() - t0 < 600:
            peak = max(peak, rss_kib(proc.pid)[0])
            sent = await conn.fetchval("SELECT count(*) FROM deliveries WHERE status = 'sent'")
            if sent >= n:
                break
            await asyncio.sleep(0.5)
        elapsed = time.perf_counter() - t0
        _, hwm = rss_kib(proc.pid)
    say("")
    say(f"3. worker process (tick 1 s, batch 200, real clock) draining {n:,} reviews")
    say(
        f"   {sent:,} sent in {elapsed:.1f} s; RSS idle {idle / 1024:.1f} MiB, peak "
        f"{max(peak, hwm) / 1024:.1f} MiB (goal < 200 MB)"
    )
    figures["worker"] = {
        "reviews": sent,
        "expected": n,
        "seconds": round(elapsed, 1),
        "rss_idle_mib": round(idle / 1024, 1),
        "rss_peak_mib": round(max(peak, hwm) / 1024, 1),
    }


async def bench(args: argparse.Namespace, run: Run) -> int:
    facts = await run.create()
    db_url = asyncpg_dsn(args.db, run.name)
    figures: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "load": round(os.getloadavg()[0], 2),
        "postgresql": facts["server_version"],
        "musicians": args.musicians,
    }
    say("Stardom Coach — weekly review benchmark")
    say(f"  date        {figures['date']}")
    say(f"  cpu         {figures['cpu']} ({figures['cores']} cores, load {figures['load']})")
    say(f"  postgresql  {facts['server_version']}")
    await asyncio.to_thread(upgrade, db_url)
    db = Database(db_url)
    conn = await asyncpg.connect(db_url)
    try:
        async with db.transaction() as session:
            await sync_roadmaps(session, load_roadmaps())
        t0 = time.perf_counter()
        await seed(conn, args.musicians, datetime.now(UTC))
        say(f"  seeded      {args.musicians:,} musicians in {time.perf_counter() - t0:.1f} s")
        await claim_phase(conn, args.musicians, figures)
        await compose_phase(db, conn, args.musicians, figures, args.profile)
        await worker_phase(db_url, conn, args.worker_reviews, figures)
    finally:
        await conn.close()
        await db.dispose()
    figures["bench_rss_mib"] = peak_rss_mib()
    say("")
    say("BENCH_JSON " + json.dumps(figures))
    ok = (
        figures["claim"]["index_scan"]
        and figures["compose"]["reviews"] == args.musicians
        and figures["worker"]["reviews"] == figures["worker"]["expected"]
    )
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=DEFAULT_DB, help=f"admin URL (default {DEFAULT_DB})")
    parser.add_argument("--musicians", type=int, default=100_000)
    parser.add_argument("--worker-reviews", type=int, default=10_000)
    parser.add_argument("--profile", help="write cProfile stats of the compose phase here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    run = Run(admin_dsn=asyncpg_dsn(args.db), name=f"coach_bench_{secrets.token_hex(4)}")
    return run_dropping(run, lambda: bench(args, run))


if __name__ == "__main__":
    sys.exit(main())
