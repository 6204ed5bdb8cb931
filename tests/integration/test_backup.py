"""``coach db backup`` / ``coach db restore`` (issue #16 §4) as a round trip on both databases:
musicians' progress written through the coach, backed up, the database wiped (PostgreSQL: a new
empty database, as after losing the server; SQLite: the file gone), restored, and every row of
every musician's progress back — and the coach carrying on from it. Then the refusals an
operator can meet: no ``--yes``, a file that exists, a file of the other kind, a missing one."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from coachkit import Driver, at_a_checklist, run_coach, synced_coach
from sqlalchemy import text

from bot.cli import build_parser
from core.db import backup as db_backup
from core.db.engine import Database
from core.db.migrate import head_revision, known_revision

#: What a musician's progress is, row by row (ids included: a restore is not a re-import).
_PROGRESS = (
    "SELECT p.id, p.artist_name, t.title, u.status, u.task_data, u.completed_at "
    "FROM user_task_progress u JOIN profiles p ON p.id = u.profile_id "
    "JOIN tasks t ON t.id = u.task_id ORDER BY p.id, t.title"
)
_COUNTS = (
    "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM profiles), "
    "(SELECT count(*) FROM stat_samples), (SELECT count(*) FROM audit_log)"
)


async def _snapshot(db: Database) -> tuple[list[Any], Any]:
    async with db.transaction() as session:
        rows = [tuple(r) for r in (await session.execute(text(_PROGRESS))).all()]
        counts = tuple((await session.execute(text(_COUNTS))).one())
    return rows, counts


async def _two_musicians(database: Database) -> None:
    coach = await synced_coach(database)
    for name in ("maya", "leo"):
        person = Driver(coach, name)
        await person.onboard()
        await person.press_payload(await at_a_checklist(person))
        await person.say("/update listeners 1200")


async def _seeded_sqlite(path: Path, template: Path) -> tuple[list[Any], Any]:
    """Two musicians' progress in a migrated SQLite file at ``path`` (a copy of the session's
    migrated template); what :func:`_snapshot` reads of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, path)
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await _two_musicians(database)
        return await _snapshot(database)
    finally:
        await database.dispose()


async def test_postgres_round_trip_into_an_empty_database(
    pg_database: Database, fresh_pg_url: Callable[[], Awaitable[str]], tmp_path: Path
) -> None:
    await _two_musicians(pg_database)
    before = await _snapshot(pg_database)
    assert len(before[0]) >= 2
    assert before[1][1] == 2

    file = tmp_path / "coach.dump"
    made = await db_backup.backup(pg_database.url, file)
    assert made.revision == head_revision()
    assert file.read_bytes()[:5] == b"PGDMP"

    target = await fresh_pg_url()  # the server was lost: a new, empty database
    restored = await db_backup.restore(target, file)
    assert restored.revision == head_revision()
    again = Database(target)
    try:
        assert await _snapshot(again) == before
        # ... and the coach carries on from the restored rows
        maya = Driver(await synced_coach(again), "maya")
        await maya.say("/progress")
        assert "Welcome" not in maya.text
        assert "%" in maya.text

        # restoring over a database that has moved on puts it back (--clean)
        async with again.transaction() as session:
            await session.execute(text("DELETE FROM stat_samples"))
        await again.dispose()
        await db_backup.restore(target, file)
        assert await _snapshot(again) == before
    finally:
        await again.dispose()


async def test_sqlite_round_trip_after_the_file_is_lost(
    tmp_path: Path, sqlite_template: Path
) -> None:
    live = tmp_path / "data" / "coach.db"
    before = await _seeded_sqlite(live, sqlite_template)

    file = tmp_path / "backups" / "coach-2026.db"
    made = await db_backup.backup(f"sqlite:///{live}", file)
    assert made.profiles == 2
    assert made.revision == head_revision()

    live.unlink()  # the disk is gone
    restored = await db_backup.restore(f"sqlite:///{live}", file)
    assert restored.profiles == 2
    again = Database(f"sqlite+aiosqlite:///{live}")
    try:
        assert await _snapshot(again) == before
    finally:
        await again.dispose()


async def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``coach ARGV`` in this process (the parser and the command's own function)."""
    args = build_parser().parse_args(list(argv))
    code = await args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


async def test_the_cli_round_trip_and_its_refusals(
    tmp_path: Path, sqlite_template: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live = tmp_path / "coach.db"
    before = await _seeded_sqlite(live, sqlite_template)
    url = f"sqlite:///{live}"
    file = tmp_path / "nightly.db"

    made = await run_coach("db", "backup", str(file), "--db", url)  # the installed command
    assert made.returncode == 0, made.stderr
    assert "2 profiles" in made.stdout
    assert f"coach db restore {file} --yes" in made.stdout

    code, _, err = await _cli(capsys, "db", "backup", str(file), "--db", url)
    assert code == 1
    assert "exists already" in err

    live.unlink()
    code, _, err = await _cli(capsys, "db", "restore", str(file), "--db", url)
    assert code == 2
    assert "--yes" in err
    assert not live.exists()

    code, out, err = await _cli(capsys, "db", "restore", str(file), "--db", url, "--yes")
    assert code == 0, err
    assert "(2 profiles)" in out
    assert "The schema is current." in out
    again = Database(f"sqlite+aiosqlite:///{live}")
    try:
        assert await _snapshot(again) == before
    finally:
        await again.dispose()

    code, _, err = await _cli(
        capsys, "db", "restore", str(tmp_path / "no.db"), "--db", url, "--yes"
    )
    assert code == 1
    assert "no backup file" in err
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    code, _, err = await _cli(capsys, "db", "restore", str(not_a_backup), "--db", url, "--yes")
    assert code == 1
    assert "is not a SQLite backup" in err


async def test_postgres_refuses_a_sqlite_file_and_keeps_the_password_off_the_command_line(
    pg_database: Database, tmp_path: Path
) -> None:
    lite = tmp_path / "lite.db"
    lite.write_bytes(b"SQLite format 3\x00" + bytes(100))
    with pytest.raises(db_backup.BackupError, match="not a PostgreSQL backup"):
        await db_backup.restore(pg_database.url, lite)
    args, env = db_backup._libpq(  # the connection pg_dump gets
        db_backup._url("postgresql://coach:s3cret@db.internal:6543/coach?sslmode=require")
    )
    assert "s3cret" not in " ".join(args)
    assert env["PGPASSWORD"] == "s3cret"
    assert env["PGSSLMODE"] == "require"
    assert args == ["--host", "db.internal", "--port", "6543", "--username", "coach"]


def test_advice_on_the_restored_schema() -> None:
    head = head_revision()
    current = db_backup.Outcome(Path("x"), 1, head, None)
    assert db_backup.revision_in(current, head, known=True) == "The schema is current."
    older = db_backup.Outcome(Path("x"), 1, "e66e4816d48c", None)
    assert known_revision("e66e4816d48c")
    assert "run `coach db upgrade`" in db_backup.revision_in(older, head, known=True)
    newer = db_backup.Outcome(Path("x"), 1, "zz_from_the_future", None)
    assert not known_revision("zz_from_the_future")
    assert "newer than this code" in db_backup.revision_in(newer, head, known=False)
