"""Logging set up once, in ``main()``: where lines go, and no secret in any of them.

**Redaction happens in the formatter**, the last step before a handler writes. A filter sees
a record before it is formatted: it can rewrite the message, but not the traceback, the
chained causes or the stack that formatting appends — and those are where secrets hide (an
exception quoting the URL it failed on, a library error quoting the token). Every handler
``coach`` installs (stderr, the chat's log file) uses :class:`RedactingFormatter`, so
whatever a handler writes has passed through :func:`redact`.

What is redacted:

* every configured secret (bot tokens, the webhook secret, the database password — also
  URL-encoded and backslash-escaped) of at least :data:`MIN_SECRET_LENGTH` characters. A
  shorter value cannot be told apart from ordinary words ("abc" would blank every "abc");
* the password of any ``scheme://user:password@`` URL, whatever its length, configured or not;
* the known token shapes, configured or not (a token in another process's error, an old token
  in a stack trace): Telegram's ``<bot id>:<30+ characters>`` and Discord's three
  dot-separated base64url parts.

**JSON lines** (``LOG_FORMAT=json``, :class:`JsonFormatter`): one object a line, for a log
collector. Every line logged while an event is handled carries ``platform``, ``event_id`` (the
Telegram update id, the Discord interaction id) and ``person`` (a keyed hash, never the
platform id) from :mod:`core.observe.context`; each string field is redacted as above before
it is encoded.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType
from urllib.parse import quote, quote_plus

from core.observe import context as log_context

#: ``sys.exc_info()``'s type, as ``logging.Formatter.formatException`` takes it.
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]

#: What a secret is replaced with.
REDACTED = "[redacted]"
#: Configured secrets shorter than this are not redacted as bare words (URL passwords are).
MIN_SECRET_LENGTH = 4
#: The line format of every handler.
LINE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: The chat's log file rotates at this size, keeping this many old files.
LOG_FILE_BYTES, LOG_FILE_BACKUPS = 1_000_000, 3

# Telegram: "<bot id>:<35 characters>" (also inside ".../bot<token>/getMe"); Discord: base64 of
# the bot's id, a timestamp and an HMAC, dot-separated. The look-behinds keep the pattern from
# starting in the middle of a longer word (a UUID, a hex digest).
_TOKEN_SHAPES = re.compile(
    r"(?<![A-Za-z0-9_-])(?:bot)?\d{5,}:[A-Za-z0-9_-]{30,}"
    r"|(?<![A-Za-z0-9_.-])[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{25,}"
)
# "scheme://user:" then the password up to the "@" (SQLAlchemy reads a password as anything
# up to the "@", slashes included).
_URL_PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^\s:/?#@]*:)[^\s@]+(?=@)")


def secret_variants(secrets: Iterable[str]) -> tuple[str, ...]:
    """The spellings of each secret that may appear in a log line, longest first.

    Raw, URL-encoded (``%40``, ``+``) and backslash-escaped (``repr()`` of a message doubles a
    backslash); a variant that contains another is replaced first, so nothing is left over.
    """
    found: set[str] = set()
    for secret in secrets:
        if not secret or len(secret) < MIN_SECRET_LENGTH:
            continue
        found |= {
            secret,
            quote(secret, safe=""),
            quote_plus(secret),
            secret.encode("unicode_escape").decode("ascii"),
        }
    return tuple(sorted(found, key=len, reverse=True))


def redact(text: str, variants: Iterable[str] = ()) -> str:
    """``text`` with every secret spelling, URL password and token shape replaced."""
    for variant in variants:
        if variant in text:
            text = text.replace(variant, REDACTED)
    text = _URL_PASSWORD.sub(rf"\1{REDACTED}", text)
    return _TOKEN_SHAPES.sub(REDACTED, text)


class RedactingFormatter(logging.Formatter):
    """A formatter whose every output — message, traceback, causes, stack — is redacted.

    The traceback text is redacted where it is made (``formatException``) as well, because
    ``logging`` caches it on the record, where another handler might pick it up.
    """

    def __init__(self, secrets: Iterable[str] = (), fmt: str = LINE_FORMAT) -> None:
        super().__init__(fmt)
        self.variants = secret_variants(secrets)

    def formatException(self, ei: ExcInfo) -> str:
        return redact(super().formatException(ei), self.variants)

    def formatStack(self, stack_info: str) -> str:
        return redact(super().formatStack(stack_info), self.variants)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.variants)


class JsonFormatter(RedactingFormatter):
    """One JSON object a line: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``,
    the event's ``platform``, ``event_id`` and ``person`` when one is being handled, and
    ``exception`` / ``stack`` when there are. Every string is redacted before encoding (a
    secret's JSON spelling could differ from its raw one)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": self._utc(record),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage(), self.variants),
        }
        event = log_context.current()
        if event is not None:
            line["platform"] = event.platform
            if event.event_id is not None:
                line["event_id"] = event.event_id
            line["person"] = event.person
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = redact(record.exc_text, self.variants)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False)

    @staticmethod
    def _utc(record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, tz=UTC)
        return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def configure_logging(
    level: str = "INFO",
    *,
    secrets: list[str] | None = None,
    log_file: Path | None = None,
    fmt: str = "text",
) -> Path | None:
    """Configure the root logger once; keep chatty libraries at WARNING.

    Lines go to stderr, or — with ``log_file``, as ``coach chat`` does, whose terminal is the
    conversation — to that file (created private to the user, rotated at 1 MB, 3 kept).
    Returns the file actually written to: ``None`` for stderr, also when the file cannot be
    opened (then one line on stderr says why, rather than no log at all). ``fmt="json"``:
    JSON lines (:class:`JsonFormatter`).
    """
    handler: logging.Handler
    written_to: Path | None = None
    problem = ""
    if log_file is not None:
        try:
            handler = _file_handler(log_file)
            written_to = log_file
        except OSError as exc:
            problem = f"cannot write the log file {log_file} ({exc.strerror or exc}); using stderr"
            handler = logging.StreamHandler()
    else:
        handler = logging.StreamHandler()
    formatter = JsonFormatter if fmt == "json" else RedactingFormatter
    handler.setFormatter(formatter(secrets or []))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "sqlalchemy.engine", "aiosqlite", "asyncio", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if problem:
        logging.getLogger("coach").warning("%s", problem)
    return written_to


def _file_handler(path: Path) -> logging.Handler:
    """A rotating file handler on ``path``; the file is created readable by its owner only
    (log lines name people by platform id)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    return RotatingFileHandler(
        path, maxBytes=LOG_FILE_BYTES, backupCount=LOG_FILE_BACKUPS, encoding="utf-8"
    )
