"""The hot path's asyncpg pool skips asyncpg's reset query, and still never hands out a dirty
connection (see ``core.db.executor.keep_session_on_release``)."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from sqlalchemy import make_url, select

from core.db.engine import Database
from core.db.models import User

pytestmark = pytest.mark.postgres_only


async def _last_query(pg_url: str, pid: int) -> str:
    """What the server last ran for backend ``pid``, read from another connection."""
    dsn = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        return str(
            await conn.fetchval("SELECT query FROM pg_stat_activity WHERE pid = $1", pid)
        ).strip()
    finally:
        await conn.close()


async def test_a_finished_event_sends_no_reset_query(pg_database: Database, pg_url: str) -> None:
    async with pg_database.unit_of_work() as executor:
        await executor.rows(select(User.id).where(User.id.is_(None)), {})
        conn: Any = executor.conn  # type: ignore[attr-defined]
        pid = conn.get_server_pid()
    # Back in the pool: the last thing that backend ran is our COMMIT, not
    # "SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;".
    assert (await _last_query(pg_url, pid)).upper() == "COMMIT;"


async def test_an_unfinished_transaction_is_still_rolled_back(
    pg_database: Database, pg_url: str
) -> None:
    async with pg_database.unit_of_work():
        pass  # opens the pool
    pool: Any = pg_database._pg_pool
    conn = await pool.acquire()
    pid = conn.get_server_pid()
    await conn.execute("BEGIN")  # left open on purpose, outside any transaction() block
    await conn.execute("CREATE TEMPORARY TABLE left_behind (x integer) ON COMMIT DROP")
    await pool.release(conn)
    assert (await _last_query(pg_url, pid)).upper() == "ROLLBACK"
    again = await pool.acquire()
    try:
        assert again.get_server_pid() == pid  # the same connection came back...
        assert not again.is_in_transaction()  # ...clean
        assert await again.fetchval("SELECT to_regclass('pg_temp.left_behind')") is None
    finally:
        await pool.release(again)
