"""A database restart is invisible; a longer outage gets one honest answer and one warning.

These tests stop and start a real PostgreSQL of their own (tests/support/pgserver.py) between and
during events, through every way the coach uses the database: the hot path (raw asyncpg), the
admin desk (SQLAlchemy), the catalog refresh, the reminder tick and the broadcast sender.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pwd
import re
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from coachkit import Driver, at_a_checklist, next_update_id
from pgserver import LateCloseProxy, ThrowawayPostgres, pg_bin_dir
from reminderkit import FakeClock
from sqlalchemy import func, select, text
from support.memory import bundled_roadmaps

from core.accounts.reachability import set_reachable
from core.admin.broadcast import BroadcastSender
from core.app.engine import SORRY, UNREACHABLE, Coach
from core.db.engine import Database
from core.db.failures import connection_lost
from core.db.migrate import upgrade
from core.db.models import Delivery, Identity, User
from core.db.retry import RetryPolicy
from core.housekeeping import Housekeeping
from core.kernel.markup import to_plain
from core.kernel.notify import SENT, DeliveryResult, by_platform
from core.kernel.types import Outbound, Toast
from core.reminders.tick import ReminderTick
from core.reminders.worker import ReminderWorker
from core.roadmaps.sync import sync_roadmaps

ADMIN = "9000"
LOST = "database connection lost"
BACK = "database answering again"


class VirtualTime:
    """A monotonic clock that moves only by sleeping: each sleep is recorded and returns at
    once (after letting other tasks run)."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self._now = 0.0

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self._now += seconds
        await asyncio.sleep(0)


def _in_thread(coro_factory: object) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(coro_factory).result()  # type: ignore[arg-type]


