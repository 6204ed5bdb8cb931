"""The audit log: rows written in their own transaction, read back newest first, logged."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from core.db.engine import Database
from core.db.models import User
from core.kernel.audit import ACTIONS, MAX_ACTION, MAX_DETAIL, REDACTED, AuditEntry, latest, record


async def test_record_and_read_back(database: Database) -> None:
    async with database.transaction() as session:
        user = User(display_name="Admin")
        session.add(user)
    before = datetime.now(UTC)
    await record(
        database,
        actor="telegram:42",
        action="admin.broadcast",
        outcome="ok",
        target="all",
        actor_user_id=user.id,
        details={"recipients": 3, "dry_run": False, "tags": ["a", "b"]},
    )
    [entry] = await latest(database)
    assert isinstance(entry, AuditEntry)
    assert (entry.actor, entry.action, entry.outcome, entry.target) == (
        "telegram:42",
        "admin.broadcast",
        "ok",
        "all",
    )
    assert entry.actor_user_id == user.id
    assert entry.details == {"recipients": 3, "dry_run": False, "tags": ["a", "b"]}
    assert entry.at.tzinfo is not None
    assert entry.at >= before.replace(microsecond=0)
    with pytest.raises(AttributeError):
        entry.actor = "someone else"  # type: ignore[misc]


async def test_latest_is_newest_first_and_limited(database: Database) -> None:
    assert await latest(database) == []
    steps = ("admin.stats", "admin.user", "admin.audit", "privacy.export", "role.grant")
    for action in steps:
        await record(database, actor="console", action=action, outcome="ok")
    entries = await latest(database, limit=3)
    assert [e.action for e in entries] == ["role.grant", "privacy.export", "admin.audit"]
    assert all(e.target is None and e.actor_user_id is None and e.details == {} for e in entries)
    assert len(await latest(database)) == 5


async def test_long_values_are_cut_to_the_columns(database: Database) -> None:
    await record(
        database,
        actor="a" * 500,
        action="admin.stats",
        outcome="denied-and-then-some-more",
        target="c" * 500,
        details={"note": "x" * 5000, "nested": {"deeper": ["y" * 5000]}, "ratio": float("nan")},
    )
    [entry] = await latest(database)
    assert len(entry.actor) == 120
    assert entry.actor.startswith("aaa")
    assert entry.target is not None
    assert len(entry.target) == 120
    assert len(entry.outcome) == 16
    assert len(entry.details["note"]) == MAX_DETAIL
    assert len(entry.details["nested"]["deeper"][0]) == MAX_DETAIL
    assert entry.details["ratio"] == "nan"


async def test_secret_named_details_are_redacted_and_logged_without_them(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="coach.audit")
    await record(
        database,
        actor="telegram-webhook:127.0.0.1",
        action="webhook.secret_mismatch",
        outcome="denied",
        details={
            "reason": "wrong",
            "secret_token": "hunter2-value",
            "headers": {"Authorization": "Bearer hunter2-value", "X-Other": "fine"},
            "password": "hunter2-value",
        },
    )
    [entry] = await latest(database)
    assert entry.details == {
        "reason": "wrong",
        "secret_token": REDACTED,
        "headers": {"Authorization": REDACTED, "X-Other": "fine"},
        "password": REDACTED,
    }
    assert "hunter2" not in repr(entry)
    [logged] = [r for r in caplog.records if r.name == "coach.audit"]
    assert logged.levelno == logging.INFO
    message = logged.getMessage()
    assert "webhook.secret_mismatch" in message
    assert "denied" in message
    assert "telegram-webhook:127.0.0.1" in message
    assert "hunter2" not in message


async def test_an_action_outside_the_vocabulary_is_refused(database: Database) -> None:
    """Action names never come from user text: ``record`` takes only the closed vocabulary,
    and refuses anything else before writing or counting."""
    for action in ("admin.x-made-up", "test.step1", "b" * 500, "admin.stats "):
        with pytest.raises(ValueError, match="not in the vocabulary"):
            await record(database, actor="console", action=action, outcome="denied")  # type: ignore[arg-type]
    assert await latest(database) == []
    assert all(len(action) <= MAX_ACTION for action in ACTIONS), "every name fits the column"
