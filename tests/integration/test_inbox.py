"""The durable inbox (core/inbox.py) on both backends: writing down, taking over, leases,
deletion in batches, the poison cap, and the replay guard of the paths outside the hot path."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from coachkit import Driver, synced_coach
from reminderkit import FakeClock
from sqlalchemy import select, text

from core.app import replays
from core.app.engine import Coach
from core.app.replays import already_handled
from core.db.engine import Database
from core.db.models import InboxUpdate
from core.inbox import DEFAULT_LEASE, MAX_ATTEMPTS, Entry, Inbox
from core.kernel.audit import latest


def _entries(*ids: int) -> list[Entry]:
    return [Entry(i, f'{{"update_id": {i}, "message": {{"text": "u{i}"}}}}') for i in ids]


@pytest.fixture
async def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def inbox(database: Database, clock: FakeClock) -> AsyncIterator[Inbox]:
    box = Inbox(database, "telegram", worker="me", clock=clock, flush_every=0.01)
    try:
        yield box
    finally:
        await box.stop()


async def _rows(database: Database) -> dict[int, InboxUpdate]:
    async with database.transaction() as session:
        found = (await session.scalars(select(InboxUpdate))).all()
    return {row.update_id: row for row in found}


async def test_put_writes_a_batch_down_once(inbox: Inbox, database: Database) -> None:
    assert await inbox.put(_entries(3, 1, 2)) == {1, 2, 3}
    other = Inbox(database, "telegram", worker="other", clock=inbox.clock)
    assert await other.put(_entries(2, 3, 4)) == {4}, "the rest is being handled by 'me'"
    # 'me' writing its batch again (the commit went through, the answer was lost with the
    # connection): its own rows are handed on, or nobody would handle them
    assert await inbox.put(_entries(1, 5)) == {1, 5}
    rows = await _rows(database)
    assert sorted(rows) == [1, 2, 3, 4, 5]
    assert rows[4].claimed_by == "other"
    assert rows[2].payload == _entries(2)[0].payload
    assert rows[2].claimed_by == "me"
    assert rows[2].attempts == 1
    assert rows[2].claimed_until == inbox.clock() + DEFAULT_LEASE
    assert await inbox.put([]) == set()


async def test_big_ids_and_any_text_survive(inbox: Inbox) -> None:
    """Telegram's update ids are 32-bit today; the column is 64-bit. Payloads are text."""
    odd = Entry(2**40, '{"update_id": 1099511627776, "t": "\\u0000 \\ud800 ☃ \' ; --"}')
    assert await inbox.put([odd]) == {odd.update_id}
    other = Inbox(inbox.db, "telegram", worker="other", clock=inbox.clock)
    assert await other.take_all() == [odd]


async def test_the_only_poller_takes_everything_a_predecessor_left(
    database: Database, clock: FakeClock
) -> None:
    dead = Inbox(database, "telegram", worker="dead", clock=clock)
    await dead.put(_entries(12, 10, 11))
    await Inbox(database, "discord", worker="dead", clock=clock).put(_entries(99))
    heir = Inbox(database, "telegram", worker="heir", clock=clock)
    assert [e.update_id for e in await heir.take_all()] == [10, 11, 12], "oldest first"
    assert await heir.take_all() == [], "its own rows are not taken again"
    rows = await _rows(database)
    assert {rows[i].claimed_by for i in (10, 11, 12)} == {"heir"}
    assert rows[10].attempts == 2
    assert rows[99].claimed_by == "dead", "another platform's rows are left alone"


async def test_webhook_workers_take_over_only_rows_whose_lease_ran_out(
    database: Database, clock: FakeClock
) -> None:
    a = Inbox(database, "telegram", worker="a", clock=clock)
    b = Inbox(database, "telegram", worker="b", clock=clock)
    await a.put(_entries(1))
    clock.advance(seconds=30)
    await a.put(_entries(2))
    assert await b.take_orphans() == [], "a may still be on both"
    clock.advance(seconds=DEFAULT_LEASE.total_seconds() - 30 + 1)
    assert [e.update_id for e in await b.take_orphans()] == [1]
    assert await a.take_orphans() == [], "b holds it now, with a fresh lease"
    clock.advance(seconds=30)
    assert [e.update_id for e in await b.take_orphans()] == [2]


