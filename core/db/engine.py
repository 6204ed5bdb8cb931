"""Engine and session factory for PostgreSQL (asyncpg) and SQLite (aiosqlite).

Built in ``main()`` from settings and passed down; nothing here runs at import time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from core.db.executor import (
    AsyncpgExecutor,
    Executor,
    SQLAlchemyExecutor,
    init_asyncpg_connection,
)


def normalise_url(url: str) -> str:
    """Accept the URLs people paste and pick the async driver.

    ``postgres://`` and ``postgresql://`` become ``postgresql+asyncpg://``; ``sqlite://`` becomes
    ``sqlite+aiosqlite://``.
    """
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Database:
    """One engine and its session factory.

    On SQLite, writers are serialised with a process-local lock: SQLite allows one writer at a
    time anyway and would otherwise answer concurrent transactions with "database is locked".
    SQLite is the single-process embedded mode; several workers need PostgreSQL, where
    serialisation is a row lock in the database.
    """

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10) -> None:
        self.url = normalise_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "postgresql":
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self._sqlite_write_lock = asyncio.Lock()
        self._pool_size = pool_size
        self._pg_pool: Any = None
        self._pg_pool_lock = asyncio.Lock()
        #: Called with the SQL of every statement the asyncpg hot path runs (benchmarks count
        #: statements per event with it; SQLAlchemy's own events cover the other paths).
        self.statement_hook: Callable[[str], None] | None = None

    @property
    def is_sqlite(self) -> bool:
        """True when running on the embedded SQLite backend."""
        return self.dialect == "sqlite"

    @property
    def is_postgres(self) -> bool:
        """True when running on PostgreSQL."""
        return self.dialect == "postgresql"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: a session in a transaction, committed on success, else rolled back."""
        if self.is_sqlite:
            async with self._sqlite_write_lock, self.sessionmaker.begin() as session:
                yield session
        else:
            async with self.sessionmaker.begin() as session:
                yield session

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        """One unit of work on a Core connection (the engine's hot path): commit or roll back."""
        if self.is_sqlite:
            async with self._sqlite_write_lock, self.engine.begin() as conn:
                yield conn
        else:
            async with self.engine.begin() as conn:
                yield conn

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[Executor]:
        """One hot-path transaction: on PostgreSQL straight on asyncpg, else through SQLAlchemy.

        See :mod:`core.db.executor` for why the hot path may bypass SQLAlchemy's execution layer.
        """
        if not self.is_postgres:
            async with self.connection() as conn:
                yield SQLAlchemyExecutor(conn)
            return
        pool = self._pg_pool or await self._open_pg_pool()
        async with pool.acquire() as conn, conn.transaction():
            yield AsyncpgExecutor(conn, self.statement_hook)

    async def _open_pg_pool(self) -> Any:
        async with self._pg_pool_lock:
            if self._pg_pool is None:
                import asyncpg  # noqa: PLC0415 - only PostgreSQL deployments need it

                dsn = make_url(self.url).set(drivername="postgresql")
                self._pg_pool = await asyncpg.create_pool(
                    dsn.render_as_string(hide_password=False),
                    min_size=1,
                    max_size=self._pool_size,
                    init=init_asyncpg_connection,
                )
            return self._pg_pool

    async def dispose(self) -> None:
        """Close every pooled connection."""
        if self._pg_pool is not None:
            await self._pg_pool.close()
            self._pg_pool = None
        await self.engine.dispose()
