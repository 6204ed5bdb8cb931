"""The ``coach`` command as a person runs it: piped chat, roadmap check, migrations, the wheel."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from coachkit import run_coach as _coach

from bot.cli import event_loop_factory
from core.db.engine import Database

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parents[1] / "support" / "fixtures"


async def test_piped_chat_plays_a_conversation(database: Database) -> None:
    result = await _coach(
        "chat", "--db", database.url, "--user", "maya", stdin="/start\nMaya\n1\n2\n/progress\n"
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "you> /start" in out
    assert "what's your artist name?" in out
    assert "Nice to meet you, Maya!" in out
    assert "  [1] Indie Singer-Songwriter" in out
    assert "You're on Indie Singer-Songwriter" in out
    assert "☑ 2." in out, "typing 2 pressed the second checklist button"
    assert "% overall" in out
    # a second run is the same musician, welcomed back, with the tick still there
    again = await _coach("chat", "--db", database.url, "--user", "maya", stdin="/start\n")
    assert "Welcome back, Maya" in again.stdout
    assert "☑ 2." in again.stdout


async def test_roadmaps_check_reports_every_problem_with_file_and_line() -> None:
    ok = await _coach("roadmaps", "check")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "indie-singer-songwriter" in ok.stdout
    bad = await _coach("roadmaps", "check", "--dir", str(FIXTURES / "roadmaps_bad"))
    assert bad.returncode == 1
    assert "unknown-field.yaml:15: unknown field 'optinal'" in bad.stdout
    assert "min-greater-than-max.yaml:15: min (5) is greater than max (2)" in bad.stdout
    assert "checklist-without-items.yaml:18:" in bad.stdout


async def test_db_upgrade_and_sync_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'coach.db'}"
    up = await _coach("db", "upgrade", "--db", url)
    assert up.returncode == 0, up.stderr
    first = await _coach("roadmaps", "sync", "--db", url)
    assert first.returncode == 0, first.stderr
    assert "created" in first.stdout
    second = await _coach("roadmaps", "sync", "--db", url)
    assert "0 created" in second.stdout or "unchanged" in second.stdout
    assert "updated" not in second.stdout.replace("0 updated", "")


async def test_help_lists_subcommands() -> None:
    result = await _coach("--help")
    for word in ("chat", "db", "roadmaps"):
        assert word in result.stdout


@pytest.mark.slow
async def test_wheel_ships_roadmaps_and_migrations(tmp_path: Path) -> None:
    """A ``pip install .`` outside the repo still finds the roadmap YAML and the migrations."""
    build = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    wheel = next((tmp_path / "dist").glob("stardom_coach-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("roadmaps/") and n.endswith(".yaml") for n in names)
    assert any(n.startswith("migrations/versions/") for n in names)
    assert "migrations/env.py" in names
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import core, roadmaps; from core.roadmaps.loader import load_roadmaps;"
        "assert core.__file__.startswith(sys.argv[1]), core.__file__;"
        "print(len(load_roadmaps()))"
    )
    run = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", probe, str(target)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert int(run.stdout.strip()) >= 3


async def test_run_without_a_token_says_what_to_set() -> None:
    result = await _coach("run")  # _coach leaves TELEGRAM_* out of the environment
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in result.stderr


def test_event_loop_is_uvloop_unless_asked_otherwise() -> None:
    import uvloop  # noqa: PLC0415 - installed with the project on Linux

    assert event_loop_factory("uvloop") is uvloop.new_event_loop
    assert event_loop_factory("asyncio") is None


async def test_piped_chat_updates_numbers_sets_a_goal_and_shows_stats(database: Database) -> None:
    """The terminal gets the numbers feature like every front end: /update, the guided /goal
    with numbered buttons, /stats with its chart."""
    script = (
        "/start\nMaya\n1\n/update monthly listeners 1200\n/update monthly listeners 1400\n"
        "/goal\n5\n2000\n2\n/stats\n"  # 5: Monthly listeners, listed by name among the tracked
    )
    result = await _coach("chat", "--db", database.url, "--user", "maya", stdin=script)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Saved: 1,200 listeners — Monthly listeners." in out
    assert "+200 since last time" in out
    assert "  [5] Monthly listeners" in out
    assert "By when?" in out
    assert "Goal set: Monthly listeners 2,000 by" in out
    assert "How I project" in out
    assert "Your numbers" in out
    assert "30 days" in out
