"""Every SQL statement the conversation engine runs, in one place, on SQLAlchemy Core.

The engine is the hot path (one transaction per chat event), so it does not use the ORM's unit
of work: the benchmark showed ORM loading, flushing and per-event statement building costing
most of the time per event. Instead the statements are built once at import time with
``bindparam``s (SQLAlchemy caches their compiled form), run on an ``AsyncConnection``, and their
rows land in small dataclasses. Writes are explicit and only happen when something changed.

The ORM models in :mod:`core.db.models` stay the schema's single source of truth: every
statement here is built from their tables.

The turn itself does not call these functions: it talks to a :class:`TurnStore`, the turn's
persistence as a protocol, and :class:`SqlTurnStore` is the one that runs them on an
:class:`~core.db.executor.Executor`. That seam is what lets a flow be unit-tested without a
database (an in-memory store, ``tests/support/memory.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal, Protocol

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    CompoundSelect,
    Date,
    Table,
    Uuid,
    any_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal_column,
    null,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.db.base import JSONType, UTCDateTime
from core.db.executor import Executor
from core.db.tables import (
    cycle_tasks,
    events,
    goals,
    identities,
    profiles,
    progress,
    samples,
    states,
    stats_charts,
    streak_freezes,
    tasks,
    users,
)
from core.db.tables import (
    processed_updates as processed,
)
from core.progress.parsing.currencies import is_code
from core.progress.service import ProgressRecord
from core.progress.streaks import Freeze, History

#: Which progress rows :meth:`TurnStore.load_progress` reads: a stage's, a roadmap's or a task's.
Scope = Literal["stage", "roadmap", "task"]


@dataclass(slots=True)
class TurnRecord:
    """The musician's user, profile and conversation state rows, as read under the lock."""

    user_id: uuid.UUID
    timezone: str
    user_last_active_at: datetime | None
    profile_id: uuid.UUID
    artist_name: str | None
    current_stats: dict[str, Any]
    roadmap_id: uuid.UUID | None
    current_stage_id: uuid.UUID | None
    last_activity_at: datetime | None
    awaiting: str | None
    state_task_id: uuid.UUID | None
    state_data: dict[str, Any]
    undo: dict[str, Any] | None
    #: The profile's anchor dates by name (``{"release": "2027-03-05"}``): the plan's origin.
    anchors: dict[str, Any] = field(default_factory=dict)
    #: The ISO currency the profile's money is counted in (``None``: not settled yet).
    currency: str | None = None
    #: The acting user's language as a platform last reported it at sign-up (``users.locale``):
    #: the locale of an event that carries none (a Discord DM).
    locale: str | None = None
    #: The profile's ISO 3166-1 alpha-2 country (``ZZ``: elsewhere; ``None``: not settled
    #: yet) — which country's tax and funding advice it sees (core/journey/country.py).
    country: str | None = None


@dataclass(slots=True)
class GoalRecord:
    """One ``goals`` row: a target for one metric of the profile by a date (issue #13).

    The turn's profile row carries a summary of it (``current_stats[metric]["goal"]``), so the
    answer path knows a goal exists without reading this table; this row is read by ``/goal``
    and ``/stats`` and written when a goal is set, removed or met.
    """

    metric: str
    target: Decimal
    due_on: date
    baseline: Decimal | None = None
    set_by: uuid.UUID | None = None
    set_at: datetime | None = None
    met_at: datetime | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True, slots=True)
class CycleRecord:
    """One ``cycle_tasks`` row: a task's progress in an earlier, closed cycle (release 1 …)."""

    task_id: uuid.UUID
    cycle: int
    status: str
    task_data: dict[str, Any]
    completed_at: datetime | None
    closed_at: datetime


# ---------------------------------------------------------------------------------- statements

_DEDUPE = text(
    "INSERT INTO processed_updates (platform, update_id, processed_at) "
    "VALUES (:platform, :update_id, :processed_at) "
    "ON CONFLICT DO NOTHING RETURNING update_id"
).bindparams(bindparam("processed_at", type_=UTCDateTime()))

#: The columns a :class:`TurnRecord` is read from, in its field order (the band's turn reads
#: the same: core/bands/store.py).
TURN_COLUMNS = (
    users.c.id,
    users.c.timezone,
    users.c.last_active_at,
    profiles.c.id,
    profiles.c.artist_name,
    profiles.c.current_stats,
    profiles.c.roadmap_id,
    profiles.c.current_stage_id,
    profiles.c.last_activity_at,
    states.c.awaiting,
    states.c.task_id,
    states.c.data,
    states.c.undo,
    profiles.c.anchors,
    profiles.c.currency,
    users.c.locale,
    profiles.c.country,
)
_TURN = (
    select(*TURN_COLUMNS)
    .select_from(identities)
    .join(users, users.c.id == identities.c.user_id)
    .join(profiles, profiles.c.user_id == users.c.id)
    .join(states, states.c.profile_id == profiles.c.id)
    .where(
        identities.c.platform == bindparam("platform"),
        identities.c.external_id == bindparam("external_id"),
    )
    # Both rows are locked, not just the profile: under READ COMMITTED a waiting transaction
    # re-reads only the rows it locks, so an unlocked conversation_state row could come back
    # as it was before the transaction we waited for (a lost state update).
    .with_for_update(of=[profiles, states])
)

