"""The reminder benchmark: 100 000 scheduled reminders on PostgreSQL.

Run from the repository root::

    .venv/bin/python benchmarks/reminders.py [--db postgresql://postgres@127.0.0.1:5432/postgres]
        [--reminders 100000] [--dispatch 20000] [--lateness-rate 200] [--lateness-seconds 30]

It creates a throwaway database ``coach_bench_<random>``, migrates it, syncs the bundled
roadmaps and schedules ``--reminders`` musicians (each with a profile on a roadmap and a daily
reminder due some time tomorrow), then prints:

1. **the claim query**: its plan (``EXPLAIN ANALYZE`` of the worker's exact statement, rolled
   back) and its median time, with 1 000 of the 100 000 rows due — the plan must walk the
   partial index ``ix_reminders_due``, not scan the table;
2. **dispatch bookkeeping throughput**: ``--dispatch`` rows made due at once, drained by one
   in-process :class:`~core.reminders.tick.ReminderTick` into a notifier that only counts —
   claim, owners and progress, the nudge card, the delivery rows and the advance, nudges/s;
3. **the worker process**: the real worker (``tests/support/reminder_worker_proc.py``: the job
   runner, the default tick of 1 s and batch of 200, real clock) while ``--lateness-rate``
   reminders per second fall due for ``--lateness-seconds``; its RSS (with all 100 000
   reminders scheduled) and the **lateness** of each nudge: the time it was handed to the
   notifier minus its due time.

The last line is ``BENCH_JSON {...}`` with every figure. The database is dropped at the end.
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
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import secrets  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

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
    summary_ms,
)
from core.clock import system_clock  # noqa: E402
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


class CountingNotifier:
    """Takes every nudge and counts it: the platform costs nothing here."""

    platform = "console"

    def __init__(self) -> None:
        self.count = 0

    async def notify(self, chat_id: str, replies: Sequence[Outbound]) -> DeliveryResult:
        self.count += 1
        return SENT


async def seed(conn: Any, n: int, tomorrow: datetime) -> None:
    """``n`` musicians on a roadmap, each with a daily reminder due tomorrow (spread over 24 h)."""
    roadmap = await conn.fetchval("SELECT id FROM roadmaps ORDER BY position LIMIT 1")
    await conn.execute(
        "INSERT INTO users (id, timezone, roles, broadcasts_opt_out, unreachable, created_at) "
        "SELECT md5('u' || i)::uuid, 'Europe/Berlin', '[]'::jsonb, false, false, now() "
        "FROM generate_series(1, $1::int) i",
        n,
    )
    await conn.execute(
        "INSERT INTO profiles (id, user_id, artist_name, current_stats, roadmap_id, created_at, "
        "updated_at, last_activity_at) SELECT md5('p' || i)::uuid, md5('u' || i)::uuid, "
        "'Artist ' || i, '{}'::jsonb, $2::uuid, now(), now(), now() "
        "FROM generate_series(1, $1::int) i",
        n,
        roadmap,
    )
    await conn.execute(
        "INSERT INTO reminders (id, user_id, kind, schedule, timezone, platform, target_chat, "
        "next_due_at, paused, created_at, stage, attempts) "
        "SELECT md5('r' || i)::uuid, md5('u' || i)::uuid, 'schedule', "
        """'{"type": "daily", "time": "18:00", "days": [0,1,2,3,4,5,6]}'::jsonb, """
        "'Europe/Berlin', 'console', 'u' || i, "
        "$2::timestamptz + (i * 86400.0 / $1) * interval '1 second', false, now(), 0, 0 "
        "FROM generate_series(1, $1::int) i",
        n,
        tomorrow,
    )
    await conn.execute("VACUUM ANALYZE reminders")


async def make_due(conn: Any, count: int, start: datetime, per_second: float | None) -> None:
    """Make ``count`` rows due: all at ``start`` (``per_second`` None) or spread from it."""
    spacing = 0.0 if per_second is None else 1.0 / per_second
    await conn.execute(
        "WITH pick AS (SELECT id, row_number() OVER (ORDER BY next_due_at DESC) AS k "
        "FROM reminders WHERE next_due_at > $1 ORDER BY next_due_at DESC LIMIT $2) "
        "UPDATE reminders r SET next_due_at = $1 + (pick.k - 1) * $3::float8 * interval '1 second' "
        "FROM pick WHERE r.id = pick.id",
        start,
        count,
        spacing,
    )


async def claim_phase(conn: Any, figures: dict[str, Any]) -> None:
    """EXPLAIN ANALYZE and time the worker's claim statement (rolled back each time)."""
    now = datetime.now(UTC)
    await make_due(conn, 1000, now - timedelta(minutes=1), None)
    await conn.execute("ANALYZE reminders")
    sql, names = compiled_for_asyncpg(CLAIM_PG, ["now", "for_platform", "limit", "worker", "until"])
    values = {
        "now": now,
        "for_platform": "console",
        "limit": 200,
        "worker": "bench",
        "until": now + timedelta(minutes=2),
    }
    args = [values[n] for n in names]
    tr = conn.transaction()  # EXPLAIN ANALYZE runs the UPDATE: roll it back
    await tr.start()
    plan_rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, *args)
    await tr.rollback()
    plan = [r[0] for r in plan_rows]
    timings = []
    for _ in range(30):
        tr = conn.transaction()
        await tr.start()
        t0 = time.perf_counter()
        rows = await conn.fetch(sql, *args)
        timings.append(time.perf_counter() - t0)
        await tr.rollback()
        if len(rows) != 200:
            raise RuntimeError(f"the claim returned {len(rows)} rows, expected 200")
    text = "\n".join(plan)
    index_scan = "ix_reminders_due" in text and "Seq Scan on reminders" not in text
    say("")
    say("1. claim query (200 of 1,000 due rows among 100,000; EXPLAIN ANALYZE, rolled back)")
    for line in plan:
        say(f"     {line}")
    med = statistics.median(timings) * 1000
    say(
        f"   median {med:.2f} ms over {len(timings)} runs; index scan on ix_reminders_due: "
        f"{'yes' if index_scan else 'NO'}"
    )
    figures["claim"] = {"median_ms": round(med, 2), "index_scan": index_scan, "plan": plan}


