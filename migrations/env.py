"""Alembic environment: async engine, the models' metadata, the same options everywhere.

Called three ways:

* by ``core.db.migrate`` (``coach db upgrade``, ``--migrate``, the tests), which builds the config
  in code, sets ``sqlalchemy.url`` and ``attributes["configure_logger"] = False``, and may run
  us in a worker thread while an event loop runs in the main thread (``upgrade_async``);
* by the ``alembic`` command from a checkout (``alembic.ini`` at the repo root), where the URL
  comes from ``DATABASE_URL``;
* with an open synchronous ``Connection`` in ``config.attributes["connection"]`` (Alembic's
  cookbook recipe for sharing a connection), which is used as is.

``asyncio.run`` gives the migration its own event loop in whichever thread runs it, so it never
touches a loop the caller may be running.
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig
from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config

import core.db.models  # noqa: F401  (registers every table on Base.metadata)
from core.db.base import Base, UTCDateTime
from core.db.engine import normalise_url

config = context.config

if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def database_url() -> str:
    """The caller's ``sqlalchemy.url``, else ``DATABASE_URL``, with the async driver picked."""
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError(
            "No database URL: set DATABASE_URL (e.g. postgresql://user@127.0.0.1:5432/coach or "
            "sqlite:///coach.db) or pass sqlalchemy.url in the Alembic config."
        )
    return normalise_url(url)


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Render our own column types as plain SQLAlchemy types in generated migrations.

    A migration must not import application code (the type may change or move later), and
    ``UTCDateTime`` is, as far as the schema is concerned, ``DateTime(timezone=True)``.
    ``JSON().with_variant(JSONB(), "postgresql")`` already renders as a variant by default.
    """
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def context_options(dialect_name: str) -> dict[str, Any]:
    """Options shared by online, offline and test-time comparison runs."""
    return {
        "target_metadata": target_metadata,
        "compare_type": True,
        # SQLite cannot ALTER most things: batch mode recreates the table instead.
        "render_as_batch": dialect_name == "sqlite",
        "render_item": render_item,
    }


def run_migrations_offline() -> None:
    """Emit SQL to stdout (``alembic upgrade head --sql``) without connecting."""
    url = database_url()
    dialect_name = url.split(":", 1)[0].split("+", 1)[0]
    context.configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **context_options(dialect_name),
    )
    with context.begin_transaction():
        context.run_migrations()


#: The PostgreSQL advisory lock every migration run holds (an arbitrary, fixed 64-bit key:
#: "coach-migrations"), so that replicas started together with ``--migrate`` migrate one at a
#: time: the first upgrades, the others wait, then find the schema at head and do nothing.
MIGRATION_LOCK_KEY = 0x636F616368_6D67


def do_run_migrations(connection: Connection) -> None:
    """Run the migrations on a synchronous connection (inside ``run_sync`` when async).

    On PostgreSQL under a session-level advisory lock (held across the transactions a
    migration may commit on its own, e.g. ``CREATE INDEX CONCURRENTLY``); SQLite's own write
    lock already serialises writers of one file."""
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        connection.commit()
    try:
        context.configure(connection=connection, **context_options(connection.dialect.name))
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if postgres:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            connection.commit()


async def run_async_migrations() -> None:
    """Open an async engine without a pool, migrate, and dispose of it."""
    section = config.get_section(config.config_ini_section, {})
    section["sqlalchemy.url"] = database_url()
    connectable = async_engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
    try:
        async with connectable.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await connectable.dispose()


def run_migrations_online() -> None:
    """Migrate a live database: a connection handed to us, or our own async engine."""
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        do_run_migrations(connection)
        return
    asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
