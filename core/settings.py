"""Settings from the environment (and a ``.env`` file), built in ``main()`` and passed down.

Front ends add their own settings (tokens as ``SecretStr``) when they arrive; nothing here is
read at import time.
"""

from __future__ import annotations

from ipaddress import ip_network
from pathlib import Path
from typing import Literal
from urllib.parse import quote, quote_plus

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

#: How the process reaches PostgreSQL: directly, or through PgBouncer in transaction pooling
#: (``DATABASE_POOLER``; core/db/engine.py).
Pooler = Literal["none", "pgbouncer"]


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
    # The database's connections (core/db/engine.py): each process has two pools (the chat hot
    # path's and everything else's) of at most pool size + overflow connections each; every
    # PostgreSQL session starts with these timeouts (0: the server's own value); work that
    # lost its connection is retried for up to DATABASE_RETRY_SECONDS (core/db/retry.py).
    database_pool_size: int = Field(default=5, ge=1, le=200)
    database_max_overflow: int = Field(default=5, ge=0, le=200)
    database_statement_timeout_seconds: float = Field(default=30.0, ge=0, le=86_400)
    database_lock_timeout_seconds: float = Field(default=5.0, ge=0, le=3600)
    database_idle_in_transaction_timeout_seconds: float = Field(default=60.0, ge=0, le=86_400)
    database_retry_seconds: float = Field(default=5.0, ge=0, le=300)
    #: ``pgbouncer`` when DATABASE_URL points at PgBouncer in transaction pooling mode: no
    #: startup parameters, no named prepared statements (core/db/engine.py; README).
    database_pooler: Pooler = "none"
    #: ``uvloop`` (when installed) or ``asyncio``: the event loop of the ``coach`` command.
    event_loop: Literal["uvloop", "asyncio"] = "uvloop"
    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org"
    #: The Telegram bot's username (without @), for ``t.me/<username>?start=…`` links in
    #: replies of a process that doesn't run the Telegram front end (Discord's ``/link``); a
    #: process that runs it learns the username from Telegram itself.
    telegram_bot_username: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]{5,32}$")
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = 8443
    telegram_webhook_path: str = "/telegram"
    #: How long a Telegram reply keeps trying through 429s and network errors before it is
    #: given up (and its chat owed a note). A reply waits aside, so its chat goes on meanwhile.
    telegram_reply_budget_seconds: float = Field(default=60.0, gt=0, le=900)
    #: The same for a notice (nudge, broadcast): its sender waits for it and retries a failure
    #: itself, so it must end well inside the senders' two-minute leases.
    telegram_notice_budget_seconds: float = Field(default=30.0, gt=0, le=90)
    #: Messages a second this process sends at most (replies, nudges, broadcasts together).
    #: Telegram's ~30 a second is per bot, so N webhook workers share it: 28 / N each.
    telegram_sends_per_second: float = Field(default=28.0, gt=0, le=1000)
    #: Proxies whose ``X-Forwarded-For`` the webhook believes: addresses or CIDR ranges,
    #: comma-separated (empty: the header is ignored; the peer's address is the client's).
    telegram_webhook_trusted_proxies: str = ""
    #: How long an update a worker took from the inbox stays its own; after that (the worker
    #: died) a webhook worker's sweep takes it over (core/inbox.py).
    telegram_inbox_lease_seconds: float = Field(default=60.0, ge=5, le=3600)
    #: Bot admins from the start: ``platform:id``, comma-separated (``telegram:1,console:boss``).
    coach_admins: str = ""
    #: Inbound events per person: ``"<events>/<seconds>"`` or ``"off"`` (core/admin/ratelimit).
    coach_rate_limit: str = "20/10"
    #: The HMAC key of stored ``/link`` codes (core/accounts/linking.py): every worker of a
    #: deployment must have the same one. Unset, a public constant stands in (the 80-bit codes
    #: still hold).
    coach_link_secret: SecretStr | None = None
    #: ``coach run``: the longest wait between attempts to start a front end whose platform
    #: could not be reached at start (the waits grow 1, 2, 5, 10, 30, 60 s up to this).
    platform_retry_max_seconds: float = Field(default=60.0, gt=0, le=3600)
    # Reminders (issue #5): every `coach run` / `coach chat` process runs the tick.
    reminders_enabled: bool = True
    reminder_tick_seconds: float = Field(default=1.0, gt=0, le=3600)
    reminder_batch_size: int = Field(default=200, ge=1, le=5000)
    reminder_grace_minutes: int = Field(default=120, ge=1)
    reminder_inactivity_days: str = Field(default="2,5,10", pattern=r"^\s*\d+(\s*,\s*\d+)*\s*$")
    # Housekeeping (core/housekeeping.py): a job next to the reminder tick deletes old
    # bookkeeping rows. Telegram replays updates for at most 24 h, so a replay guard of 2 days
    # is the least; /admin stats looks back a week, so nudge records stay at least 7 days.
    retention_enabled: bool = True
    retention_interval_minutes: float = Field(default=60.0, gt=0, le=10_080)
    retention_updates_days: int = Field(default=7, ge=2)
    retention_deliveries_days: int = Field(default=30, ge=7)
    # Refused attempts in the audit log (outcome "denied"); admin actions are never pruned.
    # At least a week, so /admin audit still shows last week's denials.
    retention_audit_denials_days: int = Field(default=90, ge=7)
    retention_batch_size: int = Field(default=5000, ge=1, le=50_000)
    # Processed outbox events (core/coaching/milestones): /admin stats counts last week's,
    # so they stay at least 8 days; unprocessed events are never pruned.
    retention_events_days: int = Field(default=30, ge=8)
    # Unprocessed events (a milestone consumer switched off, or stuck on a profile's queue):
    # those no milestone comes from go after RETENTION_EVENTS_DAYS, the rest after this.
    retention_events_unprocessed_days: int = Field(default=90, ge=8)
    # Milestones (issue #14 §3b): the outbox consumer, a job of every process that runs the
    # reminder tick; a look for new events every MILESTONES_TICK_SECONDS.
    milestones_enabled: bool = True
    milestones_tick_seconds: float = Field(default=2.0, gt=0, le=3600)
    milestones_batch_size: int = Field(default=100, ge=1, le=5000)

    # Watching it (bot/watch.py, core/logging.py): /healthz, /readyz and /metrics on their own
    # listener when HEALTH_PORT is set (else, in webhook mode, on the webhook's listener);
    # /readyz fails when a job has not succeeded for READY_JOB_LAG_SECONDS (or three of its
    # intervals, if longer). LOG_FORMAT=json: one JSON object a line. SENTRY_DSN: errors to
    # Sentry (the `sentry` extra), redacted like the logs.
    health_listen: str = "127.0.0.1"
    health_port: int | None = Field(default=None, ge=0, le=65535)
    ready_job_lag_seconds: float = Field(default=120.0, gt=0, le=86_400)
    log_format: Literal["text", "json"] = "text"
    sentry_dsn: SecretStr | None = None

    discord_bot_token: SecretStr | None = None
    discord_api_base_url: str = "https://discord.com/api/v10"
    discord_gateway_url: str | None = None
    discord_shard_id: int | None = Field(default=None, ge=0)
    discord_shard_count: int | None = Field(default=None, ge=1)
    #: The longest 429 wait discord.py sits out for one request (at least 30, its minimum);
    #: longer fails the send at once. Notices must end inside the two-minute leases.
    discord_ratelimit_max_seconds: float = Field(default=60.0, ge=30, le=90)

    @field_validator("telegram_bot_token", "discord_bot_token", mode="before")
    @classmethod
    def _empty_token_is_none(cls, value: object) -> object:
        """An empty token is no token: ``DISCORD_BOT_TOKEN=`` (as compose's Telegram workers
        set it, to run Telegram only) must not start a Discord front end with no token."""
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("telegram_webhook_trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        """Each entry an IP address or CIDR range (``10.0.0.0/8``): a typo stops the start."""
        for entry in filter(None, (e.strip() for e in value.split(","))):
            try:
                ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"not an IP address or network: {entry!r}") from None
        return value

    def trusted_proxies(self) -> list[str]:
        """``TELEGRAM_WEBHOOK_TRUSTED_PROXIES`` as a list."""
        return [e.strip() for e in self.telegram_webhook_trusted_proxies.split(",") if e.strip()]

    @model_validator(mode="after")
    def _link_secret_is_long_enough(self) -> Settings:
        """A short key is a mistake (a typo, a placeholder), not a choice: refuse it at start."""
        secret = self.coach_link_secret
        if secret is not None and len(secret.get_secret_value()) < 16:
            raise ValueError("COACH_LINK_SECRET must be at least 16 characters")
        return self

    @model_validator(mode="after")
    def _deliveries_outlive_the_grace_window(self) -> Settings:
        """A nudge record must outlive the window in which its key can still be written."""
        if self.retention_deliveries_days * 24 * 60 <= self.reminder_grace_minutes:
            raise ValueError(
                "RETENTION_DELIVERIES_DAYS must be longer than REMINDER_GRACE_MINUTES "
                f"({self.reminder_grace_minutes} minutes)"
            )
        return self

    @model_validator(mode="after")
    def _unprocessed_events_outlive_processed_ones(self) -> Settings:
        """An event waiting for the milestone consumer is kept at least as long as a done one."""
        if self.retention_events_unprocessed_days < self.retention_events_days:
            raise ValueError(
                "RETENTION_EVENTS_UNPROCESSED_DAYS must be at least RETENTION_EVENTS_DAYS "
                f"({self.retention_events_days})"
            )
        return self

    def inactivity_backoff(self) -> tuple[int, ...]:
        """The inactivity nudge steps in days (``REMINDER_INACTIVITY_DAYS=2,5,10``)."""
        return tuple(sorted(int(d) for d in self.reminder_inactivity_days.split(",") if int(d)))

    def secrets(self) -> list[str]:
        """Secret values, so the log filter can redact them if one ever slips into a message.

        The database password counts: a connection error can quote the URL it failed on.
        """
        values = (
            self.telegram_bot_token,
            self.telegram_webhook_secret,
            self.discord_bot_token,
            self.coach_link_secret,
            self.sentry_dsn,
        )
        found = [v.get_secret_value() for v in values if v is not None]
        password = database_password(self.database_url)
        if password:
            found += {password, quote(password, safe=""), quote_plus(password)}
        return found


def database_password(url: str) -> str | None:
    """The password inside a database URL, if any (``postgresql://u:PASSWORD@host/db``)."""
    try:
        return make_url(url).password or None
    except ArgumentError:
        return None


def load_settings(**overrides: object) -> Settings:
    """Read settings now (never at import time); keyword overrides win over the environment."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings.model_validate(clean)
