"""A database filled like a year of real use, set-based: the scale benchmark's and the plan tests'.

Issue #18 measures the work *around* the chat (``/admin stats``, ``/export``, ``/forget``,
housekeeping) on a database that looks like a year of use, and keeps those statements on their
indexes. :func:`fill` writes it with ``INSERT … SELECT generate_series`` only:

* the coaching seed of :mod:`querykit` (users, identities, profiles, conversation state, the
  progress of the tasks dealt with, monthly samples — three per tracked number here, goals,
  reminders of every kind with some due now);
* a ``not_started`` progress row for every other task of the musician's roadmap (the coach
  writes one when it shows a task): ≈ 31 progress rows a musician;
* 20 outbox ``events`` a musician spread over the year (task completions most of all, a stage
  now and then, numbers, skips, a roadmap choice), processed a second after they were written
  except a small backlog of the last minutes;
* 14 nudge ``deliveries`` a year for each musician with reminders (95 % sent, 3 % failed, 2 %
  skipped), and one broadcast to everyone ten days ago (finished, its counts stored);
* two ``processed_updates`` a musician from the last six days (younger than their retention);
* ``audit_log``: an export for every 10th musician, an admin lookup of every 20th, a denial for
  every 25th in the last 80 days, a link and an unlink for every 50th (``user:<id>`` targets,
  ``new_user`` details);
* a band for every 200 musicians (its profile, two members, a few progress rows), a milestone for
  every 3rd musician.

Musician ``i`` is ``md5('u' || i)`` (user), ``md5('p' || i)`` (profile), external id
``100000000 + i`` on Telegram, as in :mod:`querykit`. Foreign keys are not checked while
filling (``session_replication_role = replica``): the rows are consistent by construction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from querykit import _TASK_ORDER, seed

#: Monthly samples per tracked number: ≈ 5 a musician (≈ 500 000 at 100 000 musicians).
SAMPLES_PER_METRIC = 3
#: Outbox events per musician over the year.
EVENTS_PER_MUSICIAN = 20
#: Nudges a year per musician with reminders.
NUDGES_PER_MUSICIAN = 14

_MUSICIANS = """
CREATE TEMP TABLE fill_m ON COMMIT DROP AS
SELECT i, md5('u' || i)::uuid AS uid, md5('p' || i)::uuid AS pid,
       i % (SELECT count(DISTINCT r) FROM fill_tasks) AS r,
       (i * 7919) % 25 AS k,
       i % 5 < 3 AS nudged
FROM generate_series(1, $1::int) i
"""

_FILL = (
    # the rest of the roadmap, not started
    """
INSERT INTO user_task_progress (id, profile_id, task_id, status, task_data, updated_at)
SELECT lpad(to_hex(m.i::bigint * 1000 + t.k), 32, '0')::uuid, m.pid, t.id, 'not_started',
       '{}'::jsonb, $1::timestamptz - ((m.i * 11) % 300) * interval '1 day'
FROM fill_m m JOIN fill_tasks t ON t.r = m.r AND t.k > m.k
""",
    # the outbox: j = 1..20 a musician, spread over the year, newest first for small j
    """
INSERT INTO events (id, type, profile_id, user_id, payload, created_at, processed_at)
SELECT md5('e' || m.i || ':' || j)::uuid,
       CASE WHEN j % 10 = 0 THEN 'stage.completed'
            WHEN j % 10 IN (1, 5) THEN 'stats.updated'
            WHEN j % 10 = 7 THEN 'task.skipped'
            WHEN j = 19 THEN 'roadmap.chosen'
            ELSE 'task.completed' END,
       m.pid, m.uid,
       CASE WHEN j % 10 IN (1, 5)
            THEN jsonb_build_object('metric', 'monthly_listeners', 'value', (m.i % 5000)::text)
            ELSE jsonb_build_object('task', 'task-' || j) END,
       e.at,
       CASE WHEN m.i % 1000 = 0 AND j = 1 THEN NULL ELSE e.at + interval '1 second' END
FROM fill_m m
CROSS JOIN generate_series(1, $2::int) j
CROSS JOIN LATERAL (
    SELECT CASE WHEN m.i % 1000 = 0 AND j = 1 THEN $1::timestamptz - interval '3 minutes'
                ELSE $1::timestamptz - (((m.i * 7 + j * 18) % 365) * interval '1 day')
                     - ((m.i * 13 + j) % 1440) * interval '1 minute' END AS at
) e
""",
    # a year of nudges for musicians with reminders (their schedule / inactivity / check-in rows)
    """
