"""The Discord front end end to end: the real discord.py client against the loopback fake.

Each test starts the fake Discord (REST + gateway on 127.0.0.1), a coach on the test database
and the real ``DiscordFrontEnd``, then acts as Discord users would: slash commands, button
presses, modal submits and DMs.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import uuid
from typing import Any

import pytest
from coachkit import (
    Driver,
    catalog_of,
    count,
    free_port,
    start_coach_run,
    stop_coach_run,
    synced_coach,
)
from discordkit import (
    ANA,
    BEN,
    CHANNEL,
    CLEO,
    GUILD,
    NEWS,
    ROLE,
    Bench,
    front_end,
    front_end_at,
    running,
    world,
)
from fakes.discord_api import FakeDiscord, FakeMessage
from sqlalchemy import select
from watchkit import sample

from bot.watch import Watch
from core.app.engine import Coach
from core.db.engine import Database
from core.db.models import BandMember, Identity, StatSample, User, UserTaskProgress
from core.errors import PlatformUnreachable
from core.kernel.audit import latest
from core.kernel.types import Card, Inbound, Message, Outbound
from core.observe.metrics import CoachMetrics
from core.roadmaps.catalog import TaskInfo

INDIE = "indie-singer-songwriter"


def _with_buttons(messages: list[FakeMessage], label: str) -> FakeMessage:
    for message in reversed(messages):
        if any(label.casefold() in b.casefold() for b, _ in message.buttons()):
            return message
    raise AssertionError(f"no message with a {label!r} button: {[m.buttons() for m in messages]}")


async def _band_on_indie(bench: Bench) -> FakeMessage:
    """Ana creates the band, Ben joins, Ana picks the indie roadmap; the roadmap menu message."""
    await bench.command(ANA, "band", sub="create", name="Night Owls")
    await bench.command(BEN, "band", sub="join")
    start = await bench.command(ANA, "start")
    menu = _with_buttons(start.messages(), "Indie")
    await bench.press(ANA, menu, "Indie")
    return menu


async def _walk_band_to_checklist(bench: Bench, database: Database) -> FakeMessage:
    """Skip to the first checklist of the band's roadmap; the message showing it."""
    roadmap = (await catalog_of(database)).roadmap_by_slug(INDIE)
    assert roadmap is not None
    index = next(i for i, t in enumerate(roadmap.stages[0].tasks) if t.is_checklist)
    for _ in range(index):
        await bench.command(ANA, "skip")
    today = await bench.command(ANA, "today")
    checklist = roadmap.stages[0].tasks[index]
    prefix = f"v1:tk:{checklist.slug}:"
    return next(m for m in today.messages() if any(c.startswith(prefix) for _, c in m.buttons()))


async def test_solo_journey_in_dms(database: Database) -> None:
    async with running(database) as bench:
        fake = bench.fake
        start = await bench.answered(fake.user_runs_command_in_dm(ANA, "start"))
        assert "artist name" in start.texts()
        fake.dm_message(ANA, "Ana *Star*")
        await fake.wait_for(lambda: any("Indie" in str(m.buttons()) for m in fake.dm_messages(ANA)))
        menu = _with_buttons(fake.dm_messages(ANA), "Indie")
        assert any("Ana \\*Star\\*" in m.text() for m in fake.dm_messages(ANA)), "name escaped"
        picked = await bench.press(ANA, menu, "Indie")
        assert "You're on" in picked.texts()
        progress = await bench.answered(fake.user_runs_command_in_dm(ANA, "progress"))
        assert progress.original is not None
        assert progress.original.embeds, "progress is shown as an embed"
        assert "█" in progress.texts() or "░" in progress.texts()
    # everything landed on Ana's solo profile
    async with database.transaction() as session:
        identity = (await session.scalars(select(Identity))).one()
        user = await session.get(User, identity.user_id)
    assert identity.platform == "discord"
    assert identity.external_id == str(ANA)
    assert user is not None


