"""Secrets never reach the logs, even when a message — or a traceback — carries one by mistake.

Every test writes through the handler ``configure_logging`` (or ``coach`` itself) installed
and reads what that handler really wrote: a stream swapped in for stderr, or the log file.
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from coachkit import free_port

from bot import cli
from core.logging import REDACTED, configure_logging
from core.settings import load_settings

TOKEN = "123456789:AAH-very-secret-token-value"
#: A real-looking Telegram token nobody configured (another bot's, an old one).
STRAY_TOKEN = "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
#: Discord's shape: base64(bot id) . timestamp . HMAC.
STRAY_DISCORD = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB"


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """The root logger, restored afterwards (``configure_logging`` replaces its handlers)."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        yield root
    finally:
        for handler in root.handlers:
            if handler not in saved_handlers:
                handler.close()
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        logging.captureWarnings(False)


def _capture(root: logging.Logger) -> io.StringIO:
    """Point the installed stderr handler at a buffer (its formatter stays the one installed)."""
    stream = io.StringIO()
    [handler] = root.handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    return stream


def test_token_is_redacted_from_log_lines(
    monkeypatch: pytest.MonkeyPatch, root_logger: logging.Logger
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    settings = load_settings()
    assert TOKEN not in repr(settings), "SecretStr hides it in reprs"
    configure_logging("INFO", secrets=settings.secrets())
    stream = _capture(root_logger)
    logging.getLogger("coach.test").info("calling https://api.telegram.org/bot%s/getMe", TOKEN)
    logging.getLogger("coach.test").info("plain message")
    out = stream.getvalue()
    assert TOKEN not in out
    assert REDACTED in out
    assert "plain message" in out


def _fail_with(secret: str) -> None:
    try:
        raise ConnectionError(f"refused by https://api.telegram.org/bot{secret}/getUpdates")
    except ConnectionError as cause:
        raise RuntimeError(f"polling stopped (token {secret})") from cause


def test_a_traceback_quoting_the_token_is_redacted(
    monkeypatch: pytest.MonkeyPatch, root_logger: logging.Logger
) -> None:
    """The secret is in the exception's message, in its chained cause and (as a local's
    repr) nowhere in the message the code logged: a filter on the message never saw it."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    configure_logging("INFO", secrets=load_settings().secrets())
    stream = _capture(root_logger)
    log = logging.getLogger("coach.test")
    try:
        _fail_with(TOKEN)
    except RuntimeError:
        log.exception("telegram: polling failed")
    try:
        _fail_with(TOKEN)
    except RuntimeError as exc:
        log.error("telegram: %s", "gave up", exc_info=exc, stack_info=True)
    out = stream.getvalue()
    assert out.count("Traceback (most recent call last)") >= 4, out  # both, with their causes
    assert "The above exception was the direct cause" in out
    assert "Stack (most recent call last)" in out
    assert TOKEN not in out
    assert TOKEN.split(":")[1] not in out
    assert f"polling stopped (token {REDACTED})" in out


def test_a_password_given_with_db_is_redacted(
    root_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    """``coach … --db URL``: the password in the URL joins the secrets of the handler
    ``coach`` installs — raw, URL-encoded, and inside any URL."""
    password = "Sh0rt:pa/ss@2026"
    url = f"postgresql://coach:Sh0rt%3Apa%2Fss%402026@127.0.0.1:{free_port()}/coach"
    assert cli.main(["db", "prune", "--db", url]) == 1  # the database is down: a plain message
    assert "Cannot open the database" in capsys.readouterr().err
    stream = _capture(root_logger)
    log = logging.getLogger("coach.test")
    log.error("could not connect to %s", url)
    log.error("password authentication failed: password %r", password)
    log.error("raw %s and encoded Sh0rt%%3Apa%%2Fss%%402026", password)
    out = stream.getvalue()
    assert "Sh0rt" not in out, out
    assert f"could not connect to postgresql://coach:{REDACTED}@127.0.0.1" in out


def test_short_secrets_and_unconfigured_tokens_are_redacted(
    monkeypatch: pytest.MonkeyPatch, root_logger: logging.Logger
) -> None:
    """A 4-character database password is redacted wherever it appears; a 3-character one
    only where it can be told apart from ordinary words, inside its URL. Token shapes are
    redacted even when nobody configured them."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://coach:pw42@db.internal/coach")
    configure_logging("INFO", secrets=load_settings().secrets())
    stream = _capture(root_logger)
    log = logging.getLogger("coach.test")
    log.warning("login with pw42 refused")
    log.warning("tried postgresql://admin:abc@db.internal/x and the word abc stays")
    log.warning("stray tokens %s and %s", STRAY_TOKEN, STRAY_DISCORD)
    log.warning("not secrets: reminder 3f9a2c1e-1234-4abc-9def-123456789012 at 18:00:00")
    out = stream.getvalue()
    assert "pw42" not in out
    assert f"login with {REDACTED} refused" in out
    assert f"postgresql://admin:{REDACTED}@db.internal/x and the word abc stays" in out
    assert STRAY_TOKEN.split(":")[1] not in out
    assert STRAY_DISCORD not in out
    assert "reminder 3f9a2c1e-1234-4abc-9def-123456789012 at 18:00:00" in out


def test_the_chat_log_file_is_redacted_too(
    monkeypatch: pytest.MonkeyPatch, root_logger: logging.Logger, tmp_path: Path
) -> None:
    """``coach chat`` logs to a file; its handler has the same redacting formatter."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    log_file = tmp_path / "data" / "coach-chat.log"
    written = configure_logging("WARNING", secrets=load_settings().secrets(), log_file=log_file)
    assert written == log_file
    try:
        _fail_with(TOKEN)
    except RuntimeError:
        logging.getLogger("coach.test").exception("failed")
    for handler in root_logger.handlers:
        handler.flush()
    text = log_file.read_text()
    assert "Traceback" in text
    assert TOKEN not in text
    assert REDACTED in text


def test_an_unwritable_log_file_falls_back_to_stderr(
    root_logger: logging.Logger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log folder should be")
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    written = configure_logging("WARNING", log_file=blocker / "coach-chat.log")
    assert written is None
    assert "cannot write the log file" in stream.getvalue()
