"""Scale-out benchmark: 1, 2 and 3 ``coach run --telegram-webhook`` workers on one PostgreSQL.

Run from the repository root::

    .venv/bin/python benchmarks/scale_out.py [--db postgresql://postgres@127.0.0.1:5432/postgres]
        [--musicians 500] [--workers 1,2,3] [--duration 30] [--quick]

For each worker count it creates a throwaway database ``coach_bench_<random>`` (migrated,
roadmaps synced; dropped at the end, also after an error or Ctrl-C) and starts that many real
``coach run --telegram-webhook`` processes behind the loopback round-robin proxy of the tests
(``tests/support/rrproxy.py``, not sticky), fed by the fake Telegram as Telegram feeds a
webhook: up to 40 connections (the Bot API's default ``max_connections``), one queue per chat
(``tests/support/scaleoutkit.py``). ``--musicians`` musicians are onboarded (``/start``, a name,
the indie roadmap picked: not timed), then each loops over ``/today`` and ``/progress`` (a text
message answered with ``sendMessage``), waiting for the reply and then ``--think`` seconds (0.3)
before the next one, for ``--duration`` seconds: a closed loop that keeps every worker busy.
Why a think time: a worker deletes the inbox rows of handled updates in batches every 0.2 s
(``core/inbox.py``), and a chat's next update that lands on another worker waits until the
previous one's row is gone (its order across workers). People take seconds to answer; a loop
with none would measure that artifact (up to 0.2 s an update with 2+ workers), not the load.

Reported per worker count: updates handled end to end per second (an update counts when its
reply reached the fake), the reply latency p50/p95/p99 (from the moment the update was queued
at the fake to the moment the fake received the ``sendMessage``), and where the machine's CPU
went during the window, from ``/proc``: the workers, PostgreSQL (every ``postgres`` process),
this process (the fake, the proxy and the simulated musicians — on a 2-core machine they
compete with what they measure), and anything else. The PostgreSQL backends' wait events are
sampled from ``pg_stat_activity`` every 0.2 s (how often a backend of the run's database was
seen waiting, by event, e.g. ``IO:WALSync`` or ``Lock:transactionid``).

The workers run with ``TELEGRAM_SENDS_PER_SECOND=1000``: their pacing (28/s by default,
Telegram's limit for one bot) would otherwise be the only figure measured. ``--quick``: 60
musicians, 5 s windows — a check that the script works, not a figure. The last line is
``BENCH_JSON {...}``. Exit status 0 when every update got its reply, else 1.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# ``python benchmarks/scale_out.py`` puts this directory first on sys.path, where
# ``benchmarks/core.py`` would shadow the ``core`` package: the root (and the tests' support
# modules: the fake, the proxy, the fleet) go first instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "support")]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import secrets  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

import asyncpg  # noqa: E402
from fakes.telegram_api import FakeTelegram, JSONDict  # noqa: E402
from scaleoutkit import WebhookFleet, chats, onboard  # noqa: E402

from benchmarks.benchkit import (  # noqa: E402
    Run,
    asyncpg_dsn,
    cpu_model,
    machine_cpu_seconds,
    proc_seconds,
    proc_stat_lines,
    say,
    summary_ms,
)
from core.db.engine import Database  # noqa: E402
from core.db.migrate import upgrade_async  # noqa: E402
from core.roadmaps.loader import load_roadmaps  # noqa: E402
from core.roadmaps.sync import sync_roadmaps  # noqa: E402

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/postgres"
LOOP = ("/today", "/progress")
#: The longest a musician waits for a reply before counting the update as failed.
REPLY_TIMEOUT = 30.0


class BenchFake(FakeTelegram):
    """The fake Bot API, resolving each chat's reply wait when its ``sendMessage`` arrives.

    Its flood-limit bookkeeping is replaced by nothing (it scans the last minute's messages on
    every send, quadratic at these rates, and only logs when limits are not enforced), and
    the logs that only grow are dropped between windows.
    """

    def __init__(self) -> None:
        super().__init__(enforce_limits=False)
        self.waiting: dict[int, asyncio.Future[float]] = {}
        self.on_call = self._seen

    def _seen(self, method: str, params: JSONDict) -> bool:
        if method == "sendMessage":
            waiter = self.waiting.pop(int(params.get("chat_id", 0)), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(time.perf_counter())
        return False

    def _count_message(self, method: str, chat_id: int) -> None:
        return None

    def forget_history(self) -> None:
        for log in (self.sent, self.edits, self.callback_answers, self.calls, self.delivered):
            log.clear()
        self.webhook_attempts.clear()


# ----------------------------------------------------------------------------- CPU from /proc


@dataclass
class Cpu:
    """Cumulative CPU seconds at one moment: the machine's busy time and by process group."""

    at: float
    machine: float
    workers: float
    postgres: float
    own: float


def cpu_now(worker_pids: set[int]) -> Cpu:
    tick = os.sysconf("SC_CLK_TCK")
    machine = machine_cpu_seconds(tick)
    workers = postgres = own = 0.0
    for pid, line in proc_stat_lines():
        if pid in worker_pids:
            workers += proc_seconds(line, tick)
        elif pid == os.getpid():
            own += proc_seconds(line, tick)
        elif "(postgres)" in line:
            postgres += proc_seconds(line, tick)
    return Cpu(time.perf_counter(), machine, workers, postgres, own)


def cpu_split(a: Cpu, b: Cpu) -> dict[str, float]:
    """Cores used on average between two samples, by group."""
    wall = b.at - a.at
    split = {
        "workers": (b.workers - a.workers) / wall,
        "postgres": (b.postgres - a.postgres) / wall,
        "bench": (b.own - a.own) / wall,
        "machine": (b.machine - a.machine) / wall,
    }
    split["other"] = max(
        0.0, split["machine"] - split["workers"] - split["postgres"] - split["bench"]
    )
    return {k: round(v, 2) for k, v in split.items()}


