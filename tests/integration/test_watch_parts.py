"""The parts behind /readyz and /metrics (bot/watch.py, core/observe/metrics.py), one by one:
a job late past its bound, a database that does not answer, the coach's event counters, and
the endpoints on the Telegram webhook's own listener."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from coachkit import Driver, free_port, synced_coach
from fakes.telegram_api import FakeTelegram
from reminderkit import FakeClock
from watchkit import dashboard_queries, exposed_names, metric_names, sample

from bot.telegram.app import TelegramFrontEnd
from bot.telegram.webhook import TelegramWebhook
from bot.watch import Watch
from core.db.engine import Database
from core.jobs.runner import Job, JobRunner
from core.observe.metrics import CoachMetrics
from core.reminders.tick import TickReport


def _once_then_never() -> Any:
    """A runner's sleep: the first wait (the first run's delay) ends at once, later ones never."""
    calls = 0

    async def sleep(_seconds: float) -> None:
        nonlocal calls
        calls += 1
        if calls > 1:
            await asyncio.Event().wait()

    return sleep


async def test_a_job_late_past_its_bound_makes_the_process_unready(database: Database) -> None:
    clock = FakeClock()
    metrics = CoachMetrics()
    watch = Watch(database, metrics, [], clock=clock, job_lag_bound=120)
    assert (await watch.readiness())[1]["jobs"] == "not started"

    runner = JobRunner(clock=clock, sleep=_once_then_never())
    runner.add(Job("reminder-tick", _report, every=timedelta(seconds=1)))
    watch.attach(runner)
    await runner.start()
    try:
        for _ in range(100):  # the first run, at once
            if runner.runs["reminder-tick"]:
                break
            await asyncio.sleep(0.01)
        ready, checks = await watch.readiness()
        assert ready, checks
        assert checks == {"database": "ok", "job:reminder-tick": "ok"}
        # the tick's report is counted by outcome
        text = metrics.render().decode()
        assert sample(text, "coach_job_items_total", job="reminder-tick", outcome="claimed") == 3
        assert sample(text, "coach_job_items_total", job="reminder-tick", outcome="sent") == 2
        assert sample(text, "coach_job_items_total", job="reminder-tick", outcome="failed") == 1
        assert sample(text, "coach_job_runs_total", job="reminder-tick") == 1

        clock.advance(seconds=121)  # no run since: the runner's sleep never ends again
        ready, checks = await watch.readiness()
        assert not ready
        assert checks["job:reminder-tick"] == "no success for 121 s (bound 120 s)"
        text = metrics.render().decode()
        assert sample(text, "coach_job_lag_seconds", job="reminder-tick") == 121
    finally:
        await runner.stop(grace_seconds=0)


async def _report() -> TickReport:
    return TickReport(claimed=3, sent=2, failed=1)


async def test_a_database_that_does_not_answer_is_the_reason() -> None:
    nobody = Database(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/none")
    try:
        watch = Watch(nobody, CoachMetrics(), [], clock=FakeClock())
        ready, checks = await watch.readiness()
        assert not ready
        assert checks["database"].startswith("unreachable ("), checks
    finally:
        await nobody.dispose()


async def test_the_coach_counts_events_latency_and_failures(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    metrics = CoachMetrics()
    coach = await synced_coach(database, metrics=metrics)
    driver = Driver(coach)
    await driver.say("/start")
    await driver.say("Maya")
    text = metrics.render().decode()
    assert sample(text, "coach_events_total", platform="console", kind="command") == 1
    assert sample(text, "coach_events_total", platform="console", kind="text") == 1
    assert sample(text, "coach_handler_seconds_count", platform="console") == 2
    assert sample(text, "coach_errors_total", platform="console") == 0

    async def broken(_db: Database) -> None:
        raise RuntimeError("the catalog is gone")

    monkeypatch.setattr(coach.catalog, "current", broken)
    replies = await driver.say("/today")
    assert replies, "the person gets an apology"
    text = metrics.render().decode()
    assert sample(text, "coach_errors_total", platform="console") == 1
    assert sample(text, "coach_events_total", platform="console", kind="command") == 2
    # another coach's registry is its own
    assert "coach_events_total{" not in CoachMetrics().render().decode()


@pytest.mark.postgres_only
async def test_webhook_mode_serves_them_on_the_webhook_listener(database: Database) -> None:
    coach = await synced_coach(database)
    metrics = CoachMetrics()
    async with FakeTelegram() as fake, aiohttp.ClientSession() as http:
        front = TelegramFrontEnd(coach, fake.token, api_base_url=fake.url)
        watch = Watch(database, metrics, [], clock=coach.clock)
        webhook = TelegramWebhook(
            front, secret_token="s3cret-token", port=0, extra_routes=watch.add_routes
        )
        watch.fronts = [webhook]
        assert watch.fronts[0].down_reason() == "not started"  # type: ignore[attr-defined]
        await webhook.start(register=False)
        try:
            base = webhook.url.removesuffix("/telegram")
            async with http.get(f"{base}/healthz") as response:
                assert response.status == 200
            async with http.get(f"{base}/readyz") as response:
                body = json.loads(await response.text())
                assert body["checks"]["telegram"] == "ok"
                assert body["checks"]["jobs"] == "not started"
                assert response.status == 503
            async with http.get(f"{base}/metrics") as response:
                assert response.status == 200
                assert response.headers["Content-Type"].startswith("text/plain")
                text = await response.text()
            assert sample(text, "coach_frontend_up", platform="telegram") == 1
            assert sample(text, "coach_outbound_rate_limited_total", platform="telegram") == 0
            queried = dashboard_queries()
            assert len(queried) >= 15, queried  # the dashboard covers the figures
            assert not queried - exposed_names(text), queried - exposed_names(text)
            assert "coach_events_total" not in metric_names(text)  # declared, no sample yet
        finally:
            await webhook.stop()
