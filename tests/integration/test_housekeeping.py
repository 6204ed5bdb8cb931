"""Housekeeping (core/housekeeping.py): old bookkeeping rows go, the guarantees they exist for stay.

Every test runs on SQLite and PostgreSQL with a fake clock; the rows are made by the real code
paths (the engine's replay guard, the reminder tick, the broadcast sender, /link) wherever that
is quick, and inserted directly only where the test is about volume.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from bandkit import GuildDriver
from coachkit import Driver, count, run_coach, synced_coach
from pydantic import ValidationError
from reminderkit import FakeClock, RecordingNotifier, delivery_rows
from sqlalchemy import event, insert, select, text

from core.admin.broadcast import BroadcastSender
from core.app.engine import Coach
from core.app.jobs import background_jobs
from core.clock import system_clock
from core.db.base import utcnow
from core.db.engine import Database
from core.db.executor import compiled_for_asyncpg
from core.db.models import (
    AuditLog,
    BandInvite,
    Delivery,
    Identity,
    LinkCode,
    Milestone,
    ProcessedUpdate,
    Profile,
    User,
    UserTaskProgress,
)
from core.housekeeping import (
    BROADCAST_ROWS,
    EXPIRED_CODES,
    EXPIRED_INVITES,
    IRRELEVANT_EVENTS,
    OLD_CELEBRATIONS,
    OLD_DENIALS,
    OLD_EVENTS,
    OLD_NUDGES,
    OLD_UPDATES,
    PENDING,
    STALE_EVENTS,
    Housekeeping,
    Retention,
    prune,
)
from core.housekeeping import JOB_ID as HOUSEKEEPING_JOB_ID
from core.jobs.runner import JobRunner
from core.kernel.notify import DeliveryResult, DeliveryStatus, by_platform
from core.reminders.tick import ReminderTick
from core.reminders.worker import ReminderWorker
from core.settings import load_settings

START = FakeClock().now  # Thursday 26 Nov 2026, 12:00 UTC
ADMIN = "1"


async def _old_updates(db: Database, n: int, *, age: timedelta, prefix: str = "old") -> None:
    """``n`` processed update ids recorded ``age`` before START (many at once: inserted)."""
    async with db.transaction() as session:
        await session.execute(
            insert(ProcessedUpdate),
            [
                {"platform": "telegram", "update_id": f"{prefix}-{i}", "processed_at": START - age}
                for i in range(n)
            ],
        )


async def test_update_ids_go_after_the_window_and_a_recent_replay_is_still_refused(
    database: Database,
) -> None:
    clock = FakeClock(START)
    coach = await synced_coach(database, clock=clock)
    maya = Driver(coach, "4242", platform="telegram")
    await maya.onboard()
    await maya.say("/progress", update_id="100")  # eight days before the prune
    clock.advance(days=8)
    await maya.say("/skip", update_id="200")  # a day before it
    clock.advance(days=1)
    assert await count(database, UserTaskProgress, UserTaskProgress.status == "skipped") == 1

    report = await prune(database, now=clock.now)

    assert report.processed_updates == 1
    assert report.per_table()["processed_updates"] == 1
    async with database.transaction() as session:
        kept = (await session.execute(text("SELECT update_id FROM processed_updates"))).scalars()
        assert list(kept) == ["200"]
    assert await maya.say("/skip", update_id="200") == [], "a replay inside the window is refused"
    assert await count(database, UserTaskProgress, UserTaskProgress.status == "skipped") == 1


async def test_old_nudge_records_go_and_nothing_is_sent_again(database: Database) -> None:
    clock = FakeClock(START)
    coach = await synced_coach(database, clock=clock)
    maya = Driver(coach, "maya")
    await maya.onboard()
    await maya.say("/remind daily 18:00")
    notifier = RecordingNotifier()
    tick = ReminderTick(database, {"console": notifier}, clock=clock)
    clock.set(START.replace(hour=18))
    assert (await tick.run()).sent == 1
    clock.advance(days=40)  # forty days of downtime: the missed nudges coalesce into today's
    assert (await tick.run()).sent == 1
    assert len(await delivery_rows(database)) == 2

    report = await prune(database, now=clock.now)

    assert report.nudge_deliveries == 1
    assert [r.due_at for r in await delivery_rows(database)] == [clock.now]
    clock.advance(minutes=5)
    assert (await tick.run()).claimed == 0, "the reminder row, not the record, says what is due"
    assert len(notifier.sent) == 2
    # within 30 days nothing goes
    assert (await prune(database, now=clock.now + timedelta(days=29))).nudge_deliveries == 0


async def test_old_celebrations_go_and_their_milestones_stay(database: Database) -> None:
    """A milestone's delivery rows (sent, or left ``sending`` by a crash) go after the
    deliveries window; the ``milestones`` rows, which keep a milestone from being celebrated
    twice, stay; a nudge's record of the same age goes by its own rule, a recent one stays."""
    profile = uuid.uuid4()
    async with database.transaction() as session:
        user = uuid.uuid4()
        await session.execute(
            insert(User).values(id=user, timezone="UTC", roles=[], created_at=START)
        )
        await session.execute(
            insert(Profile).values(id=profile, user_id=user, current_stats={}, created_at=START)
        )
        for key, status, age in [
            ("first", "sent", 40),
            ("lost", "sending", 31),
            ("recent", "sent", 29),
        ]:
            await session.execute(
                insert(Milestone).values(profile_id=profile, key=key, reached_at=START)
            )
            await session.execute(
                insert(Delivery).values(
                    idempotency_key=f"milestone:{profile.hex}:{key}",
                    user_id=user,
                    kind="milestone",
                    platform="console",
                    target_chat="maya",
                    status=status,
                    due_at=START - timedelta(days=age),
                    created_at=START - timedelta(days=age),
                )
            )

    report = await prune(database, now=START)

    assert report.celebration_deliveries == 2
    assert report.nudge_deliveries == 0
    assert [r.idempotency_key for r in await delivery_rows(database, kind=None)] == [
        f"milestone:{profile.hex}:recent"
    ]
    async with database.transaction() as session:
        kept = (await session.execute(select(Milestone.key))).scalars().all()
    assert sorted(kept) == ["first", "lost", "recent"]