_PROGRESS_COLUMNS = (
    progress.c.id,
    progress.c.task_id,
    progress.c.status,
    progress.c.task_data,
    progress.c.completed_by,
    progress.c.completed_at,
)
# Three shapes instead of one ``task_id IN (…)``: an expanding IN is re-rendered on every run,
# while these compile once and stay cached.
_PROGRESS_OF_STAGE = (
    select(*_PROGRESS_COLUMNS)
    .join(tasks, tasks.c.id == progress.c.task_id)
    .where(progress.c.profile_id == bindparam("profile_id"), tasks.c.stage_id == bindparam("key"))
)
_PROGRESS_OF_ROADMAP = (
    select(*_PROGRESS_COLUMNS)
    .join(tasks, tasks.c.id == progress.c.task_id)
    .where(progress.c.profile_id == bindparam("profile_id"), tasks.c.roadmap_id == bindparam("key"))
)
_PROGRESS_OF_TASK = select(*_PROGRESS_COLUMNS).where(
    progress.c.profile_id == bindparam("profile_id"), progress.c.task_id == bindparam("key")
)
# PostgreSQL: the replay check and the locking read in ONE round trip. The replay check is a
# data-modifying CTE whose row count says whether the update id is new.
_FRESH = (
    pg_insert(processed)
    .values(
        platform=bindparam("platform"),
        update_id=bindparam("update_id"),
        processed_at=bindparam("processed_at"),
    )
    .on_conflict_do_nothing()
    .returning(processed.c.update_id)
    .cte("fresh")
)
_TURN_PG_DEDUPE = _TURN.add_columns(select(func.count()).select_from(_FRESH).scalar_subquery())

_PROGRESS_BY_SCOPE = {
    "stage": _PROGRESS_OF_STAGE,
    "roadmap": _PROGRESS_OF_ROADMAP,
    "task": _PROGRESS_OF_TASK,
}

_INSERT_PROGRESS = insert(progress)
_CYCLES_OF_ROADMAP = (
    select(
        cycle_tasks.c.task_id,
        cycle_tasks.c.cycle,
        cycle_tasks.c.status,
        cycle_tasks.c.task_data,
        cycle_tasks.c.completed_at,
        cycle_tasks.c.closed_at,
    )
    .join(tasks, tasks.c.id == cycle_tasks.c.task_id)
    .where(
        cycle_tasks.c.profile_id == bindparam("profile_id"),
        tasks.c.roadmap_id == bindparam("roadmap_id"),
    )
    .order_by(cycle_tasks.c.cycle)
)
_INSERT_CYCLE_TASK = insert(cycle_tasks)
# UPDATEs set the columns named in their parameters (SQLAlchemy's rule for a statement without
# ``.values()``), so one statement serves every combination of changed columns.
_UPDATE_PROGRESS = update(progress).where(progress.c.id == bindparam("row_id"))
_DELETE_PROGRESS = delete(progress).where(progress.c.id == bindparam("row_id"))
_UPDATE_STATE = update(states).where(states.c.profile_id == bindparam("pid"))
_UPDATE_PROFILE = update(profiles).where(profiles.c.id == bindparam("pid"))
_UPDATE_USER = update(users).where(users.c.id == bindparam("uid"))
_INSERT_EVENT = insert(events)
_INSERT_SAMPLE = insert(samples)
_DELETE_SAMPLE = delete(samples).where(samples.c.id == bindparam("sample_id"))


def _bound(table: Table, prefix: str, *names: str) -> dict[str, Any]:
    """``column=bindparam(prefix + column)`` for a statement that writes two tables at once
    (their parameters must not share names)."""
    return {name: bindparam(prefix + name, type_=table.c[name].type) for name in names}


_PROGRESS_VALUES = ("status", "task_data", "completed_by", "completed_at", "updated_at")
_STATE_VALUES = _bound(states, "s_", "awaiting", "task_id", "data", "undo", "updated_at")
# PostgreSQL: a progress write and the conversation-state write in one statement, the progress
# write as a data-modifying CTE (a tick or an answer is exactly these two writes).
_UPDATE_PROGRESS_AND_STATE = (
    update(states)
    .where(states.c.profile_id == bindparam("s_profile_id"))
    .values(**_STATE_VALUES)
    .add_cte(
        update(progress)
        .where(progress.c.id == bindparam("p_id"))
        .values(**_bound(progress, "p_", *_PROGRESS_VALUES))
        .returning(progress.c.id)
        .cte("progress_write")
    )
)
_INSERT_PROGRESS_AND_STATE = (
    update(states)
    .where(states.c.profile_id == bindparam("s_profile_id"))
    .values(**_STATE_VALUES)
    .add_cte(
        insert(progress)
        .values(**_bound(progress, "p_", "id", "profile_id", "task_id", *_PROGRESS_VALUES))
        .returning(progress.c.id)
        .cte("progress_write")
    )
)

