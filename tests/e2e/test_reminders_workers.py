"""Three reminder workers in separate processes against one PostgreSQL database.

10 000 reminders fall due within one minute of fake time (the workers share a clock running five
times faster than real time); a file per worker records every nudge handed to "the platform".
Without failures each reminder is delivered exactly once; after a ``kill -9`` of one worker and
its restart nothing is lost, and the nudges sent twice are at most those the killed worker had in
flight.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from core.db.engine import Database

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

N = 10_000
EPOCH = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SPEED = 5.0
WORKER = Path(__file__).resolve().parents[1] / "support" / "reminder_worker_proc.py"


def _dsn(db: Database) -> str:
    return make_url(db.url).set(drivername="postgresql").render_as_string(hide_password=False)


async def seed(db: Database, n: int, epoch: datetime, spread_seconds: float) -> None:
    """``n`` musicians, each with a daily 12:00 reminder, due evenly over ``spread_seconds``."""
    conn = await asyncpg.connect(_dsn(db))
    try:
        await conn.execute(
            "INSERT INTO users (id, timezone, roles, broadcasts_opt_out, unreachable, created_at) "
            "SELECT md5('u' || i)::uuid, 'UTC', '[]'::jsonb, false, false, now() "
            "FROM generate_series(1, $1::int) i",
            n,
        )
        await conn.execute(
            "INSERT INTO profiles (id, user_id, artist_name, current_stats, created_at, "
            "updated_at) SELECT md5('p' || i)::uuid, md5('u' || i)::uuid, 'Artist ' || i, "
            "'{}'::jsonb, now(), now() FROM generate_series(1, $1::int) i",
            n,
        )
        await conn.execute(
            "INSERT INTO reminders (id, user_id, kind, schedule, timezone, platform, target_chat, "
            "next_due_at, paused, created_at, stage, attempts) "
            "SELECT md5('r' || i)::uuid, md5('u' || i)::uuid, 'schedule', "
            """'{"type": "daily", "time": "12:00", "days": [0,1,2,3,4,5,6]}'::jsonb, 'UTC', """
            "'console', 'u' || i, $2::timestamptz + (i - 1) * $3::float8 * interval '1 second', "
            "false, now(), 0, 0 FROM generate_series(1, $1::int) i",
            n,
            epoch,
            spread_seconds / n,
        )
        await conn.execute("ANALYZE reminders")
    finally:
        await conn.close()


@dataclass
class Workers:
    """The worker processes of one test and their record files."""

    db: Database
    tmp: Path
    real_start: float
    procs: dict[str, asyncio.subprocess.Process]
    epoch: datetime = EPOCH
    #: Fake seconds (6 real s at 5x): long enough that a live worker never loses its claim on
    #: a busy 2-core box, short enough that a killed worker's claims come back quickly.
    lease: float = 30.0

    async def start(self, name: str) -> None:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(WORKER),
            "--db",
            self.db.url,
            "--out",
            str(self.tmp / f"{name}.log"),
            "--name",
            name,
            "--epoch",
            self.epoch.isoformat(),
            "--real-start",
            str(self.real_start),
            "--speed",
            str(SPEED),
            "--lease",
            str(self.lease),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        self.procs[name] = proc
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=30)
        assert line.strip() == b"ready", line

    def lines(self) -> list[str]:
        out: list[str] = []
        for path in sorted(self.tmp.glob("*.log")):
            out += path.read_text().splitlines()
        return out

    def per_worker(self) -> dict[str, int]:
        return {p.stem: len(p.read_text().splitlines()) for p in self.tmp.glob("*.log")}

    async def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in self.procs.items():
            _out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
            assert proc.returncode in {0, -signal.SIGKILL}, (name, err.decode()[-2000:])


async def _fetchval(db: Database, sql: str, *args: object) -> int:
    conn = await asyncpg.connect(_dsn(db))
    try:
        return int(await conn.fetchval(sql, *args))
    finally:
        await conn.close()


async def _claims_of(db: Database, worker: str) -> int:
    return await _fetchval(db, "SELECT count(*) FROM reminders WHERE claimed_by = $1", worker)


async def _all_sent(db: Database, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        sent = await _fetchval(db, "SELECT count(*) FROM deliveries WHERE status = 'sent'")
        if sent >= N:
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"only {sent} of {N} nudges recorded after {within} s")


async def _start(db: Database, tmp: Path, names: list[str], epoch: datetime = EPOCH) -> Workers:
    # Fake time is ``epoch`` 3 s from now, for every worker alike.
    workers = Workers(db, tmp, time.time() + 3.0, {}, epoch)
    await asyncio.gather(*(workers.start(name) for name in names))
    return workers


async def test_three_workers_deliver_each_nudge_exactly_once(
    pg_database: Database, tmp_path: Path
) -> None:
    await seed(pg_database, N, EPOCH, 60.0)
    workers = await _start(pg_database, tmp_path, ["w1", "w2", "w3"])
    try:
        await _all_sent(pg_database, within=45)
    finally:
        await workers.stop_all()
    lines = workers.lines()
    counts = Counter(lines)
    assert len(counts) == N  # every musician got their nudge …
    assert len(lines) == N  # … exactly once
    assert all(v > 0 for v in workers.per_worker().values())  # the work was shared
    assert await _fetchval(pg_database, "SELECT count(*) FROM deliveries") == N
    assert await _fetchval(pg_database, "SELECT max(attempts) FROM deliveries") == 1
    left = await _fetchval(
        pg_database,
        "SELECT count(*) FROM reminders WHERE next_due_at <= $1",
        EPOCH.replace(hour=13),
    )
    assert left == 0  # every row advanced to tomorrow
    assert (
        await _fetchval(pg_database, "SELECT count(*) FROM reminders WHERE claimed_by IS NOT NULL")
        == 0
    )


async def test_kill_9_loses_nothing_and_repeats_at_most_what_was_in_flight(
    pg_database: Database, tmp_path: Path
) -> None:
    await seed(pg_database, N, EPOCH, 60.0)
    # Start half-way through the minute: 5 000 nudges are due at once, so the workers are busy
    # with full batches when one of them is killed.
    workers = await _start(pg_database, tmp_path, ["w1", "w2", "w3"], EPOCH + timedelta(seconds=30))
    watcher = await asyncpg.connect(_dsn(pg_database))
    claims = "SELECT count(*) FROM reminders WHERE claimed_by = 'w1'"
    try:
        deadline = time.monotonic() + 30
        # Kill w1 the moment it holds a claimed batch (it is sending or recording it).
        while len(workers.lines()) < N * 0.1 or not await watcher.fetchval(claims):
            assert time.monotonic() < deadline, "workers did not get going"
        victim = workers.procs["w1"]
        os.kill(victim.pid, signal.SIGKILL)
        await victim.wait()
        in_flight = int(await watcher.fetchval(claims))
        await workers.start("w1-restarted")
        await _all_sent(pg_database, within=45)
    finally:
        await watcher.close()
        await workers.stop_all()
    counts = Counter(workers.lines())
    repeats = sum(v - 1 for v in counts.values())
    print(f"\nkill -9: {in_flight} nudges in flight, {repeats} sent twice", file=sys.stderr)
    assert len(counts) == N  # nothing lost
    assert repeats <= in_flight
    assert max(counts.values()) <= 2
    assert await _fetchval(pg_database, "SELECT count(*) FROM deliveries") == N
    assert (
        await _fetchval(pg_database, "SELECT count(*) FROM reminders WHERE claimed_by IS NOT NULL")
        == 0
    )
