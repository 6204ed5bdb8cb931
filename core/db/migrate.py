"""Run Alembic migrations from code (``coach db upgrade``, ``--migrate``, tests).

The Alembic scripts ship inside the ``migrations`` package so an installed wheel can migrate
without the source tree.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

import migrations
from core.db.engine import Database, normalise_url


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged scripts and the given database."""
    script_dir = Path(migrations.__file__).parent
    cfg = Config()
    cfg.set_main_option("script_location", str(script_dir))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (blocking; runs its own event loop inside env.py)."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    """Take the schema down to ``revision``."""
    command.downgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    """``upgrade`` from inside a running event loop (env.py needs its own loop, so a thread)."""
    await asyncio.to_thread(upgrade, url, revision)


def head_revision() -> str | None:
    """The newest revision of the packaged migrations."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def known_revision(revision: str) -> bool:
    """Whether the packaged migrations contain ``revision`` (a backup from newer code: no)."""
    try:
        return (
            ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(revision)
            is not None
        )
    except Exception:  # alembic raises several kinds for an unknown id
        return False


async def current_revision(db: Database) -> str | None:
    """The revision the database is at (``None``: never migrated)."""
    async with db.engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """Where the database's schema stands against this code's migrations."""

    current: str | None
    head: str | None
    #: ``current``, ``older`` (a known revision before head: upgrade), ``newer`` (a revision
    #: this code does not know: a newer version migrated it) or ``empty`` (never migrated).
    state: str

    def problem(self) -> str | None:
        """What to tell the operator, or None when the schema is current."""
        match self.state:
            case "empty":
                return "The database has no schema yet: run `coach db upgrade` first."
            case "older":
                return (
                    f"The database schema ({self.current}) is older than this code's "
                    f"({self.head}): run `coach db upgrade` first (back it up before: "
                    "`coach db backup FILE`)."
                )
            case "newer":
                return (
                    f"The database schema ({self.current}) is newer than this code knows "
                    f"({self.head}): a newer version migrated it. This version may misread it."
                )
        return None


async def schema_status(db: Database) -> SchemaStatus:
    """The database's schema revision against the code's head."""
    current, head = await current_revision(db), head_revision()
    if current == head:
        state = "current"
    elif current is None:
        state = "empty"
    else:
        state = "older" if known_revision(current) else "newer"
    return SchemaStatus(current, head, state)
