"""Costs as the data grows: the work around the chat at N musicians beside a small N (issue #18).

Run from the repository root::

    .venv/bin/python benchmarks/scale.py [--db postgresql://postgres@127.0.0.1:5432/postgres]
        [--musicians 100000] [--small 100] [--repeat 15] [--explain] [--backup]

For each size (``--small`` first, then ``--musicians``) it creates a throwaway database
``coach_bench_<random>``, migrates it, syncs the bundled roadmaps and fills it like a year of
use, set-based (``tests/support/scalekit.py``: ≈ 31 progress rows, 20 outbox events, 10
deliveries, 5 samples and 2 update ids a musician, an audit log, bands, milestones; VACUUM
ANALYZE). Then it measures, each ``--repeat`` times (median, and the slowest):

* ``/admin stats`` — the figures (:func:`core.admin.stats.collect`, without the chart);
* ``/export`` and ``/forget``'s confirming press — through :meth:`Coach.handle`, each on a
  different filled musician (one with an audit trail, a link and an unlink); ``/forget``
  commits, so every run forgets someone else;
* housekeeping — its first pass (the year's backlog: processed events and nudges older than
  their windows), then, after the VACUUM autovacuum would run on tables that lost that many
  rows, passes with nothing left to delete;
* the hot path — ``/today`` of filled musicians, and new musicians' checklist ticks and
  answers (``/start``, a name, a roadmap, then its tasks as ``benchmarks/core.py`` walks them).

It prints each figure at both sizes side by side with the databases' sizes, and the machine.
``--explain`` adds ``EXPLAIN (ANALYZE, BUFFERS)`` of the statements behind the figures at N;
``--backup`` times ``coach db backup`` of the filled database at N and ``coach db restore`` of
that file into a new empty database (issue #16's recovery target).
The last line is ``BENCH_JSON {...}``. Every database is dropped at the end, also after an
error. The budgets (issue #18, at 100 000 musicians): stats ≤ 30 ms, export ≤ 50 ms, forget ≤
100 ms, housekeeping with nothing to do ≤ 10 ms; the exit status is 1 when N ≥ 100 000 and a
median is over its budget.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path[:0] = [str(_HERE.parent), str(_HERE.parent / "tests" / "support")]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Awaitable, Callable, Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

import asyncpg  # noqa: E402
from scalekit import fill, musician_number  # noqa: E402
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg  # noqa: E402

from benchmarks.benchkit import (  # noqa: E402
    Run,
    asyncpg_dsn,
    cpu_model,
    peak_rss_mib,
    planned_tasks,
    say,
)
from core import housekeeping  # noqa: E402
from core.admin import stats  # noqa: E402
from core.admin.buttons import FORGET_ME  # noqa: E402
from core.app.engine import Coach  # noqa: E402
from core.db import backup as db_backup  # noqa: E402
from core.db.engine import Database  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.housekeeping import prune  # noqa: E402
from core.kernel.payloads import encode  # noqa: E402
from core.kernel.types import Document, Inbound, Outbound  # noqa: E402
from core.progress.parsing import example_answer  # noqa: E402
from core.roadmaps.loader import load_roadmaps  # noqa: E402
from core.roadmaps.sync import sync_roadmaps  # noqa: E402

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/postgres"
#: Issue #18's budgets at 100 000 musicians, in ms (median).
BUDGETS = {"admin_stats": 30.0, "export": 50.0, "forget": 100.0, "housekeeping_idle": 10.0}
#: What each figure is, in the printed table's order.
LABELS = {
    "admin_stats": "/admin stats figures",
    "export": "/export",
    "forget": "/forget, the confirming press",
    "housekeeping_idle": "housekeeping, nothing to delete",
    "housekeeping_first": "housekeeping, first pass (the year's backlog)",
    "today": "/today",
    "tick": "a checklist tick",
    "answer": "an answer",
}
_ids = itertools.count(1)
_PG = PGDialect_asyncpg()


@dataclass
class Size:
    """One database's figures."""

    musicians: int
    fill_s: float = 0.0
    size_mib: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    ms: dict[str, list[float]] = field(default_factory=dict)
    deleted_first: int = 0
    plans: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        self.ms.setdefault(name, []).append(seconds * 1000)

    def median(self, name: str) -> float | None:
        values = self.ms.get(name)
        return statistics.median(values) if values else None

    def as_json(self) -> dict[str, Any]:
        return {
            "musicians": self.musicians,
            "fill_s": round(self.fill_s, 1),
            "size_mib": round(self.size_mib, 1),
            "rows": self.counts,
            "housekeeping_first_deleted": self.deleted_first,
            "median_ms": {k: round(statistics.median(v), 2) for k, v in self.ms.items()},
            "max_ms": {k: round(max(v), 2) for k, v in self.ms.items()},
            "runs": {k: len(v) for k, v in self.ms.items()},
        }


