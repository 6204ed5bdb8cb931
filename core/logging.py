"""Logging set up once, in ``main()``: the ``coach`` namespace, lazy arguments, quiet libraries."""

from __future__ import annotations

import logging


class RedactSecrets(logging.Filter):
    """Replaces known secret values in log records, as a last line of defence."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 8]

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            if any(s in message for s in self.secrets):
                for s in self.secrets:
                    message = message.replace(s, "[redacted]")
                record.msg, record.args = message, None
        return True


def configure_logging(level: str = "INFO", *, secrets: list[str] | None = None) -> None:
    """Configure the root logger once; keep chatty libraries at WARNING."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets or []))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "sqlalchemy.engine", "aiosqlite", "asyncio", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # APScheduler logs every run of the reminder tick (once a second) at INFO.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
