"""Bounds on the database: per-connection timeouts, the "busy" answer, the pool budget, the
retry back-off, and what counts as a lost connection."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from pathlib import Path

import asyncpg
import pytest
from coachkit import Driver, at_a_checklist, next_update_id, synced_coach
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from core.app.engine import BUSY
from core.db.engine import Database, Timeouts
from core.db.failures import DatabaseBusy, DatabaseUnavailable, busy, connection_lost
from core.db.models import ProcessedUpdate
from core.db.retry import RetryPolicy
from core.kernel.types import Toast
from core.settings import load_settings

SETTINGS = ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout")
SHOW = {name: text(f"SHOW {name}") for name in SETTINGS}


def _dsn(db: Database) -> str:
    return db.url.replace("postgresql+asyncpg", "postgresql")


async def test_a_locked_profile_answers_busy_within_the_lock_timeout(database: Database) -> None:
    """PostgreSQL: another session holds the musician's profile row (``lock_timeout``).
    SQLite: another transaction of this process holds the write lock (its bounded wait)."""
    db = Database(database.url, timeouts=Timeouts(lock=0.5))
    coach = await synced_coach(db)
    maya = Driver(coach, "maya", platform="telegram")
    release = asyncio.Event()
    holder: asyncpg.Connection | None = None
    holding: asyncio.Task[None] | None = None
    try:
        await maya.onboard()
        tick = await at_a_checklist(maya)
        if db.is_postgres:
            holder = await asyncpg.connect(_dsn(db))
            await holder.execute("BEGIN")
            await holder.execute(
                "SELECT 1 FROM profiles p JOIN identities i ON i.user_id = p.user_id "
                "WHERE i.platform = 'telegram' AND i.external_id = 'maya' FOR UPDATE OF p"
            )
        else:
            locked = asyncio.Event()

            async def hold() -> None:
                async with db.transaction():
                    locked.set()
                    await release.wait()

            holding = asyncio.create_task(hold())
            await locked.wait()
        update = next_update_id()
        started = time.monotonic()
        replies = await asyncio.wait_for(maya.press_payload(tick, update_id=update), 10)
        waited = time.monotonic() - started
    finally:
        release.set()
        if holding is not None:
            await holding
        if holder is not None:
            await holder.close()
    try:
        async with db.transaction() as session:
            recorded = (
                await session.execute(
                    select(func.count()).where(ProcessedUpdate.update_id == update)
                )
            ).scalar_one()
        again = await maya.press_payload(tick, update_id=update)  # the platform redelivers it
    finally:
        await db.dispose()
    assert [(r.text, isinstance(r, Toast)) for r in replies] == [(BUSY, True)]
    assert waited < 3.0  # the lock timeout is 0.5 s; a loaded machine gets slack, not hours
    assert recorded == 0  # nothing half-written: not even the update id
    assert "1/" in "".join(r.text for r in again)  # so the redelivered press is handled


@pytest.mark.postgres_only
async def test_every_postgresql_session_starts_with_the_timeouts(database: Database) -> None:
    db = Database(database.url, timeouts=Timeouts(statement=12, lock=3, idle_in_transaction=45))
    unset = Database(database.url, timeouts=Timeouts(statement=0, lock=0, idle_in_transaction=0))
    plain = await asyncpg.connect(_dsn(database))
    try:
        async with db.unit_of_work() as ex:  # the hot path's asyncpg pool
            hot = [(await ex.rows(SHOW[name], {}))[0][0] for name in SETTINGS]
        async with db.transaction() as session:  # SQLAlchemy's pool
            side = [(await session.execute(SHOW[name])).scalar_one() for name in SETTINGS]
        async with unset.transaction() as session:
            untouched = [(await session.execute(SHOW[name])).scalar_one() for name in SETTINGS]
        server = [await plain.fetchval(f"SHOW {name}") for name in SETTINGS]
    finally:
        await plain.close()
        await db.dispose()
        await unset.dispose()
    assert hot == ["12s", "3s", "45s"]
    assert side == hot
    assert untouched == server  # 0: the server's (or the role's) own value applies


@pytest.mark.postgres_only
async def test_a_process_stays_within_its_connection_budget(database: Database) -> None:
    """Two pools of pool size + overflow each: here 1 + 0, so never more than 2 connections,
    however many events and admin commands run at once."""
    db = Database(database.url, pool_size=1, max_overflow=0)
    coach = await synced_coach(db)
    watcher = await asyncpg.connect(_dsn(database))
    others = await watcher.fetchval(
        "SELECT array_agg(pid) FROM pg_stat_activity WHERE datname = current_database()"
    )
    peak = 0
    done = asyncio.Event()

    async def watch() -> None:
        nonlocal peak
        while not done.is_set():
            count = await watcher.fetchval(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND NOT (pid = ANY($1))",
                others,
            )
            peak = max(peak, count)
            await asyncio.sleep(0.002)

    people = [Driver(coach, f"p{i}", platform="telegram") for i in range(12)]
    watching = asyncio.create_task(watch())
    try:
        await asyncio.gather(
            *(p.say("/start") for p in people),
            *(p.say("/broadcasts off") for p in people[:6]),
        )
        await asyncio.gather(
            *(p.say("Artist") for p in people), *(p.say("/export") for p in people)
        )
    finally:
        done.set()
        await watching
        await watcher.close()
        await db.dispose()
    assert 1 <= peak <= 2


def test_the_database_settings_reach_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://coach@127.0.0.1:1/coach")
    defaults = Database.from_settings(load_settings())
    assert defaults.timeouts == Timeouts(statement=30, lock=5, idle_in_transaction=60)
    assert defaults.engine.pool.size() == 5  # type: ignore[attr-defined]
    assert defaults.hot_pool_size == 10
    assert defaults.retry.budget == 5
    for name, value in {
        "DATABASE_POOL_SIZE": "3",
        "DATABASE_MAX_OVERFLOW": "2",
        "DATABASE_STATEMENT_TIMEOUT_SECONDS": "12",
        "DATABASE_LOCK_TIMEOUT_SECONDS": "1.5",
        "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS": "0",
        "DATABASE_RETRY_SECONDS": "2",
    }.items():
        monkeypatch.setenv(name, value)
    db = Database.from_settings(load_settings())
    assert db.engine.pool.size() == 3  # type: ignore[attr-defined]
    assert db.hot_pool_size == 5
    assert db.timeouts.server_settings() == {"statement_timeout": "12000", "lock_timeout": "1500"}
    assert db.retry.budget == 2
    monkeypatch.setenv("DATABASE_LOCK_TIMEOUT_SECONDS", "-1")
    with pytest.raises(ValueError, match="database_lock_timeout_seconds"):
        load_settings()


async def test_retrying_backs_off_within_its_budget_then_answers_at_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    now = 0.0
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        nonlocal now
        waits.append(seconds)
        now += seconds

    policy = RetryPolicy(budget=3.0, sleep=sleep, monotonic=lambda: now)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", retry=policy)
    calls = 0

    async def lost() -> int:
        nonlocal calls
        calls += 1
        if calls <= failures:
            raise DatabaseUnavailable(
                "cannot connect to the database"
            ) from ConnectionRefusedError()
        return 42

    failures = 100
    with pytest.raises(DatabaseUnavailable):
        await db.retrying(lost)
    assert waits == [0.05, 0.1, 0.2, 0.4, 0.8, 1.0]  # bounded: the next wait would pass 3 s
    assert calls == 7

    # gone longer than the budget: one immediate retry, no back-off
    now += 10
    calls, waits[:] = 0, []
    with pytest.raises(DatabaseUnavailable):
        await db.retrying(lost)
    assert (calls, waits) == (2, [])

    db.outage.back()  # it answered again (any success says so)
    calls, failures = 0, 2
    assert await db.retrying(lost) == 42
    assert waits == [0.05, 0.1]

    async def bug() -> None:
        nonlocal calls
        calls += 1
        raise ValueError("not the database")

    calls, waits[:] = 0, []
    with pytest.raises(ValueError, match="not the database"):
        await db.retrying(bug)
    assert (calls, waits) == (1, [])
    await db.dispose()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 4  # lost, back, lost, ... not one per attempt
    assert [w.split(" (")[0].split(" after")[0] for w in warnings] == [
        "database connection lost",
        "database answering again",
        "database connection lost",
        "database answering again",
    ]


def _wrapped(exc: BaseException) -> OperationalError:
    """``exc`` as SQLAlchemy raises a driver error (``orig``)."""
    return OperationalError("SELECT 1", {}, exc)  # type: ignore[arg-type]


def _caused(outer: BaseException, cause: BaseException) -> BaseException:
    outer.__cause__ = cause
    return outer


def _during(outer: BaseException, context: BaseException) -> BaseException:
    outer.__context__ = context
    return outer


@pytest.mark.parametrize(
    ("exc", "lost", "is_busy"),
    [
        (asyncpg.exceptions.CannotConnectNowError("the database system is starting up"), 1, 0),
        (asyncpg.exceptions.AdminShutdownError("terminating connection"), 1, 0),
        (asyncpg.exceptions.ConnectionDoesNotExistError("closed in the middle"), 1, 0),
        (asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients"), 1, 0),
        (asyncpg.exceptions.InterfaceError("connection is closed"), 1, 0),
        (
            asyncpg.exceptions.InternalClientError(
                "cannot switch to state 12; another operation (2) is in progress"
            ),
            1,
            0,
        ),
        # two tasks on one connection is a bug, not an outage: it stays visible
        (
            asyncpg.exceptions.InternalClientError(
                "cannot switch to state 15; another operation (12) is in progress"
            ),
            0,
            0,
        ),
        (asyncpg.exceptions.LockNotAvailableError("canceling statement due to lock timeout"), 0, 1),
        (
            asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"),
            0,
            1,
        ),
        (asyncpg.exceptions.UniqueViolationError("duplicate key"), 0, 0),
        (_wrapped(_caused(RuntimeError("adapted"), asyncpg.exceptions.AdminShutdownError())), 1, 0),
        (_wrapped(sqlite3.OperationalError("database is locked")), 0, 1),
        (DatabaseBusy("write lock"), 0, 1),
        (DatabaseUnavailable("cannot connect"), 1, 0),
        # only the driver's own chain counts, never an error met while handling another
        (_during(ValueError("a bug"), ConnectionRefusedError()), 0, 0),
        (FileNotFoundError("roadmaps/"), 0, 0),
    ],
)
def test_what_counts_as_a_lost_connection_or_a_busy_row(
    exc: BaseException, lost: int, is_busy: int
) -> None:
    assert connection_lost(exc) is bool(lost)
    assert busy(exc) is bool(is_busy)
