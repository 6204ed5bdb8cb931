"""The /stats benchmark: twenty musicians asking for their numbers and chart at once.

Run from the repository root::

    .venv/bin/python benchmarks/stats_chart.py [--db postgresql://postgres@127.0.0.1:5432/postgres]
        [--musicians 20] [--rounds 10] [--charts 1000]

It creates a throwaway database ``coach_bench_<random>``, migrates it, syncs the bundled
roadmaps and onboards ``--musicians`` musicians, each with half a year of weekly numbers for
two metrics (inserted directly) and a goal (set through ``/goal``). Then it prints:

1. **/stats, all at once** — ``--rounds`` rounds in which every musician sends ``/stats`` at the
   same moment through ``Coach.handle`` (the real route: the turn, the samples query, the
   figures, the chart drawn off the event loop in a worker thread). Latency p50/p95/p99 in ms,
   for the first round (every chart drawn: **cold**) and for the later ones (the chart cache
   answers a musician whose numbers did not change: **warm**), with a new number for half of
   the musicians before each round so both kinds are in every warm round. Goal: p95 ≤ 250 ms.
2. **memory over ``--charts`` charts** — the chart drawn that many times (each with different
   numbers, so the cache never answers), the process's RSS every 10 %: flat means the figures
   are freed (matplotlib's object-oriented API, no pyplot registry).

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
import gc  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import secrets  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from decimal import Decimal  # noqa: E402
from typing import Any  # noqa: E402

import asyncpg  # noqa: E402

from benchmarks.benchkit import Run, asyncpg_dsn, cpu_model, peak_rss_mib, say, summary_ms  # noqa: E402
from core.app.engine import Coach  # noqa: E402
from core.db.engine import Database  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.kernel.types import Inbound, Picture  # noqa: E402
from core.progress.charts import render_stats_chart  # noqa: E402
from core.roadmaps.loader import load_roadmaps  # noqa: E402
from core.roadmaps.sync import sync_roadmaps  # noqa: E402

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/postgres"
GOAL_P95_MS = 250.0
WEEKS = 26
_ids = iter(range(1, 10**9))


def _event(user: str, text: str) -> Inbound:
    kind = "command" if text.startswith("/") else "text"
    return Inbound(
        platform="telegram",
        user_id=user,
        chat_id=user,
        kind=kind,
        text=text,
        update_id=str(next(_ids)),
    )


def _press(user: str, payload: str) -> Inbound:
    return Inbound(
        platform="telegram",
        user_id=user,
        chat_id=user,
        kind="button",
        payload=payload,
        message_id="1",
        update_id=str(next(_ids)),
    )


def _rss_mib() -> float:
    with open("/proc/self/status", encoding="utf-8") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def _onboard(coach: Coach, user: str) -> None:
    await coach.handle(_event(user, "/start"))
    await coach.handle(_event(user, f"Artist {user}"))
    replies = await coach.handle(_event(user, "/roadmap"))
    payload = next(b.payload for r in replies for b in r.all_buttons() if "Indie" in b.label)
    await coach.handle(_press(user, payload))


async def _seed(conn: asyncpg.Connection, user: str, now: datetime) -> None:
    """Half a year of weekly numbers for two metrics, and the latest on the profile."""
    profile_id = await conn.fetchval(
        "SELECT p.id FROM profiles p JOIN identities i ON i.user_id = p.user_id "
        "WHERE i.platform = 'telegram' AND i.external_id = $1",
        user,
    )
    rows = []
    stats: dict[str, Any] = {}
    for metric, start, step in (("monthly_listeners", 800, 40), ("followers_instagram", 300, 9)):
        for week in range(WEEKS):
            at = now - timedelta(weeks=WEEKS - week)
            value = Decimal(start + step * week + (week * 7919) % 23)
            rows.append((uuid.uuid4(), profile_id, metric, value, at))
        stats[metric] = {"value": str(value), "display": f"{value:,}", "unit": None,
                         "at": at.isoformat()}  # fmt: skip
    await conn.executemany(
        "INSERT INTO stat_samples (id, profile_id, metric, value, recorded_at) "
        "VALUES ($1, $2, $3, $4, $5)",
        rows,
    )
    await conn.execute(
        "UPDATE profiles SET current_stats = $1::jsonb WHERE id = $2", json.dumps(stats), profile_id
    )


async def _ask_all(coach: Coach, users: list[str]) -> list[float]:
    async def one(user: str) -> float:
        t0 = time.perf_counter()
        replies = await coach.handle(_event(user, "/stats"))
        elapsed = time.perf_counter() - t0
        if not any(isinstance(r, Picture) for r in replies):
            raise RuntimeError(f"/stats gave no chart: {replies}")
        return elapsed

    return list(await asyncio.gather(*(one(u) for u in users)))


async def stats_phase(coach: Coach, users: list[str], rounds: int, figures: dict[str, Any]) -> None:
    cold = await _ask_all(coach, users)
    warm: list[float] = []
    for n in range(rounds - 1):
        for user in users[n % 2 :: 2]:  # half of them sent a new number since
            await coach.handle(_event(user, f"/update monthly listeners {2000 + n}"))
        warm += await _ask_all(coach, users)
    every = cold + warm
    figures["stats"] = {
        "musicians": len(users),
        "rounds": rounds,
        "cold_ms": summary_ms(cold),
        "warm_ms": summary_ms(warm),
        "all_ms": summary_ms(every),
    }
    say("")
    say(f"/stats, {len(users)} musicians at once, {rounds} rounds")
    for name in ("cold_ms", "warm_ms", "all_ms"):
        s = figures["stats"][name]
        say(
            f"  {name[:-3]:5} p50 {s['p50']:8.1f} ms   p95 {s['p95']:8.1f} ms   "
            f"p99 {s['p99']:8.1f} ms   max {s['max']:8.1f} ms"
        )
    p95 = figures["stats"]["all_ms"]["p95"]
    verdict = "ok" if p95 <= GOAL_P95_MS else "OVER"
    say(f"  goal  p95 ≤ {GOAL_P95_MS:.0f} ms: {verdict}")


def memory_phase(charts: int, figures: dict[str, Any]) -> None:
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    marks: list[tuple[int, float]] = []
    step = max(1, charts // 10)
    started = time.perf_counter()
    for n in range(charts + 1):
        if n % step == 0:
            gc.collect()
            marks.append((n, _rss_mib()))
        if n == charts:
            break
        series = {
            "monthly_listeners": [
                (t0 + timedelta(weeks=w), Decimal(1000 + 37 * w + n % 97)) for w in range(WEEKS)
            ],
            "followers_instagram": [
                (t0 + timedelta(weeks=w), Decimal(300 + 5 * w + n % 13)) for w in range(12)
            ],
        }
        render_stats_chart(series, title=f"Artist {n}")
    elapsed = time.perf_counter() - started
    after_warmup = marks[1][1] if len(marks) > 1 else marks[0][1]
    figures["memory"] = {
        "charts": charts,
        "rss_mib": marks,
        "growth_after_first_10pct_mib": round(marks[-1][1] - after_warmup, 1),
        "ms_per_chart": round(elapsed / max(charts, 1) * 1000, 1),
    }
    say("")
    say(f"memory over {charts} charts (RSS, MiB)")
    say("  " + "  ".join(f"{n}:{rss}" for n, rss in marks))
    say(
        f"  growth after the first 10 %: {figures['memory']['growth_after_first_10pct_mib']} MiB"
        f"   ({figures['memory']['ms_per_chart']} ms a chart, one thread)"
    )


async def bench(args: argparse.Namespace, run: Run) -> int:
    facts = await run.create()
    db_url = asyncpg_dsn(args.db, run.name)
    figures: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "postgresql": facts["server_version"],
    }
    say("Stardom Coach — /stats benchmark")
    say(f"  date        {figures['date']}")
    say(f"  cpu         {figures['cpu']} ({figures['cores']} cores, load {os.getloadavg()[0]:.2f})")
    say(f"  postgresql  {facts['server_version']}")
    await asyncio.to_thread(upgrade, db_url)
    db = Database(db_url)
    conn = await asyncpg.connect(db_url)
    try:
        async with db.transaction() as session:
            await sync_roadmaps(session, load_roadmaps())
        coach = Coach(db)
        users = [str(900_000 + n) for n in range(args.musicians)]
        now = datetime.now(UTC)
        for user in users:
            await _onboard(coach, user)
            await _seed(conn, user, now)
            due = (now + timedelta(days=180)).date()
            goal = f"/goal monthly listeners 5000 by {due.day} {due:%B %Y}"
            replies = await coach.handle(_event(user, goal))
            if not any("Goal set" in r.text for r in replies):
                raise RuntimeError(f"/goal was not set: {replies}")
        await stats_phase(coach, users, args.rounds, figures)
    finally:
        await conn.close()
        await db.dispose()
    memory_phase(args.charts, figures)
    figures["bench_rss_mib"] = peak_rss_mib()
    say("")
    say("BENCH_JSON " + json.dumps(figures))
    return 0 if figures["stats"]["all_ms"]["p95"] <= GOAL_P95_MS else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=DEFAULT_DB, help=f"admin URL (default {DEFAULT_DB})")
    parser.add_argument("--musicians", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--charts", type=int, default=1000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    run = Run(admin_dsn=asyncpg_dsn(args.db), name=f"coach_bench_{secrets.token_hex(4)}")

    async def guarded() -> int:
        try:
            return await bench(args, run)
        finally:
            await run.drop()

    try:
        return asyncio.run(guarded())
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
