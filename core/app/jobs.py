"""Which periodic jobs a ``coach`` process runs: one runner, registered here, from settings.

The machinery is :mod:`core.jobs.runner` (it imports no feature); this module knows the
features' jobs and the settings that switch them:

=====================  ===================================  ==================================
job                    when                                 switched by
=====================  ===================================  ==================================
``reminder-tick``      at once, then every                  ``REMINDERS_ENABLED``
                       ``REMINDER_TICK_SECONDS``
``housekeeping``       a minute after start, then every     ``RETENTION_ENABLED`` (and
                       ``RETENTION_INTERVAL_MINUTES``       ``REMINDERS_ENABLED``, as before)
``milestones``         at once, then every                  ``MILESTONES_ENABLED`` (and
                       ``MILESTONES_TICK_SECONDS``          ``REMINDERS_ENABLED``)
``broadcasts``         at once, then a look every 2 s       ``broadcasts=True``: ``coach run``
=====================  ===================================  ==================================

``coach chat`` runs the first three (its notifier is the terminal, which no broadcast reaches);
``coach run`` all four, with its front ends' notifiers. The milestone consumer goes with the
reminder tick: it writes to musicians through the same notifiers, and a process that sends no
nudges (``REMINDERS_ENABLED=false``, e.g. a worker kept for events only) sends no celebrations.
Every job gets the process's one clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping

from core.admin.broadcast import BroadcastSender
from core.clock import Clock
from core.coaching.milestones.consumer import from_settings as milestone_consumer
from core.db.engine import Database
from core.housekeeping import Housekeeping
from core.jobs.runner import JobRunner, Sleep
from core.kernel.notify import Notifier
from core.reminders.worker import from_settings as reminder_worker
from core.roadmaps.catalog import CatalogCache
from core.settings import Settings


def background_jobs(
    db: Database,
    notifiers: Mapping[str, Notifier],
    settings: Settings,
    *,
    clock: Clock,
    catalog: CatalogCache | None = None,
    broadcasts: bool,
    sleep: Sleep = asyncio.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> JobRunner:
    """The runner of this process's periodic jobs (not started yet)."""
    runner = JobRunner(clock=clock, sleep=sleep, monotonic=monotonic)
    if settings.reminders_enabled:  # this process sends its platforms' nudges
        runner.add(reminder_worker(db, notifiers, settings, clock=clock, catalog=catalog).job())
        chores = Housekeeping.from_settings(db, settings, clock=clock)
        if chores is not None:
            runner.add(chores.job())
        if settings.milestones_enabled:  # the outbox's consumer (core/coaching/milestones)
            runner.add(
                milestone_consumer(db, notifiers, settings, clock=clock, catalog=catalog).job()
            )
    if broadcasts:  # sent in the background, resumed after a restart (core/admin/broadcast.py)
        runner.add(BroadcastSender(db, notifiers, clock=clock).job())
    return runner
