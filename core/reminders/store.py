"""Every SQL statement of the reminder engine, built once on the ORM tables (SQLAlchemy Core).

They run through :class:`core.db.executor.Executor`, so on PostgreSQL they go straight onto
asyncpg like the conversation hot path, and on SQLite through SQLAlchemy. Where the dialects
differ (``FOR UPDATE SKIP LOCKED``, ``= ANY(array)`` versus an expanding ``IN``, the upsert) there
are two statements and :func:`pick` chooses.

The claim is a lease, not a lock held while sending (:mod:`core.jobs.claim`, shared with the
broadcast sender): a worker marks a batch of due rows ``claimed_by`` / ``claimed_until`` and
commits at once, sends, then records the deliveries and advances the rows in a second
transaction. A worker killed in between leaves rows whose lease
simply runs out; another worker takes them then. That is what makes delivery at-least-once:
the nudges it had already handed to the platform are sent again, nothing is lost.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ARRAY,
    Boolean,
    DateTime,
    Integer,
    String,
    Uuid,
    and_,
    any_,
    bindparam,
    literal_column,
    null,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql import ClauseElement

from core.db.executor import Executor
from core.db.tables import (
    bands,
    deliveries,
    profiles,
    progress,
    reminders,
    users,
)
from core.jobs.claim import Claim
from core.jobs.claim import claim as claim_rows


@dataclass(slots=True)
class ClaimedRow:
    """A reminder row as the claim returned it."""

    id: uuid.UUID
    user_id: uuid.UUID | None
    band_id: uuid.UUID | None
    kind: str
    schedule: dict[str, Any]
    timezone: str
    quiet_start: str | None
    quiet_end: str | None
    platform: str
    target_chat: str
    next_due_at: datetime
    stage: int
    attempts: int
    last_sent_at: datetime | None


@dataclass(slots=True)
class Owner:
    """The musician (or band) a reminder belongs to: their profile and whether we may write."""

    profile_id: uuid.UUID | None
    artist_name: str | None
    roadmap_id: uuid.UUID | None
    last_activity_at: datetime | None
    unreachable: bool
    #: The musician's live schedule reminder: when it last sent, when it is due next.
    schedule_sent_at: datetime | None = None
    schedule_due_at: datetime | None = None
    #: The profile's anchor dates (a plan reminder's dates are counted from them).
    anchors: dict[str, Any] = field(default_factory=dict)
    #: The profile's country: which country's tasks its nudges show (``Catalog.country_view``).
    country: str | None = None
    #: A band's reminder: the band's chat is out of reach (the bot was removed from the
    #: Telegram group, or it was deleted: core/bands/presence.py) — skipped, not tried.
    band_unreachable: bool = False


_CLAIMED_COLUMNS = (
    reminders.c.id,
    reminders.c.user_id,
    reminders.c.band_id,
    reminders.c.kind,
    reminders.c.schedule,
    reminders.c.timezone,
    reminders.c.quiet_start,
    reminders.c.quiet_end,
    reminders.c.platform,
    reminders.c.target_chat,
    reminders.c.next_due_at,
    reminders.c.stage,
    reminders.c.attempts,
    reminders.c.last_sent_at,
)

# ``NOT paused`` and ``next_due_at <= :now`` imply the partial index's predicate, so the
# planner walks ix_reminders_due in due order and stops after ``limit`` live rows. The lease is
# ``claimed_by`` / ``claimed_until``; advancing a row (:data:`ADVANCE`) releases it.
DUE = Claim(
    reminders,
    claimable=(
        ~reminders.c.paused,
        reminders.c.next_due_at <= bindparam("now"),
        reminders.c.platform == bindparam("for_platform"),
        or_(reminders.c.claimed_until.is_(None), reminders.c.claimed_until < bindparam("now")),
    ),
    order_by=(reminders.c.next_due_at,),
    lease={"claimed_by": bindparam("worker"), "claimed_until": bindparam("until")},
    returning=_CLAIMED_COLUMNS,
)
#: PostgreSQL: rows another worker is claiming right now are skipped, not waited for.
CLAIM_PG = DUE.postgresql
#: SQLite: one writer at a time anyway (the process-wide write lock), so a plain claim.
CLAIM_SQLITE = DUE.sqlite

# The musician's live schedule reminder next to each claimed row: an inactivity check-in is
# held back while a schedule nudge was just sent or is about to be (one message, not two).
_sibling = reminders.alias("sibling")
_OWNER_COLUMNS = (
    reminders.c.id,
    profiles.c.id,
    profiles.c.artist_name,
    profiles.c.roadmap_id,
    profiles.c.last_activity_at,
    users.c.unreachable,
    _sibling.c.last_sent_at,
    _sibling.c.next_due_at,
    profiles.c.anchors,
    profiles.c.country,
    bands.c.unreachable,
)
_OWNER = (
    select(*_OWNER_COLUMNS)
    .select_from(reminders)
    .outerjoin(
        profiles,
        or_(profiles.c.user_id == reminders.c.user_id, profiles.c.band_id == reminders.c.band_id),
    )
    .outerjoin(users, users.c.id == reminders.c.user_id)
    .outerjoin(bands, bands.c.id == reminders.c.band_id)
    .outerjoin(
        _sibling,
        and_(
            _sibling.c.user_id == reminders.c.user_id,
            _sibling.c.id != reminders.c.id,
            _sibling.c.kind == literal_column("'schedule'"),
            ~_sibling.c.paused,
        ),
    )
)
OWNERS_PG = _OWNER.where(reminders.c.id == any_(bindparam("ids", type_=ARRAY(Uuid()))))
OWNERS_SQLITE = _OWNER.where(reminders.c.id.in_(bindparam("ids", expanding=True)))

_PROGRESS = select(
    progress.c.profile_id, progress.c.task_id, progress.c.status, progress.c.task_data
)
PROGRESS_PG = _PROGRESS.where(progress.c.profile_id == any_(bindparam("pids", type_=ARRAY(Uuid()))))
PROGRESS_SQLITE = _PROGRESS.where(progress.c.profile_id.in_(bindparam("pids", expanding=True)))


def _record(insert_: Any) -> ClauseElement:
    stmt = insert_(deliveries)
    upsert: ClauseElement = stmt.on_conflict_do_update(
        index_elements=[deliveries.c.idempotency_key],
        set_={
            "status": stmt.excluded.status,
            "attempts": deliveries.c.attempts + literal_column("1"),
            "last_error": stmt.excluded.last_error,
            "sent_at": stmt.excluded.sent_at,
        },
    )
    return upsert


#: One delivery row per (reminder, due time); a repeat of the same key counts an attempt.
RECORD_PG = _record(pg_insert)
RECORD_SQLITE = _record(sqlite_insert)

#: Advance a row and release its claim — only if the claim is still ours.
ADVANCE = (
    update(reminders)
    .where(reminders.c.id == bindparam("rid"), reminders.c.claimed_by == bindparam("worker"))
    .values(
        next_due_at=bindparam("next_due"),
        stage=bindparam("new_stage"),
        attempts=bindparam("new_attempts"),
        last_sent_at=bindparam("sent_at"),
        paused=bindparam("pause"),
        claimed_until=bindparam("retry_at"),
        claimed_by=null(),
    )
)
# PostgreSQL: a whole batch in ONE statement each (arrays unnested server-side) instead of one
# execution per row: the bookkeeping's cost on PostgreSQL is mostly per-statement overhead.
_DELIVERY_COLUMNS = (
    ("id", Uuid()),
    ("idempotency_key", String()),
    ("reminder_id", Uuid()),
    ("user_id", Uuid()),
    ("kind", String()),
    ("platform", String()),
    ("target_chat", String()),
    ("status", String()),
    ("attempts", Integer()),
    ("last_error", String()),
    ("due_at", DateTime(timezone=True)),
    ("sent_at", DateTime(timezone=True)),
    ("created_at", DateTime(timezone=True)),
)
RECORD_BATCH_PG = text(
    "INSERT INTO deliveries (id, idempotency_key, reminder_id, user_id, kind, platform, "
    "target_chat, status, attempts, last_error, due_at, sent_at, created_at) "
    "SELECT * FROM unnest(:a_id, :a_idempotency_key, :a_reminder_id, :a_user_id, :a_kind, "
    ":a_platform, :a_target_chat, :a_status, :a_attempts, :a_last_error, :a_due_at, "
    ":a_sent_at, :a_created_at) "
    "ON CONFLICT (idempotency_key) DO UPDATE SET status = excluded.status, "
    "attempts = deliveries.attempts + 1, last_error = excluded.last_error, "
    "sent_at = excluded.sent_at"
).bindparams(*(bindparam(f"a_{name}", type_=ARRAY(kind)) for name, kind in _DELIVERY_COLUMNS))
_ADVANCE_COLUMNS = (
    ("rid", Uuid()),
    ("next_due", DateTime(timezone=True)),
    ("new_stage", Integer()),
    ("new_attempts", Integer()),
    ("sent_at", DateTime(timezone=True)),
    ("pause", Boolean()),
    ("retry_at", DateTime(timezone=True)),
)
ADVANCE_BATCH_PG = text(
    "UPDATE reminders AS r SET next_due_at = v.next_due, stage = v.new_stage, "
    "attempts = v.new_attempts, last_sent_at = v.sent_at, paused = v.pause, "
    "claimed_until = v.retry_at, claimed_by = NULL "
    "FROM unnest(:a_rid, :a_next_due, :a_new_stage, :a_new_attempts, :a_sent_at, :a_pause, "
    ":a_retry_at) AS v(rid, next_due, new_stage, new_attempts, sent_at, pause, retry_at) "
    "WHERE r.id = v.rid AND r.claimed_by = :worker"
).bindparams(*(bindparam(f"a_{name}", type_=ARRAY(kind)) for name, kind in _ADVANCE_COLUMNS))


async def record_deliveries(ex: Executor, records: list[dict[str, Any]]) -> None:
    """Insert (or count another attempt of) the batch's delivery rows."""
    if not records:
        return
    if ex.dialect != "postgresql":
        await ex.run_many(RECORD_SQLITE, records)
        return
    columns = {f"a_{name}": [r[name] for r in records] for name, _ in _DELIVERY_COLUMNS}
    await ex.run(RECORD_BATCH_PG, columns)