_SAMPLES = (
    select(samples.c.metric, samples.c.value, samples.c.recorded_at, samples.c.unit)
    .where(samples.c.profile_id == bindparam("profile_id"))
    .order_by(samples.c.recorded_at.desc())
    .limit(bindparam("limit"))
)

_METRIC_SAMPLES = (
    select(samples.c.recorded_at, samples.c.value, samples.c.unit)
    .where(samples.c.profile_id == bindparam("profile_id"), samples.c.metric == bindparam("metric"))
    .order_by(samples.c.recorded_at.desc())
    .limit(bindparam("limit"))
)
_GOAL_COLUMNS = (
    goals.c.metric,
    goals.c.target,
    goals.c.due_on,
    goals.c.baseline,
    goals.c.set_by,
    goals.c.set_at,
    goals.c.met_at,
    goals.c.id,
)
_GOALS = (
    select(*_GOAL_COLUMNS)
    .where(goals.c.profile_id == bindparam("profile_id"))
    .order_by(goals.c.metric)
)
_INSERT_GOAL = insert(goals)
_DELETE_GOAL = (
    delete(goals)
    .where(goals.c.profile_id == bindparam("profile_id"), goals.c.metric == bindparam("metric"))
    .returning(goals.c.id)
)
# Only the first sample that reaches the target sets ``met_at``: the celebration is sent once.
_GOAL_MET = (
    update(goals)
    .where(
        goals.c.profile_id == bindparam("pid"),
        goals.c.metric == bindparam("goal_metric"),
        goals.c.met_at.is_(None),
    )
    .values(met_at=bindparam("when_met"))
    .returning(goals.c.id)
)

# The stored /stats chart: read only when its digest matches (a stale one is never sent, and
# its bytes never leave the database); written as one upsert on either backend.
_CHART = select(stats_charts.c.png).where(
    stats_charts.c.profile_id == bindparam("profile_id"),
    stats_charts.c.digest == bindparam("digest"),
)
_CHART_VALUES = ("digest", "png", "drawn_at")
_PG_SAVE_CHART = pg_insert(stats_charts)
_PG_SAVE_CHART = _PG_SAVE_CHART.on_conflict_do_update(
    index_elements=[stats_charts.c.profile_id],
    set_={name: _PG_SAVE_CHART.excluded[name] for name in _CHART_VALUES},
)
_SQLITE_SAVE_CHART = sqlite_insert(stats_charts)
_SQLITE_SAVE_CHART = _SQLITE_SAVE_CHART.on_conflict_do_update(
    index_elements=[stats_charts.c.profile_id],
    set_={name: _SQLITE_SAVE_CHART.excluded[name] for name in _CHART_VALUES},
)


# ---------------------------------------------------------------------------------- reads


async def first_time(ex: Executor, platform: str, update_id: str, now: datetime) -> bool:
    """Record a platform update id; False when it was recorded before (a replay)."""
    rows = await ex.rows(
        _DEDUPE, {"platform": platform, "update_id": update_id, "processed_at": now}
    )
    return bool(rows)


@dataclass(slots=True)
class LoadedTurn:
    """What :func:`load_turn` found: the musician's rows (if any) and whether the update is new."""

    record: TurnRecord | None
    fresh: bool


async def load_turn(
    ex: Executor, platform: str, external_id: str, update_id: str | None, now: datetime
) -> LoadedTurn:
    """Record the update id (replays are reported, not handled), lock and read the musician.

    On PostgreSQL with an update id this is one round trip; otherwise two statements. No row
    means a musician we have never seen: then the update counts as new (a replay of a first
    message whose handling had committed would have found the row).

    Progress rows are read *after* this, in their own statement: a statement that waited for a
    lock still sees other tables as they were when it started.
    """
    if ex.dialect != "postgresql" or update_id is None:
        if update_id is not None and not await first_time(ex, platform, update_id, now):
            return LoadedTurn(None, fresh=False)
        rows = await ex.rows(_TURN, {"platform": platform, "external_id": external_id})
        return LoadedTurn(TurnRecord(*rows[0]) if rows else None, fresh=True)
    params = {
        "platform": platform,
        "external_id": external_id,
        "update_id": update_id,
        "processed_at": now,
    }
    rows = await ex.rows(_TURN_PG_DEDUPE, params)
    if not rows:
        return LoadedTurn(None, fresh=True)
    width = len(TURN_COLUMNS)
    return LoadedTurn(TurnRecord(*rows[0][:width]), fresh=bool(rows[0][width]))


