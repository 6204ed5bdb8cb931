"""Questions answered from the content, and "done all", on the front ends (issue #15 §4):
through the real python-telegram-bot against the fake Bot API (the answer in Telegram's HTML,
its buttons as an inline keyboard, a 📖 button answered with the other task's guidance, "done
all" confirmed by its button) and through the real discord.py in a DM (Markdown, components).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from coachkit import synced_coach
from discordkit import ANA, running
from telegramkit import MAYA, TelegramChat, telegram_chat

from core.db.engine import Database


@contextlib.asynccontextmanager
async def _telegram(database: Database) -> AsyncIterator[TelegramChat]:
    coach = await synced_coach(database)
    async with telegram_chat(coach) as chat:
        yield chat


async def test_telegram_question_answer_and_done_all(database: Database) -> None:
    async with _telegram(database) as chat:
        await chat.say("/start")
        await chat.say("Maya")
        await chat.press("Indie")
        answer = await chat.say("whats a split sheet??")
        assert answer.text is not None
        assert "💡 <b>Sign a split sheet for the song</b>" in answer.text  # Telegram's HTML
        assert "<i>On your roadmap, stage 2.</i>" in answer.text
        labels = [label for label, _data in answer.buttons()]
        assert labels[0] == "👉 Open this task"
        assert len(labels) == 3
        other = labels[1]
        shown = await chat.press(other)
        assert f"💡 {other.removeprefix('📖 ').rstrip('…')}" in shown.plain_text

        # a statement still gets the old answer (the open checklist stays open)
        plain = await chat.say("finished my demo today")
        assert "I'm not waiting for an answer right now" in plain.plain_text

        # "done all" on the open checklist: asked, then ticked by its button
        asked = await chat.say("done all")
        assert "Tick all 5 items left" in asked.plain_text
        await chat.press("Tick 5")
        said = "\n".join(m.plain_text for m in chat.fake.messages(MAYA)[-3:])
        assert "Lock in your artist name and identity — done!" in said


async def test_discord_question_in_a_dm(database: Database) -> None:
    async with running(database) as bench:
        fake = bench.fake
        await bench.answered(fake.user_runs_command_in_dm(ANA, "start"))
        await bench.dm(ANA, "Ana")
        menu = next(m for m in reversed(fake.dm_messages(ANA)) if "Touring" in str(m.buttons()))
        await bench.press(ANA, menu, "Touring")

        asked = "how do we get people to sign up for our email list at shows?"
        (answer,) = await bench.dm(ANA, asked)
        assert "💡 **Collect emails at every show**" in answer.content  # Discord's Markdown
        labels = [label for label, _id in answer.buttons()]
        assert labels[0] == "👉 Open this task"
        assert all(label.startswith("📖 ") for label in labels[1:])
        await bench.press(ANA, answer, labels[1])
        shown = fake.dm_messages(ANA)[-1]
        assert f"💡 **{labels[1].removeprefix('📖 ').rstrip('…')}" in shown.content

        (honest,) = await bench.dm(ANA, "who won the football last night?")
        assert "I don't have a good answer to that" in honest.text()


async def test_discord_question_in_a_band_server_by_slash_command(database: Database) -> None:
    """A server's typed messages are not the bot's to read, so ``/ask`` carries the question
    there: the band gets the same guidance as a DM (issue #15 §4 in a band's server)."""
    async with running(database) as bench:
        await bench.command(ANA, "band", sub="create", name="Night Owls")
        start = await bench.command(ANA, "start")
        menu = next(m for m in start.messages() if "Touring" in str(m.buttons()))
        await bench.press(ANA, menu, "Touring")
        answered = await bench.command(
            ANA, "ask", question="how do we get people to sign up for our email list at shows?"
        )
        assert "💡 **Collect emails at every show**" in answered.texts()
        empty = await bench.command(ANA, "ask", question="???")
        assert "Ask me in a few words" in empty.texts()