async def test_finished_rows_are_deleted_together(inbox: Inbox, database: Database) -> None:
    await inbox.put(_entries(1, 2, 3))
    inbox.finished(1)
    inbox.finished(3)
    assert await inbox.flush() == 2
    assert sorted(await _rows(database)) == [2]
    assert await inbox.flush() == 0


async def test_the_background_flusher_deletes_finished_rows(inbox: Inbox) -> None:
    await inbox.put(_entries(1, 2))
    inbox.start()
    inbox.finished(1)
    inbox.finished(2)
    async with asyncio.timeout(10):
        while await inbox.held():  # noqa: ASYNC110 - polling the database
            await asyncio.sleep(0.01)


async def test_a_failed_deletion_is_tried_again(inbox: Inbox, database: Database) -> None:
    await inbox.put(_entries(1))
    inbox.finished(1)
    async with database.connection() as conn:
        await conn.execute(text("ALTER TABLE inbox_updates RENAME TO inbox_away"))
    try:
        assert await inbox.flush() == 0
    finally:
        async with database.connection() as conn:
            await conn.execute(text("ALTER TABLE inbox_away RENAME TO inbox_updates"))
    assert await inbox.flush() == 1
    assert await inbox.held() == set()


async def test_an_update_taken_too_often_is_dropped(
    database: Database, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Each take counts; an update that never gets finished (its handling kills the process
    each time) is dropped after MAX_ATTEMPTS instead of keeping every restart in a loop."""
    await Inbox(database, "telegram", worker="w0", clock=clock).put(_entries(7))
    for n in range(1, MAX_ATTEMPTS):
        taken = await Inbox(database, "telegram", worker=f"w{n}", clock=clock).take_all()
        assert [e.update_id for e in taken] == [7], n
    last = Inbox(database, "telegram", worker="last", clock=clock)
    assert await last.take_all() == []
    assert last.dropped == 1
    assert "telegram update 7 was taken 5 times without being handled" in caplog.text
    await last.flush()
    assert await last.held() == set()


async def test_two_workers_taking_over_at_once_split_the_rows(
    database: Database, clock: FakeClock
) -> None:
    await Inbox(database, "telegram", worker="dead", clock=clock).put(_entries(*range(1, 201)))
    clock.advance(seconds=DEFAULT_LEASE.total_seconds() + 1)
    workers = [Inbox(database, "telegram", worker=f"w{i}", clock=clock) for i in range(3)]
    taken = await asyncio.gather(*(w.take_orphans() for w in workers))
    ids = [e.update_id for batch in taken for e in batch]
    assert sorted(ids) == list(range(1, 201)), "every row taken once"


def test_a_lease_must_be_positive() -> None:
    with pytest.raises(ValueError, match="lease"):
        Inbox(
            Database("sqlite+aiosqlite:///:memory:"),
            "telegram",
            clock=FakeClock(),
            lease=DEFAULT_LEASE * 0,
        )


# ------------------------------------------------------------------ replays of desk commands


async def test_a_replayed_desk_command_is_not_answered_twice(database: Database) -> None:
    """/admin, /export, /forget and /broadcasts bypass the conversation's transaction (and its
    update-id check); an update handed over again from the inbox after a crash must not be
    answered (nor audited) a second time."""
    await synced_coach(database)
    coach = Coach(database, admins=["console:boss"])
    boss = Driver(coach, "boss")
    first = await boss.say("/admin stats", update_id="u-1")
    assert "Stardom Coach in numbers" in boss.text
    assert await boss.say("/admin stats", update_id="u-1") == [], "the replay is ignored"
    assert [e.action for e in await latest(database)] == ["admin.stats"], "audited once"
    assert await already_handled(database, "console", "u-1")
    again = await boss.say("/admin stats", update_id="u-2")
    assert len(again) == len(first), "a new update is answered as usual"

    maya = Driver(coach, "maya")
    assert await maya.say("/broadcasts off", update_id="m-1")
    assert await maya.say("/broadcasts off", update_id="m-1") == []


async def test_a_desk_command_is_answered_even_when_its_record_fails(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recording the update id comes after the answer and never costs the person the answer."""
    await synced_coach(database)
    coach = Coach(database, admins=["console:boss"])

    async def broken(*_args: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(replays, "first_time", broken)
    replies = await Driver(coach, "boss").say("/admin stats", update_id="u-9")
    assert replies
    assert "Stardom Coach in numbers" in replies[0].text


# --------------------------------------------------------------------------- a chat's order


def _chat_entries(chat: int, *ids: int) -> list[Entry]:
    return [Entry(i, f'{{"update_id": {i}}}', chat) for i in ids]


class _Sleeps:
    """A sleep that records its waits and, after ``then`` of them, runs ``action`` once."""

    def __init__(self, then: int = -1, action: object = None) -> None:
        self.waits: list[float] = []
        self.then, self.action = then, action

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if len(self.waits) == self.then and callable(self.action):
            await self.action()
        await asyncio.sleep(0)


async def test_a_chats_update_waits_for_its_older_ones_held_elsewhere(
    inbox: Inbox, database: Database
) -> None:
    """Worker 'other' holds update 1 of chat 7; 'me' got update 2 of chat 7 (and 3 of chat 8).
    Update 2 waits until 1 is handled and deleted; update 3 (another chat) and update 1 itself
    do not wait."""
    other = Inbox(database, "telegram", worker="other", clock=inbox.clock)
    assert await other.put(_chat_entries(7, 1)) == {1}
    assert await inbox.put(_chat_entries(7, 2) + _chat_entries(8, 3)) == {2, 3}
    rows = await _rows(database)
    assert (rows[1].chat_id, rows[2].chat_id, rows[3].chat_id) == (7, 7, 8)

    no_wait = _Sleeps()
    assert await inbox.wait_turn(3, 8, sleep=no_wait)
    assert await other.wait_turn(1, 7, sleep=no_wait)
    assert no_wait.waits == []

    async def other_finishes() -> None:
        other.finished(1)
        await other.flush()

    sleeps = _Sleeps(then=3, action=other_finishes)
    assert await inbox.wait_turn(2, 7, sleep=sleeps)
    assert sleeps.waits == [0.02, 0.04, 0.08]  # polled with a growing pause until 1 was gone


async def test_a_chats_update_does_not_wait_for_its_own_finished_rows(
    inbox: Inbox, database: Database
) -> None:
    """Rows this worker finished and has not deleted yet are no reason to wait (within one
    worker PerChatOrder keeps the order)."""
    assert await inbox.put(_chat_entries(7, 1, 2)) == {1, 2}
    inbox.finished(1)
    sleeps = _Sleeps()
    assert await inbox.wait_turn(2, 7, sleep=sleeps)
    assert sleeps.waits == []


async def test_a_chats_update_goes_ahead_after_its_patience(
    inbox: Inbox, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """An older row nobody finishes (its worker hung past every takeover) holds the chat for
    ``patience`` seconds of waiting, then the update goes ahead, logged."""
    other = Inbox(database, "telegram", worker="other", clock=inbox.clock)
    await other.put(_chat_entries(7, 1))
    await inbox.put(_chat_entries(7, 2))
    sleeps = _Sleeps()
    assert not await inbox.wait_turn(2, 7, sleep=sleeps, patience=1.0)
    assert sum(sleeps.waits[:-1]) < 1.0 <= sum(sleeps.waits)
    assert max(sleeps.waits) == 0.2
    assert "handled before 1 older update(s) of its chat" in caplog.text
