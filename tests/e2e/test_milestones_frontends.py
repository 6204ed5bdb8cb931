"""Milestones through real front ends: Telegram (PTB against the fake Bot API), Discord
(discord.py against the fake gateway and REST API: a DM, and a band's updates channel) and
the terminal, with the consumer sending through each front end's Notifier."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from datetime import UTC, datetime

from coachkit import synced_coach
from discordkit import ANA, BEN, CHANNEL, running
from fakes.telegram_api import FakeTelegram, SentMessage
from reminderkit import FakeClock
from sqlalchemy import select

from bot.console.chat import ConsoleChat
from bot.console.notify import ConsoleNotifier
from bot.telegram.app import TelegramFrontEnd
from core.coaching.milestones.consumer import MilestoneConsumer
from core.db.engine import Database
from core.db.models import Milestone
from core.jobs.runner import JobRunner
from core.kernel.notify import by_platform

MAYA = 1001
START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


async def _until(predicate: Callable[[], bool], within: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def _keys(database: Database) -> dict[str, str]:
    async with database.transaction() as session:
        return {m.key: m.celebrated for m in (await session.scalars(select(Milestone))).all()}


async def test_telegram_musician_is_told_of_1000_listeners_once(database: Database) -> None:
    clock = FakeClock(START)
    coach = await synced_coach(database, clock=clock)
    async with FakeTelegram() as fake:
        front = TelegramFrontEnd(coach, fake.token, api_base_url=fake.url)
        await front.start(poll_timeout=1)
        try:

            async def say(text: str) -> SentMessage:
                before = len(fake.sent)
                fake.user_message(MAYA, text)
                await fake.wait_for(lambda: len(fake.sent) > before)
                return fake.last(MAYA)

            await say("/start")
            first = await say("Maya")
            data = next(d for label, d in first.buttons() if "Indie" in label)
            before = len(fake.sent)
            fake.press_button(MAYA, first.message_id, data)
            await fake.wait_for(lambda: len(fake.sent) > before)
            saved = await say("/update monthly_listeners 1200")
            assert "Saved" in saved.plain_text

            consumer = MilestoneConsumer(database, by_platform(front), clock=clock)
            sent_before = len(fake.messages(MAYA))
            assert (await consumer.run()).sent == 1
            assert len(fake.messages(MAYA)) == sent_before + 1
            notice = fake.last(MAYA)
            assert "1,000 monthly listeners!" in notice.plain_text  # an English user's figure
            assert "1,200" in notice.plain_text
            assert (await consumer.run()).sent == 0  # once
            assert len(fake.messages(MAYA)) == sent_before + 1
            assert (await _keys(database))["metric:monthly_listeners:1000"] == "sent"
        finally:
            await front.stop()


async def test_discord_dm_and_band_channel(database: Database) -> None:
    clock = FakeClock(START)
    async with running(database, clock=clock) as bench:
        fake = bench.fake
        # Ben, solo, in his DMs: a paid gig
        await bench.answered(fake.user_runs_command_in_dm(BEN, "start"))
        fake.dm_message(BEN, "Ben Solo")
        await fake.wait_for(lambda: any("Indie" in str(m.buttons()) for m in fake.dm_messages(BEN)))
        menu = next(m for m in reversed(fake.dm_messages(BEN)) if "Indie" in str(m.buttons()))
        await bench.press(BEN, menu, "Indie")
        saved = await bench.answered(
            fake.user_runs_command_in_dm(BEN, "update", metric="gig_fee", value="150")
        )
        assert "Saved" in saved.texts()

        # Ana's band: updates channel set, milestones announced
        await bench.command(ANA, "band", sub="create", name="Night Owls")
        await bench.command(ANA, "band", sub="channel")
        switched = await bench.command(ANA, "band", sub="milestones", switch="on")
        assert any("announced" in m.text() for m in switched.messages())
        start = await bench.command(ANA, "start")
        menu = next(m for m in start.messages() if any("Indie" in b for b, _ in m.buttons()))
        await bench.press(ANA, menu, "Indie")
        await bench.command(ANA, "update", metric="monthly_listeners", value="150")

        dms, channel = len(fake.dm_messages(BEN)), len(fake.messages(CHANNEL))
        consumer = MilestoneConsumer(database, by_platform(bench.front), clock=clock)
        report = await consumer.run()
        assert (report.sent, report.announced) == (1, 1)
        [dm] = fake.dm_messages(BEN)[dms:]
        assert dm.interaction_id is None  # a notice, not an answer
        assert "Your first paid gig!" in dm.text()
        [post] = fake.messages(CHANNEL)[channel:]
        assert post.interaction_id is None
        assert "**Night Owls** passed **100 monthly listeners**!" in post.text()  # Discord markdown
        assert (await consumer.run()).announced == 0


async def test_terminal_prints_the_milestone_from_the_scheduled_consumer(
    database: Database,
) -> None:
    clock = FakeClock(START)
    coach = await synced_coach(database, clock=clock)
    out = io.StringIO()
    chat = ConsoleChat(coach, "maya", out)
    await chat.send("/start")
    await chat.send("Maya")
    await chat.send("1")  # the first roadmap
    await chat.send("/update monthly_listeners 12000")
    consumer = MilestoneConsumer(
        database, by_platform(ConsoleNotifier(chat)), clock=clock, interval=0.05
    )
    job = consumer.job()
    runner = JobRunner(clock=clock)
    runner.add(job)
    await runner.start()
    try:
        await _until(lambda: consumer.totals.sent >= 1)
        await _until(lambda: runner.runs[job.name] >= 3)  # a few more runs: nothing more
    finally:
        await runner.stop()
    printed = out.getvalue()
    assert "10 000 monthly listeners!" in printed
    assert printed.count("monthly listeners!") == 1  # the highest of the three, once
    keys = await _keys(database)
    assert keys["metric:monthly_listeners:10000"] == "sent"
    assert keys["metric:monthly_listeners:100"] == keys["metric:monthly_listeners:1000"] == "lower"
