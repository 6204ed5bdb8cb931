"""The reads behind a review: one profile's (``/review``) or a tick batch's, same shape.

``/review`` costs three statements: the roadmap's progress rows (the turn's own read, with
``completed_at``), the profile's samples of the last :data:`WINDOW` (by
``ix_stat_samples_profile_id``) and the streak's history (core/journey/streak.py). The profile
row came with the turn. A tick batch costs four for all of its review rows together —
profiles, progress, samples, the streaks' history — each ``profile_id = ANY(…)`` on PostgreSQL
(an expanding ``IN`` on SQLite), and none when it has no review row.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import ARRAY, Uuid, any_, bindparam, literal_column, select
from sqlalchemy.sql import ClauseElement

from core.coaching.review.compose import Inputs, Sample
from core.db.executor import Executor
from core.db.tables import cycle_tasks, profiles, progress, samples, users
from core.kernel.store import streak_histories
from core.kernel.turn import Turn
from core.progress.service import ProgressRecord
from core.progress.streaks import Streak, compute, week_zone
from core.roadmaps.catalog import Catalog

#: Samples this far back are read: the 90-day pace window of a goal, plus the week reviewed
#: and some room for the value before it. A number last recorded earlier than this shows as a
#: first number of the week (said so in docs/coaching.md).
WINDOW: Final = timedelta(days=120)

#: Earlier release cycles closed this recently are read: their tasks done in the reviewed
#: week still count (a review covers at most the 7 days before the day it is composed).
CLOSED_LATELY: Final = timedelta(days=8)

_CYCLE_COLUMNS = (cycle_tasks.c.profile_id, cycle_tasks.c.task_id, cycle_tasks.c.completed_at)
_CLOSED_WHERE = (
    cycle_tasks.c.status == literal_column("'completed'"),  # a literal: never a parameter
    cycle_tasks.c.closed_at >= bindparam("closed_since"),
)
_CYCLES_OF_ONE = select(*_CYCLE_COLUMNS).where(
    cycle_tasks.c.profile_id == bindparam("pid"), *_CLOSED_WHERE
)

_SAMPLE_COLUMNS = (samples.c.profile_id, samples.c.metric, samples.c.value, samples.c.recorded_at)
_SAMPLES_OF_ONE = select(*_SAMPLE_COLUMNS).where(
    samples.c.profile_id == bindparam("pid"),
    samples.c.recorded_at >= bindparam("since"),
    samples.c.recorded_at <= bindparam("now"),
)


def many(base: Any, key: Any, name: str = "pids") -> tuple[ClauseElement, ClauseElement]:
    """The PostgreSQL (``= ANY(array)``) and SQLite (expanding ``IN``) forms of one read
    (a band digest's extra reads take them too: core/coaching/digest/read.py)."""
    pg = base.where(key == any_(bindparam(name, type_=ARRAY(Uuid()))))
    lite = base.where(key.in_(bindparam(name, expanding=True)))
    return pg, lite


def pick(ex: Executor, pair: tuple[ClauseElement, ClauseElement]) -> ClauseElement:
    """The form of a :func:`many` read for ``ex``'s dialect."""
    return pair[0] if ex.dialect == "postgresql" else pair[1]


def _many(
    columns: Iterable[Any], key: Any, *where: Any, from_: Any = None
) -> tuple[ClauseElement, ClauseElement]:
    """:func:`many` over ``select(*columns).where(*where)`` (from ``from_`` when given)."""
    base = select(*columns).where(*where)
    if from_ is not None:
        base = base.select_from(from_)
    return many(base, key)


_PROFILES = _many(
    (
        profiles.c.id,
        profiles.c.current_stats,
        profiles.c.current_stage_id,
        profiles.c.anchors,
        profiles.c.roadmap_id,
        profiles.c.country,
        users.c.locale,  # the musician's, for the figures; a band's profile has no user
    ),
    profiles.c.id,
    from_=profiles.outerjoin(users, users.c.id == profiles.c.user_id),
)
_PROGRESS = _many(
    (
        progress.c.profile_id,
        progress.c.task_id,
        progress.c.status,
        progress.c.task_data,
        progress.c.completed_at,
        progress.c.completed_by,
    ),
    progress.c.profile_id,
)
_CYCLES = _many(_CYCLE_COLUMNS, cycle_tasks.c.profile_id, *_CLOSED_WHERE)
_SAMPLES = _many(
    _SAMPLE_COLUMNS,
    samples.c.profile_id,
    samples.c.recorded_at >= bindparam("since"),
    samples.c.recorded_at <= bindparam("now"),
)


def _sample(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


async def for_turn(turn: Turn, tz: tzinfo, *, streak: Streak | None = None) -> Inputs:
    """What ``/review`` composes from, for the turn's profile."""
    roadmap = turn.roadmap
    rows = await turn.roadmap_progress(roadmap) if roadmap is not None else {}
    found = await turn.ex.rows(
        _SAMPLES_OF_ONE, {"pid": turn.rec.profile_id, "since": turn.now - WINDOW, "now": turn.now}
    )
    closed: list[tuple[uuid.UUID, datetime]] = []
    if roadmap is not None and roadmap.cycle is not None:  # a repeating release: one read more
        past = await turn.ex.rows(
            _CYCLES_OF_ONE, {"pid": turn.rec.profile_id, "closed_since": turn.now - CLOSED_LATELY}
        )
        closed = [(task_id, at) for _pid, task_id, at in past if at is not None]
    return Inputs(
        closed_cycle_done=closed,
        roadmap=roadmap,
        rows=rows,
        anchors=turn.rec.anchors or {},
        current_stats=turn.rec.current_stats or {},
        current_stage_id=turn.rec.current_stage_id,
        metrics=turn.catalog.metrics,
        samples=[(metric, _sample(value), at) for _pid, metric, value, at in found],
        now=turn.now,
        tz=tz,
        streak=streak,
        locale=turn.reading.locale,
    )


async def for_profiles(
    ex: Executor,
    zones: Mapping[uuid.UUID, tzinfo],
    catalog: Catalog,
    now: datetime,
    *,
    bands: bool = False,
) -> dict[uuid.UUID, Inputs]:
    """What the tick composes from, for each profile of ``zones`` (profile → its timezone);
    ``bands``: they are bands' profiles (a band digest), whose streak weeks are UTC's."""
    pids = sorted(zones)
    if not pids:
        return {}
    params: dict[str, Any] = {"pids": pids}
    found = await ex.rows(pick(ex, _PROFILES), params)
    rows: dict[uuid.UUID, dict[uuid.UUID, ProgressRecord]] = {pid: {} for pid in pids}
    found_progress = await ex.rows(pick(ex, _PROGRESS), params)
    for pid, task_id, status, data, completed_at, completed_by in found_progress:
        rows[pid][task_id] = ProgressRecord(
            task_id=task_id,
            status=status,
            task_data=data or {},
            completed_by=completed_by,
            completed_at=completed_at,
            stored=True,
        )
    taken: dict[uuid.UUID, list[Sample]] = {pid: [] for pid in pids}
    window = {**params, "since": now - WINDOW, "now": now}
    for pid, metric, value, at in await ex.rows(pick(ex, _SAMPLES), window):
        taken[pid].append((metric, _sample(value), at))
    closed: dict[uuid.UUID, list[tuple[uuid.UUID, datetime]]] = {pid: [] for pid in pids}
    lately = {**params, "closed_since": now - CLOSED_LATELY}
    for pid, task_id, at in await ex.rows(pick(ex, _CYCLES), lately):
        if at is not None:
            closed[pid].append((task_id, at))
    histories = await streak_histories(ex, pids)
    out: dict[uuid.UUID, Inputs] = {}
    for pid, stats, stage_id, anchors, roadmap_id, country, locale in found:
        out[pid] = Inputs(
            roadmap=catalog.roadmap(roadmap_id, country),
            rows=rows[pid],
            closed_cycle_done=closed[pid],
            anchors=anchors or {},
            current_stats=stats or {},
            current_stage_id=stage_id,
            metrics=catalog.metrics,
            samples=taken[pid],
            now=now,
            tz=zones[pid],
            streak=compute(histories[pid], week_zone(str(zones[pid]), band=bands), now),
            locale=locale,
        )
    return out
