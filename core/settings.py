"""Settings from the environment (and a ``.env`` file), built in ``main()`` and passed down.

Front ends add their own settings (tokens as ``SecretStr``) when they arrive; nothing here is
read at import time.
"""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_database_url() -> str:
    """SQLite in the per-user data directory, so ``coach chat`` needs no server."""
    data = Path(user_data_dir("stardom-coach", appauthor=False))
    return f"sqlite+aiosqlite:///{data / 'coach.db'}"


class Settings(BaseSettings):
    """Everything configurable. See the README's configuration table."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    roadmaps_dir: Path | None = None
    log_level: str = "INFO"
    sql_echo: bool = False
    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = 8443
    telegram_webhook_path: str = "/telegram"
    discord_bot_token: SecretStr | None = None
    discord_api_base_url: str = "https://discord.com/api/v10"
    discord_gateway_url: str | None = None
    discord_shard_id: int | None = Field(default=None, ge=0)
    discord_shard_count: int | None = Field(default=None, ge=1)

    def secrets(self) -> list[str]:
        """Secret values, so the log filter can redact them if one ever slips into a message."""
        values = (self.telegram_bot_token, self.telegram_webhook_secret, self.discord_bot_token)
        return [v.get_secret_value() for v in values if v is not None]


def load_settings(**overrides: object) -> Settings:
    """Read settings now (never at import time); keyword overrides win over the environment."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings.model_validate(clean)
