"""Secrets never reach the logs, even when a message carries one by mistake."""

from __future__ import annotations

import io
import logging

import pytest

from core.logging import configure_logging
from core.settings import load_settings

TOKEN = "123456789:AAH-very-secret-token-value"


def test_token_is_redacted_from_log_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    settings = load_settings()
    assert TOKEN not in repr(settings), "SecretStr hides it in reprs"
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        configure_logging("INFO", secrets=settings.secrets())
        stream = io.StringIO()
        root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
        logging.getLogger("coach.test").info("calling https://api.telegram.org/bot%s/getMe", TOKEN)
        logging.getLogger("coach.test").info("plain message")
        out = stream.getvalue()
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    assert TOKEN not in out
    assert "[redacted]" in out
    assert "plain message" in out
