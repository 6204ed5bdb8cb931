"""The coach reacts to answers in a Discord DM (issue #13 §1), through the real discord.py client
against the fake: "idk" puts a question off, a choice question's buttons answer it (no "✍️
Answer" form in a DM: the bot reads typed messages there), a probable typo is questioned
before it is saved and its "Yes, save it" button saves it, and a loudness answer gets its
verdict and one next step.

Telegram (``test_telegram_answers``) and the terminal (``tests/unit/test_console_keys``) had
these; on Discord only a band's choice button in a server was driven, so the DM's rendering of
the suspect question and of the verdict was proven nowhere. The roadmap is ``answerkit``'s.
"""

from __future__ import annotations

from answerkit import LUFS_ADVICE, coaching_roadmap
from coachkit import catalog_of
from discordkit import ANA, running
from fakes.discord_api import FakeMessage
from sqlalchemy import select
from support.memory import bundled_roadmaps

from core.db.engine import Database
from core.db.models import UserTaskProgress
from core.roadmaps.sync import sync_roadmaps


def _text(messages: list[FakeMessage]) -> str:
    return "\n".join(m.text() for m in messages)


def _with(messages: list[FakeMessage], words: str) -> FakeMessage:
    return next(m for m in reversed(messages) if words in m.text())


async def test_answers_get_their_reactions_in_a_dm(database: Database) -> None:
    async with running(database) as bench:
        async with database.transaction() as session:
            await sync_roadmaps(session, [*bundled_roadmaps(), coaching_roadmap()])
        bench.coach.catalog.invalidate()
        fake = bench.fake
        await bench.answered(fake.user_runs_command_in_dm(ANA, "start"))
        await bench.dm(ANA, "Ana")
        menu = next(
            m for m in reversed(fake.dm_messages(ANA)) if "Coaching test" in str(m.buttons())
        )
        await bench.press(ANA, menu, "Coaching test")
        assert "How many followers" in fake.dm_messages(ANA)[-1].text()

        later = await bench.dm(ANA, "idk")
        assert "No problem — I'll ask again in 3 days." in _text(later)
        card = _with(later, "How are you recording the single?")
        assert [label for label, _ in card.buttons()] == [
            "Home studio",
            "With a producer",
            "Not sure",
            "Skip",
        ], "a choice per button, and no answer form in a DM"

        answered = await bench.press(ANA, card, "With a producer")
        assert "Saved: **With a producer**" in answered.texts() + _text(fake.dm_messages(ANA))
        assert "integrated loudness" in fake.dm_messages(ANA)[-1].text()

        asked = await bench.dm(ANA, "9.5")  # a positive LUFS: probably a typo
        question = _with(asked, "Did you mean -9.5 LUFS?")
        labels = [label for label, _ in question.buttons()]
        assert "Yes, save it" in labels
        async with database.transaction() as session:
            rows = (await session.scalars(select(UserTaskProgress))).all()
        catalog = await catalog_of(database)
        assert "ct-lufs" not in {catalog.tasks_by_id[r.task_id].slug for r in rows}, (
            "nothing is saved before the musician says which it is"
        )

        verdict = _text(await bench.dm(ANA, "-9,5"))
        assert "✅ Saved: **-9.5 LUFS**." in verdict
        assert (
            "⚠️ Louder than the -14 LUFS the big services play at: they'll turn it down by "
            "about 4.5 dB." in verdict
        )
        assert f"👉 {LUFS_ADVICE}" in verdict

        stale = await bench.press(ANA, question, "Yes, save it")
        assert "Saved" not in stale.texts(), "the question was answered: its buttons are stale"

    async with database.transaction() as session:
        rows = (await session.scalars(select(UserTaskProgress))).all()
    saved = {catalog.tasks_by_id[r.task_id].slug: r for r in rows}
    assert saved["ct-followers"].status == "postponed"
    assert saved["ct-setup"].task_data["value"] == "With a producer"
    assert saved["ct-lufs"].task_data["numeric"] == "-9.5"
