"""``coach db backup`` / ``coach db restore``: a whole database to one file and back.

Why these tools and not our own dump: a backup must restore on the day everything else is
broken, with tools the operator already has. On PostgreSQL that is ``pg_dump`` in its
custom format (compressed, restorable table by table, readable by ``pg_restore --list``); on
SQLite it is the online backup API (``sqlite3.Connection.backup``), which copies a consistent
snapshot page by page while the bot keeps writing — copying the file by hand while a worker
writes can tear it.

A restore *replaces* what the target holds (``pg_restore --clean --if-exists`` in one
transaction; SQLite's backup API overwrites every page), so the CLI asks for ``--yes``, and
the workers should be stopped first. After a restore the schema revision in the file is
compared with the code's: an older one needs ``coach db upgrade``.

The password of a PostgreSQL URL goes to ``pg_dump``/``pg_restore`` in their environment
(``PGPASSWORD``), never on their command line (which any local user can read in ``ps``) and
never in a message.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from core.db.engine import Database, normalise_url
from core.db.migrate import current_revision

__all__ = ["BackupError", "Outcome", "backup", "restore", "revision_in"]


class BackupError(Exception):
    """A backup or restore that could not be done; the message is safe to print."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a backup or restore did, for the operator: the file, its size, the schema
    revision it holds, and how many musicians' profiles are in it (SQLite: counted in the file;
    PostgreSQL backup: ``None``, the dump is not read back)."""

    path: Path
    size_bytes: int
    revision: str | None
    profiles: int | None


def _url(database_url: str) -> URL:
    return make_url(normalise_url(database_url))


def _is_postgres(url: URL) -> bool:
    return url.get_backend_name() == "postgresql"


def _sqlite_path(url: URL) -> Path:
    name = url.database
    if not name or name == ":memory:" or name.startswith("file::memory:"):
        raise BackupError("an in-memory SQLite database has nothing on disk to back up")
    return Path(name)


def _libpq(url: URL) -> tuple[list[str], dict[str, str]]:
    """``pg_dump``/``pg_restore`` connection arguments and environment for ``url``."""
    args: list[str] = []
    query = {k: (v if isinstance(v, str) else v[-1]) for k, v in url.query.items()}
    host = url.host or query.get("host")
    if host:
        args += ["--host", host]
    port = url.port or query.get("port")
    if port:
        args += ["--port", str(port)]
    if url.username:
        args += ["--username", url.username]
    if not url.database:
        raise BackupError("the database URL names no database")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    ssl = query.get("sslmode") or query.get("ssl")
    if ssl:
        env["PGSSLMODE"] = {"true": "require", "false": "disable"}.get(ssl, ssl)
    env["PGCONNECT_TIMEOUT"] = "10"
    return args, env


def _run(program: str, args: list[str], env: dict[str, str]) -> str:
    try:
        done = subprocess.run(  # noqa: S603 - fixed programs, arguments are not shell-parsed
            [program, *args], capture_output=True, env=env, check=False
        )
    except FileNotFoundError:
        raise BackupError(
            f"{program} is not installed: it comes with PostgreSQL's client tools "
            "(apt-get install postgresql-client)"
        ) from None
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip().splitlines()
        raise BackupError(f"{program} failed: {detail[-1] if detail else done.returncode}")
    return done.stdout.decode(errors="replace")


def _sqlite_facts(path: Path) -> tuple[str | None, int | None]:
    """The schema revision and the number of profiles in a SQLite file (None if absent)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        revision = None
        if "alembic_version" in tables:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
        profiles = None
        if "profiles" in tables:
            profiles = int(conn.execute("SELECT count(*) FROM profiles").fetchone()[0])
        return revision, profiles
    finally:
        conn.close()


def _sqlite_copy(source: Path, target: Path, *, source_readonly: bool) -> None:
    """Copy ``source`` into ``target`` with the online backup API (a consistent snapshot)."""
    src = (
        sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        if source_readonly
        else sqlite3.connect(source)
    )
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            ok = dst.execute("PRAGMA integrity_check").fetchone()
        finally:
            dst.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"SQLite could not copy the database: {exc}") from None
    finally:
        src.close()
    if not ok or ok[0] != "ok":
        raise BackupError(f"the copy failed SQLite's integrity check: {ok[0] if ok else '?'}")


