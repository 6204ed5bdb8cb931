"""The figures the core counts, in Prometheus form (``prometheus-client``), one registry per
process.

**The hot path stays cheap.** An event costs two dictionary look-ups (the labelled children
are cached by label values, so no ``labels()`` call — which takes a lock and builds a tuple —
runs per event), one counter increment and one histogram observation. Figures that already
exist elsewhere (the front ends' failure counters, the send scheduler's grants, the job
runner's runs, the database pools) are not counted twice: a collector reads them when
Prometheus scrapes (``bot/watch.py``).

**Own registry, not the global one.** Each :class:`CoachMetrics` has its own
:class:`~prometheus_client.CollectorRegistry`, so two coaches in one test process never share
a counter, and a test reads exactly the figures of the coach it started.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

#: Latency buckets of one event's handling, in seconds: most take milliseconds; a chart or a
#: lock wait may take seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

#: The exposition's content type (``text/plain; version=0.0.4``).
CONTENT_TYPE = CONTENT_TYPE_LATEST


class CoachMetrics:
    """This process's figures: events, their latency and failures, and what each job run did."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._events = Counter(
            "coach_events",
            "Inbound events handled, by platform and kind (command, text, button).",
            ["platform", "kind"],
            registry=self.registry,
        )
        self._latency = Histogram(
            "coach_handler_seconds",
            "Time from an event entering the core to its replies being ready.",
            ["platform"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._errors = Counter(
            "coach_errors",
            "Events whose handling failed (answered with an apology), by platform.",
            ["platform"],
            registry=self.registry,
        )
        self._job_items = Counter(
            "coach_job_items",
            "What periodic job runs did, summed over runs: the reminder tick's claimed (due), "
            "sent, blocked, failed, skipped and rescheduled nudges (weekly reviews included), "
            "the milestone consumer's counts, the broadcast sender's handled rows.",
            ["job", "outcome"],
            registry=self.registry,
        )
        self._event_children: dict[tuple[str, str], Any] = {}
        self._latency_children: dict[str, Any] = {}
        self._error_children: dict[str, Any] = {}
        self._job_children: dict[tuple[str, str], Any] = {}

    def event(self, platform: str, kind: str, seconds: float) -> None:
        """One event handled (whatever the outcome) in ``seconds``."""
        key = (platform, kind)
        counter = self._event_children.get(key)
        if counter is None:
            counter = self._event_children[key] = self._events.labels(platform, kind)
        counter.inc()
        histogram = self._latency_children.get(platform)
        if histogram is None:
            histogram = self._latency_children[platform] = self._latency.labels(platform)
        histogram.observe(seconds)

    def error(self, platform: str) -> None:
        """One event's handling failed (the person got the apology)."""
        counter = self._error_children.get(platform)
        if counter is None:
            counter = self._error_children[platform] = self._errors.labels(platform)
        counter.inc()

    def job_result(self, job: str, result: object) -> None:
        """Add what one run of ``job`` returned: every ``int`` field of a dataclass report
        (``TickReport``: claimed, sent, failed, ...) or a plain count (``handled``)."""
        if isinstance(result, bool):
            return
        if isinstance(result, int):
            self._job_count(job, "handled", result)
        elif dataclasses.is_dataclass(result) and not isinstance(result, type):
            for item in dataclasses.fields(result):
                value = getattr(result, item.name)
                if isinstance(value, int) and not isinstance(value, bool):
                    self._job_count(job, item.name, value)

    def _job_count(self, job: str, outcome: str, value: int) -> None:
        key = (job, outcome)
        counter = self._job_children.get(key)
        if counter is None:
            counter = self._job_children[key] = self._job_items.labels(job, outcome)
        if value > 0:
            counter.inc(value)

    def add_collector(self, collector: Collector) -> None:
        """Figures read at scrape time from their owner (a front end, the job runner)."""
        self.registry.register(collector)

    def render(self) -> bytes:
        """Every figure in Prometheus' text format."""
        return generate_latest(self.registry)