async def test_an_old_finished_broadcast_still_reports_its_counts(database: Database) -> None:
    clock = FakeClock(START)
    async with database.transaction() as session:
        users = [{"id": uuid.uuid4(), "roles": []} for _ in range(3)]
        await session.execute(insert(User), users)
        await session.execute(
            insert(Identity),
            [
                {"user_id": u["id"], "platform": "telegram", "external_id": str(500 + i)}
                for i, u in enumerate(users)
            ],
        )
    coach = Coach(database, admins=[f"telegram:{ADMIN}"], clock=clock)
    admin = Driver(coach, ADMIN, platform="telegram")
    await admin.say("/admin broadcast New roadmap!")
    await admin.press("Send to")
    notifier = RecordingNotifier(platform="telegram")
    notifier.answers["502"] = DeliveryResult(DeliveryStatus.BLOCKED, "blocked")
    sender = BroadcastSender(database, by_platform(notifier), clock=clock)
    while await sender.run_once():
        pass
    await admin.say("/admin broadcasts")
    assert "done — 3 recipients, 2 sent, 1 skipped, 0 failed" in admin.text
    clock.advance(days=1)
    await admin.say("/admin broadcast Second one")  # confirmed, never sent: still its queue
    await admin.press("Send to")
    assert await count(database, Delivery) == 5  # 3 of the first, 2 reachable for the second

    assert (await prune(database, now=clock.now + timedelta(days=29))).total == 0  # too recent
    clock.advance(days=31)
    report = await prune(database, now=clock.now, retention=Retention(batch_size=2))

    assert report.broadcast_deliveries == 3
    assert await count(database, Delivery) == 2
    assert await count(database, Delivery, Delivery.status == "pending") == 2
    await admin.say("/admin broadcasts")
    assert "done — 3 recipients, 2 sent, 1 skipped, 0 failed" in admin.text
    assert "sending — 2 recipients, 0 sent, 0 skipped, 0 failed" in admin.text


