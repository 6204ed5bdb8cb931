"""Alembic migrations: they round-trip, they match the models, and the lookups have indexes.

Runs on PostgreSQL and on SQLite: the schema must be the same on both backends.
"""

from __future__ import annotations

import asyncio
import sys
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
from bot.cli import build_parser
from core.db.base import Base
from core.db.engine import Database, normalise_url
from core.db.migrate import alembic_config, downgrade, schema_status, upgrade, upgrade_async

MODEL_TABLES = frozenset(Base.metadata.tables)
ROOT = Path(__file__).resolve().parents[2]


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
    return set(inspect(conn).get_table_names())


def _revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def test_one_head() -> None:
    """Exactly one head: two branches would need a merge revision before release."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


async def test_upgrade_downgrade_upgrade(empty_url: str) -> None:
    # upgrade_async: env.py must run in a worker thread while this test's loop is running.
    await upgrade_async(empty_url)
    assert await _inspect(empty_url, _tables) == MODEL_TABLES | {"alembic_version"}
    assert await _inspect(empty_url, _revision) == _head()

    await asyncio.to_thread(downgrade, empty_url, "base")
    assert await _inspect(empty_url, _tables) == {"alembic_version"}
    assert await _inspect(empty_url, _revision) is None

    await asyncio.to_thread(upgrade, empty_url)
    assert await _inspect(empty_url, _tables) == MODEL_TABLES | {"alembic_version"}
    assert await _inspect(empty_url, _revision) == _head()


def _diff(conn: Connection) -> list[Any]:
    # The options of migrations/env.py's context_options().
    context = MigrationContext.configure(
        conn,
        opts={
            "target_metadata": Base.metadata,
            "compare_type": True,
            "render_as_batch": conn.dialect.name == "sqlite",
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


async def test_schema_status_says_current_older_newer_or_empty(empty_url: str) -> None:
    """``coach run`` refuses an empty or older schema and warns on a newer one (issue #16)."""
    db = Database(empty_url)
    try:
        assert (await schema_status(db)).state == "empty"
        await upgrade_async(empty_url)
        status = await schema_status(db)
        assert status.state == "current"
        assert status.problem() is None
        script = ScriptDirectory.from_config(alembic_config("sqlite://"))
        previous = script.get_revision(_head()).down_revision
        assert isinstance(previous, str)
        await asyncio.to_thread(downgrade, empty_url, previous)
        older = await schema_status(db)
        assert older.state == "older"
        assert older.problem() is not None
        assert "coach db upgrade" in (older.problem() or "")
        async with db.transaction() as session:
            await session.execute(sa.text("UPDATE alembic_version SET version_num = 'zz_next'"))
        newer = await schema_status(db)
        assert newer.state == "newer"
        assert "newer than this code" in (newer.problem() or "")
    finally:
        await db.dispose()


async def test_coach_run_refuses_an_older_schema(
    empty_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    previous = script.get_revision(_head()).down_revision
    assert isinstance(previous, str)
    await asyncio.to_thread(upgrade, empty_url, previous)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi")
    args = build_parser().parse_args(["run", "--db", empty_url])
    assert await args.func(args) == 1  # before any front end starts (none could reach Telegram)
    err = capsys.readouterr().err
    assert "older than this code's" in err
    assert "--migrate" in err
    assert await _inspect(empty_url, _revision) == previous  # nothing migrated behind its back


@pytest.mark.slow
@pytest.mark.postgres_only
async def test_replicas_migrating_at_once_take_turns(
    fresh_pg_url: Callable[[], Awaitable[str]],
) -> None:
    """Three replicas started together with ``--migrate`` on an empty database: the advisory
    lock in migrations/env.py lets one migrate while the others wait, then find it at head.
    Without it they race to create the same tables and all but one fail."""
    url = await fresh_pg_url()
    code = f"from core.db.migrate import upgrade; upgrade({url!r})"

    async def replica() -> tuple[int | None, bytes]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, stderr=asyncio.subprocess.PIPE, cwd=ROOT
        )
        _, err = await proc.communicate()
        return proc.returncode, err

    outcomes = await asyncio.gather(*(replica() for _ in range(3)))
    assert [rc for rc, _ in outcomes] == [0, 0, 0], [err.decode()[-500:] for _, err in outcomes]
    assert await _inspect(url, _revision) == _head()
    assert await _inspect(url, _tables) == MODEL_TABLES | {"alembic_version"}


_bands = sa.table(
    "bands",
    sa.column("id", sa.Uuid()),
    sa.column("name", sa.String()),
    sa.column("platform", sa.String()),
    sa.column("external_id", sa.String()),
    sa.column("channel_id", sa.String()),
    sa.column("announce_milestones", sa.Boolean()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
_reminders = sa.table(
    "reminders",
    sa.column("id", sa.Uuid()),
    sa.column("band_id", sa.Uuid()),
    sa.column("kind", sa.String()),
    sa.column("schedule", sa.JSON()),
    sa.column("timezone", sa.String()),
    sa.column("quiet_start", sa.String()),
    sa.column("quiet_end", sa.String()),
    sa.column("platform", sa.String()),
    sa.column("target_chat", sa.String()),
    sa.column("next_due_at", sa.DateTime(timezone=True)),
    sa.column("paused", sa.Boolean()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


async def test_digest_revision_switches_it_on_for_bands_with_a_channel(empty_url: str) -> None:
    """Bands that set their updates channel before ``w3_digest`` get their weekly digest, as
    ``/band channel`` gives it from then on: the band reminder's timezone and quiet hours, due
    "now" (planned from the next slot); a band without a channel gets none; downgrade drops
    them."""
    await asyncio.to_thread(upgrade, empty_url, "w2_milestones")
    with_channel, without = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    engine = create_async_engine(normalise_url(empty_url), poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                sa.insert(_bands),
                [
                    {
                        "id": band,
                        "name": "Owls",
                        "platform": "discord",
                        "external_id": str(n),
                        "channel_id": channel,
                        "announce_milestones": False,
                        "created_at": now,
                    }
                    for n, (band, channel) in enumerate([(with_channel, "c:5"), (without, None)])
                ],
            )
            await conn.execute(
                sa.insert(_reminders),
                {
                    "id": uuid.uuid4(),
                    "band_id": with_channel,
                    "kind": "schedule",
                    "schedule": {"type": "daily", "time": "18:00"},
                    "timezone": "Europe/Berlin",
                    "quiet_start": "22:00",
                    "quiet_end": "08:00",
                    "platform": "discord",
                    "target_chat": "c:5",
                    "next_due_at": now,
                    "paused": False,
                    "created_at": now,
                },
            )
        await asyncio.to_thread(upgrade, empty_url)
        digest = _reminders.c.kind == "digest"
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.select(_reminders).where(digest))).all()
        [row] = rows
        assert (row.band_id, row.target_chat, row.platform) == (with_channel, "c:5", "discord")
        assert row.schedule == {"type": "weekly", "time": "10:00", "days": [0]}
        assert (row.timezone, row.quiet_start, row.quiet_end) == ("Europe/Berlin", "22:00", "08:00")
        assert not row.paused
        await asyncio.to_thread(downgrade, empty_url, "w2_milestones")
        async with engine.connect() as conn:
            assert (await conn.execute(sa.select(_reminders.c.id).where(digest))).all() == []
            kinds = (await conn.execute(sa.select(_reminders.c.kind))).scalars().all()
        assert kinds == ["schedule"]  # the band's own reminder stays
    finally:
        await engine.dispose()