async def _create_database(url: str) -> None:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute("CREATE DATABASE coach")
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def server() -> Iterator[ThrowawayPostgres]:
    """A PostgreSQL server of this module's own, with a migrated database ``coach``."""
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        pytest.fail(
            "these tests start their own PostgreSQL: install it (apt-get install postgresql)"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail("as root, these tests run PostgreSQL as the 'postgres' user: none found")
    pg = ThrowawayPostgres(bin_dir)
    try:
        pg.init()
        pg.start_now()
        _in_thread(lambda: asyncio.run(_create_database(pg.url())))
        _in_thread(lambda: upgrade(pg.url("coach")))
        yield pg
    finally:
        pg.destroy()


@pytest.fixture
async def running(server: ThrowawayPostgres) -> AsyncIterator[ThrowawayPostgres]:
    """The server, started again if an earlier test left it stopped."""
    if not (server.data / "postmaster.pid").exists():
        await server.start()
    yield server
    if not (server.data / "postmaster.pid").exists():
        await server.start()


async def _coach(db: Database, **kw: object) -> Coach:
    async with db.transaction() as session:
        await sync_roadmaps(session, list(bundled_roadmaps()))
    return Coach(db, admins=[f"telegram:{ADMIN}"], **kw)  # type: ignore[arg-type]


def _someone() -> str:
    return str(uuid.uuid4().int % 10**9)


def _texts(replies: Sequence[Outbound]) -> str:
    return "\n".join(to_plain(r.text) for r in replies)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_short_restart_mid_conversation_gets_no_sorry(
    running: ThrowawayPostgres, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    db = Database(running.url("coach"))
    coach = await _coach(db)
    try:
        people = [Driver(coach, _someone(), platform="telegram") for _ in range(4)]
        ticks = {}
        for person in people:
            await person.onboard(name=f"Artist {person.user}")
            ticks[person.user] = await at_a_checklist(person)
        # every pool holds several connections when the server goes away
        await asyncio.gather(*(p.say("/progress", update_id=next_update_id()) for p in people))
        await asyncio.gather(*(p.say("/broadcasts on", update_id=next_update_id()) for p in people))

        # 1. a restart between two events: every pooled connection is stale, and the event
        # loop has read their closes; they are replaced at checkout, nothing fails
        await running.stop()
        await running.start()
        await asyncio.sleep(0.2)
        coach.catalog.invalidate()  # the catalog refresh takes a pooled connection too
        first = await asyncio.gather(
            people[0].press_payload(ticks[people[0].user], update_id=next_update_id()),
            people[1].say("/progress", update_id=next_update_id()),
            people[2].say("/broadcasts off", update_id=next_update_id()),
        )
        quiet = _warnings(caplog)

        # 2. the same while the process was too busy to read anything: the stale connections
        # still look open and fail on their first statement; the events are retried
        running.stop_now()
        running.start_now()
        coach.catalog.invalidate()
        busy = await asyncio.gather(
            people[0].say("/progress", update_id=next_update_id()),
            people[1].say("/progress", update_id=next_update_id()),
            people[2].say("/broadcasts on", update_id=next_update_id()),
        )
        mark = len(caplog.records)

        # 3. events that arrive while the server is down for a second
        await running.stop()
        restart = asyncio.create_task(running.start_after(1.0))
        second = await asyncio.gather(
            people[3].press_payload(ticks[people[3].user], update_id=next_update_id()),
            people[1].say("/today", update_id=next_update_id()),
            people[2].say("/broadcasts off", update_id=next_update_id()),
        )
        await restart
    finally:
        await db.dispose()

    replies = [r for event in (*first, *busy, *second) for r in event]
    assert len(replies) >= 9
    for bad in (SORRY, UNREACHABLE):
        assert not any(r.text == bad for r in replies), _texts(replies)
    assert re.search(r"\b1/\d+ done", _texts(first[0]))  # the tick is stored
    assert re.search(r"\b1/\d+ done", _texts(second[0]))
    assert "OK — no more announcements" in _texts(first[2])
    assert "OK — you'll get announcements again" in _texts(busy[2])
    assert "OK — no more announcements" in _texts(second[2])
    assert quiet == []  # phase 1: not one failed attempt
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    # phase 3: one line when it went, one when it came back
    warnings = [r.getMessage() for r in caplog.records[mark:] if r.levelno >= logging.WARNING]
    assert [w.split(" (")[0].split(" after")[0] for w in warnings] == [LOST, BACK], warnings


async def test_a_longer_outage_gets_one_honest_answer_and_one_warning(
    running: ThrowawayPostgres, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    virtual = VirtualTime()  # the back-off is recorded, not sat out
    db = Database(
        running.url("coach"),
        retry=RetryPolicy(budget=0.6, sleep=virtual.sleep, monotonic=virtual.now),
    )
    clock = FakeClock(datetime.now(UTC))
    coach = await _coach(db, clock=clock)
    notifier_sent: list[str] = []

    class Notifier:
        platform = "telegram"

        async def notify(self, chat_id: str, replies: Sequence[Outbound]) -> DeliveryResult:
            notifier_sent.append(chat_id)
            return SENT

    carriers = by_platform(Notifier())
    worker = ReminderWorker(ReminderTick(db, carriers, clock=clock, catalog=coach.catalog))
    chores = Housekeeping(db, clock=clock)
    sender = BroadcastSender(db, carriers, idle=0.05, clock=clock)
    maya = Driver(coach, _someone(), platform="telegram")
    admin = Driver(coach, ADMIN, platform="telegram")
    try:
        await maya.onboard()
        tick = await at_a_checklist(maya)
        await running.stop()
        caplog.clear()

        update = next_update_id()
        answers = [
            await maya.press_payload(tick, update_id=update),
            await maya.say("/progress", update_id=next_update_id()),
            await admin.say("/admin stats", update_id=next_update_id()),
            await maya.say("/broadcasts off", update_id=next_update_id()),
        ]
        # the background jobs during the outage: no traceback, retried on their next run
        for _ in range(3):
            await worker.run_once()
            await chores.run_once()
        sending = asyncio.create_task(sender.run())
        await asyncio.sleep(0.3)
        sending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sending

        outage_log = list(caplog.records)
        await running.start()
        after = await maya.press_payload(tick, update_id=update)  # the platform's redelivery
        assert (await worker.run_once()).claimed == 0
    finally:
        await db.dispose()

    # the first event backed off within its budget (0.05 s doubling; 0.4 s more would pass
    # 0.6 s), the next one too; once the outage outlasted the budget, no more waiting
    assert virtual.waits == [0.05, 0.1, 0.2, 0.05, 0.1, 0.2], virtual.waits
    assert answers[0] == [Toast(text=UNREACHABLE)]  # a button press: a toast
    for replies in answers[1:]:
        assert [r.text for r in replies] == [UNREACHABLE]
    assert not [r for r in outage_log if r.levelno >= logging.ERROR or r.exc_info]
    outage_warnings = [r.getMessage() for r in outage_log if r.levelno >= logging.WARNING]
    assert len(outage_warnings) == 1, outage_warnings
    assert LOST in outage_warnings[0]
    # nothing was half-written: the update id of the refused press was not recorded, so the
    # redelivered press is handled as new
    assert after
    assert all(r.text not in {UNREACHABLE, SORRY} for r in after)
    assert re.search(r"\b1/\d+ done", _texts(after))
    assert sum(BACK in w for w in _warnings(caplog)) == 1


async def test_a_session_the_server_ended_is_replaced_not_reused(
    running: ThrowawayPostgres, caplog: pytest.LogCaptureFixture
) -> None:
    """The cause of asyncpg's "cannot switch to state 15; another operation (2) is in
    progress": the server ended the session (FATAL, then close), the client read the FATAL
    but not yet the close, and the pool handed the connection out for the next BEGIN."""
    caplog.set_level(logging.DEBUG)
    proxy = LateCloseProxy(running.port, delay=1.0)
    await proxy.start()
    dsn = running.url("coach", port=proxy.port).replace("postgresql+asyncpg", "postgresql")
    admin_conn = await asyncpg.connect(running.url("coach").replace("+asyncpg", ""))
    db = Database(running.url("coach", port=proxy.port))
    coach = await _coach(db)
    end_sessions = (
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = 'coach' AND pid <> pg_backend_pid()"
    )
    try:
        maya = Driver(coach, _someone(), platform="telegram")
        await maya.onboard()
        await maya.say("/broadcasts on")  # the desk's pool holds a connection too
        assert await admin_conn.fetchval(end_sessions) >= 2
        await asyncio.sleep(0.2)  # the FATALs have arrived; the closes have not
        hot = await maya.say("/progress", update_id=next_update_id())
        desk = await maya.say("/broadcasts off", update_id=next_update_id())

        # the contract with asyncpg's wording, on a bare connection
        bare = await asyncpg.connect(dsn)
        await admin_conn.fetchval("SELECT pg_terminate_backend($1)", bare.get_server_pid())
        await asyncio.sleep(0.2)
        assert not bare.is_closed()
        with pytest.raises(asyncpg.exceptions.InternalClientError) as raised:
            await bare.execute("BEGIN")
        bare.terminate()
    finally:
        await db.dispose()
        await admin_conn.close()
        await proxy.close()

    assert [r.text for r in hot if r.text in {SORRY, UNREACHABLE}] == []
    assert "%" in _texts(hot), _texts(hot)  # the progress card
    assert "OK — no more announcements" in _texts(desk)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # each dead connection failed once and was discarded: no retry met one of them again
    assert not [r for r in caplog.records if "still unreachable" in r.getMessage()]
    assert "cannot switch to state 15; another operation (2) is in progress" in str(raised.value)
    assert connection_lost(raised.value)


async def test_the_tick_records_its_sends_through_a_restart(
    running: ThrowawayPostgres, caplog: pytest.LogCaptureFixture
) -> None:
    """The nudge went out while the database restarted: it is recorded and the reminder moves
    on, instead of staying leased to be sent again when the lease runs out."""
    caplog.set_level(logging.DEBUG)
    clock = FakeClock(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    db = Database(running.url("coach"))
    coach = await _coach(db, clock=clock)
    restarted: list[asyncio.Task[None]] = []

    class RestartingNotifier:
        platform = "telegram"

        async def notify(self, chat_id: str, replies: Sequence[Outbound]) -> DeliveryResult:
            await running.stop()  # the server goes away while the nudge is on its way
            restarted.append(asyncio.create_task(running.start_after(0.8)))
            return SENT

    maya = Driver(coach, _someone(), platform="telegram")
    try:
        await maya.onboard()
        await maya.say("/remind daily 18:00")
        clock.set(clock.now.replace(hour=18, second=1))
        tick = ReminderTick(db, by_platform(RestartingNotifier()), clock=clock)
        report = await tick.run()
        await asyncio.gather(*restarted)
        row = await _own_schedule(db, maya.user)
        async with db.transaction() as session:
            sent = (
                await session.execute(
                    select(func.count()).where(
                        Delivery.reminder_id == row.id, Delivery.status == "sent"
                    )
                )
            ).scalar_one()
    finally:
        await db.dispose()
    assert report.sent == 1
    assert sent == 1
    assert row.claimed_by is None
    assert row.next_due_at > clock.now
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def _own_schedule(db: Database, user: str) -> Any:
    async with db.transaction() as session:
        row = (
            await session.execute(
                text(
                    "SELECT r.id, r.claimed_by, r.next_due_at FROM reminders r "
                    "JOIN identities i ON i.user_id = r.user_id "
                    "WHERE i.external_id = :me AND r.kind = 'schedule'"
                ),
                {"me": user},
            )
        ).one()
    return row


async def test_the_broadcast_sender_records_its_sends_through_a_restart(
    running: ThrowawayPostgres, caplog: pytest.LogCaptureFixture
) -> None:
    """A message that went out while the database restarted is recorded as sent, not left
    leased to go out a second time when the lease runs out."""
    caplog.set_level(logging.DEBUG)
    db = Database(running.url("coach"))
    coach = await _coach(db)
    restarted: list[asyncio.Task[None]] = []
    stopping: list[str] = []
    received: list[str] = []

    class RestartingNotifier:
        platform = "telegram"

        async def notify(self, chat_id: str, replies: Sequence[Outbound]) -> DeliveryResult:
            received.append(chat_id)
            if not stopping:  # the first message: the server goes away meanwhile
                stopping.append(chat_id)  # before the await: the sender has 8 in flight
                await running.stop()
                restarted.append(asyncio.create_task(running.start_after(0.8)))
            return SENT

    try:
        for _ in range(3):
            await Driver(coach, _someone(), platform="telegram").say("/start")
        admin = Driver(coach, ADMIN, platform="telegram")
        await admin.say("/admin broadcast Rehearsal moved to 8pm")
        await admin.press("Send to")
        assert "Sending to" in admin.text
        sender = BroadcastSender(
            db, by_platform(RestartingNotifier()), batch=100, clock=coach.clock
        )
        handled = await sender.run_once()
        await asyncio.gather(*restarted)
        async with db.transaction() as session:
            statuses = (
                await session.execute(
                    select(Delivery.status, func.count())
                    .where(Delivery.kind == "broadcast")
                    .group_by(Delivery.status)
                )
            ).all()
    finally:
        await db.dispose()
    musicians = [chat for chat in received if chat != ADMIN]  # the admin gets the report
    assert handled == len(musicians) >= 3
    assert len(set(musicians)) == len(musicians)  # nobody got it twice
    assert dict(statuses) == {"sent": handled}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_a_block_reported_during_a_restart_is_kept(
    running: ThrowawayPostgres, caplog: pytest.LogCaptureFixture
) -> None:
    """The platform says once that someone blocked the bot; a restart must not lose it."""
    caplog.set_level(logging.DEBUG)
    db = Database(running.url("coach"))
    coach = await _coach(db)
    maya = Driver(coach, _someone(), platform="telegram")
    try:
        await maya.onboard()
        await running.stop()
        restart = asyncio.create_task(running.start_after(0.8))
        known = await set_reachable(db, "telegram", maya.user, reachable=False)
        await restart
        async with db.transaction() as session:
            unreachable = (
                await session.execute(
                    select(User.unreachable)
                    .join(Identity, Identity.user_id == User.id)
                    .where(Identity.platform == "telegram", Identity.external_id == maya.user)
                )
            ).scalar_one()
    finally:
        await db.dispose()
    assert known is True
    assert unreachable is True
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
