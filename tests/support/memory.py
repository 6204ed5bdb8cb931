"""The coach without a database: flows run for real, their rows live in memory.

Most conversation tests are about flows — what the coach answers, which rows a tick or an
answer changes — not about the database. They need :class:`MemoryCoach`: the real
:meth:`Coach.route() <core.app.engine.Coach.route>`, the real
:meth:`Coach.dispatch() <core.app.engine.Coach.dispatch>`, the real private-replies gate, on a
:class:`MemoryTurnStore` (the :class:`~core.kernel.store.TurnStore` protocol over dicts) and the
catalog built straight from the bundled YAML (:func:`~core.roadmaps.catalog.catalog_from`). No
database, no network, no subprocess; ``tests/support/coachkit.py``'s ``Driver`` drives it like a
coach.

How faithful the memory is, and where it stops:

* rows are copies both ways, as with a database: a progress row read is a fresh object, a row
  changed and not saved changes nothing, JSON columns go through ``json.dumps``/``loads``;
* writes are checked against the real tables (``core/db/tables.py``): unknown columns, ``None``
  in a NOT NULL column, naive datetimes, strings longer than their column, a second progress
  row for one task (the unique key) all fail as the database would fail them;
* an event is all or nothing: a flow that raises leaves the rows as they were, and its
  exception reaches the test (``Coach.handle`` would log it and answer "sorry");
* an update id is handled once (a replay gets no answer), recorded with the event's changes;
* ``turn.ex`` is :class:`NoDatabase`: a flow that reaches for SQL of its own (reminders,
  bands) fails the test with :class:`ReachedTheDatabase`, even if the flow caught it;
* the account door (``/link``), band chats and the admin desk (``/admin``, ``/export``,
  ``/forget``, ``/broadcasts``) raise :class:`NotInMemory`: they are database work by nature
  and are tested on a database. So are row locks, replays across processes, restarts and
  concurrency (``tests/integration/test_engine.py``, ``tests/integration/test_concurrency.py``).

Whether the memory store behaves like the SQL one is itself tested: the same contract
(``tests/support/store_contract.py``) runs on this store (``tests/unit``) and on
:class:`~core.kernel.store.SqlTurnStore` on SQLite and PostgreSQL
(``tests/integration/test_turn_store.py``).
"""

from __future__ import annotations

import copy
import functools
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, NoReturn

from sqlalchemy import JSON, String, Table

from core.app.engine import Coach
from core.app.private_replies import route as keep_private
from core.clock import Clock, system_clock
from core.db.base import UTCDateTime
from core.db.tables import (
    cycle_tasks,
    events,
    goals,
    profiles,
    progress,
    samples,
    states,
    stats_charts,
    users,
)
from core.kernel.audit import AuditNote
from core.kernel.offload import InThread, Offload
from core.kernel.registry import Registry
from core.kernel.store import (
    CycleRecord,
    GoalRecord,
    Scope,
    TurnRecord,
    cycle_values,
    other_currency,
    tick_times,
)
from core.kernel.turn import Turn
from core.kernel.types import Inbound, Outbound
from core.progress.service import ProgressRecord
from core.progress.streaks import Freeze, History
from core.roadmaps.catalog import Catalog, catalog_from
from core.roadmaps.loader import load_roadmaps
from core.roadmaps.schema import Roadmap

# ------------------------------------------------------------------------------------- errors


class ReachedTheDatabase(AssertionError):
    """A flow under a memory test ran SQL of its own: it is not a pure flow."""


class NotInMemory(AssertionError):
    """A route whose work is the database's by nature (an account, a band, the admin desk)."""