def _backup(database_url: str, dest: Path) -> Outcome:
    """Write the whole database to ``dest`` (PostgreSQL: a ``pg_dump`` custom-format file;
    SQLite: a SQLite file). An existing ``dest`` is refused: a backup never overwrites one."""
    if dest.exists():
        raise BackupError(f"{dest} exists already; choose a new file name")
    url = _url(database_url)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if _is_postgres(url):
        args, env = _libpq(url)
        partial = dest.with_name(dest.name + ".partial")
        try:
            _run(
                "pg_dump",
                [
                    *args,
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    "--file",
                    str(partial),
                    str(url.database),
                ],
                env,
            )
            _run("pg_restore", ["--list", str(partial)], env)  # the file reads back
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.rename(dest)
        return Outcome(dest, dest.stat().st_size, None, None)  # revision: read after
    source = _sqlite_path(url)
    if not source.exists():
        raise BackupError(f"there is no SQLite database at {source}")
    partial = dest.with_name(dest.name + ".partial")
    try:
        _sqlite_copy(source, partial, source_readonly=False)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.rename(dest)
    revision, profiles = _sqlite_facts(dest)
    return Outcome(dest, dest.stat().st_size, revision, profiles)


def _restore(database_url: str, source: Path) -> Outcome:
    """Replace the database's contents with the backup in ``source`` (made by :func:`backup`
    for the same kind of database)."""
    if not source.is_file():
        raise BackupError(f"there is no backup file at {source}")
    url = _url(database_url)
    with source.open("rb") as fh:
        head = fh.read(16)
    if _is_postgres(url):
        if not head.startswith(b"PGDMP"):
            raise BackupError(f"{source} is not a PostgreSQL backup (made by coach db backup)")
        args, env = _libpq(url)
        _run(
            "pg_restore",
            [
                *args,
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                "--dbname",
                str(url.database),
                str(source),
            ],
            env,
        )
        return Outcome(source, source.stat().st_size, None, None)  # revision: read after
    if not head.startswith(b"SQLite format 3"):
        raise BackupError(f"{source} is not a SQLite backup (made by coach db backup)")
    target = _sqlite_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    _sqlite_copy(source, target, source_readonly=True)
    revision, profiles = _sqlite_facts(target)
    return Outcome(source, source.stat().st_size, revision, profiles)


async def backup(database_url: str, dest: Path) -> Outcome:
    """Write the whole database to ``dest`` (PostgreSQL: a ``pg_dump`` custom-format file;
    SQLite: a SQLite file). An existing ``dest`` is refused: a backup never overwrites one."""
    return await _with_revision(database_url, await asyncio.to_thread(_backup, database_url, dest))


async def restore(database_url: str, source: Path) -> Outcome:
    """Replace the database's contents with the backup in ``source`` (made by :func:`backup`
    for the same kind of database)."""
    done = await asyncio.to_thread(_restore, database_url, source)
    return await _with_revision(database_url, done)


async def _with_revision(database_url: str, outcome: Outcome) -> Outcome:
    """PostgreSQL: the outcome with the database's schema revision (what the dump holds or the
    restore wrote), read the way ``coach db upgrade`` reads it."""
    if outcome.revision is not None or not _is_postgres(_url(database_url)):
        return outcome
    db = Database(database_url)
    try:
        return dataclasses.replace(outcome, revision=await current_revision(db))
    finally:
        await db.dispose()


def revision_in(outcome: Outcome, head: str | None, *, known: bool) -> str:
    """What the operator should do about the restored schema: nothing, upgrade, or install
    the newer code the backup came from (``known``: the code has the file's revision)."""
    if outcome.revision == head:
        return "The schema is current."
    if outcome.revision is None:
        return "The restored database has no schema revision: run `coach db upgrade`."
    if not known:
        return (
            f"The restored schema ({outcome.revision}) is newer than this code knows: install "
            "the version that made the backup before starting the bot."
        )
    return (
        f"The restored schema is at {outcome.revision}, this code at {head}: "
        "run `coach db upgrade`."
    )