INSERT INTO deliveries (id, idempotency_key, reminder_id, user_id, kind, platform, target_chat,
                        status, attempts, due_at, sent_at, created_at)
SELECT md5('d' || m.i || ':' || j)::uuid,
       'reminder:' || md5('d' || m.i || ':' || j),
       md5('r' || m.i || kind.name)::uuid, m.uid, kind.name, 'telegram', (100000000 + m.i)::text,
       CASE WHEN (m.i + j) % 100 < 3 THEN 'failed' WHEN (m.i + j) % 100 < 5 THEN 'skipped'
            ELSE 'sent' END,
       1, d.at, d.at, d.at
FROM fill_m m
CROSS JOIN generate_series(1, $2::int) j
CROSS JOIN LATERAL (SELECT CASE j % 3 WHEN 0 THEN 'schedule' WHEN 1 THEN 'inactivity'
                                ELSE 'checkin' END AS name) kind
CROSS JOIN LATERAL (
    SELECT $1::timestamptz - (((m.i * 3 + j * 26) % 365) * interval '1 day')
           - ((m.i * 17 + j) % 1440) * interval '1 minute' AS at
) d
WHERE m.nudged
""",
    # one broadcast to everyone, ten days ago, finished with its counts stored
    """
INSERT INTO broadcasts (id, text, status, recipients, created_at, confirmed_at, finished_at,
                        sent, skipped, failed)
VALUES (md5('broadcast')::uuid, 'New roadmap: touring!', 'done', $2::int,
        $1::timestamptz - interval '10 days', $1::timestamptz - interval '10 days',
        $1::timestamptz - interval '10 days' + interval '1 hour', $2::int, 0, 0)
""",
    """
INSERT INTO deliveries (id, idempotency_key, broadcast_id, user_id, kind, platform, target_chat,
                        status, attempts, due_at, sent_at, created_at)
SELECT md5('b' || m.i)::uuid, 'broadcast:' || md5('broadcast') || ':' || m.uid,
       md5('broadcast')::uuid, m.uid, 'broadcast', 'telegram', (100000000 + m.i)::text,
       'sent', 1, b.at, b.at, b.at
FROM fill_m m
CROSS JOIN LATERAL (SELECT $1::timestamptz - interval '10 days'
                           + (m.i % 3600) * interval '1 second' AS at) b
""",
    # update ids of the last six days
    """
INSERT INTO processed_updates (platform, update_id, processed_at)
SELECT 'telegram', (m.i * 2 + j)::text,
       $1::timestamptz - ((m.i * 5 + j * 7) % 8640) * interval '1 minute'
FROM fill_m m CROSS JOIN generate_series(0, 1) j
""",
    # the audit log
    """
INSERT INTO audit_log (id, at, actor_user_id, actor, action, target, outcome, details)
SELECT md5('a' || m.i || kind.name)::uuid,
       $1::timestamptz - ((m.i * 7) % kind.days) * interval '1 day',
       CASE WHEN kind.name IN ('privacy.export', 'account.link', 'account.unlink') THEN m.uid END,
       CASE WHEN kind.name = 'admin.user' THEN 'telegram:42'
            ELSE 'telegram:' || (100000000 + m.i) END,
       kind.name,
       CASE WHEN kind.name = 'admin.user' THEN 'telegram:' || (100000000 + m.i)
            WHEN kind.name LIKE 'account.%' THEN 'user:' || m.uid END,
       CASE WHEN kind.name = 'admin' THEN 'denied' ELSE 'ok' END,
       CASE WHEN kind.name = 'privacy.export' THEN '{"rows": 60}'::jsonb
            WHEN kind.name = 'account.link' THEN '{"with": "discord"}'::jsonb
            WHEN kind.name = 'account.unlink'
                 THEN jsonb_build_object('new_user', md5('u' || (m.i + 1))::uuid::text)
            ELSE '{}'::jsonb END
FROM fill_m m
CROSS JOIN (VALUES ('privacy.export', 10, 365), ('admin.user', 20, 365), ('admin', 25, 80),
                   ('account.link', 50, 365), ('account.unlink', 50, 365))
           AS kind(name, every, days)
WHERE m.i % kind.every = 0
""",
    # milestones
    """
INSERT INTO milestones (id, profile_id, key, reached_at, celebrated, announced)
SELECT md5('ms' || i)::uuid, pid, 'metric:monthly_listeners:100',
       $1::timestamptz - ((i * 7) % 365) * interval '1 day', 'sent', false
