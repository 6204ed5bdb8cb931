"""The figures the core counts, in Prometheus form (``prometheus-client``), one registry per
process.

**The hot path stays cheap.** An event costs a few dictionary look-ups and integer additions:
plain counters on the event loop's one thread, no lock (``prometheus-client``'s own
``Counter`` and ``Histogram`` take a lock per increment, built for threads we don't have) and
no allocation beyond the label key. The counts become metric families only when Prometheus
scrapes (:meth:`CoachMetrics.collect`). Figures that already exist elsewhere (the front ends'
failure counters, the send scheduler's grants, the job runner's runs, the database pools)
are not counted twice: a collector reads them at scrape time too (``bot/watch.py``).

Counts are changed from the event loop's thread only (the coach, the job runner); a scrape
runs on that loop as well, so it never sees half an update.

**Own registry, not the global one.** Each :class:`CoachMetrics` has its own
:class:`~prometheus_client.CollectorRegistry`, so two coaches in one test process never share
a counter, and a test reads exactly the figures of the coach it started.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_left
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

#: Latency buckets of one event's handling, in seconds (upper bounds): most take
#: milliseconds; a chart or a lock wait may take seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

#: The exposition's content type (``text/plain; version=0.0.4``).
CONTENT_TYPE = CONTENT_TYPE_LATEST


class _Latency:
    """One platform's histogram: a count per bucket (the last is +Inf) and the sum."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(LATENCY_BUCKETS) + 1)
        self.total = 0.0


class CoachMetrics(Collector):
    """This process's figures: events, their latency and failures, and what each job run did."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.events: dict[tuple[str, str], int] = {}
        self.errors: dict[str, int] = {}
        self.job_items: dict[tuple[str, str], int] = {}
        self._latency: dict[str, _Latency] = {}
        self.registry.register(self)

    def event(self, platform: str, kind: str, seconds: float) -> None:
        """One event handled (whatever the outcome) in ``seconds``."""
        key = (platform, kind)
        self.events[key] = self.events.get(key, 0) + 1
        latency = self._latency.get(platform)
        if latency is None:
            latency = self._latency[platform] = _Latency()
        latency.counts[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        latency.total += seconds

    def error(self, platform: str) -> None:
        """One event's handling failed (the person got the apology)."""
        self.errors[platform] = self.errors.get(platform, 0) + 1

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
        self.job_items[key] = self.job_items.get(key, 0) + max(0, value)

    def collect(self) -> Iterator[Any]:
        """The counts as metric families (called by the registry at scrape time)."""
        events = CounterMetricFamily(
            "coach_events",
            "Inbound events handled, by platform and kind (command, text, button).",
            labels=["platform", "kind"],
        )
        for (platform, kind), n in sorted(self.events.items()):
            events.add_metric([platform, kind], n)
        latency = HistogramMetricFamily(
            "coach_handler_seconds",
            "Time from an event entering the core to its replies being ready.",
            labels=["platform"],
        )
        for platform, hist in sorted(self._latency.items()):
            cumulative, buckets = 0, []
            for bound, n in zip((*LATENCY_BUCKETS, float("inf")), hist.counts, strict=True):
                cumulative += n
                buckets.append(("+Inf" if bound == float("inf") else repr(bound), cumulative))
            latency.add_metric([platform], buckets, hist.total)
        errors = CounterMetricFamily(
            "coach_errors",
            "Events whose handling failed (answered with an apology), by platform.",
            labels=["platform"],
        )
        for platform, n in sorted(self.errors.items()):
            errors.add_metric([platform], n)
        items = CounterMetricFamily(
            "coach_job_items",
            "What periodic job runs did, summed over runs: the reminder tick's claimed (due), "
            "sent, blocked, failed, skipped and rescheduled nudges (weekly reviews included), "
            "the milestone consumer's counts, the broadcast sender's handled rows.",
            labels=["job", "outcome"],
        )
        for (job, outcome), n in sorted(self.job_items.items()):
            items.add_metric([job, outcome], n)
        yield from (events, latency, errors, items)

    def add_collector(self, collector: Collector) -> None:
        """Figures read at scrape time from their owner (a front end, the job runner)."""
        self.registry.register(collector)

    def render(self) -> bytes:
        """Every figure in Prometheus' text format."""
        return generate_latest(self.registry)
