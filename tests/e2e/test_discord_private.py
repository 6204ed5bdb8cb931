"""Discord (issue #11, section 2): a private reply never lands in a server channel. The real
discord.py client against the loopback fake Discord.

In a server every answer goes back through an interaction, whose response can be ephemeral —
seen only by the member who asked: that is where the core's gate keeps a private reply, and
never as an edit of a message everybody sees. A notice (no interaction) can't carry one into
a channel at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from coachkit import count, synced_coach
from discordkit import ANA, BEN, CHANNEL, NEWS, Bench, front_end, world
from fakes.discord_api import FakeDiscord, FakeInteraction, FakeMessage

from core.app import engine as engine_module
from core.app.engine import Coach
from core.db.engine import Database
from core.db.models import LinkCode
from core.journey import views
from core.kernel.notify import DeliveryStatus
from core.kernel.types import Message, Outbound

SECRET = "the secret only its person may read"


@asynccontextmanager
async def _running(database: Database) -> AsyncIterator[Bench]:
    """The fake Discord with its world, a coach whose admin is Ben, and the front end."""
    async with FakeDiscord() as fake:
        world(fake)
        catalog = (await synced_coach(database)).catalog
        coach = Coach(database, admins=[f"discord:{BEN}"], catalog=catalog)
        front = front_end(fake, coach)
        await front.start(ready_timeout=15)
        try:
            yield Bench(fake, coach, front)
        finally:
            await front.stop()


def _public(bench: Bench) -> str:
    """Everything anyone in the band's channels can read."""
    return "\n".join(m.text() for c in (CHANNEL, NEWS) for m in bench.fake.messages(c))


async def _band_card(bench: Bench) -> FakeMessage:
    """Ana's band on the indie roadmap; the public message of its first checklist card that
    carries the "Progress" button (five rows of ticks fill the first one)."""
    await bench.command(ANA, "band", sub="create", name="Night Owls")
    start = await bench.command(ANA, "start")
    menu = next(m for m in start.messages() if any("Indie" in b for b, _ in m.buttons()))
    await bench.press(ANA, menu, "Indie")
    today = await bench.command(ANA, "today")
    card = next(m for m in today.messages() if any(c == "v1:c:progress" for _, c in m.buttons()))
    assert not card.ephemeral
    return card


def _answers(inter: FakeInteraction) -> list[FakeMessage]:
    """The messages the bot answered ``inter`` with (for a deferred or updating button press
    the fake's ``original`` is the pressed message itself, not an answer)."""
    own = inter.original is not None and inter.callback_type in {4, 5}
    return ([inter.original] if own and inter.original else []) + inter.followups


def _only_ephemeral(inter: FakeInteraction) -> None:
    assert _answers(inter), "answered"
    assert all(m.ephemeral for m in _answers(inter))


async def test_link_in_a_server_is_whispered_and_makes_no_code(database: Database) -> None:
    async with _running(database) as bench:
        await bench.command(ANA, "band", sub="create", name="Night Owls")
        asked = await bench.command(ANA, "link")
        _only_ephemeral(asked)
        assert "DM me" in asked.texts()
        assert await count(database, LinkCode) == 0
        assert "link" not in _public(bench).casefold()


async def test_a_private_reply_on_a_band_card_is_whispered_never_an_edit(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flow that answers a button with a private edit (here the band card's "Progress"
    button, patched): without the gate, Discord would replace the band's public card with it.
    It comes as an ephemeral answer instead, and the card stays as it was."""
    async with _running(database) as bench:
        card = await _band_card(bench)
        before = (card.content, card.embeds, card.components, card.edits)

        async def secret_progress(turn: object) -> list[Outbound]:
            return [Message(text=SECRET, private=True, edit=True)]

        monkeypatch.setattr(views, "progress", secret_progress)
        pressed = await bench.press(ANA, card, "Progress")
        _only_ephemeral(pressed)
        assert SECRET in pressed.texts()
        assert pressed.callback_type != 7, "not an update of the card"
        assert (card.content, card.embeds, card.components, card.edits) == before
        assert SECRET not in _public(bench)

        # the same as a slash command: an ephemeral answer
        asked = await bench.command(ANA, "progress")
        _only_ephemeral(asked)
        assert SECRET not in _public(bench)


async def test_the_front_end_whispers_a_private_reply_that_skipped_the_gate(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second line: with the core's gate switched off, the Discord front end still renders
    a private reply in a server as ephemeral and never lets it replace a public message."""
    monkeypatch.setattr(engine_module, "keep_private", lambda inbound, replies: replies)
    async with _running(database) as bench:
        card = await _band_card(bench)
        edits = card.edits

        async def secret_progress(turn: object) -> list[Outbound]:
            return [Message(text=SECRET, private=True, edit=True)]

        monkeypatch.setattr(views, "progress", secret_progress)
        pressed = await bench.press(ANA, card, "Progress")
        _only_ephemeral(pressed)
        assert card.edits == edits
        assert SECRET not in _public(bench)


async def test_a_notice_cannot_carry_a_private_reply_into_a_channel(database: Database) -> None:
    async with _running(database) as bench:
        result = await bench.front.notify(f"c:{NEWS}", [Message(text=SECRET, private=True)])
        assert result.status is DeliveryStatus.FAILED
        assert SECRET not in _public(bench)
        # to the person's DM it goes
        sent = await bench.front.notify(str(ANA), [Message(text=SECRET, private=True)])
        assert sent.sent
        assert any(SECRET in m.text() for m in bench.fake.dm_messages(ANA))


async def test_an_admin_lookup_in_a_server_is_whispered(database: Database) -> None:
    async with _running(database) as bench:
        await bench.command(ANA, "band", sub="create", name="Night Owls")
        looked = await bench.command(BEN, "admin", command=f"user discord:{ANA}")
        _only_ephemeral(looked)
        assert f"discord:{ANA}" in looked.texts()
        assert f"discord:{ANA}" not in _public(bench)