async def load_progress(
    ex: Executor,
    profile_id: uuid.UUID,
    scope: Scope,
    key: uuid.UUID,
) -> dict[uuid.UUID, ProgressRecord]:
    """The profile's progress rows of one stage, roadmap or task, keyed by task id.

    A task with no row is not started.
    """
    result = await ex.rows(_PROGRESS_BY_SCOPE[scope], {"profile_id": profile_id, "key": key})
    return {
        row[1]: ProgressRecord(
            task_id=row[1],
            status=row[2],
            task_data=row[3] or {},
            completed_by=row[4],
            completed_at=row[5],
            id=row[0],
            stored=True,
        )
        for row in result
    }


# A streak's whole history in ONE read (``/progress`` may add one statement, no more): when
# each task was completed and each checklist item ticked (the row's ``task_data``), when each
# number was recorded, and the freezes. One profile's rows by
# ``uq_user_task_progress_profile_id_task_id``, ``ix_stat_samples_profile_id`` and
# ``ix_streak_freezes_profile_id``; the kinds are literals, never parameters.
_NO_DAY = cast(null(), Date)
_NO_DATA = cast(null(), JSONType)


def _streak_history(whose: Callable[[Any], ColumnElement[bool]]) -> CompoundSelect[Any]:
    """The union of steps and freezes, each part filtered by ``whose(profile_id column)``."""
    return union_all(
        select(
            progress.c.profile_id,
            literal_column("'t'").label("kind"),
            case(
                (progress.c.status == literal_column("'completed'"), progress.c.completed_at),
                else_=cast(null(), UTCDateTime()),
            ).label("at"),
            _NO_DAY.label("starts_on"),
            _NO_DAY.label("ends_on"),
            progress.c.task_data.label("data"),
        ).where(whose(progress.c.profile_id)),
        # the steps of earlier release cycles (core/journey/cycles.py moved them here)
        select(
            cycle_tasks.c.profile_id,
            literal_column("'t'"),
            case(
                (cycle_tasks.c.status == literal_column("'completed'"), cycle_tasks.c.completed_at),
                else_=cast(null(), UTCDateTime()),
            ),
            _NO_DAY,
            _NO_DAY,
            cycle_tasks.c.task_data,
        ).where(whose(cycle_tasks.c.profile_id)),
        select(
            samples.c.profile_id,
            literal_column("'s'"),
            samples.c.recorded_at,
            _NO_DAY,
            _NO_DAY,
            _NO_DATA,
        ).where(whose(samples.c.profile_id)),
        select(
            streak_freezes.c.profile_id,
            literal_column("'f'"),
            streak_freezes.c.created_at,
            streak_freezes.c.starts_on,
            streak_freezes.c.ends_on,
            _NO_DATA,
        ).where(whose(streak_freezes.c.profile_id)),
    )


_STREAK_HISTORY = _streak_history(lambda pid: pid == bindparam("profile_id"))
# The weekly reviews of a tick batch: every profile's history in the same one read.
_STREAK_HISTORIES_PG = _streak_history(
    lambda pid: pid == any_(bindparam("pids", type_=ARRAY(Uuid())))
)
_STREAK_HISTORIES_SQLITE = _streak_history(lambda pid: pid.in_(bindparam("pids", expanding=True)))