async def test_band_journey_with_concurrent_ticks(database: Database) -> None:
    async with running(database) as bench:
        await _band_on_indie(bench)
        card = await _walk_band_to_checklist(bench, database)
        ticks = [c for _, c in card.buttons() if c.startswith("v1:tk:")]
        assert len(ticks) >= 2
        # Ana and Ben press different items of the same card at the same moment
        first = bench.fake.press_button(ANA, card, ticks[0])
        second = bench.fake.press_button(BEN, card, ticks[1])
        await bench.fake.wait_for(
            lambda: bench.fake.interaction(first).acked and bench.fake.interaction(second).acked
        )
        await asyncio.sleep(0.2)
        async with database.transaction() as session:
            row = (
                await session.scalars(
                    select(UserTaskProgress).where(UserTaskProgress.status == "in_progress")
                )
            ).one()
        ana_id, ben_id = await _user(database, ANA), await _user(database, BEN)
        assert sorted(row.task_data["ticked"]) == sorted(
            [ticks[0].split(":")[3], ticks[1].split(":")[3]]
        )
        assert set(row.task_data["ticked_by"].values()) == {str(ana_id), str(ben_id)}
        # the card is edited in place (an update, not a new message)
        assert bench.fake.interaction(first).callback_type in {6, 7}
        # Cleo is in the server but not in the band: refused, privately, and audited
        refused = await bench.press(CLEO, card, card.buttons()[0][0])
        assert refused.messages()
        assert all(m.ephemeral for m in refused.messages())
        assert "not in" in refused.texts()
        assert any(
            e.action == "band.access" and e.actor == f"discord:{CLEO}"
            for e in await latest(database)
        )
        progress = await bench.command(BEN, "band", sub="progress")
        text = progress.texts()
        assert "Ana" in text
        assert "Ben" in text
        assert "Ana: 1 item(s) ticked" in text
        assert "Ben: 1 item(s) ticked" in text


async def test_a_role_bound_band_admits_whoever_holds_the_role(database: Database) -> None:
    """Holding the band's bound role is membership: the front end reads the member's roles
    (``Member.roles``, resolved against the server's cached roles) into ``Inbound.role_ids``."""
    dee = 100_000_000_000_000_004
    async with running(database) as bench:
        bench.fake.add_member(GUILD, dee, "Dee", roles=[ROLE])
        created = await bench.command(
            ANA, "band", sub="create", name="Night Owls", role=("role", ROLE)
        )
        assert "everyone with the role is in" in created.texts()
        members = await bench.command(dee, "band", sub="members")
        assert "not in" not in members.texts()
        assert "Dee" in members.texts()
        refused = await bench.command(CLEO, "band", sub="members")
        assert "Members hold the band's role" in refused.texts()
    dee_id = await _user(database, dee)
    assert await count(database, BandMember, BandMember.user_id == dee_id) == 1


MIX_MASTER = "iss-mix-master"  # the indie roadmap's 7-item checklist


async def _band_at_task(bench: Bench, database: Database, slug: str) -> FakeMessage:
    """The band on the indie roadmap, every task before ``slug`` skipped; ``/today``'s card."""
    await _band_on_indie(bench)
    roadmap = (await catalog_of(database)).roadmap_by_slug(INDIE)
    assert roadmap is not None
    before = [t.slug for stage in roadmap.stages for t in stage.tasks]
    for _ in range(before.index(slug)):
        await bench.command(ANA, "skip")
    today = await bench.command(ANA, "today")
    [card] = today.messages()
    return card


async def _task(database: Database, slug: str) -> TaskInfo:
    roadmap = (await catalog_of(database)).roadmap_by_slug(INDIE)
    assert roadmap is not None
    return next(t for stage in roadmap.stages for t in stage.tasks if t.slug == slug)