FROM fill_m WHERE i % 3 = 0
""",
    # bands: one per 200 musicians, two members, the first three tasks of its roadmap done
    """
INSERT INTO bands (id, name, platform, external_id, created_at)
SELECT md5('band' || i)::uuid, 'Band ' || i, 'discord', (900000 + i)::text,
       $1::timestamptz - interval '200 days'
FROM fill_m WHERE i % 200 = 0
""",
    """
INSERT INTO band_members (band_id, user_id, role, joined_at)
SELECT md5('band' || m.i)::uuid, md5('u' || (m.i - d))::uuid,
       CASE WHEN d = 0 THEN 'manager' ELSE 'member' END, $1::timestamptz - interval '200 days'
FROM fill_m m CROSS JOIN generate_series(0, 1) d WHERE m.i % 200 = 0
""",
    """
INSERT INTO profiles (id, band_id, artist_name, current_stats, anchors, roadmap_id,
                      current_stage_id, created_at, updated_at)
SELECT md5('bp' || m.i)::uuid, md5('band' || m.i)::uuid, 'Band ' || m.i, '{}'::jsonb,
       '{}'::jsonb, t.roadmap_id, t.stage_id, $1::timestamptz - interval '200 days',
       $1::timestamptz
FROM fill_m m JOIN fill_tasks t ON t.r = m.r AND t.k = 4 WHERE m.i % 200 = 0
""",
    """
INSERT INTO conversation_state (profile_id, data, updated_at)
SELECT md5('bp' || i)::uuid, '{}'::jsonb, $1::timestamptz FROM fill_m WHERE i % 200 = 0
""",
    """
INSERT INTO user_task_progress (id, profile_id, task_id, status, task_data, completed_by,
                                completed_at, updated_at)
SELECT md5('bt' || m.i || ':' || t.k)::uuid, md5('bp' || m.i)::uuid, t.id, 'completed',
       jsonb_build_object('ticked_by', jsonb_build_object('item-1', md5('u' || m.i)::uuid::text)),
       md5('u' || m.i)::uuid, $1::timestamptz - interval '100 days', $1::timestamptz
FROM fill_m m JOIN fill_tasks t ON t.r = m.r AND t.k <= 3 WHERE m.i % 200 = 0
""",
)

#: Tables whose rows :func:`fill` reports.
COUNTED = (
    "users",
    "profiles",
    "user_task_progress",
    "stat_samples",
    "events",
    "deliveries",
    "audit_log",
    "processed_updates",
    "reminders",
    "milestones",
    "bands",
)


@dataclass(frozen=True, slots=True)
class Filled:
    """How many rows each counted table holds after :func:`fill`."""

    counts: Mapping[str, int]


async def fill(conn: Any, musicians: int, now: datetime, *, vacuum: bool = True) -> Filled:
    """Fill a migrated database (roadmaps synced) with ``musicians`` musicians' year of use.

    ``conn`` is an asyncpg connection. ``vacuum``: ``VACUUM ANALYZE`` at the end, as autovacuum
    would have by then (index-only scans need the visibility map); without it, ``ANALYZE``.
    """
    await seed(conn, musicians, now, samples_per_metric=SAMPLES_PER_METRIC)
    rest, outbox, nudges, broadcast, broadcast_rows, *others = _FILL
    async with conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.execute(_TASK_ORDER.replace("seed_tasks", "fill_tasks"))
        await conn.execute(_MUSICIANS, musicians)
        await conn.execute("ANALYZE fill_tasks; ANALYZE fill_m")
        await conn.execute(rest, now)
        await conn.execute(outbox, now, EVENTS_PER_MUSICIAN)
        await conn.execute(nudges, now, NUDGES_PER_MUSICIAN)
        await conn.execute(broadcast, now, musicians)
        await conn.execute(broadcast_rows, now)
        for statement in others:
            await conn.execute(statement, now)
    await conn.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")
    counts = {t: int(await conn.fetchval(f"SELECT count(*) FROM {t}")) for t in COUNTED}
    return Filled(counts)


def musician_number(musicians: int, nth: int) -> int:
    """The ``nth`` musician (0, 1, …) of a spread through the filled ones: an ``i`` with
    ``i % 100 = 50`` (an export, a lookup, a link and an unlink in the audit log; in no band),
    far from the others; 0 when there are fewer than ``nth + 1`` of them."""
    step = max(100, musicians // 40 // 100 * 100)
    i = 50 + nth * step
    return i if i <= musicians else 0
