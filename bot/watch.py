"""``/healthz``, ``/readyz`` and ``/metrics`` of ``coach run``: how an operator watches it.

* ``/healthz`` — liveness: answered by the process's event loop itself, so a 200 means the
  loop turns (a blocked or dead loop answers nothing, and the supervisor restarts it).
* ``/readyz`` — readiness: the database answers ``SELECT 1`` within
  :data:`DATABASE_TIMEOUT` s, every configured front end receives its platform's updates
  (each front end's ``down_reason()``: Telegram polling works / the webhook listens, the
  Discord gateway is READY), and every job's last success is younger than its bound
  (``READY_JOB_LAG_SECONDS``, or three intervals for a job that runs less often). 200 or
  503, with each check's verdict as JSON, so a 503 says why.
* ``/metrics`` — Prometheus' text format, from the process's own registry
  (:class:`~core.observe.metrics.CoachMetrics`: events, latency, errors, job reports) plus
  what :class:`Figures` reads at scrape time from their owners: each front end's failure
  counter (429s among them) and send scheduler, the job runner, the database pools, and the
  open broadcasts' progress (one small query per scrape).

Where they are served: on their own listener when ``HEALTH_PORT`` is set (bound to
``HEALTH_LISTEN``, 127.0.0.1 by default — a metrics endpoint is not for the internet), else in
Telegram webhook mode on the webhook's listener, next to the webhook path. Polling without
``HEALTH_PORT``: not served.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

from aiohttp import web
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select, text

from bot.slots import SlotScheduler
from core.clock import Clock
from core.db.engine import Database
from core.db.models import Broadcast, Delivery
from core.jobs.runner import JobRunner
from core.kernel.frontend import FrontEnd
from core.observe.metrics import CONTENT_TYPE, CoachMetrics

logger = logging.getLogger(__name__)

#: Seconds the readiness check waits for the database.
DATABASE_TIMEOUT = 2.0
#: Seconds the scrape waits for the broadcast progress query (else the last figures stay).
BROADCAST_QUERY_TIMEOUT = 2.0


def _inner(front: FrontEnd) -> Any:
    """The front end that sends (the webhook wraps the Telegram front end)."""
    return getattr(front, "front", front)


def _scheduler(front: FrontEnd) -> SlotScheduler | None:
    inner = _inner(front)
    limiter = getattr(inner, "limiter", None)  # Telegram: every paced call
    slots = getattr(limiter, "slots", None) or getattr(inner, "notice_slots", None)  # Discord
    return slots if isinstance(slots, SlotScheduler) else None


def _rate_limited(front: FrontEnd, failures: Counter[str]) -> int:
    """429 answers: Discord's client counts every one it saw (discord.py retries them
    unseen); Telegram counts each as a ``rate_limited`` failure kind."""
    seen = getattr(_inner(front), "rate_limited", None)
    return seen if isinstance(seen, int) else failures.get("rate_limited", 0)


def _failures(front: FrontEnd) -> Counter[str]:
    """Failed sends by kind: Telegram counts them by kind, Discord in one number."""
    inner = _inner(front)
    found = getattr(inner, "failures", None)
    if isinstance(found, Counter):
        return found
    failed = getattr(inner, "failed_sends", None)
    return Counter({"failed": failed} if isinstance(failed, int) and failed else {})


def down_reason(front: FrontEnd) -> str | None:
    """The front end's own word on whether it receives its platform's updates."""
    check = getattr(front, "down_reason", None)
    return check() if callable(check) else None


class Figures(Collector):
    """What already exists elsewhere, read when Prometheus scrapes (never counted twice)."""

    def __init__(self, watch: Watch) -> None:
        self.watch = watch

    def collect(self) -> Iterator[Any]:
        yield from self._front_ends()
        yield from self._jobs()
        pools = GaugeMetricFamily(
            "coach_db_connections_in_use",
            "Database connections checked out now, per pool (sqlalchemy; hot = the chat "
            "hot path's asyncpg pool on PostgreSQL).",
            labels=["pool"],
        )
        for pool, used in self.watch.db.connections_in_use().items():
            pools.add_metric([pool], used)
        yield pools
        progress = GaugeMetricFamily(
            "coach_broadcast_deliveries",
            "Delivery rows of the broadcasts being sent, by status (pending, sending, sent, "
            "skipped, failed): the progress of open broadcasts.",
            labels=["status"],
        )
        for status, rows in sorted(self.watch.broadcast_rows.items()):
            progress.add_metric([status], rows)
        yield progress

    def _front_ends(self) -> Iterator[Any]:
        up = GaugeMetricFamily(
            "coach_frontend_up", "1 while the front end receives updates.", labels=["platform"]
        )
        failures = CounterMetricFamily(
            "coach_outbound_failures",
            "Failed outbound sends by platform and kind (forbidden, network, rate_limited, "
            "gave_up, ...), as the front end counts them.",
            labels=["platform", "kind"],
        )
        limited = CounterMetricFamily(
            "coach_outbound_rate_limited",
            "429 Too Many Requests answers by platform.",
            labels=["platform"],
        )
        sends = CounterMetricFamily(
            "coach_outbound_sends",
            "Send slots granted by the platform's scheduler, by priority (reply, nudge, "
            "broadcast; Discord paces its notices only).",
            labels=["platform", "priority"],
        )
        expired = CounterMetricFamily(
            "coach_outbound_expired",
            "Sends that got no slot within their wait and failed (retried by their owner).",
            labels=["platform", "priority"],
        )
        for front in self.watch.fronts:
            platform = front.platform
            up.add_metric([platform], 0 if down_reason(front) else 1)
            counted = _failures(front)
            for kind, n in sorted(counted.items()):
                failures.add_metric([platform, kind], n)
            limited.add_metric([platform], _rate_limited(front, counted))
            slots = _scheduler(front)
            if slots is not None:
                for priority, n in sorted(slots.granted.items()):
                    sends.add_metric([platform, priority.name.lower()], n)
                for priority, n in sorted(slots.expired.items()):
                    expired.add_metric([platform, priority.name.lower()], n)
        yield from (up, failures, limited, sends, expired)

    def _jobs(self) -> Iterator[Any]:
        runs = CounterMetricFamily("coach_job_runs", "Runs per periodic job.", labels=["job"])
        failed = CounterMetricFamily(
            "coach_job_failures", "Failed runs per periodic job.", labels=["job"]
        )
        skipped = CounterMetricFamily(
            "coach_job_skipped",
            "Runs skipped because the previous one was still going.",
            labels=["job"],
        )
        lag = GaugeMetricFamily(
            "coach_job_lag_seconds",
            "Seconds since the job last succeeded (since the runner started, before that).",
            labels=["job"],
        )
        jobs = self.watch.jobs
        if jobs is not None:
            for name in jobs.jobs:
                runs.add_metric([name], jobs.runs[name])
                failed.add_metric([name], jobs.failures[name])
                skipped.add_metric([name], jobs.skipped[name])
                seconds = self.watch.job_lag(name)
                if seconds is not None:
                    lag.add_metric([name], seconds)
        yield from (runs, failed, skipped, lag)


class Watch:
    """The three endpoints of one ``coach run`` process (see the module docstring).

    Args:
        db: The process's database (pinged by ``/readyz``, its pools read by ``/metrics``).
        metrics: The process's registry (the coach counts events into it).
        fronts: The configured front ends.
        clock: The process's one clock (the job runner stamps successes with it).
        job_lag_bound: Seconds since a job's last success after which the process is not
            ready (a job that runs less often gets three of its intervals).
    """

    def __init__(
        self,
        db: Database,
        metrics: CoachMetrics,
        fronts: Sequence[FrontEnd],
        *,
        clock: Clock,
        job_lag_bound: float = 120.0,
        database_timeout: float = DATABASE_TIMEOUT,
    ) -> None:
        self.db = db
        self.metrics = metrics
        self.fronts = list(fronts)
        self.clock = clock
        self.job_lag_bound = job_lag_bound
        self.database_timeout = database_timeout
        #: Set once the job runner exists (it is built after the front ends start).
        self.jobs: JobRunner | None = None
        #: The open broadcasts' delivery rows by status, as of the last scrape.
        self.broadcast_rows: dict[str, int] = {}
        self._runner: web.AppRunner | None = None
        self._bound: tuple[str, int] | None = None
        metrics.add_collector(Figures(self))

    def attach(self, jobs: JobRunner) -> None:
        """Watch ``jobs`` too: lag on ``/readyz``, runs on ``/metrics``, reports counted."""
        self.jobs = jobs
        jobs.on_result = self.metrics.job_result

    # ------------------------------------------------------------------ checks

    def job_lag(self, name: str) -> float | None:
        """Seconds since ``name`` last succeeded (or since the runner started)."""
        jobs = self.jobs
        if jobs is None:
            return None
        since = jobs.last_success.get(name, jobs.started_at)
        if since is None:
            return None
        return max(0.0, (self.clock() - since).total_seconds())

    def _job_bound(self, name: str) -> float:
        assert self.jobs is not None  # noqa: S101 - only called with jobs attached
        job = self.jobs.jobs[name]
        slowest = 3 * job.every + job.first_after
        return max(self.job_lag_bound, slowest / timedelta(seconds=1))

    async def _database(self) -> str | None:
        async def ping() -> None:
            async with self.db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))

        try:
            await asyncio.wait_for(ping(), self.database_timeout)
        except TimeoutError:
            return f"no answer within {self.database_timeout:g} s"
        except Exception as exc:  # any failure is the answer: not ready, and why
            return f"unreachable ({type(exc).__name__})"
        return None

    async def readiness(self) -> tuple[bool, dict[str, str]]:
        """Every check's verdict (``"ok"`` or why not) and whether all passed."""
        checks: dict[str, str] = {"database": await self._database() or "ok"}
        for front in self.fronts:
            checks[front.platform] = down_reason(front) or "ok"
        if self.jobs is None:
            checks["jobs"] = "not started"
        else:
            for name in self.jobs.jobs:
                lag = self.job_lag(name)
                bound = self._job_bound(name)
                late = lag is not None and lag > bound
                checks[f"job:{name}"] = (
                    f"no success for {lag:.0f} s (bound {bound:.0f} s)" if late else "ok"
                )
        return all(v == "ok" for v in checks.values()), checks

    async def _refresh_broadcasts(self) -> None:
        async def query() -> dict[str, int]:
            stmt = (
                select(Delivery.status, func.count())
                .join(Broadcast, Broadcast.id == Delivery.broadcast_id)
                .where(Broadcast.status == "sending")
                .group_by(Delivery.status)
            )
            async with self.db.engine.connect() as conn:
                return {str(s): int(n) for s, n in (await conn.execute(stmt)).all()}

        try:
            self.broadcast_rows = await asyncio.wait_for(query(), BROADCAST_QUERY_TIMEOUT)
        except Exception as exc:  # the figures stay as they were; the scrape still answers
            logger.debug("metrics: broadcast progress not read (%s)", type(exc).__name__)

    # ------------------------------------------------------------------ HTTP

    async def _healthz(self, _request: web.Request) -> web.Response:
        return _json(200, {"status": "ok"})

    async def _readyz(self, _request: web.Request) -> web.Response:
        ready, checks = await self.readiness()
        failing = [f"{name}: {verdict}" for name, verdict in checks.items() if verdict != "ok"]
        body = {"status": "ready" if ready else "unavailable", "checks": checks}
        if failing:
            body["reason"] = "; ".join(failing)
        return _json(200 if ready else 503, body)

    async def _metrics(self, _request: web.Request) -> web.Response:
        await self._refresh_broadcasts()
        return web.Response(body=self.metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    def add_routes(self, app: web.Application) -> None:
        """Serve the three endpoints on ``app`` (the Telegram webhook's listener)."""
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)

    async def serve(self, listen: str, port: int) -> None:
        """Serve them on a listener of their own (``HEALTH_PORT``; 0 picks a free port)."""
        app = web.Application()
        self.add_routes(app)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, listen, port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._bound = (listen, int(runner.addresses[0][1]))
        logger.info("health and metrics on %s", self.url)

    @property
    def url(self) -> str:
        """``http://listen:port`` of the own listener."""
        if self._bound is None:
            raise RuntimeError("the health listener is not running")
        host, port = self._bound
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    async def close(self) -> None:
        """Stop the own listener (if any)."""
        runner, self._runner, self._bound = self._runner, None, None
        if runner is not None:
            await runner.cleanup()


def _json(status: int, body: dict[str, Any]) -> web.Response:
    return web.Response(
        status=status, text=json.dumps(body, sort_keys=True), content_type="application/json"
    )
