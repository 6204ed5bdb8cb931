"""The coach's reads for 100 000 musicians, explained: a seed and the code's own statements.

Issue #13 §5 asks that plans and projections are computed from indexed queries, and that the
plans are shown. Two places need the same thing: ``benchmarks/coaching_plans.py`` (100 000
musicians, ``EXPLAIN ANALYZE``, the figures in the README) and
``tests/integration/test_query_plans.py`` (a small database, sequential scans priced out, so a
change that drops an index or writes an unindexable predicate fails). Both use this kit:

* :func:`seed` — musicians in bulk, set-based (``generate_series``): users, identities,
  profiles (roadmap, stage, a release date for some, tracked numbers with a goal summary),
  conversation state, progress rows, monthly stat samples, goals, and reminder rows of every
  kind (schedule, inactivity, checkin, plan) with their due times spread, some due now;
* :class:`ExplainingExecutor` — an :class:`~core.db.executor.Executor` that explains every
  statement it is given (in a savepoint that is rolled back, so an explained ``UPDATE`` changes
  nothing), then runs it for real and hands the rows back;
* :func:`tick_batch` and :func:`one_musician` — the code's own functions (the tick's claim,
  ``owners``, ``stats_of``, ``progress_of``; the turn's locked read, the roadmap's progress,
  ``/stats`` and ``/goal`` samples, goals) run on that executor. Nothing here retypes their SQL:
  what is explained is what the code sends, with the parameters it binds.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.sql import ClauseElement

from core.coaching.numbers.metrics import PROJECTION_SAMPLES
from core.coaching.numbers.views import STATS_SAMPLES
from core.db.executor import compiled_for_asyncpg
from core.kernel import store as turn_store
from core.reminders import checkin_kind
from core.reminders import store as reminder_store
from core.reminders.tick import TickConfig

T = TypeVar("T")

#: The platform every seeded musician talks on (the claim is per platform).
PLATFORM = "telegram"
#: The tracked numbers the seed gives musicians: everyone the first, every 2nd the second, every
#: 5th the third (names of the shipped content's tracked metrics).
METRICS = ("monthly_listeners", "followers_instagram", "mailing_list_size")
#: Monthly samples per metric.
SAMPLES_PER_METRIC = 12
#: Tables that grow with the number of musicians: a sequential scan of one is a finding.
BIG_TABLES = frozenset(
    {
        "users",
        "identities",
        "profiles",
        "conversation_state",
        "user_task_progress",
        "stat_samples",
        "goals",
        "reminders",
        "deliveries",
        "processed_updates",
    }
)


# ---------------------------------------------------------------------------------- the seed


@dataclass(frozen=True, slots=True)
class Seeded:
    """How many rows of each table :func:`seed` wrote."""

    counts: Mapping[str, int]


_TASK_ORDER = """
CREATE TEMP TABLE seed_tasks ON COMMIT DROP AS
SELECT t.id, t.roadmap_id, t.stage_id,
       row_number() OVER (PARTITION BY t.roadmap_id ORDER BY s.position, t.position) AS k,
       dense_rank() OVER (ORDER BY r.position, r.id) - 1 AS r
FROM tasks t JOIN roadmap_stages s ON s.id = t.stage_id JOIN roadmaps r ON r.id = t.roadmap_id
WHERE NOT t.archived AND NOT r.archived
"""

# Musician i: roadmap i % R; k = (i * 7919) % 25 tasks dealt with (fewer when the roadmap is
# shorter); a release date for i % 10 < 3, 40 days ago to 80 days ahead; the numbers of
# METRICS[0] always, [1] for even i, [2] for i % 5 = 0; a goal for i % 10 in (0, 3, 4);
# reminders (schedule, inactivity, checkin) for i % 5 < 3, a plan reminder with a release date.
_SEED = (
    """
CREATE TEMP TABLE seed_m ON COMMIT DROP AS
SELECT i,
       md5('u' || i)::uuid AS uid, md5('p' || i)::uuid AS pid,
       i % (SELECT count(DISTINCT r) FROM seed_tasks) AS r,
       (i * 7919) % 25 AS k,
       i % 10 < 3 AS dated,
       i % 10 IN (0, 3, 4) AS goal,
       i % 5 < 3 AS nudged,
       i % 20 = 0 AS stopped,
       ($2::timestamptz)::date + ((i * 31) % 120 - 40) AS release
