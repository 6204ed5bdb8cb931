"""The one claimer (core/jobs/claim.py) the reminder tick and the broadcast sender share.

On a queue of its own (``deliveries`` rows of a test kind), on SQLite and PostgreSQL: claimers
working at once never get the same row; a crashed worker's rows come back once its lease runs
out, and not before; nothing is lost. On PostgreSQL a claim passes over rows another worker is
claiming at that very moment (``SKIP LOCKED``) instead of waiting for them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, insert, literal_column, select, update

from core.db.engine import Database
from core.db.tables import deliveries
from core.jobs.claim import Claim, claim

START = datetime(2031, 3, 4, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)

#: A queue: open rows of kind ``job-test`` due by ``:now``; the lease names the worker in
#: ``target_chat`` and moves ``due_at`` to ``:until`` (as a broadcast row's lease does).
QUEUE = Claim(
    deliveries,
    claimable=(
        deliveries.c.kind == literal_column("'job-test'"),
        deliveries.c.status != literal_column("'done'"),
        deliveries.c.due_at <= bindparam("now"),
    ),
    order_by=(deliveries.c.due_at, deliveries.c.id),
    lease={
        "status": literal_column("'leased'"),
        "target_chat": bindparam("worker"),
        "due_at": bindparam("until"),
        "attempts": deliveries.c.attempts + literal_column("1"),
    },
    returning=(deliveries.c.id, deliveries.c.target_chat),
)


async def _queue(db: Database, n: int) -> list[uuid.UUID]:
    """``n`` open rows, the oldest due first."""
    ids = [uuid.uuid4() for _ in range(n)]
    async with db.transaction() as session:
        await session.execute(
            insert(deliveries),
            [
                {
                    "id": row_id,
                    "idempotency_key": f"job-test:{row_id.hex}",
                    "kind": "job-test",
                    "platform": "test",
                    "target_chat": "nobody",
                    "status": "pending",
                    "attempts": 0,
                    "due_at": START - timedelta(seconds=n - i),
                    "created_at": START,
                }
                for i, row_id in enumerate(ids)
            ],
        )
    return ids


async def _take(
    db: Database, worker: str, now: datetime, limit: int
) -> list[tuple[uuid.UUID, str]]:
    async with db.unit_of_work() as ex:
        rows = await claim(ex, QUEUE, now=now, lease=LEASE, limit=limit, params={"worker": worker})
    return [(row[0], row[1]) for row in rows]


async def _done(db: Database, ids: list[uuid.UUID]) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(deliveries).where(deliveries.c.id.in_(ids)).values(status="done")
        )


async def _rows(db: Database) -> dict[uuid.UUID, tuple[str, int]]:
    async with db.transaction() as session:
        found = await session.execute(
            select(deliveries.c.id, deliveries.c.status, deliveries.c.attempts)
        )
        return {row.id: (row.status, row.attempts) for row in found}


async def test_claimers_at_once_never_get_the_same_row_and_lose_none(database: Database) -> None:
    ids = await _queue(database, 60)
    taken: dict[str, list[uuid.UUID]] = {}

    async def worker(name: str) -> None:
        mine = taken.setdefault(name, [])
        while rows := await _take(database, name, START, limit=7):
            assert {chat for _, chat in rows} == {name}, "the lease names who holds the row"
            mine.extend(row_id for row_id, _ in rows)
            await asyncio.sleep(0.005)  # "sending": the others claim meanwhile
            await _done(database, [row_id for row_id, _ in rows])

    await asyncio.gather(*(worker(f"w{n}") for n in range(4)))

    every = Counter(row_id for mine in taken.values() for row_id in mine)
    assert set(every) == set(ids), "nothing lost"
    assert max(every.values()) == 1, "no row claimed twice"
    assert sum(1 for mine in taken.values() if mine) >= 2, "the work was shared"
    assert set((await _rows(database)).values()) == {("done", 1)}


async def test_a_crashed_workers_rows_come_back_when_its_lease_runs_out(
    database: Database,
) -> None:
    ids = await _queue(database, 10)
    assert len(await _take(database, "dead", START, limit=10)) == 10  # then it "crashes"

    assert await _take(database, "heir", START + LEASE / 2, limit=10) == []
    assert await _take(database, "heir", START + LEASE - timedelta(seconds=1), limit=10) == []
    later = START + LEASE + timedelta(seconds=1)
    heir = await _take(database, "heir", later, limit=10)
    assert sorted(row_id for row_id, _ in heir) == sorted(ids), "every row taken over"
    assert {chat for _, chat in heir} == {"heir"}
    assert {attempts for _, attempts in (await _rows(database)).values()} == {2}
    assert await _take(database, "third", later, limit=10) == [], "the heir's lease holds"


async def test_a_batch_takes_the_oldest_due_rows_and_nothing_not_yet_due(
    database: Database,
) -> None:
    ids = await _queue(database, 10)  # due 10 s, 9 s, … 1 s before START
    early = START - timedelta(seconds=5)  # ids[0] … ids[5] are due
    first = await _take(database, "w", early, limit=4)
    assert sorted(row_id for row_id, _ in first) == sorted(ids[:4])
    second = await _take(database, "w", early, limit=10)
    assert sorted(row_id for row_id, _ in second) == sorted(ids[4:6])
    rest = await _take(database, "w", START, limit=10)
    assert sorted(row_id for row_id, _ in rest) == sorted(ids[6:])


@pytest.mark.postgres_only
async def test_a_claim_passes_over_rows_another_worker_is_claiming(database: Database) -> None:
    """Worker A's claim is not committed yet; B's claim does not wait for it, and takes other
    rows. Without ``SKIP LOCKED`` B would wait for A's row locks — and then claim the same
    rows, since a blocked UPDATE re-checks only its own WHERE after A commits."""
    ids = await _queue(database, 10)
    async with database.unit_of_work() as a:
        first = await claim(a, QUEUE, now=START, lease=LEASE, limit=5, params={"worker": "a"})
        async with asyncio.timeout(3), database.unit_of_work() as b:
            second = await claim(b, QUEUE, now=START, lease=LEASE, limit=5, params={"worker": "b"})
    assert len(first) == len(second) == 5
    assert {r[0] for r in first} | {r[0] for r in second} == set(ids)


def test_a_claim_must_write_its_lease() -> None:
    with pytest.raises(ValueError, match="until"):
        Claim(
            deliveries,
            claimable=(deliveries.c.due_at <= bindparam("now"),),
            order_by=(deliveries.c.due_at,),
            lease={"status": literal_column("'leased'")},
            returning=(deliveries.c.id,),
        )
    with pytest.raises(ValueError, match="literal_column"):
        Claim(
            deliveries,
            claimable=(deliveries.c.due_at <= bindparam("now"),),
            order_by=(deliveries.c.due_at,),
            lease={"status": "leased", "due_at": bindparam("until")},
            returning=(deliveries.c.id,),
        )


async def test_a_claim_is_called_with_exactly_its_parameters(database: Database) -> None:
    async with database.unit_of_work() as ex:
        with pytest.raises(ValueError, match="worker"):
            await claim(ex, QUEUE, now=START, lease=LEASE, limit=1)