async def dispatch_phase(
    db: Database, conn: Any, count: int, figures: dict[str, Any], profile: str | None = None
) -> None:
    """Drain ``count`` due rows with one in-process tick; nudges/s of the bookkeeping."""
    now = datetime.now(UTC)
    await conn.execute(
        "UPDATE reminders SET next_due_at = $1 WHERE next_due_at <= $1", now + timedelta(hours=1)
    )
    await make_due(conn, count, now - timedelta(seconds=30), None)
    notifier = CountingNotifier()
    tick = ReminderTick(db, {"console": notifier}, clock=system_clock, config=TickConfig())
    await tick.catalog.current(db)  # load the catalog outside the timed window
    profiler = cProfile.Profile() if profile else None
    t0 = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    report = await tick.run()
    elapsed = time.perf_counter() - t0
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    rate = report.sent / elapsed if elapsed else 0.0
    recorded = await conn.fetchval("SELECT count(*) FROM deliveries WHERE status = 'sent'")
    say("")
    say(f"2. dispatch bookkeeping: {count:,} due rows, one tick, batches of 200, counting notifier")
    say(
        f"   {report.sent:,} nudges in {elapsed:.2f} s = {rate:,.0f} nudges/s "
        f"(deliveries recorded: {recorded:,}; goal >= 2,000/s)"
    )
    figures["dispatch"] = {
        "nudges": report.sent,
        "seconds": round(elapsed, 3),
        "per_second": round(rate),
        "recorded": recorded,
    }


