"""Alembic migrations: they round-trip, they match the models, and the lookups have indexes.

Runs on PostgreSQL and on SQLite: the schema must be the same on both backends.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

import core.db.models  # noqa: F401  (registers every table)
from core.db.base import Base
from core.db.engine import Database, normalise_url
from core.db.migrate import alembic_config, downgrade, upgrade, upgrade_async
from core.knowledge.index import is_index_table

MODEL_TABLES = frozenset(Base.metadata.tables)


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, unmigrated database on each backend."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
    make: Callable[[], Awaitable[str]] = request.getfixturevalue("fresh_pg_url")
    return await make()


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


async def _inspect(url_or_engine: str | AsyncEngine, func: Callable[[Connection], Any]) -> Any:
    if isinstance(url_or_engine, str):
        engine = create_async_engine(normalise_url(url_or_engine), poolclass=NullPool)
        try:
            return await _inspect(engine, func)
        finally:
            await engine.dispose()
    async with url_or_engine.connect() as conn:
        return await conn.run_sync(func)


def _tables(conn: Connection) -> set[str]:
    """The tables, the search index as one (on SQLite FTS5 keeps shadow tables behind it)."""
    names = set(inspect(conn).get_table_names())
    return {name for name in names if not is_index_table(name) or name == "task_search"}


def _revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def test_one_head() -> None:
    """Exactly one head: two branches would need a merge revision before release."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


async def test_upgrade_downgrade_upgrade(empty_url: str) -> None:
    # upgrade_async: env.py must run in a worker thread while this test's loop is running.
    await upgrade_async(empty_url)
    assert await _inspect(empty_url, _tables) == MODEL_TABLES | {"alembic_version", "task_search"}
    assert await _inspect(empty_url, _revision) == _head()

    await asyncio.to_thread(downgrade, empty_url, "base")
    assert await _inspect(empty_url, _tables) == {"alembic_version"}
    assert await _inspect(empty_url, _revision) is None

    await asyncio.to_thread(upgrade, empty_url)
    assert await _inspect(empty_url, _tables) == MODEL_TABLES | {"alembic_version", "task_search"}
    assert await _inspect(empty_url, _revision) == _head()


def include_name(name: str | None, type_: str, _parents: Any) -> bool:
    """migrations/env.py's filter: the search index is the migration's, not a model's."""
    return not (type_ == "table" and is_index_table(name))


def _diff(conn: Connection) -> list[Any]:
    # The options of migrations/env.py's context_options().
    context = MigrationContext.configure(
        conn,
        opts={
            "target_metadata": Base.metadata,
            "compare_type": True,
            "render_as_batch": conn.dialect.name == "sqlite",
            "include_name": include_name,
        },
    )
    return list(compare_metadata(context, Base.metadata))


async def test_models_match_migrations(database: Database) -> None:
    """Autogenerate would find nothing to do: no model change lacks its migration."""
    assert await _inspect(database.engine, _diff) == []


def _unique_column_sets(conn: Connection, table: str) -> set[tuple[str, ...]]:
    insp = inspect(conn)
    uniques = {tuple(c["column_names"]) for c in insp.get_unique_constraints(table)}
    uniques |= {
        tuple(str(col) for col in ix["column_names"])
        for ix in insp.get_indexes(table)
        if ix["unique"]
    }
    return uniques


def _indexed_column_lists(conn: Connection, table: str) -> set[tuple[str, ...]]:
    return {
        tuple(str(col) for col in ix["column_names"]) for ix in inspect(conn).get_indexes(table)
    }


async def test_lookup_indexes(database: Database) -> None:
    def check(conn: Connection) -> None:
        assert ("platform", "external_id") in _unique_column_sets(conn, "identities")
        assert ("profile_id", "task_id") in _unique_column_sets(conn, "user_task_progress")
        assert any(cols[0] == "next_due_at" for cols in _indexed_column_lists(conn, "reminders"))

    await _inspect(database.engine, check)


_broadcasts = sa.table(
    "broadcasts",
    sa.column("id", sa.Uuid()),
    sa.column("text", sa.Text()),
    sa.column("status", sa.String()),
    sa.column("recipients", sa.Integer()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("sent", sa.Integer()),
    sa.column("skipped", sa.Integer()),
    sa.column("failed", sa.Integer()),
)
_deliveries = sa.table(
    "deliveries",
    sa.column("id", sa.Uuid()),
    sa.column("idempotency_key", sa.String()),
    sa.column("broadcast_id", sa.Uuid()),
    sa.column("kind", sa.String()),
    sa.column("platform", sa.String()),
    sa.column("target_chat", sa.String()),
    sa.column("status", sa.String()),
    sa.column("attempts", sa.Integer()),
    sa.column("due_at", sa.DateTime(timezone=True)),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


async def test_housekeeping_revision_fills_in_what_old_rows_lack(empty_url: str) -> None:
    """Broadcast delivery rows written before ``h7_housekeeping`` learn their broadcast, and a
    broadcast that had finished gets its final counts (housekeeping may delete its rows later)."""
    await asyncio.to_thread(upgrade, empty_url, "d4_discord_bands")
    done, sending = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    rows = [(done, "sent"), (done, "sent"), (done, "skipped"), (sending, "pending")]
    engine = create_async_engine(normalise_url(empty_url), poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                sa.insert(_broadcasts),  # only the columns given: d4 has no counts yet
                [
                    {"id": done, "text": "a", "status": "done", "recipients": 3, "created_at": now},
                    {
                        "id": sending,
                        "text": "b",
                        "status": "sending",
                        "recipients": 1,
                        "created_at": now,
                    },
                ],
            )
        async with engine.begin() as conn:
            await conn.execute(
                sa.insert(_deliveries),
                [
                    {
                        "id": uuid.uuid4(),
                        "idempotency_key": f"broadcast:{b.hex}:{uuid.uuid4().hex}",
                        "kind": "broadcast",
                        "platform": "telegram",
                        "target_chat": "1",
                        "status": status,
                        "attempts": 1,
                        "due_at": now,
                        "created_at": now,
                    }
                    for b, status in rows
                ],
            )
    finally:
        await engine.dispose()
    await asyncio.to_thread(upgrade, empty_url)
    engine = create_async_engine(normalise_url(empty_url), poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            owners = sorted(
                (await conn.execute(sa.select(_deliveries.c.broadcast_id))).scalars(), key=str
            )
            counts = {
                r.id: (r.sent, r.skipped, r.failed)
                for r in await conn.execute(sa.select(_broadcasts))
            }
    finally:
        await engine.dispose()
    assert owners == sorted([b for b, _ in rows], key=str)
    assert counts == {done: (2, 1, 0), sending: (None, None, None)}