def _as_day(value: Any) -> date:
    """A date column of the union as a date (SQLite may hand back its ISO text)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _as_moment(value: Any) -> datetime:
    """A timestamp column of the union as an aware datetime (SQLite: its stored text, UTC)."""
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def tick_times(task_data: Any) -> list[datetime]:
    """When each item still ticked on a checklist row was ticked (``task_data.ticked_at``,
    written by core/journey/checklist.py); an unreadable value is left out."""
    found = task_data.get("ticked_at") if isinstance(task_data, dict) else None
    if not isinstance(found, dict):
        return []
    times = []
    for raw in found.values():
        try:
            times.append(_as_moment(raw))
        except (TypeError, ValueError):
            continue
    return times


def _histories(rows: Sequence[Sequence[Any]]) -> dict[uuid.UUID, History]:
    steps: dict[uuid.UUID, list[datetime]] = {}
    freezes: dict[uuid.UUID, list[Freeze]] = {}
    for pid, kind, at, starts_on, ends_on, data in rows:
        if kind == "f":
            freezes.setdefault(pid, []).append(Freeze(_as_day(starts_on), _as_day(ends_on)))
            continue
        mine = steps.setdefault(pid, [])
        if at is not None:
            mine.append(_as_moment(at))
        if data is not None:
            mine += tick_times(data)
    return {
        pid: History(tuple(steps.get(pid, ())), tuple(freezes.get(pid, ())))
        for pid in steps.keys() | freezes.keys()
    }


async def streak_history(ex: Executor, profile_id: uuid.UUID) -> History:
    """Every step the profile did and its freezes: what a streak is computed from."""
    found = _histories(await ex.rows(_STREAK_HISTORY, {"profile_id": profile_id}))
    return found.get(profile_id, History())


async def streak_histories(
    ex: Executor, profile_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, History]:
    """:func:`streak_history` of many profiles in one read (a tick batch's weekly reviews);
    a profile with no step and no freeze has an empty history."""
    if not profile_ids:
        return {}
    stmt = _STREAK_HISTORIES_PG if ex.dialect == "postgresql" else _STREAK_HISTORIES_SQLITE
    found = _histories(await ex.rows(stmt, {"pids": list(profile_ids)}))
    return {pid: found.get(pid, History()) for pid in profile_ids}


def other_currency(unit: str | None, currency: str | None) -> bool:
    """Whether a sample kept in ``unit`` is money in another currency than ``currency`` (the
    profile's): such samples are kept and shown as typed, but left out of the figures, the
    chart and the goal projection — without exchange rates they can't be on one line."""
    return currency is not None and unit is not None and unit != currency and is_code(unit)


async def recent_samples(
    ex: Executor, profile_id: uuid.UUID, limit: int, *, currency: str | None = None
) -> Sequence[tuple[str, Decimal, datetime]]:
    """The latest ``limit`` stat samples of a profile, newest first (with ``currency``: not
    those in another currency)."""
    result = await ex.rows(_SAMPLES, {"profile_id": profile_id, "limit": limit})
    return [(m, Decimal(v), at) for m, v, at, u in result if not other_currency(u, currency)]


async def metric_samples(
    ex: Executor, profile_id: uuid.UUID, metric: str, limit: int, *, currency: str | None = None
) -> list[tuple[datetime, Decimal]]:
    """The latest ``limit`` samples of one metric of a profile, oldest first (with
    ``currency``: not those in another currency)."""
    rows = await ex.rows(
        _METRIC_SAMPLES, {"profile_id": profile_id, "metric": metric, "limit": limit}
    )
    return [(at, Decimal(v)) for at, v, u in reversed(rows) if not other_currency(u, currency)]


async def load_goals(ex: Executor, profile_id: uuid.UUID) -> list[GoalRecord]:
    """Every goal of a profile, by metric name."""
    rows = await ex.rows(_GOALS, {"profile_id": profile_id})
    return [
        GoalRecord(
            metric=m,
            target=Decimal(t),
            due_on=d,
            baseline=None if b is None else Decimal(b),
            set_by=by,
            set_at=at,
            met_at=met,
            id=gid,
        )
        for m, t, d, b, by, at, met, gid in rows
    ]


async def stored_chart(ex: Executor, profile_id: uuid.UUID, digest: str) -> bytes | None:
    """The profile's stored ``/stats`` chart if it shows what ``digest`` names, else ``None``."""
    rows = await ex.rows(_CHART, {"profile_id": profile_id, "digest": digest})
    return bytes(rows[0][0]) if rows else None


# ---------------------------------------------------------------------------------- writes


async def load_cycles(
    ex: Executor, profile_id: uuid.UUID, roadmap_id: uuid.UUID
) -> list[CycleRecord]:
    """The profile's rows of the roadmap's earlier cycles, oldest cycle first."""
    result = await ex.rows(_CYCLES_OF_ROADMAP, {"profile_id": profile_id, "roadmap_id": roadmap_id})
    return [
        CycleRecord(
            task_id=row[0],
            cycle=row[1],
            status=row[2],
            task_data=row[3] or {},
            completed_at=row[4],
            closed_at=row[5],
        )
        for row in result
    ]


def cycle_values(
    profile_id: uuid.UUID, cycle: int, rows: Sequence[ProgressRecord], now: datetime
) -> list[dict[str, Any]]:
    """The ``cycle_tasks`` rows that keep ``rows`` as cycle ``cycle``'s (``ticked_by`` left
    out: the past keeps what and when, not who)."""
    return [
        {
            "id": uuid.uuid4(),
            "profile_id": profile_id,
            "task_id": row.task_id,
            "cycle": cycle,
            "status": row.status,
            "task_data": {k: v for k, v in row.task_data.items() if k != "ticked_by"},
            "completed_at": row.completed_at,
            "closed_at": now,
        }
        for row in rows
    ]


async def archive_cycle(
    ex: Executor,
    profile_id: uuid.UUID,
    cycle: int,
    rows: Sequence[ProgressRecord],
    now: datetime,
) -> None:
    """Keep ``rows`` (stored progress rows of a repeating stage) as cycle ``cycle``'s."""
    values = cycle_values(profile_id, cycle, rows, now)
    if values:
        await ex.run_many(_INSERT_CYCLE_TASK, values)


async def save_progress(
    ex: Executor, profile_id: uuid.UUID, row: ProgressRecord, now: datetime
) -> None:
    """Insert or update one progress row (the caller holds the profile lock)."""
    if row.stored:
        await ex.run(
            _UPDATE_PROGRESS,
            {
                "row_id": row.id,
                "status": row.status,
                "task_data": row.task_data,
                "completed_by": row.completed_by,
                "completed_at": row.completed_at,
                "updated_at": now,
            },
        )
        return
    await ex.run(
        _INSERT_PROGRESS,
        {
            "id": row.id,
            "profile_id": profile_id,
            "task_id": row.task_id,
            "status": row.status,
            "task_data": row.task_data,
            "completed_by": row.completed_by,
            "completed_at": row.completed_at,
            "updated_at": now,
        },
    )
    row.stored = True


async def save_progress_and_state(
    ex: Executor, record: TurnRecord, row: ProgressRecord, now: datetime
) -> None:
    """PostgreSQL: write one progress row and the conversation state in one round trip."""
    params: dict[str, Any] = {
        "s_profile_id": record.profile_id,
        "s_awaiting": record.awaiting,
        "s_task_id": record.state_task_id,
        "s_data": record.state_data,
        "s_undo": record.undo,
        "s_updated_at": now,
        "p_id": row.id,
        "p_status": row.status,
        "p_task_data": row.task_data,
        "p_completed_by": row.completed_by,
        "p_completed_at": row.completed_at,
        "p_updated_at": now,
    }
    if row.stored:
        await ex.run(_UPDATE_PROGRESS_AND_STATE, params)
        return
    params["p_profile_id"] = record.profile_id
    params["p_task_id"] = row.task_id
    await ex.run(_INSERT_PROGRESS_AND_STATE, params)
    row.stored = True


async def delete_progress(ex: Executor, row_id: uuid.UUID) -> None:
    """Remove a progress row (undo of the action that created it)."""
    await ex.run(_DELETE_PROGRESS, {"row_id": row_id})


async def save_state(ex: Executor, record: TurnRecord, now: datetime) -> None:
    """Write the conversation state (what the coach awaits, and the undo record)."""
    await ex.run(
        _UPDATE_STATE,
        {
            "pid": record.profile_id,
            "awaiting": record.awaiting,
            "task_id": record.state_task_id,
            "data": record.state_data,
            "undo": record.undo,
            "updated_at": now,
        },
    )


async def update_profile(ex: Executor, profile_id: uuid.UUID, **values: Any) -> None:
    """Write the changed profile columns."""
    await ex.run(_UPDATE_PROFILE, {"pid": profile_id, **values})


async def update_user(ex: Executor, user_id: uuid.UUID, **values: Any) -> None:
    """Write the changed user columns."""
    await ex.run(_UPDATE_USER, {"uid": user_id, **values})


async def add_events(ex: Executor, rows: list[dict[str, Any]]) -> None:
    """Append outbox events (one round trip for all of them)."""
    if rows:
        await ex.run_many(_INSERT_EVENT, rows)


async def add_sample(ex: Executor, row: dict[str, Any]) -> None:
    """Record one stats sample."""
    await ex.run(_INSERT_SAMPLE, row)


async def delete_sample(ex: Executor, sample_id: uuid.UUID) -> None:
    """Remove a stats sample (undo of the answer that created it)."""
    await ex.run(_DELETE_SAMPLE, {"sample_id": sample_id})


async def save_goal(ex: Executor, profile_id: uuid.UUID, goal: GoalRecord) -> None:
    """Set a goal: a new goal for the same metric replaces the old one (and its ``met_at``)."""
    await ex.rows(_DELETE_GOAL, {"profile_id": profile_id, "metric": goal.metric})
    await ex.run(
        _INSERT_GOAL,
        {
            "id": goal.id,
            "profile_id": profile_id,
            "metric": goal.metric,
            "target": goal.target,
            "due_on": goal.due_on,
            "baseline": goal.baseline,
            "set_by": goal.set_by,
            "set_at": goal.set_at,
            "met_at": goal.met_at,
        },
    )


async def delete_goal(ex: Executor, profile_id: uuid.UUID, metric: str) -> bool:
    """Remove a goal; False when there was none."""
    return bool(await ex.rows(_DELETE_GOAL, {"profile_id": profile_id, "metric": metric}))


async def mark_goal_met(ex: Executor, profile_id: uuid.UUID, metric: str, now: datetime) -> bool:
    """Set ``met_at`` if it is not set yet; True only the first time (celebrate then)."""
    rows = await ex.rows(_GOAL_MET, {"pid": profile_id, "goal_metric": metric, "when_met": now})
    return bool(rows)


async def save_chart(
    ex: Executor, profile_id: uuid.UUID, digest: str, png: bytes, now: datetime
) -> None:
    """Keep ``png`` as the profile's ``/stats`` chart (replacing the one before)."""
    statement = _PG_SAVE_CHART if ex.dialect == "postgresql" else _SQLITE_SAVE_CHART
    await ex.run(
        statement, {"profile_id": profile_id, "digest": digest, "png": png, "drawn_at": now}
    )


# ---------------------------------------------------------------------------------- the seam


class TurnStore(Protocol):
    """The turn's persistence: every read and write a :class:`~core.kernel.turn.Turn` (and the
    journey's flows through ``turn.store``) make of the musician's rows, and nothing else.

    Why a protocol: flows are the coach's logic and most of its tests; with the rows behind
    this seam a flow runs as well on an in-memory store (``tests/support/memory.py``) as on the
    database, so a conversation test needs no synced database. :class:`SqlTurnStore` is the
    production one. The row shapes are the database's: progress rows come back as fresh
    :class:`ProgressRecord` objects keyed by task id (changing one changes nothing until it is
    saved), and saving a row that was never stored inserts it and marks it ``stored``. The
    caller holds the profile's lock (the event's transaction) for every call.
    """

    async def load_progress(
        self, profile_id: uuid.UUID, scope: Scope, key: uuid.UUID
    ) -> dict[uuid.UUID, ProgressRecord]:
        """The profile's progress rows of one stage, roadmap or task, keyed by task id."""
        ...

    async def save_progress(
        self, profile_id: uuid.UUID, row: ProgressRecord, now: datetime
    ) -> None:
        """Insert or update one progress row."""
        ...

    async def load_cycles(self, profile_id: uuid.UUID, roadmap_id: uuid.UUID) -> list[CycleRecord]:
        """The profile's rows of the roadmap's earlier cycles, oldest cycle first."""
        ...

    async def archive_cycle(
        self,
        profile_id: uuid.UUID,
        cycle: int,
        rows: Sequence[ProgressRecord],
        now: datetime,
    ) -> None:
        """Keep ``rows`` as cycle ``cycle``'s rows of ``cycle_tasks``."""
        ...

    async def save_progress_and_state(
        self, record: TurnRecord, row: ProgressRecord, now: datetime
    ) -> None:
        """One progress row and the conversation state (the common tick or answer): a store
        may write both at once (PostgreSQL: one round trip)."""
        ...

    async def delete_progress(self, row_id: uuid.UUID) -> None:
        """Remove a progress row."""
        ...

    async def save_state(self, record: TurnRecord, now: datetime) -> None:
        """Write the conversation state (what the coach awaits, and the undo record)."""
        ...

    async def update_profile(self, profile_id: uuid.UUID, **values: Any) -> None:
        """Write the changed profile columns."""
        ...

    async def update_user(self, user_id: uuid.UUID, **values: Any) -> None:
        """Write the changed user columns."""
        ...

    async def add_events(self, rows: list[dict[str, Any]]) -> None:
        """Append outbox events."""
        ...

    async def add_sample(self, row: dict[str, Any]) -> None:
        """Record one stats sample."""
        ...

    async def delete_sample(self, sample_id: uuid.UUID) -> None:
        """Remove a stats sample."""
        ...

    async def recent_samples(
        self, profile_id: uuid.UUID, limit: int, *, currency: str | None = None
    ) -> Sequence[tuple[str, Decimal, datetime]]:
        """The latest ``limit`` stat samples of a profile, newest first (with ``currency``:
        money samples in another currency left out, :func:`other_currency`)."""
        ...

    async def metric_samples(
        self, profile_id: uuid.UUID, metric: str, limit: int, *, currency: str | None = None
    ) -> list[tuple[datetime, Decimal]]:
        """The latest ``limit`` samples of one metric, oldest first (``currency``: as above)."""
        ...

    async def load_goals(self, profile_id: uuid.UUID) -> list[GoalRecord]:
        """Every goal of a profile, by metric name."""
        ...

    async def save_goal(self, profile_id: uuid.UUID, goal: GoalRecord) -> None:
        """Set a goal (replacing the metric's old one)."""
        ...

    async def delete_goal(self, profile_id: uuid.UUID, metric: str) -> bool:
        """Remove a goal; False when there was none."""
        ...

    async def mark_goal_met(self, profile_id: uuid.UUID, metric: str, now: datetime) -> bool:
        """Set the goal's ``met_at`` unless set; True only the first time."""
        ...

    async def stored_chart(self, profile_id: uuid.UUID, digest: str) -> bytes | None:
        """The profile's stored ``/stats`` chart if its digest is ``digest``, else ``None``."""
        ...

    async def save_chart(
        self, profile_id: uuid.UUID, digest: str, png: bytes, now: datetime
    ) -> None:
        """Keep ``png`` (showing what ``digest`` names) as the profile's ``/stats`` chart."""
        ...

    async def streak_history(self, profile_id: uuid.UUID) -> History:
        """Every step the profile did (completions, ticks, numbers) and its freezes, in one
        read."""
        ...


class SqlTurnStore:
    """The turn's rows in the database: the functions above on the event's executor.

    A thin layer on purpose: the same statements in the same number of round trips as before
    the seam existed (``benchmarks/core.py`` measures it); on PostgreSQL a progress row and
    the state still go in one statement.
    """

    __slots__ = ("ex",)

    def __init__(self, ex: Executor) -> None:
        self.ex = ex

    async def load_progress(
        self, profile_id: uuid.UUID, scope: Scope, key: uuid.UUID
    ) -> dict[uuid.UUID, ProgressRecord]:
        """The profile's progress rows of one stage, roadmap or task, keyed by task id."""
        return await load_progress(self.ex, profile_id, scope, key)

    async def save_progress(
        self, profile_id: uuid.UUID, row: ProgressRecord, now: datetime
    ) -> None:
        """Insert or update one progress row."""
        await save_progress(self.ex, profile_id, row, now)

    async def load_cycles(self, profile_id: uuid.UUID, roadmap_id: uuid.UUID) -> list[CycleRecord]:
        """The profile's rows of the roadmap's earlier cycles, oldest cycle first."""
        return await load_cycles(self.ex, profile_id, roadmap_id)

    async def archive_cycle(
        self,
        profile_id: uuid.UUID,
        cycle: int,
        rows: Sequence[ProgressRecord],
        now: datetime,
    ) -> None:
        """Keep ``rows`` as cycle ``cycle``'s (the live rows are then reset by the caller)."""
        await archive_cycle(self.ex, profile_id, cycle, rows, now)

    async def save_progress_and_state(
        self, record: TurnRecord, row: ProgressRecord, now: datetime
    ) -> None:
        """One statement on PostgreSQL; two elsewhere (SQLite has no data-modifying CTEs)."""
        if self.ex.dialect == "postgresql":
            await save_progress_and_state(self.ex, record, row, now)
            return
        await save_progress(self.ex, record.profile_id, row, now)
        await save_state(self.ex, record, now)

    async def delete_progress(self, row_id: uuid.UUID) -> None:
        """Remove a progress row."""
        await delete_progress(self.ex, row_id)

    async def save_state(self, record: TurnRecord, now: datetime) -> None:
        """Write the conversation state."""
        await save_state(self.ex, record, now)

    async def update_profile(self, profile_id: uuid.UUID, **values: Any) -> None:
        """Write the changed profile columns."""
        await update_profile(self.ex, profile_id, **values)

    async def update_user(self, user_id: uuid.UUID, **values: Any) -> None:
        """Write the changed user columns."""
        await update_user(self.ex, user_id, **values)

    async def add_events(self, rows: list[dict[str, Any]]) -> None:
        """Append outbox events (one round trip for all of them)."""
        await add_events(self.ex, rows)

    async def add_sample(self, row: dict[str, Any]) -> None:
        """Record one stats sample."""
        await add_sample(self.ex, row)

    async def delete_sample(self, sample_id: uuid.UUID) -> None:
        """Remove a stats sample."""
        await delete_sample(self.ex, sample_id)

    async def recent_samples(
        self, profile_id: uuid.UUID, limit: int, *, currency: str | None = None
    ) -> Sequence[tuple[str, Decimal, datetime]]:
        """The latest ``limit`` stat samples of a profile, newest first."""
        return await recent_samples(self.ex, profile_id, limit, currency=currency)

    async def metric_samples(
        self, profile_id: uuid.UUID, metric: str, limit: int, *, currency: str | None = None
    ) -> list[tuple[datetime, Decimal]]:
        """The latest ``limit`` samples of one metric, oldest first."""
        return await metric_samples(self.ex, profile_id, metric, limit, currency=currency)

    async def load_goals(self, profile_id: uuid.UUID) -> list[GoalRecord]:
        """Every goal of a profile, by metric name."""
        return await load_goals(self.ex, profile_id)

    async def save_goal(self, profile_id: uuid.UUID, goal: GoalRecord) -> None:
        """Set a goal (replacing the metric's old one): two statements."""
        await save_goal(self.ex, profile_id, goal)

    async def delete_goal(self, profile_id: uuid.UUID, metric: str) -> bool:
        """Remove a goal; False when there was none."""
        return await delete_goal(self.ex, profile_id, metric)

    async def mark_goal_met(self, profile_id: uuid.UUID, metric: str, now: datetime) -> bool:
        """Set the goal's ``met_at`` unless set; True only the first time."""
        return await mark_goal_met(self.ex, profile_id, metric, now)

    async def stored_chart(self, profile_id: uuid.UUID, digest: str) -> bytes | None:
        """The stored ``/stats`` chart when its digest matches."""
        return await stored_chart(self.ex, profile_id, digest)

    async def save_chart(
        self, profile_id: uuid.UUID, digest: str, png: bytes, now: datetime
    ) -> None:
        """Keep the profile's ``/stats`` chart (an upsert)."""
        await save_chart(self.ex, profile_id, digest, png, now)

    async def streak_history(self, profile_id: uuid.UUID) -> History:
        """Every step the profile did (completions, ticks, numbers) and its freezes, in one
        read."""
        return await streak_history(self.ex, profile_id)
