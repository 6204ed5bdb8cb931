"""Optional Sentry (core/sentry.py): every string of an event redacted as the logs
are, the event tagged with the hashed person, nothing sent without a DSN. The real SDK's
run is in tests/integration/test_sentry_transport.py."""

from __future__ import annotations

import json

from core.logging import REDACTED
from core.observe import context as log_context
from core.sentry import before_send, init_sentry, scrub

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"
SECRET = "Pa55-word-of-the-db"


def test_scrub_redacts_every_string_at_any_depth() -> None:
    event = {
        "message": f"token {TOKEN}",
        "exception": {"values": [{"type": "RuntimeError", "value": f"db {SECRET} down"}]},
        "breadcrumbs": {"values": [{"message": "postgresql://coach:hunter22@db/coach"}]},
        "extra": {"tuple": (SECRET, 3), "n": 3, "none": None},
    }
    clean = scrub(event, (SECRET,))
    text = json.dumps(clean)
    assert TOKEN not in text
    assert SECRET not in text
    assert "hunter22" not in text
    assert clean["exception"]["values"][0]["value"] == f"db {REDACTED} down"
    assert clean["extra"]["tuple"] == (REDACTED, 3)
    assert clean["extra"]["n"] == 3


def test_the_hook_tags_the_event_being_handled_and_drops_the_user() -> None:
    hook = before_send([SECRET])
    with log_context.event("discord", "42", "9001"):
        event = hook({"message": SECRET, "user": {"id": "42"}}, {})
    assert event["message"] == REDACTED
    assert "user" not in event
    assert event["tags"] == {
        "platform": "discord",
        "person": log_context.person_hash("discord", "42"),
        "event_id": "9001",
    }


def test_no_dsn_no_sentry() -> None:
    assert init_sentry(None, [SECRET]) is False
    assert init_sentry("", [SECRET]) is False
