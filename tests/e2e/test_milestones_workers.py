"""Three milestone consumers in separate processes against one PostgreSQL database.

1 200 musicians each have three events in the outbox — 150 listeners, a paid gig, 1 200
listeners — so 3 600 celebrations are owed, each musician's in that order. A file per worker
records every notice handed to "the platform" with a nanosecond stamp.

* Without failures: every milestone celebrated exactly once, each musician's in order, the
  work shared.
* With a ``kill -9`` of one worker in the middle of a batch and its restart: no milestone is
  ever celebrated twice, every milestone is recorded exactly once, each musician's notices still
  come in order, and the only notices missing are exactly those whose delivery row the killed
  worker had reserved (``sending``) but not handed over — the at-most-once window the consumer
  documents (core/coaching/milestones/consumer.py), counted and printed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from workerkit import WorkerProcesses

from core.db.engine import Database

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

N = 500
WORKER = Path(__file__).resolve().parents[1] / "support" / "milestone_worker_proc.py"
#: What each musician is told, in order (the first words of each notice).
ORDER = ("100 monthly listeners", "Your first paid gig", "1 000 monthly listeners")


def _dsn(db: Database) -> str:
    return make_url(db.url).set(drivername="postgresql").render_as_string(hide_password=False)


async def seed(db: Database, n: int) -> None:
    """``n`` musicians (chat ``m<i>``) with three events each, interleaved across musicians."""
    conn = await asyncpg.connect(_dsn(db))
    try:
        await conn.execute(
            "INSERT INTO users (id, timezone, roles, broadcasts_opt_out, unreachable, created_at) "
            "SELECT md5('u' || i)::uuid, 'UTC', '[]'::jsonb, false, false, now() "
            "FROM generate_series(1, $1::int) i",
            n,
        )
        await conn.execute(
            "INSERT INTO identities (id, user_id, platform, external_id, created_at) "
            "SELECT md5('i' || i)::uuid, md5('u' || i)::uuid, 'console', 'm' || i, now() "
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
            "INSERT INTO events (id, type, profile_id, payload, created_at) "
            "SELECT md5('e' || i || '-' || k)::uuid, 'stats.updated', md5('p' || i)::uuid, "
            'CASE k WHEN 0 THEN \'{"metric": "monthly_listeners", "value": "150"}\' '
            'WHEN 1 THEN \'{"metric": "gig_fee", "value": "80"}\' '
            'ELSE \'{"metric": "monthly_listeners", "value": "1200"}\' END::jsonb, '
            "now() - interval '1 hour' + k * interval '1 second' + i * interval '1 microsecond' "
            "FROM generate_series(1, $1::int) i, generate_series(0, 2) k",
            n,
        )
        await conn.execute("ANALYZE events")
    finally:
        await conn.close()


class Workers(WorkerProcesses):
    """The milestone consumer processes of one test (``milestone_worker_proc.py``)."""

    def __init__(self, db: Database, tmp: Path, lease: float = 8.0) -> None:
        super().__init__(tmp)
        self.db = db
        #: Real seconds: long enough that a live worker keeps its profiles on a busy 2-core
        #: box, short enough that a killed worker's leased profiles come back quickly.
        self.lease = lease

    async def start(self, name: str) -> None:
        await self.launch(
            name,
            WORKER,
            *("--db", self.db.url, "--lease", str(self.lease)),
            *("--batch", "40", "--send-delay", "0.002"),
        )

    def lines(self) -> list[tuple[int, str, str]]:
        out = []
        for line in self.raw_lines():
            ns, chat, text = line.split(" ", 2)
            out.append((int(ns), chat, text))
        return out


def _what(text: str) -> str:
    """Which of :data:`ORDER` a notice is."""
    for i, start in enumerate(ORDER):
        if start in text and not (i == 0 and "1 000" in text):
            return start
    raise AssertionError(f"unexpected notice: {text}")


def _celebrations(lines: list[tuple[int, str, str]]) -> dict[str, list[str]]:
    """Each musician's notices in the order they were handed over."""
    per: dict[str, list[str]] = {}
    for _ns, chat, text in sorted(lines):
        per.setdefault(chat, []).append(_what(text))
    return per


async def _fetchval(db: Database, sql: str) -> int:
    conn = await asyncpg.connect(_dsn(db))
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


async def _drained(db: Database, within: float) -> None:
    """Every event processed and no outcome still to be written by a live worker."""
    deadline = time.monotonic() + within
    left = -1
    while time.monotonic() < deadline:
        left = await _fetchval(db, "SELECT count(*) FROM events WHERE processed_at IS NULL")
        if left == 0:
            await asyncio.sleep(1.0)  # the last batch's sends and outcome
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"{left} events still unprocessed after {within} s")