class NoDatabase:
    """The ``turn.ex`` of a memory turn: every use fails the test, loudly.

    Each use is also written down (:attr:`reached`), so :class:`MemoryCoach` fails the event
    even when the flow caught the exception.
    """

    def __init__(self) -> None:
        self.reached: list[str] = []

    def _fail(self, what: str) -> NoReturn:
        self.reached.append(what)
        raise ReachedTheDatabase(
            f"this flow reached the database ({what}); memory tests run flows that use "
            "turn.store only — test this one on a database"
        )

    @property
    def dialect(self) -> str:
        """Asking which database it is counts as reaching it."""
        self._fail("ex.dialect")

    async def rows(self, stmt: Any, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        """Fails: a read."""
        self._fail(f"ex.rows: {str(stmt).splitlines()[0]}")

    async def run(self, stmt: Any, params: Mapping[str, Any]) -> None:
        """Fails: a write."""
        self._fail(f"ex.run: {str(stmt).splitlines()[0]}")

    async def run_many(self, stmt: Any, params: Sequence[Mapping[str, Any]]) -> None:
        """Fails: a batch write."""
        self._fail(f"ex.run_many: {str(stmt).splitlines()[0]}")


class _NoDatabaseAtAll:
    """The ``Database`` handed to the real ``Coach``: it only keeps it (for the desk and the
    access checks, which a memory coach never runs); any use fails."""

    def __getattr__(self, name: str) -> NoReturn:
        raise ReachedTheDatabase(f"this flow reached the database (Database.{name})")


# ------------------------------------------------------------------------------------- rows


def _json(value: Any) -> Any:
    """A JSON column's value as it comes back from the database (a copy, JSON types only)."""
    return json.loads(json.dumps(value))


def _checked(table: Table, values: Mapping[str, Any], *, insert: bool) -> dict[str, Any]:
    """``values`` for ``table`` as the database would take them, or the error it would raise."""
    columns = table.c
    unknown = set(values) - set(columns.keys())
    if unknown:
        raise ValueError(f"{table.name} has no column(s) {sorted(unknown)}")
    row: dict[str, Any] = {}
    for name, value in values.items():
        column = columns[name]
        if value is None:
            if not column.nullable:
                raise ValueError(f"NULL in NOT NULL column {table.name}.{name}")
            row[name] = None
            continue
        if isinstance(column.type, JSON):
            row[name] = _json(value)
        elif isinstance(column.type, UTCDateTime):
            if not isinstance(value, datetime) or value.tzinfo is None:
                raise ValueError(f"naive or non-datetime value for {table.name}.{name}: {value!r}")
            row[name] = value
        elif isinstance(column.type, String) and column.type.length is not None:
            if len(str(value)) > column.type.length:
                raise ValueError(f"{table.name}.{name} holds {column.type.length} characters")
            row[name] = value
        else:
            row[name] = value
    if insert:
        missing = [
            c.name
            for c in columns
            if c.name not in row
            and not c.nullable
            and c.default is None
            and c.server_default is None
        ]
        if missing:
            raise ValueError(f"{table.name} needs {missing}")
    return row


@dataclass
class _Tables:
    """Every row a memory coach keeps, by primary key; copied whole for an event's rollback."""

    identities: dict[tuple[str, str], uuid.UUID] = field(default_factory=dict)
    users: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    profiles: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    states: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    progress: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    samples: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    goals: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    #: Stored /stats charts by profile id.
    charts: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    #: Streak freezes by id (a memory coach has no /streak freeze: tests put rows here).
    freezes: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    #: Earlier release cycles' rows (``cycle_tasks``) by id.
    cycles: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    updates: set[tuple[str, str]] = field(default_factory=set)


class MemoryTurnStore:
    """The :class:`~core.kernel.store.TurnStore` protocol over dicts, for unit tests.

    Progress scopes (a stage's, a roadmap's rows) are resolved with the catalog, as the SQL
    store joins the ``tasks`` table. Besides the protocol it has what a test reads instead of
    querying the database: :meth:`progress_row`, :meth:`samples_of`, :meth:`events_of`.
    """

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.tables = _Tables()

    # ---------------------------------------------------------------- the protocol

    async def load_progress(
        self, profile_id: uuid.UUID, scope: Scope, key: uuid.UUID
    ) -> dict[uuid.UUID, ProgressRecord]:
        """The profile's progress rows of one stage, roadmap or task, keyed by task id."""
        found: dict[uuid.UUID, ProgressRecord] = {}
        for row in self.tables.progress.values():
            if row["profile_id"] != profile_id or not self._in_scope(row["task_id"], scope, key):
                continue
            found[row["task_id"]] = self._record(row)
        return found

    async def save_progress(
        self, profile_id: uuid.UUID, row: ProgressRecord, now: datetime
    ) -> None:
        """Insert or update one progress row (insert: unique per profile and task)."""
        values = {
            "status": row.status,
            "task_data": row.task_data,
            "completed_by": row.completed_by,
            "completed_at": row.completed_at,
            "updated_at": now,
        }
        if row.stored:
            stored = self.tables.progress.get(row.id)
            if stored is not None:  # an UPDATE of a row that is gone changes nothing
                stored.update(_checked(progress, values, insert=False))
            return
        if any(
            r["profile_id"] == profile_id and r["task_id"] == row.task_id
            for r in self.tables.progress.values()
        ):
            raise ValueError(f"duplicate progress row for task {row.task_id} (unique key)")
        values |= {"id": row.id, "profile_id": profile_id, "task_id": row.task_id}
        self.tables.progress[row.id] = _checked(progress, values, insert=True)
        row.stored = True

    async def load_cycles(self, profile_id: uuid.UUID, roadmap_id: uuid.UUID) -> list[CycleRecord]:
        """The profile's rows of the roadmap's earlier cycles, oldest cycle first."""
        found = [
            CycleRecord(
                task_id=r["task_id"],
                cycle=r["cycle"],
                status=r["status"],
                task_data=dict(r["task_data"]),
                completed_at=r["completed_at"],
                closed_at=r["closed_at"],
            )
            for r in self.tables.cycles.values()
            if r["profile_id"] == profile_id
            and (task := self.catalog.tasks_by_id.get(r["task_id"])) is not None
            and task.roadmap_id == roadmap_id
        ]
        return sorted(found, key=lambda c: c.cycle)

    async def archive_cycle(
        self,
        profile_id: uuid.UUID,
        cycle: int,
        rows: Sequence[ProgressRecord],
        now: datetime,
    ) -> None:
        """Keep ``rows`` as cycle ``cycle``'s (unique per profile, task and cycle)."""
        for values in cycle_values(profile_id, cycle, rows, now):
            if any(
                r["profile_id"] == profile_id
                and r["task_id"] == values["task_id"]
                and r["cycle"] == cycle
                for r in self.tables.cycles.values()
            ):
                raise ValueError(f"duplicate cycle row for task {values['task_id']} (unique key)")
            self.tables.cycles[values["id"]] = _checked(cycle_tasks, values, insert=True)

    async def save_progress_and_state(
        self, record: TurnRecord, row: ProgressRecord, now: datetime
    ) -> None:
        """The progress row, then the state (one statement on PostgreSQL)."""
        await self.save_progress(record.profile_id, row, now)
        await self.save_state(record, now)

    async def delete_progress(self, row_id: uuid.UUID) -> None:
        """Remove a progress row."""
        self.tables.progress.pop(row_id, None)

    async def save_state(self, record: TurnRecord, now: datetime) -> None:
        """Write the conversation state."""
        state = self.tables.states[record.profile_id]
        values = {
            "awaiting": record.awaiting,
            "task_id": record.state_task_id,
            "data": record.state_data,
            "undo": record.undo,
            "updated_at": now,
        }
        state.update(_checked(states, values, insert=False))

    async def update_profile(self, profile_id: uuid.UUID, **values: Any) -> None:
        """Write the changed profile columns."""
        row = self.tables.profiles.get(profile_id)
        checked = _checked(profiles, values, insert=False)
        if row is not None:
            row.update(checked)

    async def update_user(self, user_id: uuid.UUID, **values: Any) -> None:
        """Write the changed user columns."""
        row = self.tables.users.get(user_id)
        checked = _checked(users, values, insert=False)
        if row is not None:
            row.update(checked)

    async def add_events(self, rows: list[dict[str, Any]]) -> None:
        """Append outbox events."""
        self.tables.events.extend(_checked(events, row, insert=True) for row in rows)

    async def add_sample(self, row: dict[str, Any]) -> None:
        """Record one stats sample."""
        checked = _checked(samples, row, insert=True)
        checked["value"] = Decimal(str(checked["value"]))
        self.tables.samples[checked["id"]] = checked

    async def delete_sample(self, sample_id: uuid.UUID) -> None:
        """Remove a stats sample."""
        self.tables.samples.pop(sample_id, None)

    async def recent_samples(
        self, profile_id: uuid.UUID, limit: int, *, currency: str | None = None
    ) -> Sequence[tuple[str, Decimal, datetime]]:
        """The latest ``limit`` stat samples of a profile, newest first."""
        mine = [s for s in self.tables.samples.values() if s["profile_id"] == profile_id]
        mine.sort(key=lambda s: s["recorded_at"], reverse=True)
        return [
            (s["metric"], Decimal(s["value"]), s["recorded_at"])
            for s in mine[:limit]
            if not other_currency(s.get("unit"), currency)
        ]

    async def metric_samples(
        self, profile_id: uuid.UUID, metric: str, limit: int, *, currency: str | None = None
    ) -> list[tuple[datetime, Decimal]]:
        """The latest ``limit`` samples of one metric, oldest first."""
        mine = [
            s
            for s in self.tables.samples.values()
            if s["profile_id"] == profile_id and s["metric"] == metric
        ]
        mine.sort(key=lambda s: s["recorded_at"], reverse=True)
        return [
            (s["recorded_at"], Decimal(s["value"]))
            for s in reversed(mine[:limit])
            if not other_currency(s.get("unit"), currency)
        ]

    async def load_goals(self, profile_id: uuid.UUID) -> list[GoalRecord]:
        """Every goal of a profile, by metric name."""
        mine = sorted(
            (g for g in self.tables.goals.values() if g["profile_id"] == profile_id),
            key=lambda g: g["metric"],
        )
        return [
            GoalRecord(
                metric=g["metric"],
                target=Decimal(g["target"]),
                due_on=g["due_on"],
                baseline=None if g["baseline"] is None else Decimal(g["baseline"]),
                set_by=g["set_by"],
                set_at=g["set_at"],
                met_at=g["met_at"],
                id=g["id"],
            )
            for g in mine
        ]

    async def save_goal(self, profile_id: uuid.UUID, goal: GoalRecord) -> None:
        """Set a goal, replacing the metric's old one (unique per profile and metric)."""
        await self.delete_goal(profile_id, goal.metric)
        row = {
            "id": goal.id,
            "profile_id": profile_id,
            "metric": goal.metric,
            "target": goal.target,
            "due_on": goal.due_on,
            "baseline": goal.baseline,
            "set_by": goal.set_by,
            "set_at": goal.set_at,
            "met_at": goal.met_at,
        }
        self.tables.goals[goal.id] = _checked(goals, row, insert=True)

    async def delete_goal(self, profile_id: uuid.UUID, metric: str) -> bool:
        """Remove a goal; False when there was none."""
        found = [
            gid
            for gid, g in self.tables.goals.items()
            if g["profile_id"] == profile_id and g["metric"] == metric
        ]
        for gid in found:
            del self.tables.goals[gid]
        return bool(found)

    async def mark_goal_met(self, profile_id: uuid.UUID, metric: str, now: datetime) -> bool:
        """Set ``met_at`` unless set; True only the first time."""
        for g in self.tables.goals.values():
            if g["profile_id"] == profile_id and g["metric"] == metric and g["met_at"] is None:
                g["met_at"] = now
                return True
        return False

    async def stored_chart(self, profile_id: uuid.UUID, digest: str) -> bytes | None:
        """The stored chart when its digest matches."""
        row = self.tables.charts.get(profile_id)
        return row["png"] if row is not None and row["digest"] == digest else None

    async def save_chart(
        self, profile_id: uuid.UUID, digest: str, png: bytes, now: datetime
    ) -> None:
        """Keep the profile's chart (replacing the one before)."""
        if profile_id not in self.tables.profiles:
            raise ValueError("stats_charts.profile_id: no such profile (foreign key)")
        row = {"profile_id": profile_id, "digest": digest, "png": png, "drawn_at": now}
        self.tables.charts[profile_id] = _checked(stats_charts, row, insert=True)

    async def streak_history(self, profile_id: uuid.UUID) -> History:
        """Completions, ticks, numbers and freezes of a profile, as the SQL store's one read."""
        steps: list[datetime] = []
        for r in self.tables.progress.values():
            if r["profile_id"] != profile_id:
                continue
            if r["status"] == "completed" and r["completed_at"] is not None:
                steps.append(r["completed_at"])
            steps += tick_times(r["task_data"])
        for r in self.tables.cycles.values():
            if r["profile_id"] != profile_id:
                continue
            if r["status"] == "completed" and r["completed_at"] is not None:
                steps.append(r["completed_at"])
            steps += tick_times(r["task_data"])
        steps += [
            s["recorded_at"] for s in self.tables.samples.values() if s["profile_id"] == profile_id
        ]
        freezes = [
            Freeze(f["starts_on"], f["ends_on"])
            for f in self.tables.freezes.values()
            if f["profile_id"] == profile_id
        ]
        return History(tuple(steps), tuple(freezes))

    def goals_of(self, profile_id: uuid.UUID) -> list[dict[str, Any]]:
        """Stored goals of a profile (copies), for tests."""
        return [dict(g) for g in self.tables.goals.values() if g["profile_id"] == profile_id]

    # ---------------------------------------------------------------- accounts (the engine's part)

    def load_turn(self, platform: str, external_id: str) -> TurnRecord | None:
        """The musician's user, solo profile and state, as the engine reads them (copies)."""
        user_id = self.tables.identities.get((platform, external_id))
        if user_id is None:
            return None
        user = self.tables.users[user_id]
        profile = next(p for p in self.tables.profiles.values() if p["user_id"] == user_id)
        state = self.tables.states[profile["id"]]
        return TurnRecord(
            user_id=user_id,
            timezone=user["timezone"],
            user_last_active_at=user["last_active_at"],
            profile_id=profile["id"],
            artist_name=profile["artist_name"],
            current_stats=_json(profile["current_stats"]),
            roadmap_id=profile["roadmap_id"],
            current_stage_id=profile["current_stage_id"],
            last_activity_at=profile["last_activity_at"],
            awaiting=state["awaiting"],
            state_task_id=state["task_id"],
            state_data=_json(state["data"]),
            undo=_json(state["undo"]),
            anchors=_json(profile.get("anchors") or {}),
            currency=profile.get("currency"),
            locale=user.get("locale"),
            country=profile.get("country"),
        )

    def create_musician(self, inbound: Inbound, now: datetime) -> TurnRecord:
        """A new user, identity, solo profile and state row (``core/accounts/store.py``'s)."""
        user_id, profile_id = uuid.uuid4(), uuid.uuid4()
        self.tables.users[user_id] = _checked(
            users,
            {
                "id": user_id,
                "display_name": inbound.display_name,
                "locale": inbound.locale,
                "timezone": "UTC",
                "roles": [],
                "broadcasts_opt_out": False,
                "unreachable": False,
                "created_at": now,
                "last_active_at": now,
            },
            insert=True,
        )
        self.tables.identities[(inbound.platform, inbound.user_id)] = user_id
        self.tables.profiles[profile_id] = _checked(
            profiles,
            {
                "id": profile_id,
                "user_id": user_id,
                "band_id": None,
                "artist_name": None,
                "roadmap_id": None,
                "current_stage_id": None,
                "current_stats": {},
                "anchors": {},
                "created_at": now,
                "updated_at": now,
                "last_activity_at": now,
            },
            insert=True,
        )
        self.tables.states[profile_id] = _checked(
            states,
            {
                "profile_id": profile_id,
                "awaiting": None,
                "task_id": None,
                "data": {},
                "undo": None,
                "updated_at": now,
            },
            insert=True,
        )
        record = self.load_turn(inbound.platform, inbound.user_id)
        assert record is not None
        return record

    # ---------------------------------------------------------------- what tests read

    def progress_row(self, profile_id: uuid.UUID, task_id: uuid.UUID) -> ProgressRecord | None:
        """The stored progress row of one task (``None``: no row)."""
        for row in self.tables.progress.values():
            if row["profile_id"] == profile_id and row["task_id"] == task_id:
                return self._record(row)
        return None

    def progress_rows(self, profile_id: uuid.UUID) -> list[ProgressRecord]:
        """Every stored progress row of a profile."""
        return [
            self._record(row)
            for row in self.tables.progress.values()
            if row["profile_id"] == profile_id
        ]

    def samples_of(
        self, profile_id: uuid.UUID | None = None, metric: str | None = None
    ) -> list[dict[str, Any]]:
        """Stored stats samples (copies), of a profile and a metric if given."""
        return [
            dict(s)
            for s in self.tables.samples.values()
            if (profile_id is None or s["profile_id"] == profile_id)
            and (metric is None or s["metric"] == metric)
        ]

    def events_of(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Stored outbox events (copies), of one type if given, in order."""
        return [dict(e) for e in self.tables.events if kind is None or e["type"] == kind]

    # ---------------------------------------------------------------- internals

    def _in_scope(self, task_id: uuid.UUID, scope: Scope, key: uuid.UUID) -> bool:
        if scope == "task":
            return task_id == key
        task = self.catalog.tasks_by_id.get(task_id)  # the SQL store joins the tasks table
        if task is None:
            return False
        return (task.stage_id if scope == "stage" else task.roadmap_id) == key

    @staticmethod
    def _record(row: Mapping[str, Any]) -> ProgressRecord:
        return ProgressRecord(
            task_id=row["task_id"],
            status=row["status"],
            task_data=_json(row["task_data"]) or {},
            completed_by=row["completed_by"],
            completed_at=row["completed_at"],
            id=row["id"],
            stored=True,
        )


# ------------------------------------------------------------------------------------- coach


@functools.cache
def bundled_roadmaps() -> tuple[Roadmap, ...]:
    """The bundled YAML, loaded once per process (the schema objects are frozen)."""
    return tuple(load_roadmaps())


def bundled_catalog() -> Catalog:
    """A fresh catalog of the bundled roadmaps (its card memo is not shared between tests)."""
    return catalog_from(bundled_roadmaps())


class MemoryCoach:
    """A coach whose musicians live in memory: ``await coach.handle(inbound)`` like the real one.

    One event: the real routing (:meth:`Coach.route`), update-id de-duplication, the musician's
    rows loaded (or created) from :attr:`store`, a :class:`Turn` on that store with
    :class:`NoDatabase` as its executor, the real :meth:`Coach.dispatch`, the turn's flush, and
    every reply through the real private-replies gate. Audit notes the event asked for are
    kept in :attr:`audit_notes` (the real coach writes them after its transaction).
    """

    def __init__(
        self,
        catalog: Catalog | None = None,
        *,
        roadmaps: Iterable[Roadmap] | None = None,
        clock: Clock = system_clock,
        admins: Iterable[str] = (),
        offload: Offload | None = None,
    ) -> None:
        if catalog is None:
            catalog = catalog_from(roadmaps) if roadmaps is not None else bundled_catalog()
        self.catalog = catalog
        self.coach = Coach(_NoDatabaseAtAll(), clock=clock, admins=admins)  # type: ignore[arg-type]
        self.store = MemoryTurnStore(catalog)
        self.audit_notes: list[AuditNote] = []
        #: Where the turns' CPU-bound work runs (a thread: the unit layer starts no process).
        self.offload: Offload = offload if offload is not None else InThread()

    @property
    def registry(self) -> Registry:
        """The real coach's registry (what ``/help`` and the menus read)."""
        return self.coach.registry

    @property
    def clock(self) -> Clock:
        """The injected clock (``Coach(clock=…)``)."""
        return self.coach.clock

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        """Handle one event; the replies as ``Coach.handle`` returns them."""
        return keep_private(inbound, await self._replies(inbound))

    async def _replies(self, inbound: Inbound) -> list[Outbound]:
        routed = self.coach.route(inbound)
        if routed.door == "desk":
            raise NotInMemory("the admin desk is not in memory: test it on a database")
        if inbound.chat_type == "guild" and inbound.server_id is not None:
            raise NotInMemory("band chats are not in memory: test them on a database")
        if routed.door == "account":
            raise NotInMemory("the account door (/link, /unlink) is not in memory")
        tables = self.store.tables
        update = None if inbound.update_id is None else (inbound.platform, inbound.update_id)
        if update is not None and update in tables.updates:
            return []  # a replay, as processed_updates answers it
        before = copy.deepcopy(tables)
        now = self.clock()
        ex = NoDatabase()
        try:
            rec = self.store.load_turn(inbound.platform, inbound.user_id)
            is_new = rec is None
            if rec is None:
                rec = self.store.create_musician(inbound, now)
            turn = Turn(
                ex,  # type: ignore[arg-type]
                inbound,
                rec,
                self.catalog,
                now,
                is_new=is_new,
                states=self.registry.states,
                audits=[],
                offload=self.offload,
                rows_in=self.store,
            )
            replies = await self.coach.dispatch(turn, routed)
            await turn.flush()
            if ex.reached:
                raise ReachedTheDatabase(
                    f"this flow reached the database and carried on: {ex.reached}"
                )
        except BaseException:
            self.store.tables = before  # the event's transaction, rolled back
            raise
        if update is not None:
            tables.updates.add(update)
        self.audit_notes.extend(turn.audits)
        return replies

    # ---------------------------------------------------------------- what tests read

    def record(self, user: str, platform: str = "console") -> TurnRecord:
        """A musician's user, profile and state as stored now (as the engine would load them)."""
        rec = self.store.load_turn(platform, user)
        assert rec is not None, f"no musician {platform}:{user} in memory"
        return rec

    def progress_row(
        self, task_id: uuid.UUID, user: str = "maya", platform: str = "console"
    ) -> ProgressRecord | None:
        """The stored progress row of a musician's task (``None``: no row)."""
        return self.store.progress_row(self.record(user, platform).profile_id, task_id)
