"""Settings come from the environment, with overrides from the command line winning."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.db.engine import normalise_url
from core.settings import load_settings


def test_default_is_sqlite_in_the_user_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    url = load_settings().database_url
    assert url.startswith("sqlite+aiosqlite:///")
    assert url.endswith("stardom-coach/coach.db")


def test_environment_and_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1/coach")
    monkeypatch.setenv("ROADMAPS_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.database_url == "postgresql://u@127.0.0.1/coach"
    assert settings.roadmaps_dir == tmp_path
    assert load_settings(database_url="sqlite:///x.db").database_url == "sqlite:///x.db"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql://u:p@h:5433/db", "postgresql+asyncpg://u:p@h:5433/db"),
        ("sqlite:///tmp/x.db", "sqlite+aiosqlite:///tmp/x.db"),
        ("sqlite+aiosqlite:///tmp/x.db", "sqlite+aiosqlite:///tmp/x.db"),
    ],
)
def test_urls_get_the_async_driver(given: str, expected: str) -> None:
    assert normalise_url(given) == expected
