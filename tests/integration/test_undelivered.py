"""Notes owed to chats whose reply was given up (core/undelivered.py), on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import pytest
from coachkit import Driver, synced_coach
from reminderkit import FakeClock
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.reachability import set_reachable
from core.db.engine import Database
from core.db.failures import DatabaseUnavailable
from core.db.models import Delivery, Identity
from core.kernel.markup import to_plain
from core.kernel.notify import SENT, DeliveryResult, DeliveryStatus
from core.kernel.types import Outbound
from core.undelivered import KIND, LEASE, MAX_ATTEMPTS, NOTE, OwedNotes, claim, owe, owed


class Notifier:
    """Records notes; answers with the planned outcomes first, then ``sent``."""

    platform = "telegram"

    def __init__(self, *planned: DeliveryStatus) -> None:
        self.planned = list(planned)
        self.sent: list[tuple[str, str]] = []

    async def notify(self, chat_id: str, replies: Sequence[Outbound]) -> DeliveryResult:
        if self.planned:
            status = self.planned.pop(0)
            if status is not DeliveryStatus.SENT:
                return DeliveryResult(status, "planned")
        self.sent.append((chat_id, "\n".join(to_plain(r.text) for r in replies)))
        return SENT


async def _rows(db: Database) -> list[Delivery]:
    async with db.transaction() as session:
        return list(await session.scalars(select(Delivery).where(Delivery.kind == KIND)))


async def _user_of(db: Database, chat: str) -> object:
    async with db.transaction() as session:
        return (
            await session.execute(select(Identity.user_id).where(Identity.external_id == chat))
        ).scalar_one()


async def test_one_note_per_chat_per_outage_naming_the_person(database: Database) -> None:
    coach = await synced_coach(database)
    await Driver(coach, "42", platform="telegram").say("/start")
    clock = FakeClock()
    assert await owe(database, "telegram", "42", clock())
    assert not await owe(database, "telegram", "42", clock()), "already owed: no second note"
    assert await owe(database, "telegram", "-100500", clock()), "a group chat names nobody"
    rows = sorted(await _rows(database), key=lambda r: r.target_chat)
    assert [(r.target_chat, r.status) for r in rows] == [("-100500", "pending"), ("42", "pending")]
    assert rows[0].user_id is None
    assert rows[1].user_id == await _user_of(database, "42"), "so /export and /forget see it"

    notifier = Notifier()
    notes = OwedNotes(database, "telegram", notifier.notify, clock=clock)
    await notes.drain()
    assert sorted(notifier.sent) == [("-100500", to_plain(NOTE)), ("42", to_plain(NOTE))]
    assert await _rows(database) == [], "settled notes are deleted"
    assert await owe(database, "telegram", "42", clock()), "the next outage owes a new one"


async def test_never_to_someone_who_blocked_the_bot(database: Database) -> None:
    coach = await synced_coach(database)
    await Driver(coach, "42", platform="telegram").say("/start")
    await Driver(coach, "43", platform="telegram").say("/start")
    clock = FakeClock()
    await set_reachable(database, "telegram", "42", reachable=False)
    assert not await owe(database, "telegram", "42", clock()), "blocked before the outage"

    assert await owe(database, "telegram", "43", clock())
    await set_reachable(database, "telegram", "43", reachable=False)  # blocked meanwhile
    notifier = Notifier()
    await OwedNotes(database, "telegram", notifier.notify, clock=clock).drain()
    assert notifier.sent == []
    assert await _rows(database) == []

    await set_reachable(database, "telegram", "43", reachable=True)
    assert await owe(database, "telegram", "43", clock())
    refused = Notifier(DeliveryStatus.BLOCKED)  # the note itself is refused: they blocked us
    await OwedNotes(database, "telegram", refused.notify, clock=clock).drain()
    assert await _rows(database) == [], "dropped, never retried"


async def test_a_failed_note_waits_for_the_next_accepted_send_then_gives_up(
    database: Database,
) -> None:
    clock = FakeClock()
    assert await owe(database, "telegram", "7", clock())
    clock.advance(seconds=1)  # owed later: sent later
    assert await owe(database, "telegram", "8", clock())
    failing = Notifier(*[DeliveryStatus.FAILED] * MAX_ATTEMPTS)
    notes = OwedNotes(database, "telegram", failing.notify, clock=clock)
    await notes.drain()
    rows = {r.target_chat: r for r in await _rows(database)}
    assert rows["7"].status == "pending"
    assert rows["7"].attempts == 1
    assert rows["8"].attempts == 0, "the platform refuses again: the drain stops there"

    for _ in range(MAX_ATTEMPTS - 1):
        await notes.drain()
    assert {r.target_chat for r in await _rows(database)} == {"8"}, "7 given up after 5"
    await notes.drain()
    assert failing.sent == [("8", to_plain(NOTE))]
    assert await _rows(database) == []


async def test_a_claimed_note_is_one_workers_until_its_lease_runs_out(database: Database) -> None:
    clock = FakeClock()
    await owe(database, "telegram", "9", clock())
    (note,) = await owed(database, "telegram", clock())
    assert await claim(database, note, clock())
    assert not await claim(database, note, clock()), "another worker can't take it"
    assert await owed(database, "telegram", clock()) == [], "not owed while leased"
    clock.advance(seconds=LEASE.total_seconds() + 1)  # the claimer died mid-send
    (again,) = await owed(database, "telegram", clock())
    assert await claim(database, again, clock())


async def test_a_busy_chat_gets_its_note_after_its_backlog(database: Database) -> None:
    clock = FakeClock()
    await owe(database, "telegram", "10", clock())
    notifier = Notifier()
    backlog = {"10"}
    notes = OwedNotes(
        database, "telegram", notifier.notify, clock=clock, busy=lambda chat: chat in backlog
    )
    notes.accepted()
    await notes.idle()
    assert notifier.sent == []
    backlog.clear()
    notes.accepted()  # the backlog's last send went through
    await notes.idle()
    assert notifier.sent == [("10", to_plain(NOTE))]
    notes.accepted()  # nothing more owed: no query, no send
    await notes.idle()
    assert len(notifier.sent) == 1


async def test_notes_of_another_platform_are_left_alone(database: Database) -> None:
    clock = FakeClock()
    await owe(database, "discord", "c:77", clock())
    notifier = Notifier()
    await OwedNotes(database, "telegram", notifier.notify, clock=clock).drain()
    assert notifier.sent == []
    assert [(r.platform, r.status) for r in await _rows(database)] == [("discord", "pending")]


async def test_a_database_restart_while_owing_is_retried(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Owing is safe to run twice, so a lost connection (PostgreSQL restarting) is retried
    rather than losing the note."""
    real = database.transaction
    failures = [DatabaseUnavailable("the database is restarting")]

    @asynccontextmanager
    async def flaky() -> AsyncIterator[AsyncSession]:
        if failures:
            raise failures.pop()
        async with real() as session:
            yield session

    monkeypatch.setattr(database, "transaction", flaky)
    notes = OwedNotes(database, "telegram", Notifier().notify, clock=FakeClock())
    await notes.owe("11")
    monkeypatch.undo()
    assert not failures
    assert [r.target_chat for r in await _rows(database)] == ["11"]
