"""Secrets (bot token, webhook secret, database password) never reach the logs.

The real ``coach run`` process runs with all of them set, at DEBUG, through onboarding, admin
commands, a broadcast, an export and a flood (its rate limit); its whole log is searched for
each secret. The redaction
filter is also checked directly with a URL-encoded password, as a failing connection might
print it.
"""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from coachkit import start_coach_run, stop_coach_run
from fakes.telegram_api import FakeTelegram
from sqlalchemy.engine import make_url

from core.admin.ratelimit import SLOW_DOWN
from core.db.engine import Database
from core.logging import configure_logging
from core.settings import load_settings

DB_PASSWORD = "Db-Pa55word-never-logged"
WEBHOOK_SECRET = "webhook-secret-never-logged-0123456789"
ADMIN, MAYA, FLOOD = 1001, 1002, 1003


@pytest.mark.postgres_only
@pytest.mark.slow
async def test_coach_run_logs_no_secret(database: Database, tmp_path: Path) -> None:
    # PostgreSQL here runs with trust authentication: the password is accepted and ignored,
    # which is exactly what lets it travel through every code path without failing.
    url = make_url(database.url).set(password=DB_PASSWORD).render_as_string(hide_password=False)
    target: Any = SimpleNamespace(is_sqlite=False, url=url)
    async with FakeTelegram() as fake:
        process = await start_coach_run(
            target,
            tmp_path,
            env={
                "TELEGRAM_BOT_TOKEN": fake.token,
                "TELEGRAM_API_BASE_URL": fake.url,
                "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "COACH_ADMINS": f"telegram:{ADMIN}",
                "LOG_LEVEL": "DEBUG",
            },
        )
        try:
            for user, text in ((ADMIN, "/start"), (MAYA, "/start"), (MAYA, "Maya")):
                before = len(fake.messages(user))
                fake.user_message(user, text)
                await fake.wait_for(lambda u=user, b=before: len(fake.messages(u)) > b, timeout=60)
            fake.user_message(MAYA, "/admin stats")  # denied: audited and logged
            fake.user_message(MAYA, "/export")
            await fake.wait_for(lambda: fake.last(MAYA).document is not None, timeout=30)
            fake.user_message(ADMIN, "/admin broadcast Rehearsal tips are up!")
            await fake.wait_for(lambda: bool(fake.last(ADMIN).buttons()), timeout=30)
            preview = fake.last(ADMIN)
            send = next(data for label, data in preview.buttons() if label.startswith("Send"))
            fake.press_button(ADMIN, preview.message_id, send)
            await fake.wait_for(
                lambda: "Broadcast finished" in fake.last(ADMIN).plain_text, timeout=30
            )
            assert "Rehearsal tips are up!" in fake.last(MAYA).plain_text
            # the rate limit is on in `coach run`: a flood gets one "slow down", then silence
            for n in range(25):
                fake.user_message(FLOOD, f"/help {n}")
            await fake.wait_for(lambda: not fake.pending_updates, timeout=30)
            await fake.wait_for(
                lambda: any(SLOW_DOWN in m.plain_text for m in fake.messages(FLOOD)), timeout=30
            )
            await asyncio.sleep(0.5)  # nothing more may arrive
            flood = [m.plain_text for m in fake.messages(FLOOD)]
            assert sum(SLOW_DOWN in text for text in flood) == 1
            assert len(flood) == 21
        finally:
            log = await stop_coach_run(process)
    assert process.returncode == 0, log[-3000:]
    assert "audit admin.stats denied by telegram:1002" in log  # the log did capture the run
    assert "broadcast" in log
    for secret in (fake.token, fake.token.split(":")[1], WEBHOOK_SECRET, DB_PASSWORD):
        assert secret not in log


def test_database_password_is_redacted_raw_and_url_encoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    password = "p@ss/w0rd:S3cret"
    url = "postgresql://coach:p%40ss%2Fw0rd%3AS3cret@db.internal:5432/coach"
    monkeypatch.setenv("DATABASE_URL", url)
    settings = load_settings()
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        configure_logging("DEBUG", secrets=settings.secrets())
        stream = io.StringIO()
        root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
        log = logging.getLogger("coach.test")
        log.error("could not connect to %s", url)
        log.error("password was %s", password)
        out = stream.getvalue()
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    assert "S3cret" not in out
    assert out.count("[redacted]") == 2
    assert "could not connect to postgresql://coach:[redacted]@db.internal" in out
