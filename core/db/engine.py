"""Engine and session factory for PostgreSQL (asyncpg) and SQLite (aiosqlite).

Built in ``main()`` from settings (:meth:`Database.from_settings`) and passed down; nothing here
runs at import time.

Every way into the database — :meth:`Database.transaction`, :meth:`Database.connection` and
the hot path's :meth:`Database.unit_of_work` — does the same three things besides its work:

* it checks the connection out *before* the work starts, and turns any failure to do so into
  :class:`~core.db.failures.DatabaseUnavailable` (whatever the driver raised: refused, "starting
  up", a vanished Unix socket, too many clients);
* when the work fails because the connection was lost, it tells :class:`~core.db.retry.Outage`
  (one warning per outage); the dead connection itself is discarded by its pool (asyncpg aborts
  a connection whose protocol broke, and both pools replace a closed one at checkout);
* when the work succeeds, it tells the outage it is over (one line).

Retrying is :meth:`Database.retrying`, used by whoever knows that its work may run twice.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
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
    keep_session_on_release,
)
from core.db.failures import DatabaseBusy, DatabaseUnavailable, connection_lost
from core.db.retry import Outage, RetryPolicy
from core.settings import Pooler, Settings

T = TypeVar("T")

#: Seconds to wait for PostgreSQL to accept a new connection (asyncpg's default is 60: a
#: server that drops packets would hold every event that long).
CONNECT_TIMEOUT: Final = 5.0


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


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Session settings every PostgreSQL connection starts with, in seconds (0: not set by us,
    the server's or the role's own value applies).

    Why on the connection and not per statement: they guard against what nobody planned — a
    profile row locked by a stuck session (``lock_timeout``: the event answers "busy" instead of
    waiting for hours), a runaway query (``statement_timeout``), a transaction left open by a
    hung task, holding its locks (``idle_in_transaction_session_timeout``: the server ends that
    session). Migrations run on their own engine without them.
    """

    statement: float = 30.0
    lock: float = 5.0
    idle_in_transaction: float = 60.0

    def server_settings(self) -> dict[str, str]:
        """asyncpg's ``server_settings``: the non-zero timeouts in milliseconds."""
        seconds = {
            "statement_timeout": self.statement,
            "lock_timeout": self.lock,
            "idle_in_transaction_session_timeout": self.idle_in_transaction,
        }
        return {name: str(round(value * 1000)) for name, value in seconds.items() if value > 0}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _refuse_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Pool checkout: a connection whose socket asyncpg already saw closed is replaced.

    Free (no round trip): after a restart the pooled connections' sockets were closed by the
    server, and the event loop has usually read that by the next checkout. SQLAlchemy retries
    the checkout with a new connection when this raises.
    """
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is not None and driver.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def _unique_statement_name() -> str:
    """A prepared statement's name no other statement on any server connection has."""
    return f"__asyncpg_{uuid.uuid4().hex}__"


