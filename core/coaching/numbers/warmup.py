"""The ``/stats`` chart redrawn in the background right after a profile's numbers changed.

The usual ``/stats`` follows a new number (``/update listeners 1400``, an answer, a check-in —
all through :func:`core.journey.samples.record_sample`) or a new goal. Drawing its chart then,
in the background, means that ``/stats`` finds it ready in ``stats_charts`` and only reads it
(:mod:`core.coaching.numbers.drawing`): no musician waits for matplotlib in the usual case.

:class:`~core.app.engine.Coach` asks :meth:`ChartWarmer.warm` after an event's transaction
committed, when the event changed what the chart shows (the profile's ``current_stats`` or its
name): the warm-up reads committed rows only. The queue is :class:`~core.jobs.coalesce.
Coalescing`: one redraw per profile however many numbers arrive meanwhile, at most
:data:`WARM_QUEUE` profiles waiting (past that a warm-up is dropped: harmless, ``/stats`` draws
on a miss), as many at once as the offload has workers. Each warm-up:

1. reads the profile's numbers, name and samples in a short transaction of its own;
2. stops if the stored chart already shows exactly that (a ``/stats`` drew it meanwhile);
3. draws it (``offload``: a worker process in ``coach run``) with no transaction open;
4. stores it (an upsert). A warm-up that loses a race with a newer one can store an older
   chart; its digest then differs from what ``/stats`` computes, so ``/stats`` draws again —
   a miss, never a wrong picture.

``now`` (for the pace window) comes from the injected clock.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.exc import IntegrityError

from core.clock import Clock
from core.coaching.numbers.drawing import STATS_SAMPLES, chart_for, numbers_in, series_of
from core.coaching.numbers.store import chart_is_stored, shown_of
from core.db.engine import Database
from core.jobs.coalesce import Coalescing
from core.kernel import store
from core.kernel.offload import Offload
from core.progress.charts import draw

logger = logging.getLogger(__name__)

#: Most profiles waiting for a warm-up (a burst past it is dropped: ``/stats`` draws on a miss).
WARM_QUEUE = 64


class ChartWarmer:
    """Redraws profiles' ``/stats`` charts in the background (see the module docstring).

    Args:
        db: Where the profiles, samples and stored charts are.
        clock: The process's one clock.
        offload: Where charts are drawn (its ``workers`` is how many warm-ups run at once).
        capacity: Most profiles waiting.
    """

    def __init__(
        self, db: Database, *, clock: Clock, offload: Offload, capacity: int = WARM_QUEUE
    ) -> None:
        self.db = db
        self._clock = clock
        self.offload = offload
        self.queue: Coalescing[uuid.UUID] = Coalescing(
            self.redraw, name="chart warm-up", capacity=capacity, concurrency=offload.workers
        )
        #: Charts drawn and stored by warm-ups; warm-ups that found theirs stored already.
        self.drawn = 0
        self.fresh = 0

    def warm(self, profile_id: uuid.UUID) -> bool:
        """Redraw the profile's chart soon; ``False`` when the request was dropped."""
        return self.queue.ask(profile_id)

    async def idle(self) -> None:
        """Wait until no warm-up waits or runs."""
        await self.queue.idle()

    async def close(self) -> None:
        """Drop the waiting warm-ups and cancel the running ones."""
        await self.queue.close()

    async def redraw(self, profile_id: uuid.UUID) -> None:
        """One warm-up: read, compare, draw, store (see the module docstring)."""
        now = self._clock()
        async with self.db.unit_of_work() as ex:
            shown = await shown_of(ex, profile_id)
            if shown is None:
                return  # forgotten meanwhile
            rows = await store.recent_samples(
                ex, profile_id, STATS_SAMPLES, currency=shown.currency
            )
            chart = chart_for(
                numbers_in(shown.current_stats), series_of(rows), shown.artist_name, now
            )
            if chart is None:
                return
            key = chart.key
            if await chart_is_stored(ex, profile_id, key):
                self.fresh += 1
                return
        png = await self.offload.run(draw, chart)
        try:
            async with self.db.unit_of_work() as ex:
                await store.save_chart(ex, profile_id, key, png, now)
        except Exception as exc:
            if not _profile_gone(exc):
                raise
            logger.debug("chart of a deleted profile %s not stored", profile_id)
            return
        self.drawn += 1


def _profile_gone(exc: Exception) -> bool:
    """The profile was deleted (``/forget``) while its chart was drawn: its foreign key fails
    (SQLAlchemy's IntegrityError on SQLite, asyncpg's SQLSTATE 23503 on PostgreSQL)."""
    return isinstance(exc, IntegrityError) or getattr(exc, "sqlstate", None) == "23503"