async def advance(ex: Executor, worker: str, advances: list[dict[str, Any]]) -> None:
    """Move the batch's rows to their next due time and release the claims that are ours."""
    if not advances:
        return
    if ex.dialect != "postgresql":
        await ex.run_many(ADVANCE, [{**a, "worker": worker} for a in advances])
        return
    columns = {f"a_{name}": [a[name] for a in advances] for name, _ in _ADVANCE_COLUMNS}
    await ex.run(ADVANCE_BATCH_PG, {"worker": worker, **columns})


def pick(ex: Executor, pg: ClauseElement, sqlite: ClauseElement) -> ClauseElement:
    """The statement for this executor's dialect."""
    return pg if ex.dialect == "postgresql" else sqlite


async def claim(
    ex: Executor, *, platform: str, now: datetime, lease: timedelta, worker: str, limit: int
) -> list[ClaimedRow]:
    """Lease up to ``limit`` due rows of one platform to ``worker`` for ``lease``."""
    rows = await claim_rows(
        ex,
        DUE,
        now=now,
        lease=lease,
        limit=limit,
        params={"for_platform": platform, "worker": worker},
    )
    return [ClaimedRow(*row) for row in rows]


async def owners(ex: Executor, ids: list[uuid.UUID]) -> dict[uuid.UUID, Owner]:
    """The profile and reachability behind each reminder."""
    rows = await ex.rows(pick(ex, OWNERS_PG, OWNERS_SQLITE), {"ids": ids})
    return {
        row[0]: Owner(
            profile_id=row[1],
            artist_name=row[2],
            roadmap_id=row[3],
            last_activity_at=row[4],
            unreachable=bool(row[5]),
            schedule_sent_at=row[6],
            schedule_due_at=row[7],
            anchors=row[8] or {},
            country=row[9],
            band_unreachable=bool(row[10]),
        )
        for row in rows
    }


async def progress_of(
    ex: Executor, profile_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[uuid.UUID, str, dict[str, Any]]]]:
    """Every progress row of these profiles: (task, status, data) per profile."""
    out: dict[uuid.UUID, list[tuple[uuid.UUID, str, dict[str, Any]]]] = {}
    if not profile_ids:
        return out
    rows = await ex.rows(pick(ex, PROGRESS_PG, PROGRESS_SQLITE), {"pids": profile_ids})
    for pid, task_id, status, data in rows:
        out.setdefault(pid, []).append((task_id, status, data or {}))
    return out