# ----------------------------------------------------------------------------- one window


@dataclass
class Window:
    latencies: list[float] = field(default_factory=list)
    failed: int = 0
    waits: Counter[str] = field(default_factory=Counter)
    samples: int = 0


async def musician(fake: BenchFake, chat: int, until: float, window: Window, think: float) -> None:
    step = 0
    while time.perf_counter() < until:
        if step:
            await asyncio.sleep(think)
        waiter: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        fake.waiting[chat] = waiter
        start = time.perf_counter()
        fake.user_message(chat, LOOP[step % len(LOOP)])
        step += 1
        try:
            done = await asyncio.wait_for(waiter, REPLY_TIMEOUT)
        except TimeoutError:
            window.failed += 1
            fake.waiting.pop(chat, None)
            continue
        window.latencies.append(done - start)


async def sample_waits(dsn: str, database: str, until: float, window: Window) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        while time.perf_counter() < until:
            rows = await conn.fetch(
                "SELECT wait_event_type, wait_event, state FROM pg_stat_activity "
                "WHERE datname = $1 AND backend_type = 'client backend' "
                "AND pid <> pg_backend_pid()",
                database,
            )
            window.samples += 1
            for row in rows:
                if row["state"] == "active":
                    key = (
                        f"{row['wait_event_type']}:{row['wait_event']}"
                        if row["wait_event"]
                        else "CPU"
                    )
                    window.waits[key] += 1
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


async def one_count(args: argparse.Namespace, workers: int) -> dict[str, Any]:
    run = Run(args.db, f"coach_bench_{secrets.token_hex(4)}")
    await run.create()
    try:
        url = asyncpg_dsn(args.db, run.name).replace("postgresql://", "postgresql+asyncpg://", 1)
        await upgrade_async(url)
        db = Database(url)
        try:
            async with db.transaction() as session:
                await sync_roadmaps(session, load_roadmaps())
        finally:
            await db.dispose()
        people = chats(args.musicians)
        with tempfile.TemporaryDirectory(prefix="scale-out-") as tmp:
            async with BenchFake() as fake:
                env = {"TELEGRAM_SENDS_PER_SECOND": "1000"}
                fleet = WebhookFleet(Path(tmp), url, fake, workers=workers, lease=60, env=env)
                conn = await asyncpg.connect(asyncpg_dsn(url))
                try:
                    async with fleet:
                        fleet.deliver(connections=40)
                        started = time.perf_counter()
                        await onboard(fleet, conn, people)
                        onboarded = time.perf_counter() - started
                        fake.forget_history()
                        pids = {p.pid for p in fleet.procs.values()}
                        window = Window()
                        until = time.perf_counter() + args.duration
                        before = cpu_now(pids)
                        await asyncio.gather(
                            sample_waits(asyncpg_dsn(url), run.name, until, window),
                            *(musician(fake, chat, until, window, args.think) for chat in people),
                        )
                        after = cpu_now(pids)
                finally:
                    await conn.close()
    finally:
        await run.drop()
    wall = after.at - before.at
    handled = len(window.latencies)
    waits = {k: round(v / max(1, window.samples), 2) for k, v in window.waits.most_common(6)}
    return {
        "workers": workers,
        "musicians": args.musicians,
        "think_s": args.think,
        "onboarding_s": round(onboarded, 1),
        "window_s": round(wall, 1),
        "updates": handled,
        "failed": window.failed,
        "updates_per_s": round(handled / wall, 1),
        "latency_ms": summary_ms(window.latencies),
        "cpu_cores": cpu_split(before, after),
        "pg_backends_active_by_wait": waits,
    }


async def bench(args: argparse.Namespace) -> int:
    load = os.getloadavg()
    say(
        f"scale-out: {args.musicians} musicians, {args.duration:g} s windows, think "
        f"{args.think:g} s, workers "
        f"{','.join(map(str, args.workers))}; {cpu_model()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average before {load[0]:.1f}"
    )
    results = []
    for count in args.workers:
        result = await one_count(args, count)
        results.append(result)
        lat, cpu = result["latency_ms"], result["cpu_cores"]
        say(
            f"  {count} worker(s): {result['updates_per_s']:>6.1f} updates/s  "
            f"p50 {lat['p50']:.1f}  p95 {lat['p95']:.1f}  p99 {lat['p99']:.1f} ms  "
            f"failed {result['failed']}  |  cores: workers {cpu['workers']:.2f}, postgres "
            f"{cpu['postgres']:.2f}, bench {cpu['bench']:.2f}, other {cpu['other']:.2f} "
            f"(machine {cpu['machine']:.2f})"
        )
        waits = result["pg_backends_active_by_wait"]
        say(f"      postgres backends active, by wait (mean per sample): {waits}")
    say(f"load average after {os.getloadavg()[0]:.1f}")
    say("BENCH_JSON " + json.dumps({"results": results, "load_before": load[0]}))
    return 0 if all(r["failed"] == 0 for r in results) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--db", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--musicians", type=int, default=500)
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument(
        "--think", type=float, default=0.3, help="seconds between a reply and the next message"
    )
    parser.add_argument("--quick", action="store_true", help="60 musicians, 5 s windows")
    args = parser.parse_args()
    args.workers = [int(w) for w in str(args.workers).split(",") if w.strip()]
    if args.quick:
        args.musicians, args.duration = 60, 5.0
    try:
        return asyncio.run(bench(args))  # each worker count drops its own database
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