def _inbound(user: str, **kw: Any) -> Inbound:
    return Inbound(
        platform="telegram", user_id=user, chat_id=user, update_id=f"bench-{next(_ids)}", **kw
    )


def _say(user: str, text: str) -> Inbound:
    return _inbound(user, kind="command" if text.startswith("/") else "text", text=text)


def _press(user: str, payload: str) -> Inbound:
    return _inbound(user, kind="button", payload=payload, message_id="1")


async def _timed(size: Size, name: str, call: Callable[[], Awaitable[Any]]) -> Any:
    start = time.perf_counter()
    result = await call()
    size.add(name, time.perf_counter() - start)
    return result


def _buttons(replies: Sequence[Outbound]) -> list[str]:
    return [b.payload for r in replies for row in r.buttons for b in row]


def _card_slug(replies: Sequence[Outbound]) -> str | None:
    for payload in reversed(_buttons(replies)):
        if payload.startswith("v1:sk:"):
            return payload[len("v1:sk:") :]
    return None


async def _hot_path(coach: Coach, size: Size, walkers: int, tag: str) -> None:
    """New musicians through their roadmap's first tasks: ticks and answers timed."""
    catalog = await coach.catalog.current(coach.db)
    for n in range(walkers):
        user = f"{tag}-{n}"
        roadmap = catalog.roadmaps[n % len(catalog.roadmaps)]
        await coach.handle(_say(user, "/start"))
        await coach.handle(_say(user, f"Walker {n}"))
        replies = await coach.handle(_press(user, encode("pick", roadmap.slug)))
        for task in planned_tasks(roadmap)[:12]:
            if _card_slug(replies) != task.slug:
                break
            if task.is_checklist:
                while True:
                    ticks = [p for p in _buttons(replies) if p.startswith("v1:tk:")]
                    if not ticks:
                        break
                    replies = await _timed(
                        size, "tick", lambda p=ticks[0], u=user: coach.handle(_press(u, p))
                    )
                    if _card_slug(replies) != task.slug:
                        break
            else:
                answer = example_answer(task.spec, today=coach.clock().date())
                replies = await _timed(
                    size, "answer", lambda a=answer, u=user: coach.handle(_say(u, a))
                )
                confirm = encode("confirm", task.slug, "y")
                if confirm in _buttons(replies):
                    replies = await coach.handle(_press(user, confirm))