async def test_expired_link_codes_go_and_a_live_one_still_redeems(database: Database) -> None:
    clock = FakeClock(START)
    coach = await synced_coach(database, clock=clock)
    eve = Driver(coach, "777", platform="telegram")
    await eve.say("/start")
    await eve.say("/link")  # never used: expires after ten minutes
    clock.advance(minutes=30)
    tg = Driver(coach, "4242", platform="telegram")
    await tg.onboard()
    await tg.say("/link")
    match = re.search(r"/link ((?:[A-Z0-9]{4}-){3}[A-Z0-9]{4})", tg.text)
    assert match is not None, tg.text
    assert await count(database, LinkCode) == 2

    report = await prune(database, now=clock.now)

    assert report.link_codes == 1
    assert await count(database, LinkCode) == 1
    dc = Driver(coach, "100200300", platform="discord")
    await dc.say("/start")
    await dc.say(f"/link {match.group(1)}")
    assert "Linked" in dc.text


async def test_long_expired_invites_go_and_a_recent_one_still_says_expired(
    database: Database,
) -> None:
    clock = FakeClock(START)
    coach = await synced_coach(database, clock=clock)
    ana = GuildDriver(coach, "1001", name="Ana", manager=True)
    await ana.say("/band create The Night Owls")
    await ana.say("/band invite")  # expires in 7 days; goes 30 days after that
    clock.advance(days=20)
    await ana.say("/band invite")
    recent = re.search(r"/join ((?:[A-Z0-9]{4}-){3}[A-Z0-9]{4})", ana.text)
    assert recent is not None, ana.text
    clock.advance(days=18)  # the first expired 31 days ago, the second 11

    report = await prune(database, now=clock.now)

    assert report.band_invites == 1
    assert await count(database, BandInvite) == 1
    late = Driver(coach, "555", platform="telegram")
    await late.say(f"/join {recent.group(1)}")
    assert "has expired" in late.text


async def _old_audit_rows(db: Database, outcomes: dict[str, int], *, at: datetime) -> None:
    """Audit rows written at ``at``: ``{outcome: how many}`` (many at once: inserted)."""
    async with db.transaction() as session:
        await session.execute(
            insert(AuditLog),
            [
                {"actor": "telegram:9", "action": "admin.stats", "outcome": outcome, "at": at}
                for outcome, n in outcomes.items()
                for _ in range(n)
            ],
        )


async def test_old_denials_go_and_every_admin_action_stays(database: Database) -> None:
    """Refused attempts are pruned after RETENTION_AUDIT_DENIALS_DAYS; what admins *did* (``ok``,
    and the ``refused`` / ``unchanged`` answers to them) is kept however old it is."""
    now = utcnow()  # the audit log stamps rows itself: the test goes by the same clock
    coach = Coach(database, admins=[f"telegram:{ADMIN}"])
    stranger = Driver(coach, "666", platform="telegram")
    admin = Driver(coach, ADMIN, platform="telegram")
    await stranger.say("/admin stats")  # a fresh denial: kept
    await admin.say("/admin audit 3")  # a fresh admin action: kept
    assert await count(database, AuditLog) == 2
    old = now - timedelta(days=91)
    await _old_audit_rows(database, {"denied": 7, "ok": 3, "refused": 1, "unchanged": 1}, at=old)
    await _old_audit_rows(database, {"denied": 2}, at=now - timedelta(days=89))

    report = await prune(database, now=now, retention=Retention(batch_size=3))

    assert report.audit_denials == 7
    assert report.per_table()["audit_log"] == 7
    assert await count(database, AuditLog, AuditLog.outcome == "denied") == 3
    assert await count(database, AuditLog, AuditLog.outcome == "ok") == 4
    assert await count(database, AuditLog, AuditLog.outcome.in_(["refused", "unchanged"])) == 2
    far = await prune(database, now=now + timedelta(days=3650))  # ten years on
    assert far.audit_denials == 3
    assert await count(database, AuditLog) == 6, "no admin action is ever pruned"
    assert await count(database, AuditLog, AuditLog.outcome == "denied") == 0