FROM generate_series(1, $1::int) i
""",
    """
INSERT INTO users (id, timezone, roles, broadcasts_opt_out, unreachable, created_at,
                   last_active_at)
SELECT uid, 'Europe/Berlin', '[]'::jsonb, false, false, $1::timestamptz - interval '400 days',
       $1::timestamptz - ((i * 13) % 40) * interval '1 day'
FROM seed_m
""",
    """
INSERT INTO identities (id, user_id, platform, external_id, created_at)
SELECT md5('i' || i)::uuid, uid, 'telegram', (100000000 + i)::text, $1::timestamptz
FROM seed_m
""",
    """
CREATE TEMP TABLE seed_stats ON COMMIT DROP AS
SELECT m.i, metric.name, metric.n,
       jsonb_build_object(
           'value', (100 * metric.n + m.i % 5000)::text,
           'display', (100 * metric.n + m.i % 5000)::text,
           'unit', NULL,
           'at', to_char(($1::timestamptz - ((m.i * 17) % 40) * interval '1 day')
                         AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')
       ) || CASE WHEN m.goal AND metric.n = 1 THEN jsonb_build_object('goal', jsonb_build_object(
           'target', (m.i % 5000 + 2000)::text,
           'by', (($1::timestamptz)::date + 90)::text)) ELSE '{}'::jsonb END AS entry
FROM seed_m m
CROSS JOIN LATERAL (VALUES (1, $2::text), (2, $3::text), (3, $4::text)) AS metric(n, name)
WHERE metric.n = 1 OR (metric.n = 2 AND m.i % 2 = 0) OR (metric.n = 3 AND m.i % 5 = 0)
""",
    """
INSERT INTO profiles (id, user_id, artist_name, current_stats, anchors, roadmap_id,
                      current_stage_id, created_at, updated_at, last_activity_at)
SELECT m.pid, m.uid, 'Artist ' || m.i, coalesce(numbers.stats, '{}'::jsonb),
       CASE WHEN m.dated THEN jsonb_build_object('release', m.release::text)
            ELSE '{}'::jsonb END,
       first.roadmap_id,
       coalesce(next.stage_id, last.stage_id),
       $1::timestamptz - interval '400 days', $1::timestamptz,
       $1::timestamptz - ((m.i * 13) % 40) * interval '1 day'
FROM seed_m m
JOIN seed_tasks first ON first.r = m.r AND first.k = 1
LEFT JOIN seed_tasks next ON next.r = m.r AND next.k = m.k + 1
JOIN (SELECT DISTINCT ON (r) r, stage_id FROM seed_tasks ORDER BY r, k DESC) last
     ON last.r = m.r
LEFT JOIN (SELECT i, jsonb_object_agg(name, entry) AS stats FROM seed_stats GROUP BY i) numbers
     ON numbers.i = m.i
""",
    """
INSERT INTO conversation_state (profile_id, data, updated_at)
SELECT pid, '{}'::jsonb, $1::timestamptz FROM seed_m
""",
    """
INSERT INTO user_task_progress (id, profile_id, task_id, status, task_data, completed_by,
                                completed_at, updated_at)
SELECT lpad(to_hex(m.i::bigint * 1000 + t.k), 32, '0')::uuid, m.pid, t.id,
       CASE WHEN t.k % 9 = 0 THEN 'skipped' WHEN t.k % 13 = 0 THEN 'postponed'
            ELSE 'completed' END,
       '{}'::jsonb, m.uid,
       CASE WHEN t.k % 9 = 0 OR t.k % 13 = 0 THEN NULL
            ELSE $1::timestamptz - (m.k - t.k) * interval '2 days' END,
       $1::timestamptz
FROM seed_m m JOIN seed_tasks t ON t.r = m.r AND t.k <= m.k
""",
    """
INSERT INTO stat_samples (id, profile_id, metric, value, recorded_by, recorded_at)
SELECT lpad(to_hex(s.i::bigint * 1000 + s.n * 100 + j), 32, '0')::uuid, m.pid, s.name,
       100 * s.n + s.i % 5000 - 10 * j, m.uid,
       $1::timestamptz - ((s.i * 17) % 40) * interval '1 day' - j * interval '30 days'
FROM seed_stats s JOIN seed_m m ON m.i = s.i
CROSS JOIN generate_series(0, $2::int - 1) j
""",
    """
INSERT INTO goals (id, profile_id, metric, target, due_on, baseline, set_by, set_at)
SELECT md5('g' || i)::uuid, pid, $2::text, i % 5000 + 2000, ($1::timestamptz)::date + 90,
       i % 5000, uid, $1::timestamptz - interval '30 days'
FROM seed_m WHERE goal
""",
    # Due times: schedule within 7 days, inactivity 1 h to 10 days, check-ins within 30 days,
    # plans within 60 days (a third of them paused: nothing left to remind of); the rows of
    # i % 200 = 1 are all due in the last 5 minutes (the claim's batch: every kind).
    """
INSERT INTO reminders (id, user_id, kind, schedule, timezone, platform, target_chat,
                       next_due_at, paused, created_at, stage, attempts)
SELECT md5('r' || m.i || kind.name)::uuid, m.uid, kind.name,
       CASE kind.name WHEN 'schedule'
            THEN '{"type": "daily", "time": "18:00", "days": [0,1,2,3,4,5,6]}'::jsonb
            ELSE '{}'::jsonb END,
       'Europe/Berlin', 'telegram', (100000000 + m.i)::text,
       CASE WHEN kind.name = 'plan' AND m.i % 3 = 0 AND m.i % 200 <> 1 THEN NULL
            WHEN m.i % 200 = 1 THEN $1::timestamptz - ((m.i * 13 + kind.n * 7) % 300)
                                                      * interval '1 second'
            ELSE $1::timestamptz + CASE kind.name
                WHEN 'schedule' THEN ((m.i * 37) % 10080) * interval '1 minute'
                WHEN 'inactivity' THEN interval '1 hour'
                                       + ((m.i * 53) % 14400) * interval '1 minute'
                WHEN 'checkin' THEN ((m.i * 71) % 43200) * interval '1 minute'
                ELSE ((m.i * 97) % 86400) * interval '1 minute' END
       END,
       (m.stopped AND m.i % 200 <> 1) OR (kind.name = 'plan' AND m.i % 3 = 0 AND m.i % 200 <> 1),
       $1::timestamptz - interval '100 days', 0, 0
FROM seed_m m
CROSS JOIN (VALUES (1, 'schedule'), (2, 'inactivity'), (3, 'checkin'), (4, 'plan')) kind(n, name)
WHERE (m.nudged AND kind.name <> 'plan') OR (m.dated AND kind.name = 'plan')
""",
)

_COUNTED = (
    "users",
    "profiles",
    "user_task_progress",
    "stat_samples",
    "goals",
    "reminders",
)


async def seed(
    conn: Any, musicians: int, now: datetime, *, samples_per_metric: int = SAMPLES_PER_METRIC
) -> Seeded:
    """Write ``musicians`` musicians and everything they have, in one transaction on ``conn``
    (an asyncpg connection on a migrated database with the roadmaps synced), then ANALYZE.
    ``samples_per_metric``: monthly samples of each tracked number (the scale benchmark's
    year of use has fewer than the coaching reads' worst case).

    Foreign keys are not checked while seeding (``session_replication_role = replica``: the
    rows are consistent by construction, and a check per row would be most of the time).
    """
    async with conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.execute(_TASK_ORDER)
        create, users_, identities, stats, profiles, states, progress, samples, goals, due = _SEED
        await conn.execute(create, musicians, now)
        await conn.execute("ANALYZE seed_tasks; ANALYZE seed_m")
        for statement in (users_, identities):
            await conn.execute(statement, now)
        await conn.execute(stats, now, *METRICS)
        await conn.execute("ANALYZE seed_stats")
        for statement in (profiles, states, progress):
            await conn.execute(statement, now)
        await conn.execute(samples, now, samples_per_metric)
        await conn.execute(goals, now, METRICS[0])
        await conn.execute(due, now)
    await conn.execute("ANALYZE")
    counts = {t: int(await conn.fetchval(f"SELECT count(*) FROM {t}")) for t in _COUNTED}
    return Seeded(counts)


@dataclass(frozen=True, slots=True)
class Musician:
    """One seeded musician with everything: a release date, three numbers, a goal, progress."""

    profile_id: uuid.UUID
    external_id: str
    roadmap_id: uuid.UUID
    metric: str


async def musician(conn: Any, musicians: int) -> Musician:
    """A seeded musician near the middle with everything: ``i`` a multiple of 10 (a release
    date, three numbers, a goal) with at least 15 tasks dealt with."""
    i = max(10, musicians // 2 // 10 * 10)
    while (i * 7919) % 25 < 15 and i > 10:
        i -= 10
    row = await conn.fetchrow(
        "SELECT p.id, p.roadmap_id FROM profiles p WHERE p.id = md5('p' || $1::int)::uuid", i
    )
    return Musician(row[0], str(100000000 + i), row[1], METRICS[0])


# ---------------------------------------------------------------------------------- explaining


@dataclass(frozen=True, slots=True)
class Plan:
    """One plan as ``EXPLAIN (FORMAT JSON)`` gives it, read the ways the kit needs."""

    #: The JSON plan's top object (``{"Plan": …, "Planning Time": …, "Execution Time": …}``).
    top: dict[str, Any]

    def nodes(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """Every plan node with its depth, depth first."""
        stack: list[tuple[int, dict[str, Any]]] = [(0, self.top["Plan"])]
        while stack:
            depth, node = stack.pop()
            yield depth, node
            stack.extend((depth + 1, child) for child in reversed(node.get("Plans", [])))

    def indexes(self) -> set[str]:
        """The names of the indexes the plan reads."""
        return {node["Index Name"] for _, node in self.nodes() if "Index Name" in node}

    def seq_scans(self) -> set[str]:
        """The tables the plan reads whole."""
        return {
            node["Relation Name"] for _, node in self.nodes() if node["Node Type"] == "Seq Scan"
        }

    @property
    def execution_ms(self) -> float | None:
        """``EXPLAIN ANALYZE``'s execution time (None when not analyzed)."""
        value = self.top.get("Execution Time")
        return None if value is None else float(value)

    @property
    def planning_ms(self) -> float | None:
        """The planner's time (None when not analyzed)."""
        value = self.top.get("Planning Time")
        return None if value is None else float(value)

    def key_lines(self) -> list[str]:
        """The plan as short lines: node, index, table, actual rows × loops."""
        out = []
        for depth, node in self.nodes():
            kind = node["Node Type"]
            if kind == "ModifyTable":
                kind = node.get("Operation", kind)
            text = kind
            if node.get("Scan Direction") == "Backward":
                text += " Backward"
            if "Index Name" in node:
                text += f" using {node['Index Name']}"
            if "Relation Name" in node:
                alias = node.get("Alias")
                name = node["Relation Name"]
                text += f" on {name}" + (f" {alias}" if alias and alias != name else "")
            if "CTE Name" in node:
                text += f" ({node['CTE Name']})"
            if "Actual Rows" in node:
                loops = node.get("Actual Loops", 1)
                text += f"  rows={node['Actual Rows']}" + (f"×{loops}" if loops != 1 else "")
            out.append("  " * depth + text)
        return out

    def summary(self) -> str:
        """The plan's scans in one line: ``Index Scan ix_x (t), Seq Scan (small)`` (a bitmap
        scan is named by its index)."""
        parts = []
        for _, node in self.nodes():
            kind = node["Node Type"]
            index = node.get("Index Name")
            table = node.get("Relation Name")
            if index is not None:
                parts.append(f"{kind} {index}" + (f" ({table})" if table else ""))
            elif kind == "Seq Scan":
                parts.append(f"Seq Scan ({table})")
        return ", ".join(dict.fromkeys(parts))


@dataclass(slots=True)
class Explained:
    """One statement the code ran, its plan, and what the real run returned."""

    name: str
    sql: str
    plan: Plan
    #: The plan of the prepared statement's sixth run (asyncpg prepares every statement; after
    #: five runs the server may switch to a generic plan): see ExplainingExecutor._prepared.
    prepared: Plan | None = None
    #: The generic plan (``plan_cache_mode = force_generic_plan``): what the sixth run would
    #: get if the server found it no dearer than planning per value.
    generic: Plan | None = None
    rows: int = 0
    #: Client-side wall time of repeated real runs (each rolled back), in ms; empty when not
    #: repeated.
    timings_ms: list[float] = field(default_factory=list)

    @property
    def median_ms(self) -> float | None:
        """Median client-side time of the repeated runs."""
        return statistics.median(self.timings_ms) if self.timings_ms else None


def _literal(value: Any) -> str:
    """A parameter value as an untyped SQL literal for ``EXECUTE`` (which takes no bound
    parameters): the prepared statement's parameter types decide what it becomes."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "'true'" if value else "'false'"
    if isinstance(value, datetime):
        text = value.isoformat()
    elif isinstance(value, list | tuple):
        text = "{" + ",".join(f'"{item}"' for item in value) + "}"
    elif isinstance(value, dict):
        text = json.dumps(value)
    else:
        text = str(value)
    return "'" + text.replace("'", "''") + "'"


def _plan(raw: Any) -> Plan:
    """The plan of one ``EXPLAIN (FORMAT JSON)`` (decoded by the connection's codec or not)."""
    top = json.loads(raw) if isinstance(raw, str) else raw
    return Plan(top[0])


class ExplainingExecutor:
    """Runs the code's statements on one asyncpg connection, explaining each one first.

    Each :meth:`rows` call: ``EXPLAIN (FORMAT JSON[, ANALYZE, BUFFERS])`` in a savepoint that is
    rolled back (an analyzed ``UPDATE`` really runs), then ``repeat`` timed real runs, each
    rolled back too, then the real run whose rows go back to the caller. The caller holds a
    transaction on ``conn`` (savepoints need one) and decides whether it commits.
    """

    dialect = "postgresql"

    def __init__(
        self,
        conn: Any,
        *,
        analyze: bool,
        repeat: int = 0,
        prepared: bool = False,
    ) -> None:
        self.conn = conn
        self.analyze = analyze
        self.repeat = repeat
        #: Also explain the plan of the prepared statement's sixth run and its generic plan
        #: (:meth:`_prepared`).
        self.prepared = prepared
        self.explained: list[Explained] = []
        self._name = "?"

    async def named(self, name: str, work: Awaitable[T]) -> T:
        """Await ``work`` (one of the code's functions), naming the statements it runs."""
        self._name = name
        try:
            return await work
        finally:
            self._name = "?"

    async def _undone(self, call: Callable[[], Awaitable[T]]) -> T:
        savepoint = self.conn.transaction()
        await savepoint.start()
        try:
            return await call()
        finally:
            await savepoint.rollback()

    async def rows(self, stmt: ClauseElement, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        """Explain, time and run one statement that returns rows."""
        sql, names = compiled_for_asyncpg(stmt, list(params))
        args = [params[name] for name in names]
        options = "ANALYZE, BUFFERS, FORMAT JSON" if self.analyze else "FORMAT JSON"
        raw = await self._undone(lambda: self.conn.fetchval(f"EXPLAIN ({options}) {sql}", *args))
        done = Explained(self._name, sql, _plan(raw))
        if self.prepared:
            done.prepared = await self._prepared(sql, args, forced=False)
            done.generic = await self._prepared(sql, args, forced=True)
        for _ in range(self.repeat):
            savepoint = self.conn.transaction()
            await savepoint.start()
            start = time.perf_counter()
            await self.conn.fetch(sql, *args)
            done.timings_ms.append((time.perf_counter() - start) * 1000)
            await savepoint.rollback()
        result: Sequence[Sequence[Any]] = await self.conn.fetch(sql, *args)
        done.rows = len(result)
        self.explained.append(done)
        return result

    async def _prepared(self, sql: str, args: list[Any], *, forced: bool) -> Plan:
        """The plan a prepared statement runs with from its sixth execution on.

        asyncpg prepares every statement once per connection; PostgreSQL plans the first five
        executions for their values and may then switch to one generic plan (when it does not
        look dearer). So: ``PREPARE``, five executions (each rolled back), and the plan of the
        next, with ``plan_cache_mode = force_generic_plan`` when ``forced`` (the worst case)
        or as the server chooses. A prepared statement outlives a rolled back savepoint, so it
        is deallocated after the rollback.
        """
        values = ", ".join(_literal(arg) for arg in args)
        call = f"EXECUTE coach_prepared({values})" if args else "EXECUTE coach_prepared"
        savepoint = self.conn.transaction()
        await savepoint.start()
        prepared = False
        try:
            await self.conn.execute(f"PREPARE coach_prepared AS {sql}")
            prepared = True
            if forced:
                await self.conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            for _ in range(5):
                await self._undone(lambda: self.conn.execute(call))
            return _plan(await self.conn.fetchval(f"EXPLAIN (FORMAT JSON) {call}"))
        finally:
            await savepoint.rollback()
            if prepared:
                await self.conn.execute("DEALLOCATE coach_prepared")

    async def run(self, stmt: ClauseElement, params: Mapping[str, Any]) -> None:
        """Statements run for their effect are not what this kit looks at: run it."""
        sql, names = compiled_for_asyncpg(stmt, list(params))
        await self.conn.execute(sql, *[params[name] for name in names])

    async def run_many(self, stmt: ClauseElement, params: Sequence[Mapping[str, Any]]) -> None:
        """Run a statement once per parameter set."""
        if not params:
            return
        sql, names = compiled_for_asyncpg(stmt, list(params[0]))
        await self.conn.executemany(sql, [[p[name] for name in names] for p in params])


# ---------------------------------------------------------------------------------- the reads


async def tick_batch(ex: ExplainingExecutor, now: datetime) -> int:
    """The tick's reads for one batch (:meth:`core.reminders.tick.ReminderTick._claim`): the
    claim, the owners, the check-in rows' numbers, the progress of the batch's profiles.
    Returns how many rows the claim took.

    The progress read is asked for every owner of the batch (the tick asks for those of plan
    rows and of rows it sends: at most the same). The claim's lease stays in ``ex``'s
    transaction (roll it back).
    """
    config = TickConfig()
    rows = await ex.named(
        "tick: claim a batch",
        reminder_store.claim(
            ex,
            platform=PLATFORM,
            now=now,
            lease=config.lease,
            worker="query-plans",
            limit=config.batch_size,
        ),
    )
    found = await ex.named("tick: owners()", reminder_store.owners(ex, [r.id for r in rows]))
    await ex.named("tick: check-in numbers (stats_of)", checkin_kind.stats_of(ex, rows, found))
    pids = sorted({o.profile_id for o in found.values() if o.profile_id is not None})
    await ex.named("tick: plan rows' progress (progress_of)", reminder_store.progress_of(ex, pids))
    return len(rows)


async def one_musician(ex: ExplainingExecutor, who: Musician, now: datetime) -> None:
    """One musician's reads: the turn's locked read (with the replay check), the roadmap's
    progress (``/today``, ``/plan``), the samples of ``/stats`` and of a projection
    (``/goal``, ``/stats``), the goals (``/goal``) and a sample reaching a goal."""
    await ex.named(
        "turn: locked read",
        turn_store.load_turn(ex, PLATFORM, who.external_id, f"plans-{uuid.uuid4()}", now),
    )
    await ex.named(
        "/today, /plan: roadmap progress",
        turn_store.load_progress(ex, who.profile_id, "roadmap", who.roadmap_id),
    )
    await ex.named("/stats: samples", turn_store.recent_samples(ex, who.profile_id, STATS_SAMPLES))
    await ex.named(
        "/goal, /stats: one metric's samples",
        turn_store.metric_samples(ex, who.profile_id, who.metric, PROJECTION_SAMPLES),
    )
    await ex.named("/goal: goals", turn_store.load_goals(ex, who.profile_id))
    await ex.named(
        "answer: goal met", turn_store.mark_goal_met(ex, who.profile_id, who.metric, now)
    )


#: The statement names :func:`tick_batch` and :func:`one_musician` produce, in order.
STEPS = (
    "tick: claim a batch",
    "tick: owners()",
    "tick: check-in numbers (stats_of)",
    "tick: plan rows' progress (progress_of)",
    "turn: locked read",
    "/today, /plan: roadmap progress",
    "/stats: samples",
    "/goal, /stats: one metric's samples",
    "/goal: goals",
    "answer: goal met",
)
