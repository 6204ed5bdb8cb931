"""What the benchmark scripts share: percentiles, process figures, the throwaway database.

Imported as ``benchmarks.benchkit``: each script puts the repository root first on ``sys.path``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import platform
import resource
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from core.roadmaps.catalog import RoadmapInfo, TaskInfo


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (0 when there are none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summary_ms(values: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max/mean of latencies in seconds, as milliseconds rounded to 0.01."""
    ordered = sorted(values)
    mean = sum(ordered) / len(ordered) if ordered else 0.0
    return {
        "p50": round(percentile(ordered, 0.50) * 1000, 2),
        "p95": round(percentile(ordered, 0.95) * 1000, 2),
        "p99": round(percentile(ordered, 0.99) * 1000, 2),
        "max": round((ordered[-1] if ordered else 0.0) * 1000, 2),
        "mean": round(mean * 1000, 2),
    }


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def rss_kib(pid: int) -> tuple[int, int]:
    """Another process's resident set now and its high-water mark, in KiB (Linux ``/proc``)."""
    rss = hwm = 0
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return rss, hwm


#: The reminder worker process the suite's crash tests run (the job runner, a real clock).
REMINDER_WORKER = Path(__file__).resolve().parent.parent / "tests/support/reminder_worker_proc.py"


@contextlib.asynccontextmanager
async def reminder_worker(db_url: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """:data:`REMINDER_WORKER` on ``db_url`` (tick 1 s, batch 200, lease 120 s), yielded once it
    says it is up; terminated at the end."""
    out = tempfile.NamedTemporaryFile(prefix="bench-worker-", suffix=".log", delete=False)
    out.close()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(REMINDER_WORKER),
        *("--db", db_url, "--out", out.name, "--name", "bench-worker"),
        *("--epoch", datetime.now(UTC).isoformat(), "--real-start", str(time.time())),
        *("--speed", "1", "--tick", "1.0", "--batch", "200", "--lease", "120"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        if proc.stdout is None:
            raise RuntimeError("no pipe to the worker")
        await asyncio.wait_for(proc.stdout.readline(), timeout=30)
        yield proc
    finally:
        proc.terminate()
        await proc.wait()
        os.unlink(out.name)


def machine_cpu_seconds(tick: int) -> float:
    """CPU seconds the whole machine has used since boot (all but idle and iowait)."""
    with open("/proc/stat", encoding="ascii") as stat:
        values = [int(v) for v in stat.readline().split()[1:9]]
    return (sum(values) - values[3] - values[4]) / tick


def proc_stat_lines() -> Iterator[tuple[int, str]]:
    """(pid, ``/proc/<pid>/stat`` line) of every process still there when read: what the
    benchmarks' CPU splits sort into the bot, PostgreSQL and the rest."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="utf-8") as proc:
                yield int(entry.name), proc.read()
        except OSError:
            continue


def proc_seconds(stat_line: str, tick: int) -> float:
    """utime + stime of a /proc/<pid>/stat line, in seconds."""
    fields = stat_line.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick  # utime + stime


def cpu_model() -> str:
    """The CPU model from /proc/cpuinfo, else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def asyncpg_dsn(url: str, database: str | None = None) -> str:
    """A plain ``postgresql://`` DSN for asyncpg (drops a ``+driver``), optionally re-targeted."""
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def say(line: str = "") -> None:
    """Print a line of the report at once."""
    print(line, flush=True)


@dataclass
class Run:
    """The throwaway database's life."""

    admin_dsn: str
    name: str
    created: bool = False
    dropped: bool = False

    async def create(self) -> dict[str, str]:
        """Create the database; return facts about the server."""
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            facts = {
                "server_version": str(await conn.fetchval("SHOW server_version")),
                "synchronous_commit": str(await conn.fetchval("SHOW synchronous_commit")),
                "max_connections": str(await conn.fetchval("SHOW max_connections")),
            }
            await conn.execute(f'CREATE DATABASE "{self.name}"')
            self.created = True
        finally:
            await conn.close()
        return facts

    async def drop(self) -> None:
        """Drop the database, disconnecting whoever is still on it."""
        if not self.created or self.dropped:
            return
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            self.dropped = True
        finally:
            await conn.close()


def run_dropping(run: Run, bench: Callable[[], Awaitable[int]]) -> int:
    """``asyncio.run(bench())``, dropping the run's database afterwards whatever happened.

    The exit status is the benchmark's; Ctrl-C gives 130 (the database is dropped first).
    """

    async def guarded() -> int:
        try:
            return await bench()
        finally:
            await run.drop()

    try:
        return asyncio.run(guarded())
    except KeyboardInterrupt:
        return 130


def planned_tasks(roadmap: RoadmapInfo) -> list[TaskInfo]:
    """The tasks the coach asks, in order, for a musician who deals with each one in turn.

    A stage is left as soon as its required tasks are all dealt with, so optional tasks after the
    stage's last required task are never asked. A task that opens on a day counted from an
    anchor date (a release-week post, the first 28 days of streams) is never asked during a
    benchmark: its day is weeks after the release date the musician gives, or the anchor is not
    set at all — it waits, and does not hold its stage back.
    """
    plan: list[TaskInfo] = []
    for stage in roadmap.stages:
        asked = [t for t in stage.tasks if t.when is None or t.when.opens is None]
        last_required = max((i for i, t in enumerate(asked) if not t.optional), default=-1)
        plan.extend(asked[: last_required + 1])
    return plan
