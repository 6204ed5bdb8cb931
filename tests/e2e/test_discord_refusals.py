"""Discord refusals, told apart like Telegram's 403s: closed DMs are not a block.

The real discord.py client against the loopback fake, which answers in Discord's own JSON
(``{"code": 50007, "message": "Cannot send messages to this user"}`` with 403, ``10013
Unknown User`` with 404). Only a real "gone" marks someone unreachable; closed DMs fail the
nudge with their reason, pause nothing, and the person is told — privately, in the server,
at their next interaction there — how to open them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from discordkit import BEN, CHANNEL, CLEO, GUILD, Bench, front_end, world
from fakes.discord_api import FakeDiscord, FakeInteraction, FakeMessage
from reminderkit import FakeClock, delivery_rows, reminder_rows
from sqlalchemy import select
from support.memory import bundled_roadmaps

from bot.discord.refusals import CLOSED_DMS_NOTE, ClosedDmsNote, Refusal, classify
from core.app.engine import Coach
from core.db.engine import Database
from core.db.models import Identity, User
from core.kernel.notify import DMS_CLOSED, by_platform
from core.kernel.types import Message
from core.reminders.tick import ReminderTick
from core.roadmaps.sync import sync_roadmaps

START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday
PRIVACY = "Privacy Settings"


@asynccontextmanager
async def _running(database: Database, clock: FakeClock) -> AsyncIterator[Bench]:
    """The fake Discord, a coach on ``clock`` (given at construction) and the real client."""
    async with database.transaction() as session:
        await sync_roadmaps(session, list(bundled_roadmaps()))
    async with FakeDiscord() as fake:
        world(fake)
        coach = Coach(database, clock=clock)
        front = front_end(fake, coach)
        await front.start(ready_timeout=15)
        try:
            yield Bench(fake, coach, front)
        finally:
            await front.stop()


async def _user(database: Database, discord_id: int) -> User:
    async with database.transaction() as session:
        user = (
            await session.scalars(
                select(User)
                .join(Identity, Identity.user_id == User.id)
                .where(Identity.platform == "discord", Identity.external_id == str(discord_id))
            )
        ).one()
    return user


def _with_button(messages: list[FakeMessage], label: str) -> FakeMessage:
    return next(m for m in reversed(messages) if any(label in b for b, _ in m.buttons()))


def _notes(interaction: FakeInteraction) -> list[FakeMessage]:
    return [m for m in interaction.followups if PRIVACY in m.text()]


async def _solo_reminder(bench: Bench, who: int) -> None:
    """``who`` starts a solo roadmap in DMs and sets ``/remind daily 18:00`` there."""
    fake = bench.fake
    await bench.answered(fake.user_runs_command_in_dm(who, "start"))
    fake.dm_message(who, "Ben Solo")
    await fake.wait_for(lambda: any("Indie" in str(m.buttons()) for m in fake.dm_messages(who)))
    await bench.press(who, _with_button(fake.dm_messages(who), "Indie"), "Indie")
    setting = await bench.answered(fake.user_runs_command_in_dm(who, "remind", when="daily 18:00"))
    assert "every day at 18:00" in setting.texts()


def _personal(caplog: pytest.LogCaptureFixture, *words: str) -> list[str]:
    """Our INFO-or-louder log lines (core, bot) that carry any of ``words``: ids, names,
    message text must not be among them (a shipped log is not the place for them)."""
    return [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.levelno >= logging.INFO
        and r.name.startswith(("core", "bot", "coach"))
        and any(w in r.getMessage() for w in words)
    ]


async def test_closed_dms_fail_the_nudge_pause_nothing_and_the_server_says_how_to_open_them(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    clock = FakeClock(START)
    async with _running(database, clock) as bench:
        fake = bench.fake
        await _solo_reminder(bench, BEN)
        tick = ReminderTick(database, by_platform(bench.front), clock=clock)

        # Ben closes his DMs for the server: Discord refuses the nudge with 50007
        fake.block(BEN)
        clock.set(START.replace(hour=18, second=1))
        report = await tick.run()
        assert (report.sent, report.failed, report.blocked) == (0, 1, 0)
        assert not any(r.paused for r in await reminder_rows(database)), "nothing paused"
        assert not (await _user(database, BEN)).unreachable
        [delivery] = await delivery_rows(database)
        assert delivery.status == "failed"
        assert delivery.last_error.startswith(DMS_CLOSED)
        assert "50007 Cannot send messages to this user" in delivery.last_error

        # his next interaction in the server carries a private note with the way out
        seen = await bench.command(BEN, "help")
        [note] = _notes(seen)
        assert note.ephemeral
        assert note.content == CLOSED_DMS_NOTE
        assert "Allow direct messages from server members" in note.content
        assert not any(PRIVACY in m.text() for m in fake.messages(CHANNEL)), "never public"
        again = await bench.command(BEN, "help")
        assert _notes(again) == [], "told once per failed nudge"

        # he opens them; the retry (a minute later) arrives, and there is nothing to tell
        fake.allow_dms(BEN)
        clock.advance(seconds=61)
        before = len(fake.dm_messages(BEN))
        assert (await tick.run()).sent == 1
        assert any("Time for your music" in m.text() for m in fake.dm_messages(BEN)[before:])
        assert [d.status for d in await delivery_rows(database)] == ["sent"]
        assert _notes(await bench.command(BEN, "help")) == []

        # closed again the next day: a new failed nudge, a new note
        fake.block(BEN)
        clock.set(START.replace(hour=18, second=1) + timedelta(days=1))
        assert (await tick.run()).failed == 1
        assert len(_notes(await bench.command(BEN, "help"))) == 1
        assert not any(r.paused for r in await reminder_rows(database))
    assert _personal(caplog, str(BEN), "Ben Solo") == []


async def test_only_an_unknown_user_marks_someone_unreachable(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    clock = FakeClock(START)
    async with _running(database, clock) as bench:
        fake = bench.fake
        await bench.answered(fake.user_runs_command_in_dm(BEN, "start"))
        assert (await bench.front.notify(str(BEN), [Message(text="Practise!")])).sent
        fake.block(BEN)
        closed = await bench.front.notify(str(BEN), [Message(text="Still there?")])
        assert (closed.status, closed.detail.startswith(DMS_CLOSED)) == ("failed", True)
        assert not (await _user(database, BEN)).unreachable

        # Cleo deleted her account: Discord no longer knows the user at all
        await bench.command(CLEO, "help")  # the coach knows her from the server
        fake.delete_user(CLEO)
        gone = await bench.front.notify(str(CLEO), [Message(text="Hello?")])
        assert gone.status == "blocked"
        assert "10013 Unknown User" in gone.detail
        assert (await _user(database, CLEO)).unreachable

        # a band channel the bot can't post in: nobody's account is touched
        lost = await bench.front.notify("c:123456789", [Message(text="Band news")])
        assert lost.status == "failed"
        assert lost.detail.startswith("not_in_channel (Discord 10003 Unknown Channel")
        assert not (await _user(database, BEN)).unreachable
    assert _personal(caplog, str(BEN), str(CLEO)) == []
    assert any("a discord account is now unreachable" in r.getMessage() for r in caplog.records)


def test_refusal_codes() -> None:
    assert classify(10013, to_person=True) is Refusal.GONE
    assert classify(50007, to_person=True) is Refusal.DMS_CLOSED
    assert classify(50001, to_person=False) is Refusal.NOT_IN_CHANNEL
    assert classify(50013, to_person=False) is Refusal.NOT_IN_CHANNEL
    assert classify(10003, to_person=False) is Refusal.NOT_IN_CHANNEL
    assert classify(50007, to_person=False) is Refusal.OTHER
    assert classify(40005, to_person=True) is Refusal.OTHER


async def test_the_note_asks_the_database_at_most_once_a_minute_for_someone_with_nothing_due() -> (
    None
):
    """The courtesy memory: nothing to tell is remembered for a minute (a burst of button
    presses costs one query); a refusal seen by this process ends that minute at once."""
    asked: list[str] = []
    failed: dict[str, str] = {}
    now = [0.0]

    async def lookup(user_id: str) -> str | None:
        asked.append(user_id)
        return failed.get(user_id)

    note = ClosedDmsNote(lookup, clock=lambda: now[0])
    assert await note.pending("7") is None
    assert await note.pending("7") is None
    assert asked == ["7"]
    failed["7"] = "notice-1"
    note.refused("7")
    assert await note.pending("7") == "notice-1"
    note.told("7", "notice-1")
    assert await note.pending("7") is None
    now[0] += ClosedDmsNote.QUIET_FOR + 1
    failed["7"] = "notice-2"
    assert await note.pending("7") == "notice-2"


async def test_a_network_error_while_replying_in_a_dm_is_handled_and_reported(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """The connection drops while the bot answers a DM: the front end logs one warning and
    counts the failed send; nothing reaches discord.py's own error handler ("Ignoring
    exception in on_message")."""
    clock = FakeClock(START)
    caplog.set_level(logging.WARNING)
    async with _running(database, clock) as bench:
        fake = bench.fake
        await bench.answered(fake.user_runs_command_in_dm(BEN, "start"))
        fake.cut_next("POST", r"^/channels/\d+/messages$")
        before = bench.front.failed_sends
        fake.dm_message(BEN, "Ben Solo")
        await fake.wait_for(lambda: any(s == 0 for _, _, s in fake.requests))
        await bench.settled()
        assert bench.front.failed_sends == before + 1
        # the same for an interaction's answer: its effect is stored, the answer is lost
        fake.cut_next("POST", r"^/interactions/\d+/[^/]+/callback$")
        iid = fake.member_runs_command(GUILD, CHANNEL, BEN, "help")
        await fake.wait_for(lambda: sum(s == 0 for _, _, s in fake.requests) == 2)
        await bench.settled()
        assert not fake.interaction(iid).acked
        assert bench.front.failed_sends == before + 2
    logged = [(r.name, r.levelno, r.getMessage()) for r in caplog.records]
    assert any("DM reply failed, Discord unreachable" in m for _, _, m in logged), logged
    assert any("answering interaction" in m for _, _, m in logged), logged
    assert not [m for _, _, m in logged if "Ignoring exception" in m], logged
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], logged