async def _ticked(database: Database, slug: str) -> tuple[str | None, set[str]]:
    """The status of the band's progress row of task ``slug`` (None: no row) and its ticks."""
    task = await _task(database, slug)
    async with database.transaction() as session:
        row = (
            await session.scalars(
                select(UserTaskProgress).where(UserTaskProgress.task_id == task.id)
            )
        ).one_or_none()
    if row is None:
        return None, set()
    return row.status, set(row.task_data.get("ticked") or [])


async def test_a_seven_item_checklist_is_one_message_with_every_item(database: Database) -> None:
    """Numbered buttons five a row and a multi-select menu, beside Skip and Progress: the
    whole card in one message, each number the item's number in the card's text."""
    async with running(database) as bench:
        card = await _band_at_task(bench, database, MIX_MASTER)
        items = (await _task(database, MIX_MASTER)).items or ()
        assert len(items) == 7
        payloads = [f"v1:tk:{MIX_MASTER}:{item.key}" for item in items]
        for n, item in enumerate(items, start=1):
            assert f"☐ {n}. {item.text}" in card.text().replace("\\", "")
        assert card.buttons()[:7] == [(f"☐ {n}", p) for n, p in enumerate(payloads, start=1)]
        assert [len(row["components"]) for row in card.components] == [5, 2, 1, 2]
        menu = card.select(f"ticks:{MIX_MASTER}")
        assert [o["value"] for o in menu["options"]] == payloads
        assert [o["label"][:3] for o in menu["options"]] == [f"☐ {n}" for n in range(1, 8)]
        assert (menu["min_values"], menu["max_values"]) == (0, 7)
        assert [label for label, _ in card.buttons()[7:]] == ["Skip", "Progress"]


async def test_ticking_several_items_through_the_menu(database: Database) -> None:
    """The menu's submission is the set of ticked items: each item whose selection changed
    goes through the core as its button would, and one edit shows the result."""
    async with running(database) as bench:
        card = await _band_at_task(bench, database, MIX_MASTER)
        menu_id = f"ticks:{MIX_MASTER}"
        values = [str(o["value"]) for o in card.select(menu_id)["options"]]
        keys = [v.rsplit(":", 1)[1] for v in values]

        chosen = await bench.answered(
            bench.fake.choose(BEN, card, menu_id, [values[i] for i in (0, 2, 3)])
        )
        assert not chosen.errors
        assert chosen.callback_type == 7, "the card is edited in place"
        assert await _ticked(database, MIX_MASTER) == ("in_progress", {keys[0], keys[2], keys[3]})
        card = bench.fake.messages_by_id[card.id]
        assert [label for label, _ in card.buttons()[:7]] == [
            "☑ 1",
            "☐ 2",
            "☑ 3",
            "☑ 4",
            "☐ 5",
            "☐ 6",
            "☐ 7",
        ]
        menu = card.select(menu_id)
        assert [o["default"] for o in menu["options"]] == [
            True,
            False,
            True,
            True,
            False,
            False,
            False,
        ]
        # a redelivered submission has no second effect
        bench.fake.redeliver(chosen.id)
        await bench.fake.wait_for(lambda: 40060 in chosen.errors)
        assert await _ticked(database, MIX_MASTER) == ("in_progress", {keys[0], keys[2], keys[3]})

        # deselecting unticks, selecting ticks; the rest stays as it was
        now = [str(o["value"]) for o in menu["options"]]  # item 3's value is its untick now
        selection = [now[0], now[1], now[3]]
        await bench.answered(bench.fake.choose(ANA, card, menu_id, selection))
        assert await _ticked(database, MIX_MASTER) == ("in_progress", {keys[0], keys[1], keys[3]})

        # a numbered button still ticks one item
        card = bench.fake.messages_by_id[card.id]
        await bench.press(BEN, card, "☐ 5")
        assert await _ticked(database, MIX_MASTER) == (
            "in_progress",
            {keys[0], keys[1], keys[3], keys[4]},
        )

        # selecting everything completes the task: one edit, then the news and the next task
        card = bench.fake.messages_by_id[card.id]
        everything = [str(o["value"]) for o in card.select(menu_id)["options"]]
        done = await bench.answered(bench.fake.choose(ANA, card, menu_id, everything))
        assert await _ticked(database, MIX_MASTER) == ("completed", set(keys))
        card = bench.fake.messages_by_id[card.id]
        assert card.components == [], "the finished card keeps no buttons"
        assert "done!" in done.texts()
        assert sum("done!" in m.text() for m in done.messages()) == 1
    ana_id, ben_id = await _user(database, ANA), await _user(database, BEN)
    async with database.transaction() as session:
        row = (
            await session.scalars(
                select(UserTaskProgress).where(UserTaskProgress.status == "completed")
            )
        ).one()
    assert row.task_data["ticked_by"][keys[0]] == str(ben_id)
    assert row.task_data["ticked_by"][keys[2]] == str(ana_id)


