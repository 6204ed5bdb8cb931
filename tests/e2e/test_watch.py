"""``coach run``'s /healthz, /readyz and /metrics (issue #16 §1), read from a real process.

The process serves Telegram (long polling against the loopback fake) on a database of its
own, so the test can take that database away and see ``/readyz`` say so.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest
from coachkit import free_port, start_coach_run, stop_coach_run
from fakes.telegram_api import FakeTelegram
from sqlalchemy.engine import make_url
from watchkit import dashboard_queries, exposed_names, get_json, get_text, sample, until_json

from core.db.engine import Database
from core.observe import context as log_context

MAYA = 1001

pytestmark = pytest.mark.slow


@pytest.mark.postgres_only
async def test_health_readiness_and_metrics_of_a_running_coach(
    database: Database,
    tmp_path: Path,
    fresh_pg_url: Callable[[], Awaitable[str]],
    pg_admin_url: str,
) -> None:
    url = make_url(await fresh_pg_url()).set(drivername="postgresql+asyncpg")
    own = Database(url.render_as_string(hide_password=False))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with FakeTelegram() as tg:
        env = {
            "TELEGRAM_BOT_TOKEN": tg.token,
            "TELEGRAM_API_BASE_URL": tg.url,
            "HEALTH_PORT": str(port),
            "REMINDER_TICK_SECONDS": "0.2",
        }
        process = await start_coach_run(own, tmp_path, env=env)
        try:
            _, health = await until_json(f"{base}/healthz", lambda s, _b: s == 200)
            assert health == {"status": "ok"}

            _, ready = await until_json(f"{base}/readyz", lambda s, _b: s == 200)
            assert ready["status"] == "ready"
            assert ready["checks"]["database"] == "ok"
            assert ready["checks"]["telegram"] == "ok"
            assert ready["checks"]["job:reminder-tick"] == "ok"

            # a counter moves after an event
            _, before = await get_text(f"{base}/metrics")
            assert sample(before, "coach_events_total", platform="telegram", kind="command") == 0
            tg.user_message(MAYA, "/start")
            await tg.wait_for(lambda: len(tg.messages(MAYA)) > 0, timeout=30)
            _, after = await get_text(f"{base}/metrics")
            assert sample(after, "coach_events_total", platform="telegram", kind="command") == 1
            assert sample(after, "coach_handler_seconds_count", platform="telegram") == 1
            assert sample(after, "coach_outbound_sends_total", platform="telegram") >= 1
            assert sample(after, "coach_job_runs_total", job="reminder-tick") >= 1
            assert sample(after, "coach_frontend_up", platform="telegram") == 1
            assert "coach_db_connections_in_use" in after
            # every figure the Grafana dashboard (deploy/) queries is served
            missing = dashboard_queries() - exposed_names(after)
            assert not missing, missing

            # Telegram's getUpdates fails: the front end is down, and /readyz says so
            tg.fail_next("getUpdates", status=502, times=10_000)
            tg.user_message(MAYA, "Maya")  # ends the long poll in progress
            _, down = await until_json(f"{base}/readyz", lambda s, _b: s == 503)
            assert down["checks"]["telegram"] == "getUpdates failing"
            assert "telegram: getUpdates failing" in down["reason"]
            _, metrics = await get_text(f"{base}/metrics")
            assert sample(metrics, "coach_frontend_up", platform="telegram") == 0
            tg.stop_failing()
            tg.user_message(MAYA, "/help")  # answered at once by the next (good) long poll
            await until_json(f"{base}/readyz", lambda s, _b: s == 200)

            # the database goes away
            admin = await asyncpg.connect(
                make_url(pg_admin_url).set(drivername="postgresql").render_as_string(False)
            )
            try:
                await admin.execute(f'DROP DATABASE "{url.database}" WITH (FORCE)')
            finally:
                await admin.close()
            _, gone = await until_json(f"{base}/readyz", lambda s, _b: s == 503)
            assert gone["checks"]["database"].startswith("unreachable"), gone
            assert "database: " in gone["reason"]
            status, _ = await get_json(f"{base}/healthz")
            assert status == 200  # alive all the same: the loop answers
        finally:
            await stop_coach_run(process)
            await own.dispose()


ARTIST = "Zanzibar Moonfish"  # personal data: never at INFO


@pytest.mark.postgres_only
async def test_json_logs_of_a_running_coach(database: Database, tmp_path: Path) -> None:
    """LOG_FORMAT=json: every line is a JSON object; a line logged while an update is handled
    carries its platform, update id and hashed person; no message text, name or platform id
    of the musician at INFO."""
    link_secret = "a-deployment-secret-0123456789"
    async with FakeTelegram() as tg:
        env = {
            "TELEGRAM_BOT_TOKEN": tg.token,
            "TELEGRAM_API_BASE_URL": tg.url,
            "LOG_FORMAT": "json",
            "COACH_LINK_SECRET": link_secret,
        }
        process = await start_coach_run(database, tmp_path, env=env)
        try:
            for text in ("/start", ARTIST):
                before = len(tg.messages(MAYA))
                tg.user_message(MAYA, text)
                await tg.wait_for(lambda b=before: len(tg.messages(MAYA)) > b, timeout=30)
            # the reply to this update is refused: the front end logs it inside the event
            tg.fail_next("sendMessage", status=403, description="Forbidden: bot was blocked")
            update = tg.user_message(MAYA, "/help")
            await tg.wait_for(lambda: bool(tg.calls_of("sendMessage")), timeout=5)
            await asyncio.sleep(0.5)
        finally:
            log = await stop_coach_run(process)
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]  # each one JSON
    assert lines
    refused = [line for line in lines if "refused a send" in line["message"]]
    assert refused, log[-3000:]
    (line,) = refused
    assert line["platform"] == "telegram"
    assert line["event_id"] == str(update["update_id"])
    log_context.use_key(link_secret)
    try:
        assert line["person"] == log_context.person_hash("telegram", str(MAYA))
    finally:
        log_context.use_key(None)
    for line in lines:
        if line["level"] in {"DEBUG"}:
            continue
        text = json.dumps(line)
        assert ARTIST not in text, line
        assert str(MAYA) not in text, line