async def test_batches_are_bounded_and_loop_until_a_short_one(database: Database) -> None:
    await _old_updates(database, 23, age=timedelta(days=8))
    await _old_updates(database, 4, age=timedelta(days=6), prefix="recent")
    deleted: list[int] = []

    def seen(_conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("DELETE FROM processed_updates"):
            deleted.append(cursor.rowcount)

    event.listen(database.engine.sync_engine, "after_cursor_execute", seen)
    try:
        report = await prune(database, now=START, retention=Retention(batch_size=5))
    finally:
        event.remove(database.engine.sync_engine, "after_cursor_execute", seen)

    assert deleted == [5, 5, 5, 5, 3]
    assert report.processed_updates == 23
    assert await count(database, ProcessedUpdate) == 4


async def test_two_workers_pruning_at_once_are_harmless(database: Database) -> None:
    await _old_updates(database, 60, age=timedelta(days=8))
    await _old_updates(database, 3, age=timedelta(hours=1), prefix="recent")
    # On PostgreSQL a second Database is a second pool, as in a second process.
    other = database if database.is_sqlite else Database(database.url)
    try:
        keep = Retention(batch_size=4)
        first, second = await asyncio.gather(
            prune(database, now=START, retention=keep), prune(other, now=START, retention=keep)
        )
    finally:
        if other is not database:
            await other.dispose()
    assert first.processed_updates + second.processed_updates == 60
    assert await count(database, ProcessedUpdate) == 3


_INDEXES = {
    "updates": (OLD_UPDATES, "ix_processed_updates_processed_at"),
    "nudges": (OLD_NUDGES, "ix_deliveries_nudges_created_at"),
    "celebrations": (OLD_CELEBRATIONS, "ix_deliveries_celebrations_created_at"),
    "broadcast": (BROADCAST_ROWS, "ix_deliveries_broadcast_id"),
    "codes": (EXPIRED_CODES, "ix_link_codes_expires_at"),
    "invites": (EXPIRED_INVITES, "ix_band_invites_expires_at"),
    "denials": (OLD_DENIALS, "ix_audit_log_denied_at"),
    "events": (OLD_EVENTS, "ix_events_processed_at"),
    "irrelevant events": (IRRELEVANT_EVENTS, "ix_events_"),
    "stale events": (STALE_EVENTS, "ix_events_"),
}


async def test_every_batched_delete_walks_an_index(database: Database) -> None:
    """Each inner SELECT uses its index and the DELETE fetches the chosen rows by address.

    On PostgreSQL sequential scans are priced out first (the tables are empty, and on a tiny
    table a scan would rightly win): a missing index leaves a Seq Scan in the plan. SQLite's
    ``EXPLAIN QUERY PLAN`` says ``SCAN`` for a table scan, ``SEARCH`` for an index.
    """
    some_id = uuid.uuid4()  # the driver gets it as is: SQLite stores the hex digits
    params = {
        "cutoff": START,
        "batch": 5000,
        "broadcast_id": some_id if database.is_postgres else some_id.hex,
    }
    plans: dict[str, str] = {}
    async with database.engine.connect() as conn:
        if database.is_postgres:
            await conn.execute(text("SET enable_seqscan = off"))
        explain = "EXPLAIN" if database.is_postgres else "EXPLAIN QUERY PLAN"
        for name, (statements, _index) in _INDEXES.items():
            compiled = statements[database.dialect].compile(dialect=conn.dialect)
            values = compiled.construct_params(params)
            positional = tuple(values[key] for key in compiled.positiontup or ())
            rows = await conn.exec_driver_sql(f"{explain} {compiled}", positional)
            plans[name] = "\n".join(str(r[-1]) for r in rows)
    for name, (_statements, index) in _INDEXES.items():
        plan = plans[name]
        assert index in plan, f"{name}:\n{plan}"
        if database.is_postgres:
            assert "Seq Scan" not in plan, f"{name}:\n{plan}"
            assert "Tid Scan" in plan, f"{name}:\n{plan}"
        else:
            assert not re.search(r"^SCAN ", plan, re.MULTILINE), f"{name}:\n{plan}"
            assert "INTEGER PRIMARY KEY (rowid=?)" in plan, f"{name}:\n{plan}"


#: Rows younger than every window, never analyzed: the planner knows the tables' sizes (from
#: their pages) but nothing of their values.
_UNANALYZED = (
    "INSERT INTO processed_updates (platform, update_id, processed_at) "
    "SELECT 'telegram', 'u' || i, $1::timestamptz - i * interval '1 second' "
    "FROM generate_series(1, $2::int) i",
    "INSERT INTO deliveries (id, idempotency_key, reminder_id, kind, platform, target_chat, "
    "status, attempts, due_at, created_at) "
    "SELECT md5('d' || i)::uuid, 'k' || i, md5('r' || i % 50)::uuid, 'schedule', 'telegram', "
    "'1', 'sent', 1, $1::timestamptz, $1::timestamptz - i * interval '1 second' "
    "FROM generate_series(1, $2::int) i",
    "INSERT INTO link_codes (code_hash, user_id, platform, expires_at, created_at) "
    "SELECT md5('c' || i), md5('u' || i % 50)::uuid, 'telegram', "
    "$1::timestamptz + interval '1 minute' + i * interval '1 second', $1::timestamptz "
    "FROM generate_series(1, $2::int) i",
    "INSERT INTO audit_log (id, at, actor, action, outcome, details) "
    "SELECT md5('a' || i)::uuid, $1::timestamptz - i * interval '1 second', 'telegram:1', "
    "'admin', CASE WHEN i % 2 = 0 THEN 'denied' ELSE 'ok' END, '{}'::jsonb "
    "FROM generate_series(1, $2::int) i",
    "INSERT INTO events (id, type, payload, created_at, processed_at) "
    "SELECT md5('e' || i)::uuid, CASE WHEN i % 3 = 0 THEN 'stats.updated' "
    "ELSE 'task.completed' END, '{}'::jsonb, $1::timestamptz - i * interval '1 second', "
    "CASE WHEN i % 100 = 0 THEN NULL ELSE $1::timestamptz END "
    "FROM generate_series(1, $2::int) i",
)


@pytest.mark.postgres_only
async def test_with_nothing_to_delete_no_run_reads_a_table_whatever_the_statistics(
    database: Database,
) -> None:
    """Issue #18: the batches' inner ``SELECT ctid … LIMIT n FOR UPDATE SKIP LOCKED`` was
    planned as a sequential scan unless the statistics were fresh — with nothing to delete, a
    read of the whole table every run. Here the tables hold 20 000 young rows never analyzed
    (autovacuum off), and every statement is planned generically (``force_generic_plan``: the
    cutoff unknown, the planner's guess for a range is a third of the table): each must still
    walk its index, sequential scans *not* priced out."""
    tables = ("processed_updates", "deliveries", "link_codes", "audit_log", "events")
    async with database.engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        async with raw.transaction():
            await raw.execute("SET LOCAL session_replication_role = replica")  # no FK checks
            for table in tables:
                await raw.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
            for statement in _UNANALYZED:
                await raw.execute(statement, START, 20_000)
        plans: dict[str, str] = {}
        statements = {
            "updates": OLD_UPDATES,
            "nudges": OLD_NUDGES,
            "codes": EXPIRED_CODES,
            "denials": OLD_DENIALS,
            "events": OLD_EVENTS,
            "irrelevant events": IRRELEVANT_EVENTS,
            "stale events": STALE_EVENTS,
        }
        async with raw.transaction():
            await raw.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            for name, per_dialect in statements.items():
                sql, names = compiled_for_asyncpg(per_dialect["postgresql"], ["cutoff", "batch"])
                types = ", ".join("timestamptz" if n == "cutoff" else "int" for n in names)
                await raw.execute(f"PREPARE batch ({types}) AS {sql}")
                values = ", ".join(
                    "'2026-01-01T00:00:00+00'" if n == "cutoff" else "5000" for n in names
                )
                rows = await raw.fetch(f"EXPLAIN EXECUTE batch({values})")
                plans[name] = "\n".join(r[0] for r in rows)
                await raw.execute("DEALLOCATE batch")
            params = {k: START - timedelta(days=400) for k in PENDING.selected_columns.keys()}
            sql, names = compiled_for_asyncpg(PENDING, list(params))
            types = ", ".join("timestamptz" for _ in names)
            await raw.execute(f"PREPARE pending ({types}) AS {sql}")
            values = ", ".join("'2026-01-01T00:00:00+00'" for _ in names)
            rows = await raw.fetch(f"EXPLAIN EXECUTE pending({values})")
            plans["the look before"] = "\n".join(r[0] for r in rows)
            await raw.execute("DEALLOCATE pending")
        for table in tables:
            await raw.execute(f"ALTER TABLE {table} RESET (autovacuum_enabled)")
    for name, plan in plans.items():
        scanned = set(re.findall(r"Seq Scan on (\w+)", plan)) & set(tables)
        assert not scanned, f"{name} reads {scanned} whole:\n{plan}"
        assert "Index" in plan, f"{name}:\n{plan}"


async def test_the_job_runner_runs_housekeeping_next_to_the_tick(database: Database) -> None:
    settings = load_settings(database_url=database.url, retention_interval_minutes=30)
    jobs = background_jobs(database, {}, settings, clock=system_clock, broadcasts=False)
    await jobs.start()
    try:
        assert jobs.started
        job = jobs.jobs.get(HOUSEKEEPING_JOB_ID)
        assert job is not None
        assert job.every == timedelta(minutes=30)
    finally:
        await jobs.stop()
    off = load_settings(database_url=database.url, retention_enabled=False)
    jobs = background_jobs(database, {}, off, clock=system_clock, broadcasts=False)
    await jobs.start()
    try:
        assert jobs.started
        assert jobs.jobs.get(HOUSEKEEPING_JOB_ID) is None
    finally:
        await jobs.stop()

    await _old_updates(database, 3, age=timedelta(days=8))
    chores = Housekeeping(database, first_after=timedelta(0), clock=lambda: START)
    jobs = JobRunner(clock=chores.clock)
    jobs.add(ReminderWorker(ReminderTick(database, {}, clock=chores.clock)).job())
    jobs.add(chores.job())
    await jobs.start()
    try:
        for _ in range(200):
            if chores.runs:
                break
            await asyncio.sleep(0.01)
    finally:
        await jobs.stop()
    assert chores.runs == 1
    assert chores.totals.processed_updates == 3
    assert await count(database, ProcessedUpdate) == 0


def test_nudge_records_must_outlive_the_grace_window() -> None:
    with pytest.raises(ValidationError, match="RETENTION_DELIVERIES_DAYS"):
        load_settings(retention_deliveries_days=7, reminder_grace_minutes=7 * 24 * 60)
    with pytest.raises(ValidationError):
        load_settings(retention_updates_days=1)  # Telegram replays up to a day
    assert load_settings().retention_deliveries_days == 30
    assert load_settings().retention_audit_denials_days == 90
    assert Retention.from_settings(
        load_settings(retention_audit_denials_days=14)
    ).audit_denials == timedelta(days=14)
    with pytest.raises(ValidationError):
        load_settings(retention_audit_denials_days=6)  # /admin audit shows last week's
    assert Retention.from_settings(load_settings()).unprocessed_events == timedelta(days=90)
    with pytest.raises(ValidationError, match="RETENTION_EVENTS_UNPROCESSED_DAYS"):
        load_settings(retention_events_days=40, retention_events_unprocessed_days=35)


async def test_coach_db_prune_prints_the_counts(database: Database) -> None:
    await _old_updates(database, 2, age=timedelta(days=400))
    await _old_audit_rows(database, {"denied": 4, "ok": 1}, at=utcnow() - timedelta(days=400))
    result = await run_coach("db", "prune", "--db", database.url)
    assert result.returncode == 0, result.stderr
    assert "audit_log: 4 deleted (denied attempts older than 90 days)" in result.stdout
    assert "processed_updates: 2 deleted (update ids older than 7 days)" in result.stdout
    assert "deliveries: 0 deleted" in result.stdout
    assert "0 milestone celebrations older than 30 days" in result.stdout
    assert "link_codes: 0 deleted (expired)" in result.stdout
    assert await count(database, ProcessedUpdate) == 0


async def test_coach_db_prune_on_an_unmigrated_database_says_what_to_do(tmp_path: Any) -> None:
    result = await run_coach("db", "prune", "--db", f"sqlite:///{tmp_path / 'new.db'}")
    assert result.returncode == 1
    assert "run `coach db upgrade` first" in result.stderr
    assert "Traceback" not in result.stderr


async def test_a_bad_retention_setting_gets_a_clear_answer(tmp_path: Any) -> None:
    result = await run_coach(
        "db", "prune", "--db", f"sqlite:///{tmp_path / 'x.db'}", env={"RETENTION_UPDATES_DAYS": "1"}
    )
    assert result.returncode == 2
    assert "RETENTION_UPDATES_DAYS: Input should be greater than or equal to 2" in result.stderr
    assert "Traceback" not in result.stderr