async def test_an_unchanged_menu_is_acknowledged_quietly(database: Database) -> None:
    async with running(database) as bench:
        card = await _band_at_task(bench, database, MIX_MASTER)
        menu_id = f"ticks:{MIX_MASTER}"
        quiet = await bench.answered(bench.fake.choose(BEN, card, menu_id, []))
        assert quiet.callback_type == 6, "a silent update"
        assert quiet.messages() == [bench.fake.messages_by_id[card.id]]
        assert await _ticked(database, MIX_MASTER) == (None, set())


async def _user(database: Database, discord_id: int) -> uuid.UUID:
    async with database.transaction() as session:
        return (
            await session.scalars(
                select(Identity.user_id).where(Identity.external_id == str(discord_id))
            )
        ).one()


class _Recording(Coach):
    """A coach that only notes what it was handed."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self.seen: list[Inbound] = []

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        self.seen.append(inbound)
        return []


async def test_a_press_reaches_the_front_end_whose_client_received_it(database: Database) -> None:
    """The components find their front end through the interaction's client, not through
    state on their classes: a second front end built in the same process (another shard, a
    test) does not take the first one's presses."""
    async with running(database) as bench:
        await bench.command(ANA, "band", sub="create", name="Night Owls")
        start = await bench.command(ANA, "start")
        other = front_end(bench.fake, _Recording(database))
        picked = await bench.press(ANA, _with_buttons(start.messages(), "Indie"), "Indie")
        assert "You're on" in picked.texts()
        assert isinstance(other.coach, _Recording)
        assert other.coach.seen == []


async def test_button_from_before_a_restart_still_works(database: Database) -> None:
    async with running(database) as bench:
        await _band_on_indie(bench)
        card = await _walk_band_to_checklist(bench, database)
        await bench.front.stop()
        # a new process: a new client, a new gateway session, the same database
        again = front_end(bench.fake, Coach(database))
        await again.start(ready_timeout=15)
        try:
            tick = next(c for _, c in card.buttons() if c.startswith("v1:tk:"))
            iid = bench.fake.press_button(BEN, card, tick)
            await bench.fake.wait_for(lambda: bench.fake.interaction(iid).acked)
        finally:
            await again.stop()
        assert bench.fake.identifies == 2
        assert (
            await count(database, UserTaskProgress, UserTaskProgress.status == "in_progress") == 1
        )


async def test_dropped_gateway_is_resumed_and_nothing_is_lost(database: Database) -> None:
    async with running(database) as bench:
        await bench.command(ANA, "band", sub="create", name="Night Owls")
        await bench.fake.drop_connection()
        # while the bot is away, Ben joins: the event waits for the RESUME
        iid = bench.fake.member_runs_command(GUILD, CHANNEL, BEN, "band", sub="join")
        inter = await bench.answered(iid)
        assert "Welcome to" in inter.texts()
        assert bench.fake.resumes == 1
        assert bench.fake.identifies == 1, "resumed, not re-identified"
        assert bench.fake.heartbeats >= 2, "a heartbeat on each connection"


