"""How the hot path runs its SQLAlchemy statements: through SQLAlchemy, or straight on asyncpg.

Every chat event is one short transaction of about five statements, and the benchmark showed
SQLAlchemy's async execution layer (greenlet hop, execution context, parameter and result
processing) costing ~150 µs per statement on top of a ~100 µs round trip — most of the time per
event. On PostgreSQL the hot path therefore compiles each SQLAlchemy statement once with the
asyncpg dialect and runs the compiled SQL on an asyncpg connection from its own small pool, with
bound parameters exactly as SQLAlchemy would send them. The statements are still built with
SQLAlchemy (no hand-written SQL strings, parameters always bound); only the executor differs.
SQLite, and everything off the hot path, goes through SQLAlchemy as usual.

Values: UUIDs, aware datetimes, Decimals and JSON-able dicts/lists go in and come out as such
(asyncpg's codecs, plus a JSON/JSONB codec installed on each pooled connection).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, cast

from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

Params = Mapping[str, Any]


class Executor(Protocol):
    """Runs one SQLAlchemy statement inside the current unit of work."""

    #: ``"postgresql"`` or ``"sqlite"``: lets the store pick a single-round-trip statement.
    dialect: str

    async def rows(self, stmt: ClauseElement, params: Params) -> Sequence[Sequence[Any]]:
        """Run a statement that returns rows."""
        ...

    async def run(self, stmt: ClauseElement, params: Params) -> None:
        """Run a statement for its effect."""
        ...

    async def run_many(self, stmt: ClauseElement, params: Sequence[Params]) -> None:
        """Run a statement once per parameter set."""
        ...


class SQLAlchemyExecutor:
    """The portable executor: SQLAlchemy Core on an ``AsyncConnection`` (SQLite, and tests)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name

    async def rows(self, stmt: ClauseElement, params: Params) -> Sequence[Sequence[Any]]:
        """Run a statement that returns rows."""
        result = await self.conn.execute(stmt, dict(params))  # type: ignore[call-overload]
        return result.all()  # type: ignore[no-any-return]

    async def run(self, stmt: ClauseElement, params: Params) -> None:
        """Run a statement for its effect."""
        await self.conn.execute(stmt, dict(params))  # type: ignore[call-overload]

    async def run_many(self, stmt: ClauseElement, params: Sequence[Params]) -> None:
        """Run a statement once per parameter set."""
        await self.conn.execute(stmt, [dict(p) for p in params])  # type: ignore[call-overload]


_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]
_COMPILED: dict[tuple[ClauseElement, tuple[str, ...]], tuple[str, tuple[str, ...]]] = {}


def compiled_for_asyncpg(stmt: ClauseElement, keys: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """The statement's SQL for asyncpg (``$1`` placeholders) and its parameter names, in order.

    Compiled once per statement and set of parameter names (an INSERT's columns are its
    parameters), then kept. The cache holds the statement itself, so pass only module-level
    constant statements here: a statement built per call would be compiled (and kept) per call.
    """
    key = (stmt, tuple(sorted(keys)))
    hit = _COMPILED.get(key)
    if hit is None:
        compiled = cast(SQLCompiler, stmt.compile(dialect=_DIALECT, column_keys=list(keys)))
        names = tuple(compiled.positiontup or ())
        hit = _COMPILED[key] = (compiled.string, names)
    return hit


def _args(names: tuple[str, ...], params: Params, sql: str) -> list[Any]:
    try:
        return [params[name] for name in names]
    except KeyError as missing:  # a column with a Python-side default that wasn't passed
        raise KeyError(f"parameter {missing} missing for: {sql}") from None


class AsyncpgExecutor:
    """The PostgreSQL hot-path executor: compiled SQLAlchemy statements on raw asyncpg."""

    dialect = "postgresql"

    def __init__(self, conn: Any, hook: Callable[[str], None] | None = None) -> None:
        self.conn = conn
        self._hook = hook

    async def rows(self, stmt: ClauseElement, params: Params) -> Sequence[Sequence[Any]]:
        """Run a statement that returns rows."""
        sql, names = compiled_for_asyncpg(stmt, list(params))
        if self._hook is not None:
            self._hook(sql)
        result: Sequence[Sequence[Any]] = await self.conn.fetch(sql, *_args(names, params, sql))
        return result

    async def run(self, stmt: ClauseElement, params: Params) -> None:
        """Run a statement for its effect."""
        sql, names = compiled_for_asyncpg(stmt, list(params))
        if self._hook is not None:
            self._hook(sql)
        await self.conn.execute(sql, *_args(names, params, sql))

    async def run_many(self, stmt: ClauseElement, params: Sequence[Params]) -> None:
        """Run a statement once per parameter set (one round trip)."""
        if not params:
            return
        sql, names = compiled_for_asyncpg(stmt, list(params[0]))
        if self._hook is not None:
            self._hook(sql)
        await self.conn.executemany(sql, [_args(names, p, sql) for p in params])


async def init_asyncpg_connection(conn: Any) -> None:
    """Install JSON codecs so dicts and lists travel as JSON/JSONB both ways."""
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog", format="text"
        )


async def keep_session_on_release(conn: Any) -> None:
    """The hot pool's ``reset``: nothing to undo, so no reset round trip per event.

    asyncpg's default reset sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL`` every time a connection goes back to the pool: one more round trip on every chat
    event (about one in seven), undoing session state that the hot path never creates. Its work
    is one ``async with conn.transaction()`` of bound statements: no advisory locks, cursors,
    LISTEN or SET. asyncpg still rolls back an unfinished transaction before calling this
    (``Connection._reset`` in ``PoolConnectionHolder.release``, documented with the ``reset``
    argument of ``create_pool``). ``tests/integration/test_hot_pool.py`` pins both halves.
    """
    del conn  # nothing to reset
