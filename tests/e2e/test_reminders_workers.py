"""Three reminder workers in separate processes against one PostgreSQL database.

10 000 reminders fall due within one minute of fake time (the workers share a clock running five
times faster than real time); a file per worker records every nudge handed to "the platform".
Without failures each reminder is delivered exactly once; after a ``kill -9`` of one worker and
its restart nothing is lost, and the nudges sent twice are at most those the killed worker had in
flight.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from workerkit import WorkerProcesses

from core.coaching.review.week import Slot, spread
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


class Workers(WorkerProcesses):
    """The reminder worker processes of one test (``reminder_worker_proc.py``), on one
    shifted clock."""

    def __init__(
        self,
        db: Database,
        tmp: Path,
        real_start: float,
        *,
        epoch: datetime = EPOCH,
        speed: float = SPEED,
        lease: float = 30.0,
    ) -> None:
        super().__init__(tmp)
        self.db, self.real_start, self.epoch, self.speed = db, real_start, epoch, speed
        #: Fake seconds (6 real s at 5x): long enough that a live worker never loses its claim
        #: on a busy 2-core box, short enough that a killed worker's claims come back quickly.
        self.lease = lease

    async def start(self, name: str) -> None:
        await self.launch(
            name,
            WORKER,
            *("--db", self.db.url, "--name", name, "--epoch", self.epoch.isoformat()),
            *("--real-start", str(self.real_start), "--speed", str(self.speed)),
            *("--lease", str(self.lease)),
        )

    def lines(self) -> list[str]:
        return self.raw_lines()


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


async def _start(
    db: Database,
    tmp: Path,
    names: list[str],
    epoch: datetime = EPOCH,
    *,
    speed: float = SPEED,
    lease: float = 30.0,
) -> Workers:
    # Fake time is ``epoch`` 3 s from now, for every worker alike.
    workers = Workers(db, tmp, time.time() + 3.0, epoch=epoch, speed=speed, lease=lease)
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


REVIEWS = 3_000
#: Bands with a weekly digest (issue #14 §2) among the reviews: the same rules, the same run.
BANDS = 300
#: An hour of fake time in 30 real seconds: the weekly reviews' spread is an hour.
REVIEW_SPEED = 120.0


async def seed_digests(db: Database, n: int, epoch: datetime) -> list[datetime]:
    """``n`` bands, each with its weekly digest at ``epoch``'s weekday and hour (UTC) plus the
    stable offset of the band's profile; posted to the band's channel ``band<i>``."""
    slot = Slot(epoch.weekday(), epoch.time().replace(tzinfo=None))
    pids = [uuid.UUID(hashlib.md5(f"bp{i}".encode()).hexdigest()) for i in range(1, n + 1)]  # noqa: S324
    due = [slot.next_after(epoch - timedelta(seconds=1), UTC, spread(pid)) for pid in pids]
    conn = await asyncpg.connect(_dsn(db))
    try:
        await conn.execute(
            "INSERT INTO bands (id, name, platform, external_id, channel_id, "
            "announce_milestones, created_at) SELECT md5('b' || i)::uuid, 'Band ' || i, "
            "'console', 's' || i, 'band' || i, false, now() FROM generate_series(1, $1::int) i",
            n,
        )
        await conn.execute(
            "INSERT INTO profiles (id, band_id, artist_name, current_stats, created_at, "
            "updated_at) SELECT md5('bp' || i)::uuid, md5('b' || i)::uuid, 'Band ' || i, "
            "'{}'::jsonb, now(), now() FROM generate_series(1, $1::int) i",
            n,
        )
        await conn.execute(
            "INSERT INTO reminders (id, band_id, kind, schedule, timezone, platform, target_chat, "
            "next_due_at, paused, created_at, stage, attempts) "
            "SELECT md5('d' || i)::uuid, md5('b' || i)::uuid, 'digest', $1::jsonb, 'UTC', "
            "'console', 'band' || i, d.at, false, now(), 0, 0 "
            "FROM unnest($2::timestamptz[]) WITH ORDINALITY AS d(at, i)",
            json.dumps(slot.to_json()),
            due,
        )
    finally:
        await conn.close()
    return due


async def seed_reviews(db: Database, n: int, epoch: datetime) -> list[datetime]:
    """``n`` musicians with a weekly review on ``epoch``'s weekday at its hour (UTC), each due
    at that hour plus their own stable offset (core/coaching/review/week.py ``spread``)."""
    slot = Slot(epoch.weekday(), epoch.time().replace(tzinfo=None))
    pids = [uuid.UUID(hashlib.md5(f"p{i}".encode()).hexdigest()) for i in range(1, n + 1)]  # noqa: S324
    due = [slot.next_after(epoch - timedelta(seconds=1), UTC, spread(pid)) for pid in pids]
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
            "SELECT md5('r' || i)::uuid, md5('u' || i)::uuid, 'review', $1::jsonb, 'UTC', "
            "'console', 'u' || i, d.at, false, now(), 0, 0 "
            "FROM unnest($2::timestamptz[]) WITH ORDINALITY AS d(at, i)",
            json.dumps(slot.to_json()),
            due,
        )
        await conn.execute("ANALYZE reminders")
    finally:
        await conn.close()
    return due


async def _recorded(db: Database, n: int, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        sent = await _fetchval(db, "SELECT count(*) FROM deliveries WHERE status = 'sent'")
        if sent >= n:
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"only {sent} of {n} reviews recorded after {within} s")


async def test_weekly_reviews_spread_over_the_hour_once_each_through_a_kill_9(
    pg_database: Database, tmp_path: Path
) -> None:
    """Reviews and band digests together: each musician's review and each band's digest
    exactly once per ISO week across three workers, one of them killed mid-batch."""
    await seed_digests(pg_database, BANDS, EPOCH)
    due = await seed_reviews(pg_database, REVIEWS, EPOCH)
    minutes = Counter((d - EPOCH).total_seconds() // 60 for d in due)
    assert len(minutes) == 60  # spread over the hour, not queued at one second
    assert max(minutes.values()) < REVIEWS / 20
    workers = await _start(
        pg_database,
        tmp_path,
        ["w1", "w2", "w3"],
        # Half-way through the hour: half the reviews are due at once, so the workers are busy
        # with full batches when one of them is killed; the other half come as their minute does.
        EPOCH + timedelta(minutes=30),
        speed=REVIEW_SPEED,
        lease=600.0,  # fake seconds: 5 real ones
    )
    watcher = await asyncpg.connect(_dsn(pg_database))
    claims = "SELECT count(*) FROM reminders WHERE claimed_by = 'w1'"
    try:
        deadline = time.monotonic() + 60
        while len(workers.lines()) < REVIEWS * 0.1 or not await watcher.fetchval(claims):
            assert time.monotonic() < deadline, "workers did not get going"
            await asyncio.sleep(0.01)
        victim = workers.procs["w1"]
        os.kill(victim.pid, signal.SIGKILL)
        await victim.wait()
        in_flight = int(await watcher.fetchval(claims))
        await workers.start("w1-restarted")
        await _recorded(pg_database, REVIEWS + BANDS, within=90)
    finally:
        await watcher.close()
        await workers.stop_all()
    counts = Counter(workers.lines())
    repeats = sum(v - 1 for v in counts.values())
    print(f"\nreviews, kill -9: {in_flight} in flight, {repeats} sent twice", file=sys.stderr)
    assert len(counts) == REVIEWS + BANDS  # every musician's review, every band's digest
    assert sum(1 for chat in counts if chat.startswith("band")) == BANDS  # to their channels
    assert repeats <= in_flight  # only what the killed worker had in flight came twice
    year, week, _ = EPOCH.isocalendar()
    assert (
        await _fetchval(
            pg_database,
            "SELECT count(DISTINCT idempotency_key) FROM deliveries WHERE kind = 'digest' "
            "AND idempotency_key LIKE $1",
            f"%:{year}-W{week:02d}:digest",
        )
        == BANDS
    )  # one delivery row per band and ISO week
    assert (
        await _fetchval(
            pg_database,
            "SELECT count(DISTINCT idempotency_key) FROM deliveries WHERE kind = 'review' "
            "AND idempotency_key LIKE $1",
            f"%:{year}-W{week:02d}:review",
        )
        == REVIEWS
    )  # one delivery row per musician and ISO week
    assert await _fetchval(pg_database, "SELECT count(*) FROM deliveries") == REVIEWS + BANDS
    assert (
        await _fetchval(
            pg_database,
            "SELECT count(*) FROM reminders WHERE next_due_at < $1",
            EPOCH + timedelta(days=6),
        )
        == 0
    )  # every row moved on to next week