async def test_redelivered_interaction_has_no_second_effect(database: Database) -> None:
    async with running(database) as bench:
        await _band_on_indie(bench)
        skip = await bench.command(ANA, "skip")
        assert skip.acked
        skipped = await count(database, UserTaskProgress, UserTaskProgress.status == "skipped")
        assert skipped == 1
        bench.fake.redeliver(skip.id)
        await bench.fake.wait_for(lambda: 40060 in skip.errors)
        assert (
            await count(database, UserTaskProgress, UserTaskProgress.status == "skipped") == skipped
        )
        # and the bot goes on serving
        after = await bench.command(BEN, "band", sub="members")
        assert "Ben" in after.texts()


class _SlowCoach(Coach):
    """A coach that takes ``delay`` seconds per event (a busy database)."""

    delay = 0.8

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        await asyncio.sleep(self.delay)
        return await super().handle(inbound)


async def test_a_slow_core_is_deferred_within_the_deadline(database: Database) -> None:
    async with running(database, ack_after=0.2) as bench:
        bench.fake.ack_deadline = 0.6  # stricter than Discord's 3 s, to keep the test short
        bench.front.coach = _SlowCoach(database)
        inter = await bench.command(ANA, "band", sub="create", name="Night Owls")
        assert inter.callback_type == 5, "deferred (thinking) first"
        assert inter.acked_at is not None
        assert inter.acked_at - inter.dispatched_at < 0.6
        assert "Night Owls" in inter.texts()
        # without the deferral the answer would come too late: Discord says 10062
        bench.front.ack_after = 5.0
        late = bench.fake.member_runs_command(GUILD, CHANNEL, BEN, "band", sub="join")
        await bench.fake.wait_for(lambda: 10062 in bench.fake.interaction(late).errors)
        assert not bench.fake.interaction(late).acked
        assert bench.front.failed_sends >= 1


async def test_rate_limited_sends_are_retried(database: Database) -> None:
    async with running(database) as bench:
        bench.fake.rate_limit_next("POST", rf"/channels/{CHANNEL}/messages", retry_after=0.3)
        result = await bench.front.notify(f"c:{CHANNEL}", [Message(text="Rehearsal at *8*!")])
        assert result.sent
        assert bench.fake.requests_to("POST", rf"/channels/{CHANNEL}/messages") == [429, 200]
        [message] = bench.fake.messages(CHANNEL)
        assert message.content == "Rehearsal at **8**!"
        # discord.py waited the 429 out unseen; its HTTP trace counted it for /metrics
        assert bench.front.rate_limited == 1
        metrics = CoachMetrics()
        Watch(database, metrics, [bench.front], clock=bench.coach.clock)
        text = metrics.render().decode()
        assert sample(text, "coach_outbound_rate_limited_total", platform="discord") == 1


async def test_overlong_content_is_split(database: Database) -> None:
    async with running(database) as bench:
        long_text = "\n".join(f"line {n}: " + "la " * 30 for n in range(60))
        result = await bench.front.notify(f"c:{CHANNEL}", [Message(text=long_text)])
        assert result.sent
        messages = bench.fake.messages(CHANNEL)
        assert len(messages) >= 3
        assert all(len(m.content) <= 2000 for m in messages)
        assert "\n".join(m.content for m in messages) == long_text


async def test_notify_a_musician_who_closed_their_dms(database: Database) -> None:
    async with running(database) as bench:
        await bench.answered(bench.fake.user_runs_command_in_dm(BEN, "start"))
        ok = await bench.front.notify(str(BEN), [Message(text="Time to practise 🎸")])
        assert ok.sent
        assert bench.fake.dm_messages(BEN)[-1].content == "Time to practise 🎸"
        bench.fake.block(BEN)
        closed = await bench.front.notify(str(BEN), [Message(text="Still there?")])
        # closed DMs are a failed notice, not a block (tests/e2e/test_discord_refusals.py)
        assert closed.status == "failed"
        ben = await _user(database, BEN)
        async with database.transaction() as session:
            user = await session.get(User, ben)
        assert user is not None
        assert user.unreachable is False


