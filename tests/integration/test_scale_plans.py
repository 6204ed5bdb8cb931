"""The work around the chat reads by index (issue #18): ``/admin stats``, ``/export``, ``/forget``.

``benchmarks/scale.py`` measures them at 100 000 musicians; this keeps the plans that make those
figures. A small database is filled like a year of use (``tests/support/scalekit.py``), sequential
scans are priced out (``enable_seqscan = off``), and:

* the stats' figures and funnel must read the indexes named here (the week's completions, the
  week's nudges, the users' activity, profiles by roadmap and stage);
* every statement ``/export``'s footprint and ``/forget`` send — recorded as they run, then
  explained with their own parameters — must read no table that grows with the musicians whole;
* every foreign key a forget makes PostgreSQL follow (into the tables a person owns rows of)
  must lead an index, or deleting the person scans the referencing table.

A change that drops one of these indexes, or writes a predicate none can serve, leaves a
``Seq Scan`` (priced out, but the only way left) and fails here.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from querykit import BIG_TABLES, Plan
from scalekit import fill, musician_number
from sqlalchemy import event
from support.memory import bundled_roadmaps

from core.admin import privacy, stats
from core.db.engine import Database
from core.db.executor import AsyncpgExecutor
from core.roadmaps.sync import sync_roadmaps

pytestmark = pytest.mark.postgres_only

MUSICIANS = 200
#: The tables of the fill that grow with the musicians (the coaching reads' list, and more).
GROWING = BIG_TABLES | {"events", "audit_log", "milestones", "band_members"}


@contextmanager
def _recorded(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """The SQL and parameters of every statement run on ``db`` meanwhile."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def _filled(database: Database, now: datetime) -> None:
    async with database.transaction() as session:
        await sync_roadmaps(session, list(bundled_roadmaps()))
    async with database.unit_of_work() as plain:
        assert isinstance(plain, AsyncpgExecutor)
        await fill(plain.conn, MUSICIANS, now, vacuum=False)


async def _plans(database: Database, statements: list[tuple[str, Any]]) -> list[tuple[str, Plan]]:
    """EXPLAIN of each recorded statement, in a transaction rolled back, seqscans priced out."""
    out = []
    async with database.engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        async with raw.transaction():
            await raw.execute("SET LOCAL enable_seqscan = off")
            for sql, parameters in statements:
                if not sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "INSERT")):
                    continue
                args = list(parameters or ())
                raw_plan = await raw.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *args)
                top = json.loads(raw_plan) if isinstance(raw_plan, str) else raw_plan
                out.append((sql, Plan(top[0])))
    return out


async def test_the_stats_figures_read_their_indexes(database: Database) -> None:
    now = datetime.now(UTC)  # the fill's times are relative to it
    await _filled(database, now)
    with _recorded(database) as seen:
        async with database.transaction() as session:
            figures = await stats.collect(session, now)
    assert figures.musicians == MUSICIANS
    assert figures.tasks_completed_7d > 0
    assert figures.reminders_sent_7d > 0
    assert len(seen) == 3, "the figures, the funnel and the tags: three statements"
    [(_, plan), (_, funnel), (_, tags)] = await _plans(database, seen)
    expected = {
        "ix_users_last_active_at",
        "ix_events_completions",
        "ix_deliveries_nudges_created_at",
    }
    for indexes, explained in (
        (expected, plan),
        ({"ix_profiles_roadmap_stage"}, funnel),
        ({"ix_users_start_tag"}, tags),  # the tagged users only, never every user
    ):
        shown = "\n".join(explained.key_lines())
        assert indexes <= explained.indexes(), f"missing {indexes - explained.indexes()}\n{shown}"
        assert not explained.seq_scans() & GROWING, shown


async def test_export_and_forget_read_by_index(database: Database) -> None:
    now = datetime.now(UTC)
    await _filled(database, now)
    i = musician_number(MUSICIANS, 1)  # an export, a lookup, a link and an unlink in the log
    user_id = uuid.UUID(hashlib.md5(f"u{i}".encode()).hexdigest())  # noqa: S324 - the fill's ids
    with _recorded(database) as seen:
        async with database.transaction() as session:
            found = await privacy.footprint(session, user_id)
            await privacy.forget(session, found, privacy.new_pseudonym())
            await session.rollback()
    assert found.owned["user_task_progress"], "the fill gave them progress rows"
    assert found.mentioned.get("audit_log"), "the fill gave them an audit trail"
    if database.is_postgres:  # no parallel workers: their start-up was most of /export's time
        assert seen[0][0] == "SET LOCAL max_parallel_workers_per_gather = 0"
    plans = await _plans(database, seen)
    assert len(plans) > 20
    for sql, plan in plans:
        scanned = plan.seq_scans() & GROWING
        assert not scanned, f"{scanned} read whole by:\n{sql}\n" + "\n".join(plan.key_lines())


#: Foreign keys into the rows a person owns whose referencing table stays small (one row per
#: band or per broadcast): no index, on purpose.
_SMALL = {
    ("broadcasts", "created_by"),
    ("band_assignments", "user_id"),
    ("band_assignments", "assigned_by"),
    ("band_assignments", "task_id"),
}


async def test_every_key_a_forget_follows_leads_an_index(database: Database) -> None:
    """Deleting a user (and with it their profile, reminders, …) makes PostgreSQL find the rows
    pointing at each deleted row (CASCADE or SET NULL) with a query of its own, not shown by
    EXPLAIN: without an index leading with the key, that query scans the referencing table."""
    async with database.engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        rows = await raw.fetch(
            """
            SELECT c.conrelid::regclass::text AS tab, a.attname AS col,
                   c.confrelid::regclass::text AS parent,
                   EXISTS (SELECT 1 FROM pg_index i
                           WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1]
                                 AND i.indisvalid) AS indexed
            FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            WHERE c.contype = 'f' AND c.confdeltype IN ('c', 'n')
                  AND c.confrelid::regclass::text IN ('users', 'profiles', 'reminders', 'bands',
                                                      'broadcasts', 'identities')
            """
        )
    assert rows
    missing = {(r["tab"], r["col"]) for r in rows if not r["indexed"]} - _SMALL
    assert not missing, f"keys a forget follows without an index: {sorted(missing)}"
