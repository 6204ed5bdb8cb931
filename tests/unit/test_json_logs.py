"""LOG_FORMAT=json (core/logging.py): one redacted JSON object a line, carrying the event's
platform, id and hashed person while an event is handled (core/observe/context.py)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from core.logging import REDACTED, JsonFormatter
from core.observe import context as log_context

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"
SECRET = "Pa55-word-of-the-db"


@pytest.fixture
def lines() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter([TOKEN, SECRET]))
    logger = logging.getLogger("coach.test-json")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield logger, out
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
        log_context.use_key(None)


def _read(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_line_outside_an_event_has_no_event_fields(
    lines: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = lines
    logger.info("tick: %d sent", 3)
    (line,) = _read(out)
    assert line["message"] == "tick: 3 sent"
    assert line["level"] == "INFO"
    assert line["logger"] == "coach.test-json"
    assert str(line["time"]).endswith("Z")
    assert "platform" not in line
    assert "person" not in line


def test_every_line_of_an_event_carries_platform_id_and_hashed_person(
    lines: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = lines
    log_context.use_key("a-deployment-secret-of-16+")
    with log_context.event("telegram", "1001", "777"):
        logger.info("first")
        logger.warning("second")
    logger.info("after")
    first, second, after = _read(out)
    for line in (first, second):
        assert line["platform"] == "telegram"
        assert line["event_id"] == "777"
        assert line["person"] == log_context.person_hash("telegram", "1001")
        assert "1001" not in json.dumps(line)
    assert "person" not in after
    # the hash depends on the key: without the deployment's secret it is another one
    keyed = log_context.person_hash("telegram", "1001")
    log_context.use_key(None)
    assert log_context.person_hash("telegram", "1001") != keyed
    assert len(keyed) == 12


def test_secrets_are_redacted_in_the_message_and_the_traceback(
    lines: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = lines
    try:
        raise RuntimeError(f"GET https://api.telegram.org/bot{TOKEN}/getMe failed")
    except RuntimeError:
        logger.exception("connecting to postgresql://coach:%s@db/coach", SECRET)
    (line,) = _read(out)
    text = json.dumps(line)
    assert TOKEN not in text
    assert SECRET not in text
    assert REDACTED in str(line["message"])
    assert REDACTED in str(line["exception"])
    assert "RuntimeError" in str(line["exception"])