async def test_notify_while_discord_is_unreachable_fails_without_raising(
    database: Database,
) -> None:
    """A network failure is a ``failed`` notice, as the Notifier contract says, not a raise
    (a raise used to abort the broadcast round of every platform)."""
    async with running(database) as bench:
        await bench.answered(bench.fake.user_runs_command_in_dm(BEN, "start"))
        await bench.fake.stop()  # Discord's REST and gateway are gone
        to_person = await bench.front.notify(str(BEN), [Message(text="Time to practise")])
        to_channel = await bench.front.notify(f"c:{CHANNEL}", [Message(text="Band news")])
    assert to_person.status == "failed"
    assert to_channel.status == "failed"
    assert "Connect" in to_person.detail or "Disconnect" in to_person.detail, to_person.detail


async def test_start_while_discord_is_unreachable_can_be_tried_again(database: Database) -> None:
    """Unreachable at start is PlatformUnreachable with the attempt cleaned up (coach run keeps
    trying in the background); notices fail meanwhile; the next start() connects."""
    coach = await synced_coach(database)
    port = free_port()
    front = front_end_at(f"http://127.0.0.1:{port}/api/v10", coach)
    with pytest.raises(PlatformUnreachable, match="Discord could not be reached"):
        await front.start(ready_timeout=5)
    waiting = await front.notify(str(BEN), [Message(text="Time to practise")])
    assert (waiting.status, waiting.detail) == ("failed", "not connected to Discord yet")
    fake = FakeDiscord()
    await fake.start(port=port)  # Discord is back
    try:
        world(fake)
        await front.start(ready_timeout=15)
        try:
            assert fake.identifies == 1
            start = fake.user_runs_command_in_dm(BEN, "start")
            await fake.wait_for(lambda: fake.interaction(start).acked)
            assert "artist name" in fake.interaction(start).texts()
        finally:
            await front.stop()
    finally:
        await fake.stop()


async def test_answer_a_question_with_a_modal(database: Database) -> None:
    async with running(database) as bench:
        await _band_on_indie(bench)
        catalog = await catalog_of(database)
        roadmap = catalog.roadmap_by_slug(INDIE)
        assert roadmap is not None
        index, task = next(
            (i, t)
            for i, t in enumerate(roadmap.stages[0].tasks)
            if t.input is not None and t.input.metric and t.input.type.value == "integer"
        )
        for _ in range(index):
            await bench.command(ANA, "skip")
        today = await bench.command(BEN, "today")
        question = _with_buttons(today.messages(), "Answer")
        opened = await bench.press(BEN, question, "Answer")
        assert opened.callback_type == 9
        assert opened.modal is not None
        submitted = bench.fake.submit_modal(BEN, opened.id, {"answer": "1200"})
        inter = await bench.answered(submitted)
        assert "Saved" in inter.texts()
        async with database.transaction() as session:
            sample = (await session.scalars(select(StatSample))).one()
        assert sample.recorded_by == await _user(database, BEN)
        assert sample.task_id == task.id


async def test_sync_commands_globally_and_to_a_server(database: Database, monkeypatch: Any) -> None:
    async with running(database) as bench:
        global_names = await bench.front.sync_commands()
        guild_names = await bench.front.sync_commands(GUILD)
        stored = {c["name"]: c for c in bench.fake.commands[None]}
        assert {"band", "assign", "today", "progress", "start"} <= set(global_names)
        assert set(guild_names) == set(global_names)
        band = stored["band"]
        subs = {o["name"] for o in band["options"]}
        assert {"create", "join", "progress", "reset", "remove"} <= subs
        assert all(len(c["description"]) <= 100 for c in stored.values())


