"""What a database failure means: the connection is gone, the row is busy, or something else.

A PostgreSQL restart reaches the code as a dozen different exceptions, depending on the moment
and the layer: ``ConnectionRefusedError`` or asyncpg's ``CannotConnectNowError`` (57P03, "the
database system is starting up") while connecting, ``ConnectionDoesNotExistError`` (08003) or
``AdminShutdownError`` (57P01) mid-statement, ``InterfaceError("connection is closed")`` on a
pooled connection whose end was already noticed, and asyncpg's ``InternalClientError("cannot
switch to state 15; another operation (2) is in progress")`` on one whose end was only half
noticed (see :func:`_desynchronised`). Every one of them means the same thing to the caller: this
transaction never happened (or its end is unknown), a fresh connection may work. Callers ask
:func:`connection_lost` and :func:`busy` instead of knowing the list.

Only evidence from the driver counts: the exception itself, SQLAlchemy's ``orig`` and the
``__cause__`` chain — never ``__context__`` (an unrelated error raised while handling one) and
never a bare ``OSError`` from the body of a transaction (that could be a file our own code
opened). A failure to *connect* is turned into :class:`DatabaseUnavailable` where the
connection is checked out (:mod:`core.db.engine`), whatever it raised: a Unix socket that
vanished during a restart raises ``FileNotFoundError``, several addresses a plain ``OSError``.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from typing import Final

from sqlalchemy.exc import DBAPIError

from core.errors import CoachError

#: SQLSTATEs after which a fresh connection may succeed: class 08 (connection exception) and
#: these — admin_shutdown (a stop or restart), crash_shutdown, cannot_connect_now (starting up
#: or shutting down), too_many_connections.
_LOST_SQLSTATES: Final = frozenset({"57P01", "57P02", "57P03", "53300"})
#: lock_not_available (``lock_timeout``) and query_canceled (``statement_timeout``).
_BUSY_SQLSTATES: Final = frozenset({"55P03", "57014"})
#: asyncpg's words for a protocol that received a server error while idle: the server ended
#: the session (a FATAL ErrorResponse, then the close). State 2 is asyncpg's ERROR_CONSUME.
#: A contract with asyncpg's wording, pinned by tests/integration/test_db_outage.py, which provokes
#: it.
_DESYNC: Final = re.compile(
    r"cannot switch to state \d+; "
    r"(another operation \(2\) is in progress|protocol is in the \"failed\" state)"
)


class DatabaseUnavailable(CoachError):
    """The database could not be reached: connecting failed, or the connection was lost.

    Raised where a connection is checked out (whatever the driver raised is its cause), and by
    :meth:`core.db.engine.Database.retrying` when its time budget is spent.
    """


class DatabaseBusy(CoachError):
    """A row or the database stayed locked past the lock timeout (SQLite: the write lock)."""


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what SQLAlchemy wrapped (``orig``) and the ``__cause__`` chain."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < 10:
        seen.add(id(current))
        yield current
        if isinstance(current, DBAPIError) and isinstance(current.orig, BaseException):
            yield from _chain(current.orig)
        current = current.__cause__


def _sqlstate(exc: BaseException) -> str | None:
    code = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    return code if isinstance(code, str) else None


def _from_asyncpg(exc: BaseException, name: str) -> bool:
    """``exc`` is asyncpg's exception class ``name`` (asyncpg is imported only where it's used)."""
    kind = type(exc)
    return kind.__name__ == name and kind.__module__.startswith("asyncpg.")


def _desynchronised(exc: BaseException) -> bool:
    """asyncpg got an ErrorResponse while the connection sat idle in the pool.

    When PostgreSQL ends a session (a restart, ``pg_terminate_backend``,
    ``idle_in_transaction_session_timeout``) it sends a FATAL error and then closes the socket.
    asyncpg reads the error first: with no query running it parks the protocol in its
    error-consuming state. Until the close is read too — a moment later, or several callbacks
    later on a busy loop — the connection still looks open, the pool hands it out, and the next
    statement (``BEGIN``: state 15, a simple query) fails with this message. The connection is
    dead either way; asyncpg's pool discards it when it comes back.
    """
    return _from_asyncpg(exc, "InternalClientError") and bool(_DESYNC.search(str(exc)))


def connection_lost(exc: BaseException) -> bool:
    """True when ``exc`` says the connection failed or is gone (not what the SQL did)."""
    for link in _chain(exc):
        if isinstance(link, DatabaseUnavailable):
            return True
        if isinstance(link, DBAPIError) and link.connection_invalidated:
            return True
        code = _sqlstate(link)
        if code is not None and (code.startswith("08") or code in _LOST_SQLSTATES):
            return True
        if _from_asyncpg(link, "InterfaceError") and "connection is closed" in str(link):
            return True
        if _desynchronised(link):
            return True
    return False


def busy(exc: BaseException) -> bool:
    """True when a lock or statement timeout ended the transaction (retrying now won't help)."""
    for link in _chain(exc):
        if isinstance(link, DatabaseBusy):
            return True
        if _sqlstate(link) in _BUSY_SQLSTATES:
            return True
        if isinstance(link, sqlite3.OperationalError) and "database is locked" in str(link):
            return True
    return False


def describe(exc: BaseException) -> str:
    """The innermost driver error as ``Type: message`` (one line, for the outage warning)."""
    last = exc
    for link in _chain(exc):
        last = link
    text = " ".join(str(last).split())[:200]
    return f"{type(last).__name__}: {text}" if text else type(last).__name__