class Database:
    """One engine and its session factory, plus the hot path's asyncpg pool on PostgreSQL.

    On SQLite, writers are serialised with a process-local lock: SQLite allows one writer at a
    time anyway and would otherwise answer concurrent transactions with "database is locked".
    SQLite is the single-process embedded mode; several workers need PostgreSQL, where
    serialisation is a row lock in the database. Waiting for that lock is bounded by the lock
    timeout too (SQLite has no statement or idle timeouts).

    Connections per process on PostgreSQL: two pools — SQLAlchemy's (admin desk, reminders,
    broadcasts, housekeeping, the catalog) and the hot path's asyncpg pool — each at most
    ``pool_size + max_overflow``.
    """

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = 5,
        max_overflow: int = 5,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        pooler: Pooler = "none",
    ) -> None:
        self.url = normalise_url(url)
        #: ``pgbouncer``: connections go through PgBouncer in transaction pooling mode
        #: (:func:`pooler_connect_args`).
        self.pooler = pooler
        self.dialect = make_url(self.url).get_backend_name()
        self.timeouts = timeouts or Timeouts()
        #: How long work retries a lost connection (:meth:`retrying`).
        self.retry = retry or RetryPolicy()
        #: Whether the database is currently unreachable (one warning per outage).
        self.outage = Outage(self.retry.monotonic)
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "postgresql":
            kwargs.update(
                pool_size=pool_size,
                max_overflow=max_overflow,
                pool_pre_ping=False,  # a round trip per checkout; see core/db/retry.py
                connect_args={"timeout": CONNECT_TIMEOUT, **self._session_args(sqlalchemy=True)},
            )
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            event.listen(self.engine.sync_engine, "checkout", _refuse_closed)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self._sqlite_write_lock = asyncio.Lock()
        #: Most connections the hot path's asyncpg pool opens.
        self.hot_pool_size = pool_size + max_overflow
        self._pg_pool: Any = None
        self._pg_pool_lock = asyncio.Lock()
        #: Called with the SQL of every statement the asyncpg hot path runs (benchmarks count
        #: statements per event with it; SQLAlchemy's own events cover the other paths).
        self.statement_hook: Callable[[str], None] | None = None

    def _session_args(self, *, sqlalchemy: bool) -> dict[str, Any]:
        """asyncpg connection arguments: the timeouts as startup parameters, or, behind
        PgBouncer in transaction pooling, no startup parameters and no named prepared
        statements (PgBouncer refuses unknown startup parameters, and a statement prepared on
        one server connection is unknown on the next transaction's; the timeouts then come from
        the role, ``ALTER ROLE … SET``, see the README)."""
        if self.pooler != "pgbouncer":
            return {"server_settings": self.timeouts.server_settings()}
        args: dict[str, Any] = {"statement_cache_size": 0}
        if sqlalchemy:  # SQLAlchemy's own cache of prepared statements, and unique names
            args |= {
                "prepared_statement_cache_size": 0,
                "prepared_statement_name_func": _unique_statement_name,
            }
        return args

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """The database a ``coach`` process uses: ``DATABASE_URL`` and the ``DATABASE_*``
        pool, timeout and retry settings."""
        return cls(
            settings.database_url,
            echo=settings.sql_echo,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            timeouts=Timeouts(
                statement=settings.database_statement_timeout_seconds,
                lock=settings.database_lock_timeout_seconds,
                idle_in_transaction=settings.database_idle_in_transaction_timeout_seconds,
            ),
            retry=RetryPolicy(budget=settings.database_retry_seconds),
            pooler=settings.database_pooler,
        )

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
        async with self._writer():
            try:
                async with self.sessionmaker.begin() as session:
                    try:
                        await session.connection()  # check out now: a failure is "unreachable"
                    except Exception as exc:
                        raise DatabaseUnavailable("cannot connect to the database") from exc
                    yield session
            except Exception as exc:
                self._failed(exc)
                raise
        self.outage.back()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        """One unit of work on a Core connection (the engine's hot path): commit or roll back."""
        async with self._writer():
            try:
                async with AsyncExitStack() as stack:
                    try:
                        conn = await stack.enter_async_context(self.engine.begin())
                    except Exception as exc:
                        raise DatabaseUnavailable("cannot connect to the database") from exc
                    yield conn
            except Exception as exc:
                self._failed(exc)
                raise
        self.outage.back()

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
        try:
            conn = await pool.acquire()
        except Exception as exc:
            self.outage.lost(exc)
            raise DatabaseUnavailable("cannot connect to the database") from exc
        try:
            async with conn.transaction():
                yield AsyncpgExecutor(conn, self.statement_hook)
        except Exception as exc:
            self._failed(exc)
            raise
        finally:
            await pool.release(conn)
        self.outage.back()

    async def retrying(self, work: Callable[[], Awaitable[T]]) -> T:
        """``await work()``, run again on a fresh connection while it fails for a lost one.

        Back-off and budget: :class:`~core.db.retry.RetryPolicy`. When the database has been
        gone longer than the budget, ``work`` gets one more immediate try (a stale connection
        of ours may have been all that failed) instead of the back-off. Raises
        :class:`~core.db.failures.DatabaseUnavailable` when it gives up; any other failure is
        raised at once. Only for work that is safe to run twice (see core/db/retry.py).
        """
        delays: Callable[[], float | None] | None = None
        fast_try_left = True
        while True:
            try:
                result = await work()
            except Exception as exc:
                if not connection_lost(exc):
                    raise
                self.outage.lost(exc)
                if self.outage.longer_than(self.retry.budget):
                    wait: float | None = 0.0 if fast_try_left else None
                    fast_try_left = False
                else:
                    delays = delays or self.retry.delays()
                    wait = delays()
                if wait is None:
                    if isinstance(exc, DatabaseUnavailable):
                        raise
                    raise DatabaseUnavailable("the database connection was lost") from exc
                if wait > 0:
                    await self.retry.sleep(wait)
            else:
                self.outage.back()
                return result

    def _failed(self, exc: BaseException) -> None:
        if connection_lost(exc):
            self.outage.lost(exc)

    @asynccontextmanager
    async def _writer(self) -> AsyncIterator[None]:
        """SQLite: hold the process's write lock, waiting at most the lock timeout for it."""
        if not self.is_sqlite:
            yield
            return
        lock = self._sqlite_write_lock
        try:
            async with asyncio.timeout(self.timeouts.lock or None):
                await lock.acquire()
        except TimeoutError:
            raise DatabaseBusy(
                f"the database stayed busy for {self.timeouts.lock:g} s (write lock)"
            ) from None
        try:
            yield
        finally:
            lock.release()

    async def _open_pg_pool(self) -> Any:
        async with self._pg_pool_lock:
            if self._pg_pool is None:
                import asyncpg  # noqa: PLC0415 - only PostgreSQL deployments need it

                dsn = make_url(self.url).set(drivername="postgresql")
                # min_size=0: no background "restore the floor" reconnects (each logged with a
                # traceback) while the server is down; connections open on demand.
                self._pg_pool = await asyncpg.create_pool(
                    dsn.render_as_string(hide_password=False),
                    min_size=0,
                    max_size=self.hot_pool_size,
                    init=init_asyncpg_connection,
                    reset=keep_session_on_release,
                    timeout=CONNECT_TIMEOUT,
                    **self._session_args(sqlalchemy=False),
                )
            return self._pg_pool

    def connections_in_use(self) -> dict[str, int]:
        """Connections checked out now, per pool (``sqlalchemy``; ``hot`` on PostgreSQL once
        the hot path's pool is open): read by ``/metrics``, costs no round trip."""
        pool: Any = self.engine.pool
        checked = getattr(pool, "checkedout", None)  # SQLite's pools count none
        used = {"sqlalchemy": int(checked()) if callable(checked) else 0}
        if self._pg_pool is not None:
            used["hot"] = int(self._pg_pool.get_size() - self._pg_pool.get_idle_size())
        return used

    async def dispose(self) -> None:
        """Close every pooled connection."""
        if self._pg_pool is not None:
            await self._pg_pool.close()
            self._pg_pool = None
        await self.engine.dispose()