def _people(musicians: int, count: int) -> list[int]:
    """``count`` filled musicians spread through them, none a band's manager (``i % 200 = 0``):
    multiples of 50 (an export, a lookup, a link and an unlink in their audit trail) where there
    are enough of them (``scalekit.musician_number``), else any (a small size)."""
    spread = [i for k in range(count) if (i := musician_number(musicians, k))]
    if len(spread) == count:
        return spread
    step = max(1, (musicians - 10) // count)
    return [i for i in range(10, musicians + 1, step) if i % 200][:count]


async def _explain(conn: Any, sql: str, *args: Any) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of one statement, rolled back."""
    tr = conn.transaction()
    await tr.start()
    try:
        return [r[0] for r in await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *args)]
    finally:
        await tr.rollback()


async def measure(args: argparse.Namespace, run: Run, musicians: int, explain: bool) -> Size:
    """Create, fill and measure one database (dropped by the caller)."""
    await run.create()
    url = asyncpg_dsn(args.db, run.name)
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    conn = await asyncpg.connect(url)
    size = Size(musicians)
    try:
        async with db.transaction() as session:
            await sync_roadmaps(session, load_roadmaps())
        now = datetime.now(UTC)
        start = time.perf_counter()
        filled = await fill(conn, musicians, now)
        size.fill_s = time.perf_counter() - start
        size.counts = dict(filled.counts)
        size.size_mib = int(await conn.fetchval("SELECT pg_database_size(current_database())")) / (
            1024 * 1024
        )
        say(
            f"  filled {musicians:,} musicians in {size.fill_s:.1f} s: "
            + ", ".join(f"{n:,} {t}" for t, n in size.counts.items())
            + f"; {size.size_mib:,.0f} MiB"
        )
        coach = Coach(db)
        await coach.catalog.current(db)
        for _ in range(args.repeat):
            async with db.transaction() as session:
                await _timed(size, "admin_stats", lambda s=session: stats.collect(s, coach.clock()))
        people = _people(musicians, 2 * args.repeat)
        # warm-up (connections, imports, the first statements' plans): musicians 1 and 2
        await coach.handle(_say("100000001", "/export"))
        await coach.handle(_say("100000001", "/today"))
        stamp = str(int(coach.clock().timestamp() // 60))
        await coach.handle(_press("100000002", FORGET_ME.encode(stamp)))
        for i in people[: args.repeat]:
            user = str(100000000 + i)
            replies = await _timed(size, "export", lambda u=user: coach.handle(_say(u, "/export")))
            if not any(isinstance(r, Document) for r in replies):
                raise RuntimeError(f"/export of musician {i} sent no file: {replies!r}")
            await _timed(size, "today", lambda u=user: coach.handle(_say(u, "/today")))
        if explain:
            await _explain_all(conn, size, people[0], now)
        for i in reversed(people):
            user = str(100000000 + i)
            stamp = str(int(coach.clock().timestamp() // 60))
            replies = await _timed(
                size, "forget", lambda u=user, s=stamp: coach.handle(_press(u, FORGET_ME.encode(s)))
            )
            if "everything I knew about you is deleted" not in replies[0].text:
                raise RuntimeError(f"/forget of musician {i}: {replies[0].text!r}")
            if len(size.ms["forget"]) >= args.repeat:
                break
        await _hot_path(coach, size, args.walkers, f"walker-{run.name}")
        # One moment for every pass: the filled rows' times are spread to the minute, so a later
        # clock would find rows that have just come of age.
        moment = coach.clock()
        report = await _timed(size, "housekeeping_first", lambda: prune(db, now=moment))
        size.deleted_first = report.total
        # what autovacuum does within a minute of deletes this size (a fifth of the tables):
        # until then every index walk steps over the dead entries the first pass left
        await conn.execute("VACUUM (ANALYZE) events, deliveries, processed_updates, audit_log")
        for _ in range(args.repeat):
            report = await _timed(size, "housekeeping_idle", lambda: prune(db, now=moment))
            if report.total:
                say(f"  housekeeping found more to delete: {report}")
    finally:
        await conn.close()
        await db.dispose()
    return size


async def _explain_all(conn: Any, size: Size, i: int, now: datetime) -> None:
    """The plans behind the figures (printed with the report): the code's own statements where
    they are constants (the stats, housekeeping's batches), the footprint's lookups by hand."""
    uid = await conn.fetchval("SELECT md5('u' || $1::int)::uuid", i)
    week, month = now - timedelta(days=7), now - timedelta(days=30)
    code: dict[str, tuple[Any, dict[str, Any]]] = {
        "stats: the figures": (stats.FIGURES, {"week": week, "month": month}),
        "stats: the funnel": (stats.FUNNEL, {}),
        "housekeeping: update ids": (
            housekeeping.OLD_UPDATES["postgresql"],
            {"cutoff": now - timedelta(days=7), "batch": 5000},
        ),
        "housekeeping: nudges": (
            housekeeping.OLD_NUDGES["postgresql"],
            {"cutoff": now - timedelta(days=400), "batch": 5000},
        ),
        "housekeeping: processed events": (
            housekeeping.OLD_EVENTS["postgresql"],
            {"cutoff": now - timedelta(days=400), "batch": 5000},
        ),
        "housekeeping: irrelevant unprocessed events": (
            housekeeping.IRRELEVANT_EVENTS["postgresql"],
            {"cutoff": now - timedelta(days=30), "batch": 5000},
        ),
    }
    for name, (stmt, params) in code.items():
        compiled = stmt.compile(dialect=_PG, column_keys=list(params))
        values = compiled.construct_params(params)
        args = [values[key] for key in compiled.positiontup or ()]
        size.plans[name] = await _explain(conn, compiled.string, *args)
    by_hand = {
        "forget: progress completed_by": (
            "SELECT count(*) FROM user_task_progress WHERE completed_by = $1",
            uid,
        ),
        "forget: samples recorded_by": (
            "SELECT count(*) FROM stat_samples WHERE recorded_by = $1",
            uid,
        ),
        "forget: events user_id": ("SELECT count(*) FROM events WHERE user_id = $1", uid),
    }
    for name, (sql, value) in by_hand.items():
        size.plans[name] = await _explain(conn, sql, value)


async def backup_round_trip(args: argparse.Namespace, run: Run) -> dict[str, Any]:
    """``coach db backup`` of the filled database and ``coach db restore`` of it into a new
    empty one (the recovery target: how long a restore takes at this size), timed."""
    target = Run(admin_dsn=run.admin_dsn, name=f"coach_bench_{secrets.token_hex(4)}")
    await target.create()
    folder = Path(tempfile.mkdtemp(prefix="coach-backup-"))
    try:
        file = folder / "coach.dump"
        started = time.monotonic()
        made = await db_backup.backup(asyncpg_dsn(args.db, run.name), file)
        backed_up = time.monotonic() - started
        started = time.monotonic()
        await db_backup.restore(asyncpg_dsn(args.db, target.name), file)
        restored = time.monotonic() - started
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        await target.drop()
    figures = {
        "backup_s": round(backed_up, 1),
        "restore_s": round(restored, 1),
        "file_mib": round(made.size_bytes / 2**20, 1),
    }
    say(
        f"  backup {figures['backup_s']} s ({figures['file_mib']} MiB, pg_dump custom format), "
        f"restore into an empty database {figures['restore_s']} s"
    )
    return figures


def _cell(size: Size, name: str) -> str:
    value = size.median(name)
    if value is None:
        return "-"
    worst = max(size.ms[name])
    return f"{value:.1f} ms (max {worst:.1f})" if len(size.ms[name]) > 1 else f"{value:.0f} ms"


async def bench(args: argparse.Namespace, runs: list[Run]) -> int:
    admin = await asyncpg.connect(runs[0].admin_dsn)
    try:
        facts = {"server_version": str(await admin.fetchval("SHOW server_version"))}
    finally:
        await admin.close()
    figures: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "postgresql": facts["server_version"],
    }
    say("Stardom Coach — costs as the data grows (issue #18)")
    say(f"  date        {figures['date']}")
    say(f"  cpu         {figures['cpu']} ({figures['cores']} cores)")
    say(f"  load        {figures['load_before']} (1, 5, 15 min) before")
    say(f"  postgresql  {facts['server_version']}")
    sizes = []
    for run, n in zip(runs, (args.small, args.musicians), strict=True):
        size = await measure(args, run, n, explain=args.explain and n == args.musicians)
        if args.backup and n == args.musicians:
            figures["backup"] = await backup_round_trip(args, run)
        await run.drop()
        say("  " + json.dumps(size.as_json()))
        sizes.append(size)
    figures["load_after"] = [round(x, 2) for x in os.getloadavg()]
    small, big = sizes
    say("")
    say(
        f"| operation (median of {args.repeat}) | {big.musicians:,} musicians | "
        f"{small.musicians:,} musicians |"
    )
    say("| --- | --- | --- |")
    for name, text in LABELS.items():
        say(f"| {text} | {_cell(big, name)} | {_cell(small, name)} |")
    say(f"| database size | {big.size_mib:,.0f} MiB | {small.size_mib:,.0f} MiB |")
    say(f"  housekeeping's first pass deleted {big.deleted_first:,} rows at {big.musicians:,}")
    say(f"  load {figures['load_after']} (1, 5, 15 min) after")
    for name, lines in big.plans.items():
        say("")
        say(f"  EXPLAIN {name}:")
        for line in lines:
            say(f"    {line}")
    over = {
        name: round(value, 1)
        for name, budget in BUDGETS.items()
        if (value := big.median(name)) is not None and value > budget
    }
    figures["sizes"] = [small.as_json(), big.as_json()]
    figures["over_budget"] = over
    figures["bench_rss_mib"] = peak_rss_mib()
    say("")
    if over:
        say(f"  over budget at {big.musicians:,}: {over}")
    say("BENCH_JSON " + json.dumps(figures))
    return 1 if over and big.musicians >= 100_000 else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=DEFAULT_DB, help=f"admin URL (default {DEFAULT_DB})")
    parser.add_argument("--musicians", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=100, help="the size beside it (100)")
    parser.add_argument("--repeat", type=int, default=15, help="runs of each figure (15)")
    parser.add_argument("--walkers", type=int, default=6, help="new musicians ticking (6)")
    parser.add_argument("--explain", action="store_true", help="print the plans at N")
    parser.add_argument(
        "--backup", action="store_true", help="also time coach db backup and restore at N"
    )
    args = parser.parse_args(argv)
    if args.small < 100 or args.musicians < args.small:
        parser.error("--small is at least 100 and --musicians at least --small")
    logging.basicConfig(level=logging.WARNING)
    runs = [
        Run(admin_dsn=asyncpg_dsn(args.db), name=f"coach_bench_{secrets.token_hex(4)}")
        for _ in range(2)
    ]

    async def guarded() -> int:
        try:
            return await bench(args, runs)
        finally:
            for run in runs:
                await run.drop()

    try:
        return asyncio.run(guarded())
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
