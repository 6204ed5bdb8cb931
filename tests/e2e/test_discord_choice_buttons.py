"""A choice question answered by its button on Discord, in a band's server (issue #13 §1): the
real discord.py client against the fake, the shipped indie roadmap's recording-setup question.

In a server the bot can't read typed messages, so the question card carries the "✍️ Answer"
modal button — and, for a choice question, a button per choice next to it, which answer it at
once; a second press of the same button is stale.
"""

from __future__ import annotations

from coachkit import catalog_of
from discordkit import ANA, BEN, Bench, running
from fakes.discord_api import FakeMessage
from sqlalchemy import select

from core.db.engine import Database
from core.db.models import UserTaskProgress

INDIE = "indie-singer-songwriter"


def _with_buttons(messages: list[FakeMessage], label: str) -> FakeMessage:
    for message in reversed(messages):
        if any(label.casefold() in b.casefold() for b, _ in message.buttons()):
            return message
    raise AssertionError(f"no message with a {label!r} button: {[m.buttons() for m in messages]}")


async def _band_on_indie(bench: Bench) -> None:
    await bench.command(ANA, "band", sub="create", name="Night Owls")
    await bench.command(BEN, "band", sub="join")
    start = await bench.command(ANA, "start")
    await bench.press(ANA, _with_buttons(start.messages(), "Indie"), "Indie")


async def test_a_choice_question_is_answered_by_its_button_in_a_server(
    database: Database,
) -> None:
    async with running(database) as bench:
        await _band_on_indie(bench)
        catalog = await catalog_of(database)
        roadmap = catalog.roadmap_by_slug(INDIE)
        assert roadmap is not None
        in_order = [t for stage in roadmap.stages for t in stage.tasks]
        index, task = next(
            (i, t)
            for i, t in enumerate(in_order)
            if t.input is not None and t.input.type.value == "choice"
        )
        assert task.input is not None
        assert task.input.choices
        choice = task.input.choices[1]
        for _ in range(index):
            await bench.command(ANA, "skip")
        today = await bench.command(BEN, "today")
        card = _with_buttons(today.messages(), "Answer")
        labels = [label for label, _ in card.buttons()]
        assert labels[0].endswith("Answer")
        assert labels[1:] == [*task.input.choices, "Skip"]
        answered = await bench.press(BEN, card, choice)
        assert f"Saved: **{choice}**" in answered.texts()
        again = await bench.press(BEN, card, choice)
        assert "isn't open anymore" in again.texts()
    async with database.transaction() as session:
        rows = (await session.scalars(select(UserTaskProgress))).all()
    row = next(r for r in rows if r.task_id == task.id)
    assert (row.status, row.task_data["value"]) == ("completed", choice)
