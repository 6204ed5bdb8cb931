"""The coaching reads at 100 000 musicians: the plans of the statements the code runs.

Run from the repository root::

    .venv/bin/python benchmarks/coaching_plans.py [--db postgresql://postgres@127.0.0.1:5432/postgres]
        [--musicians 100000] [--repeat 20]

Issue #13 §5: plans and projections for 100 000 musicians are computed from indexed queries,
and the plans are shown. This creates a throwaway database ``coach_bench_<random>``, migrates
it, syncs the bundled roadmaps and seeds ``--musicians`` musicians set-based
(``tests/support/querykit.py``: progress, monthly samples of up to three tracked numbers, goals
for 30 %, a release date for 30 %, reminders of every kind with their due times spread and 2 000
of them due now), ANALYZEs, then runs the code's own functions — the tick's claim (a batch of
200), ``owners()``, the check-in rows' numbers, the batch's progress (the plan kind's read), the
turn's locked read, the roadmap's progress (``/today``, ``/plan``), the samples of ``/stats`` and
of a projection (``/goal``), the goals, a sample reaching a goal — each explained with
``EXPLAIN (ANALYZE, BUFFERS)`` and then timed ``--repeat`` times (every run rolled back). For each
it prints the plan's nodes (scan types, index names, actual rows), the server's execution time,
the median client-side time and the rows returned, and fails (exit 1) when a plan reads a table
that grows with the musicians from end to end.

The last line is ``BENCH_JSON {...}`` with every figure. The database is dropped at the end,
also after an error.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path[:0] = [str(_HERE.parent), str(_HERE.parent / "tests" / "support")]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import secrets  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

import asyncpg  # noqa: E402
from querykit import (  # noqa: E402
    BIG_TABLES,
    STEPS,
    ExplainingExecutor,
    Plan,
    musician,
    one_musician,
    seed,
    tick_batch,
)

from benchmarks.benchkit import Run, asyncpg_dsn, cpu_model, peak_rss_mib, run_dropping, say  # noqa: E402
from core.db.engine import Database  # noqa: E402
from core.db.executor import init_asyncpg_connection  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.roadmaps.loader import load_roadmaps  # noqa: E402
from core.roadmaps.sync import sync_roadmaps  # noqa: E402

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/postgres"


def _compared(other: Plan | None, first: Plan) -> str:
    """Another plan of the same statement, or "the same" when its scans are the first's."""
    if other is None:
        return "-"
    return "the same" if other.summary() == first.summary() else other.summary()


async def bench(args: argparse.Namespace, run: Run) -> int:
    facts = await run.create()
    db_url = asyncpg_dsn(args.db, run.name)
    figures: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "postgresql": facts["server_version"],
        "musicians": args.musicians,
    }
    say("Stardom Coach — coaching query plans")
    say(f"  date        {figures['date']}")
    say(f"  cpu         {figures['cpu']} ({figures['cores']} cores, load {os.getloadavg()[0]:.2f})")
    say(f"  postgresql  {facts['server_version']}")
    await asyncio.to_thread(upgrade, db_url)
    db = Database(db_url)
    try:
        async with db.transaction() as session:
            await sync_roadmaps(session, load_roadmaps())
    finally:
        await db.dispose()
    conn = await asyncpg.connect(db_url)
    try:
        await init_asyncpg_connection(conn)  # JSON in and out, as on the hot path's pool
        now = datetime.now(UTC)
        start = time.perf_counter()
        seeded = await seed(conn, args.musicians, now)
        seconds = time.perf_counter() - start
        size = await conn.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
        counts = ", ".join(f"{table} {n:,}" for table, n in seeded.counts.items())
        say(f"  seeded      {counts} in {seconds:.1f} s ({size})")
        figures.update(seed_seconds=round(seconds, 1), rows=dict(seeded.counts), size=size)
        who = await musician(conn, args.musicians)
        ex = ExplainingExecutor(conn, analyze=True, repeat=args.repeat, prepared=True)
        transaction = conn.transaction()  # the claim's lease and the turn's locks: undone
        await transaction.start()
        try:
            claimed = await tick_batch(ex, now)
            await one_musician(ex, who, now)
        finally:
            await transaction.rollback()
    finally:
        await conn.close()
    say(f"  batch       {claimed} rows claimed of the due ones")
    statements = []
    bad = []
    for number, done in enumerate(ex.explained, 1):
        say("")
        say(f"{number}. {done.name}")
        for line in done.plan.key_lines():
            say(f"     {line}")
        median = done.median_ms or 0.0
        sixth = _compared(done.prepared, done.plan)
        generic = _compared(done.generic, done.plan)
        say(f"   sixth run of the prepared statement: {sixth}")
        say(f"   generic plan (forced): {generic}")
        say(
            f"   execution {done.plan.execution_ms:.3f} ms "
            f"(planning {done.plan.planning_ms:.3f} ms), "
            f"median {median:.3f} ms client-side over {len(done.timings_ms)} runs, "
            f"{done.rows} rows"
        )
        whole = sorted(
            (done.plan.seq_scans() | (done.prepared.seq_scans() if done.prepared else set()))
            & BIG_TABLES
        )
        if whole:
            bad.append(done.name)
            say(f"   !! sequential scan of {', '.join(whole)} (first or sixth run)")
        statements.append(
            {
                "name": done.name,
                "plan": done.plan.summary(),
                "sixth_run_plan": sixth,
                "generic_plan": generic,
                "indexes": sorted(done.plan.indexes()),
                "seq_scans": sorted(done.plan.seq_scans()),
                "execution_ms": done.plan.execution_ms,
                "planning_ms": done.plan.planning_ms,
                "median_ms": round(median, 3),
                "rows": done.rows,
            }
        )
    missing = [name for name in STEPS if name not in {s["name"] for s in statements}]
    if missing:
        say(f"\n!! not run: {', '.join(missing)}")
    figures["statements"] = statements
    figures["bench_rss_mib"] = peak_rss_mib()
    say("")
    say("| statement | plan | sixth run | execution | median (client) | rows |")
    say("| --- | --- | --- | --- | --- | --- |")
    for s in statements:
        say(
            f"| {s['name']} | {s['plan']} | {s['sixth_run_plan']} | {s['execution_ms']:.3f} ms | "
            f"{s['median_ms']:.3f} ms | {s['rows']} |"
        )
    say("")
    say("BENCH_JSON " + json.dumps(figures))
    return 1 if bad or missing else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=DEFAULT_DB, help=f"admin URL (default {DEFAULT_DB})")
    parser.add_argument("--musicians", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per statement")

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    run = Run(admin_dsn=asyncpg_dsn(args.db), name=f"coach_bench_{secrets.token_hex(4)}")
    return run_dropping(run, lambda: bench(args, run))


if __name__ == "__main__":
    sys.exit(main())