@pytest.mark.parametrize("text", ["ab" * 1500])
def test_render_respects_discord_limits(text: str) -> None:
    from bot.discord.render import render  # noqa: PLC0415
    from core.kernel.payloads import encode  # noqa: PLC0415
    from core.kernel.types import Button  # noqa: PLC0415

    buttons = tuple(
        tuple(
            Button(label=f"item {r}-{c} " + "x" * 90, payload=encode("cmd", "today"))
            for c in range(7)
        )
        for r in range(6)
    )
    rendered = render(Message(text=text, buttons=buttons), in_server=True)
    assert all(len(m.content) <= 2000 for m in rendered)
    views = [m.view for m in rendered if m.view is not None]
    total = 0
    for view in views:
        rows: dict[int, int] = {}
        for item in view.children:
            assert len(getattr(item, "custom_id", "") or "") <= 100
            assert len(getattr(item, "label", "") or "") <= 80
            rows[item._rendered_row or 0] = rows.get(item._rendered_row or 0, 0) + 1  # type: ignore[attr-defined]
        assert len(rows) <= 5
        assert max(rows.values()) <= 5
        total += len(view.children)
    assert total == 42, "no button is lost"


@pytest.mark.parametrize("items", [1, 5, 7, 12])
@pytest.mark.parametrize("extra_rows", [0, 1, 2, 3, 4])
def test_a_checklist_card_is_one_message_whatever_comes_with_it(
    items: int, extra_rows: int
) -> None:
    """Up to 12 items (the schema's cap) and up to four rows of other buttons (Skip and
    Progress, a nudge's Done / Snooze / Tomorrow, …): one message, every item tickable — by
    its numbered button or in the menu, both where they fit — and every other button kept."""
    from bot.discord.components import PayloadButton, TicksSelect  # noqa: PLC0415
    from bot.discord.render import render  # noqa: PLC0415
    from core.kernel.payloads import encode  # noqa: PLC0415
    from core.kernel.types import Button  # noqa: PLC0415

    keys = [f"item-{n}" for n in range(1, items + 1)]
    item_rows = tuple(
        (
            Button(
                label=f"☐ {n}. do thing {n}",
                payload=encode("tick", "a-task", key),
                ticked=False,
            ),
        )
        for n, key in enumerate(keys, start=1)
    )
    extras = tuple(
        tuple(Button(label=f"extra {r}.{c}", payload=encode("cmd", "today")) for c in range(3))
        for r in range(extra_rows)
    )
    card = Card(text="the card", buttons=item_rows + extras, form="checklist", task="a-task")
    [message] = render(card, in_server=True)
    assert message.view is not None
    rows: dict[int, list[Any]] = {}
    for child in message.view.children:
        assert isinstance(child, PayloadButton | TicksSelect)
        row = child.item.row  # the item's own: DynamicItem.row misreads a Select's
        assert row is not None
        rows.setdefault(row, []).append(child)
    assert len(rows) <= 5
    assert all(len(row) <= 5 for row in rows.values())
    buttons = [c for c in message.view.children if isinstance(c, PayloadButton)]
    menus = [c for c in message.view.children if isinstance(c, TicksSelect)]
    assert all(len(rows[m.item.row or 0]) == 1 for m in menus), "a menu has its own row"
    numbered = {b.custom_id for b in buttons if b.item.label and b.item.label[0] in "☐☑"}
    in_menu = {o.value for m in menus for o in m.item.options}
    ticks = {encode("tick", "a-task", key) for key in keys}
    assert ticks in (numbered, in_menu) or ticks == numbered == in_menu
    assert ticks <= numbered | in_menu, "every item tickable"
    assert sum(b.item.label.startswith("extra") for b in buttons if b.item.label) == 3 * extra_rows


async def test_coach_run_serves_discord_and_never_logs_the_token(
    database: Database, tmp_path: Any
) -> None:
    async with FakeDiscord() as fake:
        world(fake)
        env = {"DISCORD_BOT_TOKEN": fake.token, "DISCORD_API_BASE_URL": fake.api_base}
        process = await start_coach_run(database, tmp_path, env=env)
        try:
            await fake.wait_for(lambda: fake.identifies == 1, timeout=30)
            iid = fake.member_runs_command(GUILD, CHANNEL, ANA, "band", sub="create", name="Owls")
            await fake.wait_for(lambda: fake.interaction(iid).acked, timeout=10)
        finally:
            log = await stop_coach_run(process)
        assert "Owls" in fake.interaction(iid).texts()
        assert "discord: connected to the gateway" in log
        assert fake.token not in log
        assert process.returncode == 0