async def worker_phase(
    db_url: str, conn: Any, rate: float, seconds: float, figures: dict[str, Any]
) -> None:
    """The real worker process with the default tick: RSS and lateness of each nudge."""
    count = int(rate * seconds)
    async with reminder_worker(db_url) as proc:
        await asyncio.sleep(2)  # a couple of idle ticks over the 100 000 scheduled rows
        idle_rss, _ = rss_kib(proc.pid)
        start = datetime.now(UTC) + timedelta(seconds=1)
        await make_due(conn, count, start, rate)
        peak = idle_rss
        deadline = time.monotonic() + seconds + 15
        while time.monotonic() < deadline:
            peak = max(peak, rss_kib(proc.pid)[0])
            sent = await conn.fetchval(
                "SELECT count(*) FROM deliveries WHERE due_at >= $1 AND status = 'sent'", start
            )
            if sent >= count:
                break
            await asyncio.sleep(0.5)
        _, hwm = rss_kib(proc.pid)
        rows = await conn.fetch(
            "SELECT extract(epoch FROM sent_at - due_at) FROM deliveries "
            "WHERE due_at >= $1 AND status = 'sent'",
            start,
        )
    lateness = [float(r[0]) for r in rows]
    s = summary_ms(lateness)
    say("")
    say(
        f"3. worker process (job runner, tick 1 s, batch 200, real clock), {count:,} nudges due "
        f"at {rate:.0f}/s over {seconds:.0f} s, 100,000 scheduled"
    )
    say(
        f"   RSS idle {idle_rss / 1024:.1f} MiB, peak while sending "
        f"{max(peak, hwm) / 1024:.1f} MiB (goal < 150 MB)"
    )
    say(
        f"   lateness (sent - due) over {len(lateness):,} nudges: p50 {s['p50'] / 1000:.2f} s, "
        f"p99 {s['p99'] / 1000:.2f} s, max {s['max'] / 1000:.2f} s (goal p99 <= 2 s)"
    )
    figures["worker"] = {
        "rss_idle_mib": round(idle_rss / 1024, 1),
        "rss_peak_mib": round(max(peak, hwm) / 1024, 1),
        "nudges": len(lateness),
        "expected": count,
        "lateness_s": {k: round(v / 1000, 3) for k, v in s.items()},
    }


async def bench(args: argparse.Namespace, run: Run) -> int:
    facts = await run.create()
    db_url = asyncpg_dsn(args.db, run.name)
    figures: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "postgresql": facts["server_version"],
        "reminders": args.reminders,
    }
    say("Stardom Coach — reminder benchmark")
    say(f"  date        {figures['date']}")
    say(f"  cpu         {figures['cpu']} ({figures['cores']} cores, load {os.getloadavg()[0]:.2f})")
    say(
        f"  postgresql  {facts['server_version']} "
        f"(synchronous_commit={facts['synchronous_commit']})"
    )
    await asyncio.to_thread(upgrade, db_url)
    db = Database(db_url)
    conn = await asyncpg.connect(db_url)
    try:
        async with db.transaction() as session:
            await sync_roadmaps(session, load_roadmaps())
        t0 = time.perf_counter()
        tomorrow = datetime.now(UTC) + timedelta(days=1)
        await seed(conn, args.reminders, tomorrow)
        say(f"  scheduled   {args.reminders:,} reminders in {time.perf_counter() - t0:.1f} s")
        await claim_phase(conn, figures)
        await dispatch_phase(db, conn, args.dispatch, figures, args.profile)
        await worker_phase(db_url, conn, args.lateness_rate, args.lateness_seconds, figures)
    finally:
        await conn.close()
        await db.dispose()
    figures["bench_rss_mib"] = peak_rss_mib()
    say("")
    say("BENCH_JSON " + json.dumps(figures))
    ok = (
        figures["claim"]["index_scan"]
        and figures["worker"]["nudges"] == figures["worker"]["expected"]
    )
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=DEFAULT_DB, help=f"admin URL (default {DEFAULT_DB})")
    parser.add_argument("--reminders", type=int, default=100_000)
    parser.add_argument("--dispatch", type=int, default=20_000)
    parser.add_argument("--lateness-rate", type=float, default=200.0)
    parser.add_argument("--lateness-seconds", type=float, default=30.0)
    parser.add_argument("--profile", help="write cProfile stats of the dispatch phase here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    run = Run(admin_dsn=asyncpg_dsn(args.db), name=f"coach_bench_{secrets.token_hex(4)}")
    return run_dropping(run, lambda: bench(args, run))


if __name__ == "__main__":
    sys.exit(main())
