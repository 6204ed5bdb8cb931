"""One event's unit of work: the musician's rows, what changed, and the writes at the end.

A ``Turn`` is built inside the event's transaction after the profile row is locked. Flows read
and change it; :meth:`Turn.flush` then writes only what changed (progress rows, profile columns,
the conversation state, outbox events). Progress writes wait for the flush too — reads in the
same event see them through an overlay — so on PostgreSQL a plain checklist tick writes its
progress row and the conversation state in one statement (one round trip instead of two).

The turn reads and writes those rows through :attr:`Turn.store`, a
:class:`~core.kernel.store.TurnStore`: SQL on the event's executor in production, an in-memory
store in unit tests. :attr:`Turn.ex` stays for features with SQL of their own (bands,
reminders); a flow that uses only the store runs without a database.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import InitVar, dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from core.db.executor import Executor
from core.kernel.audit import AuditAction, AuditNote
from core.kernel.offload import InThread, Offload
from core.kernel.store import SqlTurnStore, TurnRecord, TurnStore
from core.kernel.types import Inbound
from core.progress.parsing.locales import Reading, currency_guess
from core.progress.service import ProgressRecord
from core.roadmaps.catalog import Catalog, RoadmapInfo, StageInfo, TaskInfo

#: Activity timestamps are refreshed at most this often (seconds), to spare an UPDATE per event.
ACTIVITY_RESOLUTION = 60


@dataclass
class Turn:
    """Everything one event's handling needs, and the changes it makes."""

    #: The event's transaction, for features with SQL of their own (bands, reminders); the
    #: turn's own rows go through :attr:`store`.
    ex: Executor
    inbound: Inbound
    rec: TurnRecord
    catalog: Catalog
    now: datetime
    is_new: bool = False
    #: Stored state names → the owning feature's typed value (``Registry.states``).
    states: Mapping[str, StrEnum] = field(default_factory=dict)
    #: Audit rows this event asked for: written after its transaction (``Coach``), each in a
    #: short transaction of its own, so a denial is kept even when the event changes nothing.
    audits: list[AuditNote] = field(default_factory=list)
    #: Where CPU-bound work (a chart) runs while the event loop goes on: the coach's worker
    #: processes in ``coach run``, a thread elsewhere (:mod:`core.kernel.offload`).
    offload: Offload = field(default_factory=InThread)
    _profile_changes: dict[str, Any] = field(default_factory=dict)
    _state_dirty: bool = False
    _events: list[dict[str, Any]] = field(default_factory=list)
    #: Progress rows saved during this event, by task id (written by :meth:`flush`).
    _pending: dict[uuid.UUID, ProgressRecord] = field(default_factory=dict)
    #: Ids of stored progress rows deleted during this event.
    _deleted: set[uuid.UUID] = field(default_factory=set)
    #: :attr:`today`, for the timezone and time it was worked out for (asked many times an event).
    _today: tuple[str, datetime, date] | None = field(default=None, repr=False)
    #: Where the rows live, when not in the database of :attr:`ex` (``Turn(…,
    #: rows_in=store)``: the in-memory store of the unit tests). An init-only argument because
    #: callers that build a turn from an executor alone (the band path) must keep working.
    rows_in: InitVar[TurnStore | None] = None
    #: The turn's persistence: :class:`~core.kernel.store.SqlTurnStore` on :attr:`ex` unless
    #: ``rows_in`` named another.
    store: TurnStore = field(init=False, repr=False)

    def __post_init__(self, rows_in: TurnStore | None) -> None:
        self.store = rows_in if rows_in is not None else SqlTurnStore(self.ex)

    # ---------------------------------------------------------------- reading

    @property
    def today(self) -> date:
        """Today in the musician's timezone (for "tomorrow", "next friday")."""
        known = self._today
        if known is not None and known[0] == self.rec.timezone and known[1] is self.now:
            return known[2]
        try:
            day = self.now.astimezone(ZoneInfo(self.rec.timezone)).date()
        except (KeyError, ValueError):
            day = self.now.date()
        self._today = (self.rec.timezone, self.now, day)
        return day

    @property
    def reading(self) -> Reading:
        """How this musician's numbers are read and shown: the locale of the person writing
        (the platform's on this event, else the one stored at sign-up) and the profile's
        currency — before that is settled, the locale's guess (``None``: the question's own
        currency)."""
        locale = self.inbound.locale or self.rec.locale
        currency = self.rec.currency or currency_guess(locale, self.today)
        return Reading(locale=locale, currency=currency)

    @property
    def roadmap(self) -> RoadmapInfo | None:
        """The musician's current roadmap, if chosen and still live, as their country sees
        it (:meth:`~core.roadmaps.catalog.Catalog.country_view`)."""
        return self.catalog.roadmap(self.rec.roadmap_id, self.rec.country)

    @property
    def awaiting(self) -> StrEnum | None:
        """What the coach is waiting for, as the owning feature's typed value (a state no
        feature declares any more reads as nothing awaited)."""
        name = self.rec.awaiting
        return None if name is None else self.states.get(name)

    @property
    def who(self) -> str:
        """The acting person as the audit log names them (``platform:id``)."""
        return f"{self.inbound.platform}:{self.inbound.user_id}"

    @property
    def form(self) -> str | None:
        """What the open question is, as an answer form names it (``Inbound.answers``): its
        task's slug, else the ``form`` a flow kept in the state's data (a prompt's key)."""
        task = self.state_task
        if task is not None:
            return task.slug
        form = self.rec.state_data.get("form") if self.rec.awaiting is not None else None
        return str(form) if form is not None else None

    @property
    def state_task(self) -> TaskInfo | None:
        """The task the awaited answer belongs to."""
        if self.rec.state_task_id is None:
            return None
        return self.catalog.tasks_by_id.get(self.rec.state_task_id)

    async def stage_progress(self, stage: StageInfo) -> dict[uuid.UUID, ProgressRecord]:
        """This profile's progress rows for the tasks of a stage, and of the earlier questions
        its conditional tasks depend on (``StageInfo.depends_on``: whether they apply)."""
        rows = await self.store.load_progress(self.rec.profile_id, "stage", stage.id)
        for task_id in stage.depends_on:
            rows.update(await self.store.load_progress(self.rec.profile_id, "task", task_id))
        return self._overlay(
            rows, lambda task: task.stage_id == stage.id or task.id in stage.depends_on
        )

    async def roadmap_progress(self, roadmap: RoadmapInfo) -> dict[uuid.UUID, ProgressRecord]:
        """This profile's progress rows for every task of a roadmap."""
        rows = await self.store.load_progress(self.rec.profile_id, "roadmap", roadmap.id)
        return self._overlay(rows, lambda task: task.roadmap_id == roadmap.id)

    async def task_progress(self, task: TaskInfo) -> ProgressRecord | None:
        """This profile's progress row for one task, if any."""
        rows = await self.store.load_progress(self.rec.profile_id, "task", task.id)
        return self._overlay(rows, lambda other: other.id == task.id).get(task.id)

    def _overlay(
        self, rows: dict[uuid.UUID, ProgressRecord], in_scope: Callable[[TaskInfo], bool]
    ) -> dict[uuid.UUID, ProgressRecord]:
        """Stored rows as this event has changed them (saves and deletes not yet flushed)."""
        if not self._pending and not self._deleted:
            return rows
        rows = {task_id: row for task_id, row in rows.items() if row.id not in self._deleted}
        for task_id, row in self._pending.items():
            task = self.catalog.tasks_by_id.get(task_id)
            if task is not None and in_scope(task):
                rows[task_id] = row
        return rows

    # ---------------------------------------------------------------- changing

    def set_state(
        self,
        awaiting: StrEnum | None,
        task: TaskInfo | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Record what the coach now waits for (a state a feature declared, or nothing)."""
        name = None if awaiting is None else awaiting.value
        if name is not None and self.states and name not in self.states:
            raise ValueError(f"state {name!r} is not declared by any feature")
        task_id = task.id if task else None
        data = data or {}
        rec = self.rec
        if rec.awaiting != name or rec.state_task_id != task_id or rec.state_data != data:
            rec.awaiting, rec.state_task_id, rec.state_data = name, task_id, data
            self._state_dirty = True

    def set_undo(self, undo: dict[str, Any] | None) -> None:
        """Replace the one-step undo record."""
        if self.rec.undo != undo:
            self.rec.undo = undo
            self._state_dirty = True

    def set_profile(self, **values: Any) -> None:
        """Change profile columns (written once, at the end of the event)."""
        for name, value in values.items():
            setattr(self.rec, name, value)
            self._profile_changes[name] = value

    def event(self, kind: str, **payload: Any) -> None:
        """Queue an outbox event, written in the same transaction."""
        self._events.append(
            {
                "id": uuid.uuid4(),
                "type": kind,
                "profile_id": self.rec.profile_id,
                "user_id": self.rec.user_id,
                "payload": {k: str(v) for k, v in payload.items()},
                "created_at": self.now,
                "processed_at": None,
            }
        )

    def audit(
        self,
        action: AuditAction,
        outcome: str,
        target: str | None = None,
        **details: Any,
    ) -> None:
        """Ask for an audit row about the acting person, written after the transaction."""
        self.audits.append(AuditNote(self.who, action, outcome, target, self.rec.user_id, details))

    def pending_events(self) -> list[dict[str, Any]]:
        """The outbox events queued so far in this turn (written by :meth:`flush`)."""
        return list(self._events)

    async def save(self, row: ProgressRecord) -> None:
        """Save one progress row at the flush (later reads in this event already see it)."""
        self._pending[row.task_id] = row

    async def delete(self, row: ProgressRecord) -> None:
        """Delete one progress row at the flush (later reads in this event no longer see it)."""
        if self._pending.get(row.task_id) is row:
            del self._pending[row.task_id]
        if row.stored:
            self._deleted.add(row.id)

    async def flush(self) -> None:
        """Write everything that changed; called once, at the end of the event."""
        rec, now, store = self.rec, self.now, self.store
        for row_id in self._deleted:
            await store.delete_progress(row_id)
        self._deleted.clear()
        pending = list(self._pending.values())
        self._pending.clear()
        if len(pending) == 1 and self._state_dirty:
            # The common tick or answer: its progress row and the state together (on
            # PostgreSQL one round trip: the store decides).
            await store.save_progress_and_state(rec, pending[0], now)
            self._state_dirty = False
        else:
            for row in pending:
                await store.save_progress(rec.profile_id, row, now)
        last = rec.last_activity_at
        if last is None or (now - last).total_seconds() >= ACTIVITY_RESOLUTION:
            self.set_profile(last_activity_at=now)
            await store.update_user(rec.user_id, last_active_at=now)
        if self._profile_changes:
            if set(self._profile_changes) - {"last_activity_at"}:
                self._profile_changes["updated_at"] = now
            await store.update_profile(rec.profile_id, **self._profile_changes)
            self._profile_changes = {}
        if self._state_dirty:
            await store.save_state(rec, now)
            self._state_dirty = False
        if self._events:
            await store.add_events(self._events)
            self._events = []