async def test_sync_commands_from_the_command_line() -> None:
    async with FakeDiscord() as fake:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DISCORD_")},
            "DISCORD_BOT_TOKEN": fake.token,
            "DISCORD_API_BASE_URL": fake.api_base,
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "discord",
            "sync-commands",
            "--guild",
            str(GUILD),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    assert f"to server {GUILD}" in out.decode()
    names = {c["name"] for c in fake.commands[GUILD]}
    assert {"band", "assign", "today", "help"} <= names
    assert None not in fake.commands, "a guild sync leaves the global commands alone"
    assert fake.token not in err.decode()


async def test_link_a_telegram_account_from_discord(database: Database) -> None:
    async with running(database) as bench:
        maya = Driver(bench.coach, "4242", platform="telegram")
        await maya.onboard("Maya")
        await maya.say("/link")
        match = re.search(r"/link ((?:[A-Z0-9]{4}-){3}[A-Z0-9]{4})", maya.text)
        assert match is not None
        linked = await bench.answered(
            bench.fake.user_runs_command_in_dm(ANA, "link", code=match.group(1))
        )
        assert "Linked" in linked.texts()
        progress = await bench.answered(bench.fake.user_runs_command_in_dm(ANA, "progress"))
        assert "Indie" in progress.texts(), "Maya's Telegram roadmap, seen from Discord"
        again = await bench.answered(
            bench.fake.user_runs_command_in_dm(BEN, "link", code=match.group(1))
        )
        assert "unknown or has expired" in again.texts()
        assert all(m.ephemeral for m in again.messages())


async def test_one_shard_per_process(database: Database) -> None:
    async with FakeDiscord() as fake:
        world(fake)
        even = GUILD + (1 << 22)  # a server on the other shard
        fake.add_guild(even, "Shard Zero", channels=[even + 1])
        coach = Coach(database)
        front = front_end(fake, coach, shard_id=1, shard_count=2)
        await front.start(ready_timeout=15)
        try:
            assert fake.identified_shards == [(1, 2)]
            expected = {g for g in fake.guilds if (g >> 22) % 2 == 1}
            assert even not in expected
            assert expected
            assert {g.id for g in front.client.guilds} == expected
        finally:
            await front.stop()


async def test_band_updates_go_to_the_chosen_channel(database: Database) -> None:
    async with running(database) as bench:
        await _band_on_indie(bench)
        chosen = bench.fake.member_runs_command(GUILD, NEWS, ANA, "band", sub="channel")
        await bench.answered(chosen)
        card = await _walk_band_to_checklist(bench, database)
        for custom_id in [c for _, c in card.buttons() if c.startswith("v1:tk:")]:
            card = bench.fake.messages_by_id[card.id]
            await bench.answered(bench.fake.press_button(BEN, card, custom_id))
        news = [m.content for m in bench.fake.messages(NEWS)]
        assert any("**Ben** finished" in text for text in news), news


async def test_a_refused_token_stops_coach_run_with_a_plain_message(
    database: Database, tmp_path: Any
) -> None:
    async with FakeDiscord() as fake:
        wrong = "not-the-" + fake.token
        env = {"DISCORD_BOT_TOKEN": wrong, "DISCORD_API_BASE_URL": fake.api_base}
        process = await start_coach_run(database, tmp_path, env=env)
        _out, err = await asyncio.wait_for(process.communicate(), timeout=60)  # exits by itself
    log = err.decode()
    assert process.returncode == 1, log[-2000:]
    assert "Discord refused DISCORD_BOT_TOKEN" in log
    assert "Traceback" not in log
    assert wrong not in log
