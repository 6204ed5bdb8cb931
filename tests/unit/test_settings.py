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


def test_watch_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.health_port is None  # off unless asked for
    assert settings.health_listen == "127.0.0.1"
    assert settings.log_format == "text"
    monkeypatch.setenv("HEALTH_PORT", "9464")
    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.setenv("SENTRY_DSN", "https://abcdef0123456789@sentry.example/1")
    settings = load_settings()
    assert settings.health_port == 9464
    assert settings.log_format == "json"
    assert "https://abcdef0123456789@sentry.example/1" in settings.secrets()  # redacted in logs


@pytest.mark.parametrize(("name", "value"), [("HEALTH_PORT", "70000"), ("LOG_FORMAT", "xml")])
def test_bad_watch_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name.lower()):
        load_settings()


def test_an_empty_token_is_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """Compose runs its Telegram workers with ``DISCORD_BOT_TOKEN=""``: that must not start a
    Discord front end with an empty token (nor the reverse)."""
    monkeypatch.setenv("DISCORD_BOT_TOKEN", "")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "  ")
    settings = load_settings()
    assert settings.discord_bot_token is None
    assert settings.telegram_bot_token is None
    monkeypatch.setenv("DISCORD_BOT_TOKEN", "abc")
    token = load_settings().discord_bot_token
    assert token is not None
    assert token.get_secret_value() == "abc"


def test_sends_per_second(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().telegram_sends_per_second == 28
    monkeypatch.setenv("TELEGRAM_SENDS_PER_SECOND", "9.5")
    assert load_settings().telegram_sends_per_second == 9.5
    monkeypatch.setenv("TELEGRAM_SENDS_PER_SECOND", "0")
    with pytest.raises(ValueError, match="greater than 0"):
        load_settings()
