"""Discord answers that finally fail: the person is told once Discord accepts sends again.

discord.py retries a 429 and a 5xx itself (five tries), not a dropped connection. What it
finally gives up — an interaction answer, a DM reply — owes the chat a note
(core/undelivered.py), sent as a plain message: the interaction's token may be long dead by
then. The real discord.py client runs against the loopback fake Discord.
"""

from __future__ import annotations

import asyncio

from discordkit import ANA, BEN, CHANNEL, GUILD, running
from sqlalchemy import select

from core.db.engine import Database
from core.db.models import Delivery
from core.kernel.notify import DeliveryStatus
from core.kernel.types import Message
from core.undelivered import KIND

#: Words of the note (core.undelivered.NOTE).
NOTE_WORDS = "couldn't get through"
CALLBACK = r"/interactions/\d+/[^/]+/callback"


async def _owed(database: Database) -> list[tuple[str, str]]:
    async with database.transaction() as session:
        rows = await session.scalars(select(Delivery).where(Delivery.kind == KIND))
        return [(r.platform, r.target_chat) for r in rows]


async def test_an_answer_still_rate_limited_after_discords_retries_owes_a_dm_note(
    database: Database,
) -> None:
    async with running(database) as bench:
        fake = bench.fake
        await bench.answered(fake.user_runs_command_in_dm(ANA, "start"))
        fake.rate_limit_next("POST", CALLBACK, retry_after=0.05, times=5)
        lost = fake.user_runs_command_in_dm(ANA, "progress")
        await fake.wait_for(lambda: bench.front.failed_sends == 1)
        await bench.settled()
        assert not fake.interaction(lost).acked
        assert await _owed(database) == [("discord", str(ANA))]
        assert not any(NOTE_WORDS in m.content for m in fake.dm_messages(ANA))

        # Discord takes answers again: this one goes through, then the note follows
        await bench.answered(fake.user_runs_command_in_dm(ANA, "today"))
        await fake.wait_for(lambda: any(NOTE_WORDS in m.content for m in fake.dm_messages(ANA)))
        await bench.front.notes.idle()
        assert await _owed(database) == []
        assert sum(NOTE_WORDS in m.content for m in fake.dm_messages(ANA)) == 1


async def test_a_dropped_connection_while_answering_owes_a_note_not_a_sorry(
    database: Database,
) -> None:
    """discord.py does not retry a connection that died mid-request; the error used to escape
    into the command tree, which answered "Sorry, something went wrong" although the command
    had worked."""
    async with running(database) as bench:
        fake = bench.fake
        fake.cut_next("POST", CALLBACK)
        lost = fake.member_runs_command(GUILD, CHANNEL, BEN, "help")
        await fake.wait_for(lambda: bench.front.failed_sends == 1)
        await bench.settled()
        assert await _owed(database) == [("discord", f"c:{CHANNEL}")]
        assert "Sorry" not in fake.interaction(lost).texts()

        await bench.command(ANA, "help")  # Discord answers again
        await fake.wait_for(lambda: any(NOTE_WORDS in m.content for m in fake.messages(CHANNEL)))
        await bench.front.notes.idle()
        assert await _owed(database) == []


async def test_a_lost_dm_reply_owes_a_note(database: Database) -> None:
    async with running(database) as bench:
        fake = bench.fake
        await bench.answered(fake.user_runs_command_in_dm(BEN, "start"))
        fake.rate_limit_next("POST", r"/channels/\d+/messages", retry_after=0.05, times=5)
        fake.dm_message(BEN, "Ben")
        await fake.wait_for(lambda: bench.front.failed_sends == 1)
        await bench.settled()
        assert await _owed(database) == [("discord", str(BEN))]

        fake.dm_message(BEN, "/today")
        await fake.wait_for(lambda: any(NOTE_WORDS in m.content for m in fake.dm_messages(BEN)))
        await bench.front.notes.idle()
        assert await _owed(database) == []


async def test_a_redelivered_interaction_owes_nothing(database: Database) -> None:
    """40060: another process already answered it; nobody missed anything."""
    async with running(database) as bench:
        fake = bench.fake
        first = await bench.answered(fake.user_runs_command_in_dm(ANA, "start"))
        fake.redeliver(first.id)
        await fake.wait_for(lambda: 40060 in first.errors)
        await bench.settled()
        assert await _owed(database) == []


async def test_a_notice_asked_to_wait_longer_than_the_cap_fails_at_once(
    database: Database,
) -> None:
    """A 429 whose retry_after is beyond ``ratelimit_max_seconds`` is not sat out (a nudge
    would hold the reminder tick past its lease): the notice fails now and is retried later."""
    async with running(database) as bench:
        fake = bench.fake
        fake.rate_limit_next("POST", rf"/channels/{CHANNEL}/messages", retry_after=600)
        result = await asyncio.wait_for(
            bench.front.notify(f"c:{CHANNEL}", [Message(text="Rehearsal at 8")]), timeout=10
        )
        assert result.status is DeliveryStatus.FAILED
        assert result.detail == "RateLimited"
        assert await _owed(database) == [], "a notice is retried by its own sender"
