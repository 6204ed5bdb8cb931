"""A Telegram group as a band (issue #17 §1), through the real python-telegram-bot application
against the loopback fake Bot API — with the fake's group privacy mode ON (Telegram's default):
in a group the bot only sees commands, replies to its own messages and mentions of it.

The journey: a non-admin's ``/band create`` is refused (Telegram's ``getChatMember`` says they
are a plain member) and audited; the group's admin creates the band; two members join; the
band picks its roadmap; three members tick the same checklist at once and every tick is kept
and credited; a data question is asked by ``ForceReply`` and answered by *replying* to it (a
plain message is withheld by privacy mode and answers nothing); ``/assign`` names a member by
replying to their message; ``/band progress`` and ``/band members`` show who did what.

The group is paced to Telegram's 20 messages a minute per group in production; the journey
runs its front end at a faster group pace (``group_per_minute``) so it takes seconds, and
:func:`test_band_digest_is_paced_per_group` checks the real pace on band notices.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from bandkit import TelegramGroupDriver, first_checklist
from coachkit import catalog_of, synced_coach
from fakes.telegram_api import FakeTelegram
from reminderkit import FakeClock, reminder_rows
from sqlalchemy import select
from telegramkit import GroupChat

from bot.telegram.app import GROUP_PER_MINUTE, TelegramFrontEnd
from core.app.engine import Coach
from core.db.engine import Database
from core.db.models import Band, BandMember, Identity, Profile, StatSample
from core.db.models import UserTaskProgress as Progress
from core.journey.buttons import TICK
from core.kernel.audit import latest
from core.kernel.notify import by_platform
from core.kernel.types import Inbound
from core.reminders.tick import ReminderTick

ANA, BEN, CAT = 2001, 2002, 2003
NAMES = {ANA: "Ana", BEN: "Ben", CAT: "Cat"}
GROUP = -100_777_001
INDIE = "indie-singer-songwriter"
START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday
#: The journey's group pace: fast, so the test takes seconds (the real pace: GROUP_PER_MINUTE).
FAST = 1200.0


@dataclass
class Bench:
    fake: FakeTelegram
    coach: Coach
    front: TelegramFrontEnd
    group: GroupChat
    clock: FakeClock


@pytest.fixture
async def bench(database: Database, request: pytest.FixtureRequest) -> AsyncIterator[Bench]:
    pace = getattr(request, "param", FAST)
    clock = FakeClock(START)
    coach = await synced_coach(database, clock=clock)
    async with FakeTelegram(privacy_mode=True) as fake:
        front = TelegramFrontEnd(coach, fake.token, api_base_url=fake.url, group_per_minute=pace)
        await front.start(poll_timeout=1)
        try:
            for user, name in NAMES.items():
                fake.open_private_chat(user, name)
            yield Bench(fake, coach, front, GroupChat(fake, front, GROUP, NAMES), clock)
        finally:
            await front.stop()
            await coach.close()


async def _user(database: Database, external: int) -> object:
    async with database.transaction() as session:
        return (
            await session.scalars(
                select(Identity.user_id).where(
                    Identity.platform == "telegram", Identity.external_id == str(external)
                )
            )
        ).one()


async def _band(database: Database, server: int = GROUP) -> Band | None:
    async with database.transaction() as session:
        return (
            await session.scalars(
                select(Band).where(Band.platform == "telegram", Band.external_id == str(server))
            )
        ).one_or_none()


async def _progress(database: Database, task_id: object) -> Progress:
    async with database.transaction() as session:
        return (
            await session.scalars(
                select(Progress)
                .join(Profile, Profile.id == Progress.profile_id)
                .where(Profile.band_id.is_not(None), Progress.task_id == task_id)
            )
        ).one()


async def _count_members(database: Database) -> int:
    async with database.transaction() as session:
        return len((await session.scalars(select(BandMember))).all())


async def _create_band(bench: Bench) -> None:
    """Ana (the group's creator) makes the group a band; Ben and Cat join; Indie is picked."""
    group = bench.group
    bench.fake.set_member_status(GROUP, ANA, "creator")
    await group.say(ANA, "/band@StardomCoachBot create The Night Owls")
    assert "is this group's band now" in group.last().plain_text
    await group.say(BEN, "/band join")
    await group.say(CAT, "/band join")
    await group.say(ANA, "/start")
    menu = next(m for m in reversed(group.messages()) if any("Indie" in b for b, _ in m.buttons()))
    await group.press(ANA, menu, "Indie")


async def test_band_journey_in_a_telegram_group_with_privacy_mode_on(
    bench: Bench, database: Database
) -> None:
    fake, group = bench.fake, bench.group
    fake.set_member_status(GROUP, BEN, "member")

    # a plain member can't make the group a band: Telegram says so, and the refusal is audited
    await group.say(BEN, "/band create Ben's Band")
    assert "Only the band's managers (group admins) can create" in group.last().plain_text
    assert await _band(database) is None
    assert [c for m, c in fake.calls if m == "getChatMember"][-1]["user_id"] == BEN
    denied = next(e for e in await latest(database) if e.action == "band.create")
    assert denied.outcome == "denied"
    assert denied.actor == f"telegram:{BEN}"

    await _create_band(bench)
    band = await _band(database)
    assert band is not None
    assert band.name == "The Night Owls"
    assert band.channel_id == str(GROUP), "the group is the band's channel"

    # the first checklist: three members tick three items at once (one getUpdates batch)
    catalog = await catalog_of(database)
    index, task = first_checklist(catalog, INDIE)
    for _ in range(index):
        await group.say(ANA, "/skip")
    card = next(
        m
        for m in reversed(group.messages())
        if any(task.items[0].text[:12] in label for label, _ in m.buttons())
    )
    answers = len(fake.callback_answers)
    for user, item in ((ANA, 0), (BEN, 1), (CAT, 2)):
        data = TICK.encode(task.slug, task.items[item].key)
        fake.press_button(user, card.message_id, data, chat_id=GROUP)
    await fake.wait_for(lambda: len(fake.callback_answers) >= answers + 3)
    await group.idle()
    row = await _progress(database, task.id)
    ticked = row.task_data["ticked_by"]
    assert {k: ticked[k] for k in (task.items[i].key for i in range(3))} == {
        task.items[0].key: str(await _user(database, ANA)),
        task.items[1].key: str(await _user(database, BEN)),
        task.items[2].key: str(await _user(database, CAT)),
    }
    # the band's card was edited in place by every member's press, not posted again
    edited = [e for e in fake.edits if e.chat_id == GROUP and e.message_id == card.message_id]
    assert len(edited) == 3
    for item in (3, 4):  # Ana finishes it: the band's next card comes
        live = next(m for m in group.messages() if m.message_id == card.message_id)
        await group.press(ANA, live, task.items[item].text[:12])
    second = catalog.roadmap_by_slug(INDIE).stages[0].tasks[index + 1]  # type: ignore[union-attr]
    assert second.is_checklist

    # a second worker (another process, or the webhook's) handles the three members' ticks of
    # the next checklist truly at once: the band's rows are locked, no tick is lost
    async def tick(user: int, item: int) -> None:
        inbound = Inbound(
            platform="telegram",
            user_id=str(user),
            chat_id=str(GROUP),
            chat_type="group",
            server_id=str(GROUP),
            kind="button",
            payload=TICK.encode(second.slug, second.items[item].key),
            display_name=NAMES[user],
        )
        await bench.coach.handle(inbound)

    await asyncio.gather(tick(ANA, 0), tick(BEN, 1), tick(CAT, 2))
    ticked = (await _progress(database, second.id)).task_data["ticked_by"]
    assert len(ticked) == 3, ticked
    assert set(ticked.values()) == {str(await _user(database, u)) for u in (ANA, BEN, CAT)}

    # to the first question: with privacy mode on, it says to reply (its Skip button stays)
    await group.say(ANA, "/skip")
    skip = await group.say(ANA, "/skip")
    question = group.last()
    assert "Reply to this message with your answer" in question.plain_text
    assert [label for label, _ in question.buttons()] == ["Skip"]
    assert question.reply_to_message_id == skip["message"]["message_id"]
    # a plain message is not seen (privacy mode) and answers nothing
    shown = len(group.messages())
    await group.say(BEN, "350")
    assert fake.withheld[-1]["message"]["text"] == "350"
    assert len(group.messages()) == shown
    # a reply is the answer; one that doesn't read is asked again by ForceReply, selective:
    # the reply box opens for Cat, whose message it answers, and nobody else
    wrong = await group.say(CAT, "lots", reply_to=question.message_id)
    again = group.last()
    assert again.reply_markup == {
        "force_reply": True,
        "selective": True,
        "input_field_placeholder": "Your answer",
    }
    assert again.reply_to_message_id == wrong["message"]["message_id"]
    await group.say(CAT, "350", reply_to=again.message_id)
    async with database.transaction() as session:
        [sample] = (await session.scalars(select(StatSample))).all()
    assert sample.recorded_by == await _user(database, CAT)
    assert int(sample.value) == 350

    # /assign names a member by replying to their message
    joined = next(
        u["message"]["message_id"]
        for u in fake.delivered
        if u.get("message", {}).get("from", {}).get("id") == BEN
        and u["message"].get("text") == "/band join"
    )
    await group.say(ANA, "/assign iss-baseline-instagram", reply_to=joined)
    assert "is now Ben's job" in group.last().plain_text

    await group.say(CAT, "/band progress")
    board = group.last().plain_text
    # Ana: one of the three at once, the last two, one on the second checklist; Ben and Cat
    # one of each; Cat answered the question
    assert "Ana: 4 item(s) ticked, 1 task(s) finished, 0 number(s)" in board, board
    assert "Ben: 2 item(s) ticked, 0 task(s) finished, 0 number(s)" in board
    assert "Cat: 2 item(s) ticked, 1 task(s) finished, 1 number(s)" in board
    assert "Record your Instagram followers → Ben" in board
    await group.say(BEN, "/band members")
    members = group.last().plain_text
    assert "3 member(s)" in members
    assert "Ana (manager)" in members
    assert await _count_members(database) == 3


async def test_cmd_for_another_bot_is_ignored(bench: Bench) -> None:
    """``/band@OtherBot create …`` is not for us: privacy mode keeps it from the bot, and
    with privacy mode off (the bot sees it) the front end ignores it."""
    fake, group = bench.fake, bench.group
    fake.set_member_status(GROUP, ANA, "creator")
    await group.say(ANA, "/band@OtherBot create Theirs")
    assert "OtherBot" in fake.withheld[-1]["message"]["text"]
    fake.privacy_mode = False
    delivered = len(fake.delivered)
    await group.say(ANA, "/band@OtherBot create Theirs")
    assert len(fake.delivered) == delivered + 1, "this time the bot got it"
    assert group.messages() == []
    assert [c for c in fake.calls if c[0] == "getChatMember"] == []


async def _band_through_the_core(bench: Bench, group: int = GROUP) -> None:
    """Ana makes ``group`` a band through Telegram (so the fake knows the group); Ben's join
    and the roadmap go straight to the core (they are set-up here, and the group's pace would
    make each cost seconds)."""
    bench.fake.set_member_status(group, ANA, "creator")
    chat = GroupChat(bench.fake, bench.front, group, NAMES)
    await chat.say(ANA, "/band create The Night Owls")
    assert "is this group's band now" in chat.last().plain_text
    ana = TelegramGroupDriver(bench.coach, ANA, group, name="Ana", admin=True)
    ben = TelegramGroupDriver(bench.coach, BEN, group, name="Ben")
    await ben.say("/band join")
    await ana.say("/start")
    await ana.press("Indie")


async def _digest_due(bench: Bench) -> ReminderTick:
    [row] = [r for r in await reminder_rows(bench.coach.db) if r.kind == "digest"]
    assert row.target_chat == str(GROUP)
    bench.clock.set(row.next_due_at.replace(tzinfo=UTC) + timedelta(seconds=1))
    return ReminderTick(bench.coach.db, by_platform(bench.front), clock=bench.clock)


def _sends_to(fake: FakeTelegram, chat: int, since: int = 0) -> list[dict[str, object]]:
    return [
        params
        for method, params in fake.calls[since:]
        if method in {"sendMessage", "sendPhoto", "sendDocument"} and params.get("chat_id") == chat
    ]


async def test_admin_status_is_asked_on_every_managers_call_and_refusals_audited(
    bench: Bench, database: Database
) -> None:
    """Cat administers the group (not a band member): she may rename the band. Demoted a
    moment later, her next manager's command is refused at once — Telegram is asked afresh on
    every band command, never answered from the kept status — and the refusal is audited."""
    fake, group = bench.fake, bench.group
    await _band_through_the_core(bench)
    fake.set_member_status(GROUP, CAT, "administrator")
    asked = bench.front.admins.asked
    await group.say(CAT, "/band rename The Day Owls")
    assert "the band is The Day Owls" in group.last().plain_text
    fake.set_member_status(GROUP, CAT, "member")
    await group.say(CAT, "/band rename Cat's Band")
    assert "Only the band's managers (group admins) can do that" in group.last().plain_text
    assert bench.front.admins.asked == asked + 2
    band = await _band(database)
    assert band is not None
    assert band.name == "The Day Owls"
    denied = next(e for e in await latest(database) if e.action == "band.rename")
    assert (denied.outcome, denied.actor) == ("denied", f"telegram:{CAT}")
    # a tick is no manager's business: no getChatMember for it
    await group.say(BEN, "/today")
    assert bench.front.admins.asked == asked + 2


async def test_private_replies_stay_out_of_the_band_group(bench: Bench) -> None:
    """``/export`` (a member's data) and ``/link`` (a secret code) asked in the band's group:
    neither the file nor a code is ever shown there."""
    fake, group = bench.fake, bench.group
    await _band_through_the_core(bench)
    shown = len(group.messages())
    await group.say(BEN, "/export")
    assert "send /export in a private chat with me" in group.last().plain_text
    await group.say(BEN, "/link")
    assert "DM me" in group.last().plain_text
    assert [m for m in fake.sent if m.chat_id == GROUP and m.document is not None] == []
    assert not re.search(r"(?:[A-Z0-9]{4}-){3}[A-Z0-9]{4}", group.since(shown))
    assert bench.front.failures["private_refused"] == 0  # the core kept them out, not a backstop
    # in Ben's private chat he gets both
    fake.user_message(BEN, "/export")
    await group.idle()
    assert any(m.document is not None for m in fake.messages(BEN))


async def test_a_group_upgraded_to_a_supergroup_keeps_its_band(
    bench: Bench, database: Database
) -> None:
    fake = bench.fake
    old, new = -4_000_123, -100_4_000_123
    basic = GroupChat(fake, bench.front, old, NAMES, chat_type="group")
    fake.set_member_status(old, ANA, "creator")
    await basic.say(ANA, "/band create The Night Owls")
    await basic.say(BEN, "/band join")
    before = await _band(database, old)
    assert before is not None
    fake.migrate_group(old, new, by=ANA)  # both service messages reach the bot
    await basic.idle()
    assert await _band(database, old) is None
    moved = await _band(database, new)
    assert moved is not None
    assert moved.id == before.id
    assert moved.channel_id == str(new)
    [digest] = [r for r in await reminder_rows(database) if r.kind == "digest"]
    assert digest.target_chat == str(new)
    # the band goes on in the supergroup, members and all
    supergroup = GroupChat(fake, bench.front, new, NAMES)
    await supergroup.say(BEN, "/band members")
    assert "2 member(s)" in supergroup.last().plain_text


async def test_a_notice_to_a_group_that_moved_follows_it(bench: Bench, database: Database) -> None:
    """The bot missed the move (the service messages never reached it): the band's digest to
    the old id is refused with ``migrate_to_chat_id``, sent to the new id, and the band moves."""
    fake = bench.fake
    new = -100_888_002
    old = -888_002
    bench.group = GroupChat(fake, bench.front, old, NAMES, chat_type="group")
    fake.set_member_status(old, ANA, "creator")
    await bench.group.say(ANA, "/band create The Night Owls")
    ana = TelegramGroupDriver(bench.coach, ANA, old, name="Ana", admin=True)
    await ana.say("/start")
    await ana.press("Indie")
    [row] = [r for r in await reminder_rows(database) if r.kind == "digest"]
    fake.migrate_group(old, new, by=ANA)
    fake.forget_updates()  # the bot never hears of it
    bench.clock.set(row.next_due_at.replace(tzinfo=UTC) + timedelta(seconds=1))
    tick = ReminderTick(database, by_platform(bench.front), clock=bench.clock)
    assert (await tick.run()).sent == 1
    assert "Night Owls" in fake.last(new).plain_text
    moved = await _band(database, new)
    assert moved is not None
    assert moved.channel_id == str(new)
    [row] = [r for r in await reminder_rows(database) if r.kind == "digest"]
    assert row.target_chat == str(new)


async def test_removed_from_the_group_the_band_waits_and_resumes(
    bench: Bench, database: Database
) -> None:
    fake, group = bench.fake, bench.group
    await _band_through_the_core(bench)
    fake.remove_bot(GROUP, by=ANA)
    await group.idle()
    band = await _band(database)
    assert band is not None
    assert band.unreachable
    tick = await _digest_due(bench)
    calls = len(fake.calls)
    report = await tick.run()
    assert (report.sent, report.failed, report.skipped) == (0, 0, 1)
    assert _sends_to(fake, GROUP, calls) == [], "nothing is tried while the bot is out"
    assert await _count_members(database) == 2, "the band is kept"

    fake.add_bot(GROUP, by=ANA)
    await group.idle()
    band = await _band(database)
    assert band is not None
    assert not band.unreachable
    tick = await _digest_due(bench)  # next week's
    assert (await tick.run()).sent == 1
    assert "Night Owls" in fake.last(GROUP).plain_text


async def test_a_deleted_group_marks_its_band_unreachable(bench: Bench, database: Database) -> None:
    fake = bench.fake
    await _band_through_the_core(bench)
    fake.delete_chat(GROUP)
    tick = await _digest_due(bench)
    report = await tick.run()
    assert report.failed == 1
    band = await _band(database)
    assert band is not None
    assert band.unreachable
    bench.clock.advance(minutes=5)  # the retry: skipped, not tried
    calls = len(fake.calls)
    assert (await tick.run()).skipped == 1
    assert _sends_to(fake, GROUP, calls) == []


@pytest.mark.parametrize("bench", [GROUP_PER_MINUTE], indirect=True)
async def test_band_digest_is_paced_per_group(bench: Bench) -> None:
    """At Telegram's pace (20 a minute per group; the front end keeps to 19), the band's
    digest takes its turn in the group's pace with the members' replies around it: no two
    messages to the group closer than the pace's 60/19 s (less the measuring's slack)."""
    fake, group = bench.fake, bench.group
    await _band_through_the_core(bench)
    tick = await _digest_due(bench)
    before = len(fake.sent)
    for user in (BEN, ANA):
        fake.user_message(user, "/band members", chat_id=GROUP, chat_type="supergroup")
    report, _ = await asyncio.gather(tick.run(), group.idle())
    assert report.sent == 1
    await group.idle()
    sent = [m for m in fake.sent[before:] if m.chat_id == GROUP]
    assert len(sent) == 3
    digest = [m for m in sent if "member(s)" not in m.plain_text]
    assert len(digest) == 1, [m.plain_text for m in sent]
    assert "The Night Owls" in digest[0].plain_text
    interval = 60 / GROUP_PER_MINUTE
    # the first of them waits for the pace after the band's creation message too
    stamps = [m.ts for m in fake.sent if m.chat_id == GROUP]
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    # measured where the fake receives them, so a loaded machine's late request may shorten
    # one gap a little; unpaced, the digest would follow a reply within a second
    assert min(gaps) >= 0.75 * interval, gaps
    assert fake.violations == []


_INVITE = re.compile(r"https://t\.me/StardomCoachBot\?start=(inv-[A-Z0-9]{16})")


async def test_a_telegram_band_invites_by_link(bench: Bench, database: Database) -> None:
    """Issue #17 §2 on a Telegram band: a group admin's ``/band invite`` comes to their private
    chat (never the group), and its ``t.me`` link, opened by someone who is not in the group,
    makes them a member; the same single-use link is refused to the next person."""
    fake, group = bench.fake, bench.group
    await _create_band(bench)
    members = await _count_members(database)
    in_group = len(group.messages())
    await group.say(ANA, "/band@StardomCoachBot invite")
    private = "\n".join(m.plain_text for m in fake.messages(ANA))
    link = _INVITE.search(private)
    assert link is not None, private
    assert link.group(1) not in group.since(in_group), "the code stays out of the group"

    dan, eve = 2004, 2005
    fake.open_private_chat(dan, "Dan")
    fake.user_message(dan, f"/start {link.group(1)}", first_name="Dan")  # what the link sends
    await group.idle()
    assert "Welcome to The Night Owls" in fake.last(dan).plain_text
    assert await _count_members(database) == members + 1
    fake.open_private_chat(eve, "Eve")
    fake.user_message(eve, f"/start {link.group(1)}", first_name="Eve")
    await group.idle()
    assert "already been used" in fake.last(eve).plain_text
    assert await _count_members(database) == members + 1


async def test_a_band_asks_by_command_in_a_private_group(bench: Bench) -> None:
    """Privacy mode withholds a typed question in a group; ``/ask@bot`` reaches the coach."""
    group = bench.group
    await _create_band(bench)
    before = len(group.messages())
    await group.say(BEN, "how do we get on playlists?")  # privacy mode: never delivered
    assert len(group.messages()) == before
    await group.say(BEN, "/ask@StardomCoachBot how do we get on playlists?")
    answer = group.last().plain_text
    assert "💡" in answer
    assert "playlist" in answer.lower()
