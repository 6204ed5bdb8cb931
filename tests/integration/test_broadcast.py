"""Broadcasts: preview, confirm, durable per-recipient rows, a sender that survives being
stopped halfway (and a crash), skips who must be skipped, and reports to the admin."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from coachkit import Driver, count
from fakes.telegram_api import FakeTelegram
from sqlalchemy import insert, select, text, update

from bot.telegram.app import TelegramFrontEnd
from core.admin import broadcast
from core.admin.broadcast import BroadcastSender
from core.app.engine import Coach
from core.clock import system_clock
from core.db.base import utcnow
from core.db.engine import Database
from core.db.models import Broadcast, Delivery, Identity, User
from core.kernel.audit import latest
from core.kernel.markup import to_plain
from core.kernel.notify import SENT, DeliveryResult, DeliveryStatus, by_platform
from core.kernel.types import Outbound

ADMIN = "1"


class Recorder:
    """A notifier that records what it was asked to send; outcomes can be set per chat."""

    platform = "telegram"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.outcomes: dict[str, list[DeliveryStatus]] = {}

    async def notify(self, chat_id: str, replies: Sequence[Outbound]) -> DeliveryResult:
        planned = self.outcomes.get(chat_id)
        if planned:
            status = planned.pop(0)
            if status is not DeliveryStatus.SENT:
                return DeliveryResult(status, "planned")
        self.sent.append((chat_id, "\n".join(to_plain(r.text) for r in replies)))
        return SENT

    def to(self, chat: str) -> list[str]:
        return [text for c, text in self.sent if c == chat]


async def _musicians(
    db: Database, n: int, *, start: int = 100_000, platform: str = "telegram"
) -> list[str]:
    """``n`` musicians (Telegram unless told) inserted directly (fast); returns their chat ids."""
    users = [{"id": uuid.uuid4(), "roles": []} for _ in range(n)]
    chats = [str(start + i) for i in range(n)]
    async with db.transaction() as session:
        await session.execute(insert(User), users)
        await session.execute(
            insert(Identity),
            [
                {"user_id": u["id"], "platform": platform, "external_id": chat}
                for u, chat in zip(users, chats, strict=True)
            ],
        )
    return chats


async def _set(db: Database, chats: Sequence[str], **values: object) -> None:
    async with db.transaction() as session:
        ids = select(Identity.user_id).where(Identity.external_id.in_(chats))
        await session.execute(update(User).where(User.id.in_(ids)).values(**values))


async def _draft_and_send(coach: Coach, text: str) -> Driver:
    admin = Driver(coach, ADMIN, platform="telegram")
    await admin.say(f"/admin broadcast {text}")
    await admin.press("Send to")
    return admin


async def _statuses(db: Database) -> Counter[str]:
    async with db.transaction() as session:
        rows = await session.execute(select(Delivery.status).where(Delivery.kind == "broadcast"))
        return Counter(r[0] for r in rows)


async def test_preview_confirm_and_skips(database: Database) -> None:
    chats = await _musicians(database, 12)
    await _set(database, chats[:2], broadcasts_opt_out=True)
    await _set(database, chats[2:3], unreachable=True)
    async with database.transaction() as session:  # a terminal-only musician: no inbox
        user = User(roles=[])
        session.add(user)
        await session.flush()
        session.add(Identity(user_id=user.id, platform="console", external_id="term"))
    coach = Coach(database, admins=[f"telegram:{ADMIN}"])
    admin = Driver(coach, ADMIN, platform="telegram")

    await admin.say("/admin broadcast Gig *tonight* <b>")
    assert "to 9 musicians" in admin.text
    assert "2 opted out, 1 unreachable, 1 only on the terminal" in admin.text
    assert "Gig *tonight* <b>" in admin.text  # the admin's words, shown literally
    assert await count(database, Delivery) == 0  # a preview sends nothing
    send = admin.find("Send to 9").payload
    # a musician who got hold of the button cannot send it
    intruder = Driver(coach, chats[5], platform="telegram")
    assert "not allowed" in "".join(r.text for r in await intruder.press_payload(send))
    await admin.press_payload(send)
    assert "Sending to 9 musicians" in admin.text
    await admin.press_payload(send)  # double tap
    assert "Already on its way" in admin.text
    assert await count(database, Delivery) == 9

    # someone opts out after the confirmation: skipped when their turn comes
    await Driver(coach, chats[11], platform="telegram").say("/broadcasts off")
    notifier = Recorder()
    notifier.outcomes[chats[3]] = [DeliveryStatus.BLOCKED]
    notifier.outcomes[chats[4]] = [DeliveryStatus.FAILED] * 3
    notifier.outcomes[chats[5]] = [DeliveryStatus.FAILED]
    clock = [utcnow()]
    sender = BroadcastSender(database, by_platform(notifier), batch=4, clock=lambda: clock[0])
    for _ in range(10):
        await sender.run_once()
        clock[0] += timedelta(minutes=5)  # retries are due 30 s, 60 s later
    assert await _statuses(database) == {"sent": 6, "skipped": 2, "failed": 1}
    received = Counter(chat for chat, text in notifier.sent if "Gig *tonight* <b>" in text)
    assert received == {chat: 1 for chat in (*chats[5:11],)}
    reports = notifier.to(ADMIN)
    assert sum("Broadcast finished" in r for r in reports) == 1
    assert "6 sent, 2 skipped, 1 failed" in reports[-1]
    async with database.transaction() as session:
        blocked = await session.execute(
            select(User.unreachable)
            .join(Identity, Identity.user_id == User.id)
            .where(Identity.external_id == chats[3])
        )
        assert blocked.scalar_one() is True
    await admin.say("/admin broadcasts")
    assert "done — 9 recipients, 6 sent, 2 skipped, 1 failed" in admin.text
    assert ("admin.broadcast", "ok") in [(e.action, e.outcome) for e in await latest(database)]


async def test_drafts_can_be_dropped_and_expire(database: Database) -> None:
    await _musicians(database, 2)
    now = [utcnow()]
    coach = Coach(database, admins=[f"telegram:{ADMIN}"], clock=lambda: now[0])
    admin = Driver(coach, ADMIN, platform="telegram")
    await admin.say("/admin broadcast one")
    await admin.press("Cancel")
    assert "dropped" in admin.text
    await admin.say("/admin broadcast two")
    now[0] += broadcast.DRAFT_TTL + timedelta(seconds=1)
    await admin.press("Send to")
    assert "expired" in admin.text
    assert await count(database, Delivery) == 0
    await admin.say("/admin broadcast " + "x" * (broadcast.MAX_TEXT + 1))
    assert "too long" in admin.text
    assert await count(database, Broadcast) == 2


async def test_a_raising_notifier_does_not_hold_up_the_other_platform(database: Database) -> None:
    """Discord's front end raising (a bug, an unexpected network error) fails its own rows only:
    the Telegram musicians of the same batch get the message in the same round."""
    on_telegram = await _musicians(database, 6)
    on_discord = await _musicians(database, 6, start=900_000, platform="discord")
    coach = Coach(database, admins=[f"telegram:{ADMIN}"])
    await _draft_and_send(coach, "both platforms")

    class Raising:
        platform = "discord"
        calls = 0

        async def notify(self, chat_id: str, replies: Sequence[Outbound]) -> DeliveryResult:
            self.calls += 1
            raise OSError("Discord is unreachable")

    telegram, discord = Recorder(), Raising()
    clock = [utcnow() + broadcast.SPREAD_MAX]  # past the spread window: every row is due
    sender = BroadcastSender(
        database, by_platform(telegram, discord), batch=20, clock=lambda: clock[0]
    )
    assert await sender.run_once() == 12  # one round: every row of the batch handled
    assert Counter(c for c, t in telegram.sent if "both platforms" in t) == dict.fromkeys(
        on_telegram, 1
    )
    assert await _statuses(database) == {"sent": 6, "pending": 6}  # Discord's: retried later
    for _ in range(broadcast.MAX_ATTEMPTS):
        clock[0] += timedelta(minutes=5)
        await sender.run_once()
    assert await _statuses(database) == {"sent": 6, "failed": 6}
    assert discord.calls == 6 * broadcast.MAX_ATTEMPTS
    assert "6 sent, 0 skipped, 6 failed" in telegram.to(ADMIN)[-1]
    assert not set(on_discord) & {c for c, _ in telegram.sent}, "nothing rerouted to Telegram"


async def test_a_crashed_sender_is_taken_over_after_its_lease(database: Database) -> None:
    chats = await _musicians(database, 30)
    coach = Coach(database, admins=[f"telegram:{ADMIN}"])
    await _draft_and_send(coach, "after the crash")
    clock = [utcnow() + broadcast.SPREAD_MAX]  # past the spread window: every row is due
    notifier = Recorder()
    crashed = BroadcastSender(database, by_platform(notifier), batch=10, clock=lambda: clock[0])
    claimed = await crashed._claim()  # claims 10 and "dies" before sending any of them
    assert len(claimed) == 10
    survivor = BroadcastSender(database, by_platform(notifier), batch=10, clock=lambda: clock[0])
    while await survivor.run_once():
        pass
    assert await _statuses(database) == {"sent": 20, "sending": 10}  # leased rows wait
    clock[0] += timedelta(minutes=3)  # the lease (2 min) runs out
    while await survivor.run_once():
        pass
    assert await _statuses(database) == {"sent": 30}
    assert Counter(c for c, t in notifier.sent if "after the crash" in t) == dict.fromkeys(chats, 1)


@pytest.mark.postgres_only
@pytest.mark.slow
async def test_five_hundred_musicians_stop_halfway_restart_exactly_once(
    database: Database,
) -> None:
    """500 musicians through the real PTB front end and the fake Bot API's flood checks.

    The sender is cancelled (as SIGTERM does in ``coach run``) about halfway and a new one
    started; everyone gets the message exactly once and no Telegram limit is broken. The
    senders look past the spread window (every row due at once, the hardest case for the
    limits); at 28 messages/s this takes ~18 s of sending however fast the machine is.
    """
    n = 500
    chats = await _musicians(database, n)
    await _set(database, chats[:10], broadcasts_opt_out=True)
    async with FakeTelegram() as fake:
        for chat in (ADMIN, *chats):  # the chats exist on Telegram's side
            fake.user_message(int(chat), "hi")
        for chat in chats[10:15]:
            fake.block(int(chat))
        coach = Coach(database, admins=[f"telegram:{ADMIN}"])
        await _draft_and_send(coach, "New roadmap: Touring Band!")
        assert await count(database, Delivery) == n - 10

        async def front_end() -> TelegramFrontEnd:
            front = TelegramFrontEnd(coach, fake.token, api_base_url=fake.url)
            await front.application.initialize()
            return front

        def past_the_spread() -> datetime:
            return coach.clock() + broadcast.SPREAD_MAX

        first = await front_end()
        task = asyncio.create_task(
            BroadcastSender(database, by_platform(first), clock=past_the_spread).run()
        )
        started = time.monotonic()
        await fake.wait_for(lambda: len(fake.sent) >= n // 2, timeout=60)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await first.application.shutdown()
        halfway = await _statuses(database)
        assert halfway["sending"] == 0, "a stopped sender hands its batch back"
        assert n // 3 <= halfway["sent"] < n - 20

        # A restarted process takes longer than this; without the pause the old and the new
        # rate limiter could together fill one second with more than Telegram's 30 messages.
        await asyncio.sleep(1.0)
        second = await front_end()
        task = asyncio.create_task(
            BroadcastSender(database, by_platform(second), clock=past_the_spread).run()
        )
        try:
            await fake.wait_for(
                lambda: "Broadcast finished" in fake.last(int(ADMIN)).plain_text, timeout=90
            )
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await second.application.shutdown()
        elapsed = time.monotonic() - started

    assert fake.violations == [], fake.violations[:5]
    got = Counter(m.chat_id for m in fake.sent if "New roadmap: Touring Band!" in m.plain_text)
    expected = {int(c): 1 for c in chats[15:]}
    assert got == expected, "every reachable musician exactly once, nobody else"
    assert await _statuses(database) == {"sent": n - 15, "skipped": 5}
    final = fake.last(int(ADMIN)).plain_text
    assert f"{n - 15:,} sent, 5 skipped, 0 failed" in final
    progress = [m for m in fake.messages(int(ADMIN)) if "Broadcast:" in m.plain_text]
    assert len(progress) >= 5  # roughly every tenth of the way
    rate = (n - 10) / elapsed
    assert rate < 30, f"{rate:.1f} messages/s is faster than Telegram allows"
    print(f"\n1 000-musician broadcast: {elapsed:.1f} s, {rate:.1f} messages/s")


@pytest.mark.postgres_only
async def test_two_workers_share_the_work_without_doubles(database: Database) -> None:
    """Two senders (two `coach run` workers) on the same rows: SKIP LOCKED splits the work."""
    chats = await _musicians(database, 200)
    coach = Coach(database, admins=[f"telegram:{ADMIN}"])
    await _draft_and_send(coach, "two workers")

    class Slow(Recorder):
        async def notify(self, chat_id: str, replies: Sequence[Outbound]) -> DeliveryResult:
            await asyncio.sleep(0.001)  # let the other worker interleave
            return await super().notify(chat_id, replies)

    a, b = Slow(), Slow()

    async def drain(notifier: Recorder) -> None:
        sender = BroadcastSender(
            database,
            by_platform(notifier),
            batch=10,
            clock=lambda: system_clock() + broadcast.SPREAD_MAX,  # every row due (the spread)
        )
        while await sender.run_once():
            pass

    await asyncio.gather(drain(a), drain(b))
    sent = Counter(c for n in (a, b) for c, t in n.sent if "two workers" in t)
    assert sent == dict.fromkeys(chats, 1)
    assert len(a.sent) > 20
    assert len(b.sent) > 20  # both did a share
    assert await _statuses(database) == {"sent": 200}
    finals = [t for n in (a, b) for t in n.to(ADMIN) if "Broadcast finished" in t]
    assert len(finals) == 1


async def test_the_senders_poll_walks_the_open_broadcast_index(database: Database) -> None:
    """The sender polls every few seconds; without the partial index the poll read every
    delivery row, sent nudges included. Sequential scans are priced out on PostgreSQL (an
    empty table would rightly be scanned); SQLite says SEARCH … USING INDEX for an index."""
    statement = broadcast.claim_statement(["discord", "telegram"], utcnow(), 50)
    async with database.engine.connect() as conn:
        if database.is_postgres:
            await conn.execute(text("SET enable_seqscan = off"))
        compiled = statement.compile(
            dialect=conn.dialect, compile_kwargs={"render_postcompile": True}
        )
        values = compiled.construct_params()
        positional = tuple(values[key] for key in compiled.positiontup or ())
        explain = "EXPLAIN" if database.is_postgres else "EXPLAIN QUERY PLAN"
        rows = await conn.exec_driver_sql(f"{explain} {compiled}", positional)
        plan = "\n".join(str(r[-1]) for r in rows)
    assert "ix_deliveries_open_broadcast" in plan, plan


async def test_a_broadcast_comes_due_spread_over_its_window_the_same_way_every_time(
    database: Database,
) -> None:
    """Rows are due over one second per ten recipients (at most an hour), each at a stable
    offset of (broadcast, person): not one block at the second of confirming."""
    assert broadcast.spread_window(9) == timedelta(0)  # a handful goes at once
    assert broadcast.spread_window(5_000) == timedelta(seconds=500)
    assert broadcast.spread_window(10_000_000) == broadcast.SPREAD_MAX
    await _musicians(database, 300)
    now = [utcnow()]
    coach = Coach(database, admins=[f"telegram:{ADMIN}"], clock=lambda: now[0])
    await _draft_and_send(coach, "spread out")
    async with database.transaction() as session:
        rows = (
            await session.execute(
                select(Delivery.broadcast_id, Delivery.user_id, Delivery.due_at).where(
                    Delivery.kind == "broadcast"
                )
            )
        ).all()
    assert len(rows) == 300
    window = broadcast.spread_window(300)
    assert window == timedelta(seconds=30)
    offsets = [_aware(due) - now[0] for _, _, due in rows]
    assert all(timedelta(0) <= o <= window for o in offsets)
    assert all(o.microseconds == 0 for o in offsets), "whole seconds"
    # deterministic: the stored due time is the offset of (broadcast, person)
    assert all(_aware(due) - now[0] == broadcast.spread_offset(b, u, window) for b, u, due in rows)
    # spread: every 3-second stretch of the window gets some, none gets a crowd
    per_stretch = Counter(int(o.total_seconds()) // 3 for o in offsets)
    assert set(per_stretch) == set(range(11))
    assert max(per_stretch.values()) < 60  # ~27 expected per stretch
    # a sender at the moment of confirming finds only the first second's rows due
    notifier = Recorder()
    sender = BroadcastSender(database, by_platform(notifier), clock=lambda: now[0])
    assert 0 < await sender.drain() < 40


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC times, PostgreSQL aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