async def test_three_workers_celebrate_each_milestone_exactly_once_in_order(
    pg_database: Database, tmp_path: Path
) -> None:
    await seed(pg_database, N)
    workers = Workers(pg_database, tmp_path)
    await asyncio.gather(*(workers.start(name) for name in ("w1", "w2", "w3")))
    try:
        await _drained(pg_database, within=90)
    finally:
        await workers.stop_all()
    lines = workers.lines()
    counts = Counter((chat, _what(text)) for _ns, chat, text in lines)
    assert len(counts) == 3 * N  # every milestone celebrated …
    assert len(lines) == 3 * N  # … exactly once
    assert all(notices == list(ORDER) for notices in _celebrations(lines).values())
    assert sum(1 for v in workers.per_worker().values() if v) >= 2  # the work was shared
    assert await _fetchval(pg_database, "SELECT count(*) FROM milestones") == 3 * N
    sent = "SELECT count(*) FROM deliveries WHERE kind = 'milestone' AND status = 'sent'"
    assert await _fetchval(pg_database, sent) == 3 * N


async def test_kill_9_mid_batch_never_celebrates_twice(
    pg_database: Database, tmp_path: Path
) -> None:
    await seed(pg_database, N)
    workers = Workers(pg_database, tmp_path)
    await asyncio.gather(*(workers.start(name) for name in ("w1", "w2", "w3")))
    watcher = await asyncpg.connect(_dsn(pg_database))
    try:
        deadline = time.monotonic() + 60
        # Kill w1 once it has celebrated a few hundred times: it is in the middle of a batch
        # (its sends take 2 ms each, a batch is 40 profiles).
        while workers.per_worker().get("w1", 0) < 300:
            assert time.monotonic() < deadline, "w1 did not get going"
            await asyncio.sleep(0.01)
        victim = workers.procs["w1"]
        os.kill(victim.pid, signal.SIGKILL)
        await victim.wait()
        killed_at = len(workers.lines())
        await workers.start("w1-restarted")
        await _drained(pg_database, within=90)
        in_flight = {
            row[0]
            for row in await watcher.fetch(
                "SELECT idempotency_key FROM deliveries WHERE kind = 'milestone' "
                "AND status = 'sending'"
            )
        }
    finally:
        await watcher.close()
        await workers.stop_all()
    lines = workers.lines()
    counts = Counter((chat, _what(text)) for _ns, chat, text in lines)
    print(
        f"\nkill -9 after {killed_at} of {3 * N} notices: {len(in_flight)} reserved by the "
        f"killed worker and left 'sending', {3 * N - len(counts)} of them never handed over, "
        f"{sum(v - 1 for v in counts.values())} sent twice",
        file=sys.stderr,
    )
    assert max(counts.values()) == 1  # never celebrated twice
    assert await _fetchval(pg_database, "SELECT count(*) FROM milestones") == 3 * N
    keys = {
        "100 monthly listeners": "metric:monthly_listeners:100",
        "Your first paid gig": "first-paid-gig",
        "1 000 monthly listeners": "metric:monthly_listeners:1000",
    }
    celebrated_keys = {(chat, keys[what]) for chat, what in counts}
    conn = await asyncpg.connect(_dsn(pg_database))
    try:
        reserved = await conn.fetch(
            "SELECT i.external_id, m.key, d.status FROM milestones m "
            "JOIN profiles p ON p.id = m.profile_id JOIN identities i ON i.user_id = p.user_id "
            "JOIN deliveries d ON d.idempotency_key = "
            "'milestone:' || replace(m.profile_id::text, '-', '') || ':' || m.key"
        )
    finally:
        await conn.close()
    assert len(reserved) == 3 * N  # one delivery row per milestone, never two
    lost = set()
    for chat, key, status in reserved:
        if status == "sent":
            assert (chat, key) in celebrated_keys, (chat, key)
        elif (chat, key) not in celebrated_keys:
            assert status == "sending", (chat, key, status)  # reserved, then the kill
            lost.add((chat, key))
    # the only ones missing are the killed worker's reservations not handed over yet
    assert len(counts) + len(lost) == 3 * N
    assert len(lost) <= len(in_flight)
    # order per musician holds across the kill and the takeover
    for notices in _celebrations(lines).values():
        assert notices == [w for w in ORDER if w in notices]
