"""The real python-telegram-bot application against the loopback fake Bot API, end to end."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from coachkit import (
    catalog_of,
    free_port,
    start_coach_run,
    stop_coach_run,
    synced_coach,
    valid_answer,
)
from fakes.telegram_api import FakeTelegram, SentMessage
from sendkit import ManualTimer, SkippingTimer
from sqlalchemy import select
from sqlalchemy import text as sql

from bot.telegram.app import TelegramFrontEnd
from bot.telegram.forbidden import Refusal, classify
from bot.telegram.sending import Timer
from core.app.engine import Coach
from core.db.engine import Database
from core.db.models import Identity, Reminder, User, UserTaskProgress
from core.errors import ConfigurationError, PlatformUnreachable
from core.inbox import Entry, Inbox
from core.kernel.notify import DeliveryStatus
from core.kernel.types import Button, Message
from core.roadmaps.catalog import Catalog

MAYA = 1001
LEO = 1002
GROUP = -100_300_400


@dataclass
class Rig:
    """The fake API, the database and the running front end (and its timer, if not real)."""

    fake: FakeTelegram
    database: Database
    front: TelegramFrontEnd
    catalog: Catalog
    timer: Timer | None = None

    async def restart(self) -> None:
        """Stop the application and start a brand-new one (a process restart)."""
        await self.front.stop()
        self.front = _front(Coach(self.database), self.fake, self.timer)
        await self.front.start(poll_timeout=1)

    async def say(self, text: str, user: int = MAYA) -> SentMessage:
        """Send a message as the user and wait for the bot's reply to settle."""
        before = len(self.fake.sent)
        self.fake.user_message(user, text)
        await self.fake.wait_for(lambda: len(self.fake.sent) > before)
        await self.idle()
        return self.fake.last(user)

    async def press(self, label_part: str, user: int = MAYA) -> SentMessage:
        """Press a button (by label) on the latest message that has buttons."""
        message = next(m for m in reversed(self.fake.messages(user)) if m.buttons())
        data = next(
            d for label, d in message.buttons() if label_part.casefold() in label.casefold()
        )
        answers = len(self.fake.callback_answers)
        self.fake.press_button(user, message.message_id, data)
        await self.fake.wait_for(lambda: len(self.fake.callback_answers) > answers)
        await self.idle()
        return self.fake.last(user)

    async def idle(self) -> None:
        """Wait until every queued update was fetched and handled."""
        await self.fake.wait_for(lambda: not self.fake.pending_updates)
        app = self.front.application
        await self.fake.wait_for(app.update_queue.empty)
        processor = app.update_processor
        await self.fake.wait_for(lambda: processor.current_concurrent_updates == 0)


def _front(coach: Coach, fake: FakeTelegram, timer: Timer | None = None) -> TelegramFrontEnd:
    return TelegramFrontEnd(coach, fake.token, api_base_url=fake.url, timer=timer)


@contextlib.asynccontextmanager
async def _running(database: Database, timer: Timer | None = None) -> AsyncIterator[Rig]:
    coach = await synced_coach(database)
    catalog = await catalog_of(database)
    async with FakeTelegram() as fake:
        front = _front(coach, fake, timer)
        await front.start(poll_timeout=1)
        rig = Rig(fake, database, front, catalog, timer)
        try:
            yield rig
        finally:
            await rig.front.stop()


@pytest.fixture
async def rig(database: Database) -> AsyncIterator[Rig]:
    async with _running(database) as rig:
        yield rig


@pytest.fixture
async def skipping(database: Database) -> AsyncIterator[tuple[Rig, SkippingTimer]]:
    """The rig on a timer whose waits return at once and are recorded."""
    timer = SkippingTimer()
    async with _running(database, timer) as rig:
        yield rig, timer


async def _progress(database: Database) -> dict[str, str]:
    async with database.transaction() as session:
        rows = (await session.scalars(select(UserTaskProgress))).all()
    catalog = await catalog_of(database)
    return {catalog.tasks_by_id[r.task_id].slug: r.status for r in rows}


async def test_full_journey_through_telegram(rig: Rig) -> None:
    fake, roadmap = rig.fake, rig.catalog.roadmap_by_slug("indie-singer-songwriter")
    assert roadmap is not None
    offered = [c.name for c in rig.front.coach.registry.menu("private", ("everyone",))]
    assert [c["command"] for c in fake.commands] == offered

    reply = await rig.say("/start")
    assert "artist name" in reply.plain_text
    assert reply.parse_mode == "HTML"
    await rig.say("Maya <Lune> & Co")
    assert any("Maya <Lune> & Co" in m.plain_text for m in fake.messages(MAYA))
    reply = await rig.press("Indie")
    assert "Stage 1" in reply.plain_text

    stage1 = roadmap.stages[0]
    for task in stage1.tasks:
        card = fake.last(MAYA)
        assert task.title in card.plain_text, (task.slug, card.plain_text)
        if task.is_checklist:
            edits = len(fake.edits)
            for n in range(1, len(task.items) + 1):
                await rig.press(f"☐ {n}.")
            assert len(fake.edits) >= edits + len(task.items), "ticks edit the card in place"
        else:
            await rig.say(valid_answer(rig.catalog, task.slug, datetime.now(UTC).date()))
    texts = "\n".join(m.plain_text for m in fake.messages(MAYA))
    assert f"Stage 1 complete — {stage1.title}!" in texts
    assert f"Stage 2 · {roadmap.stages[1].title}" in texts
    assert all(a.get("callback_query_id") for a in fake.callback_answers)
    assert not fake.unanswered_callbacks, "every button press was answered"
    progress = await _progress(rig.database)
    assert all(progress[t.slug] == "completed" for t in stage1.tasks)


async def test_restart_mid_journey_and_continue(rig: Rig) -> None:
    await rig.say("/start")
    await rig.say("Maya")
    await rig.press("Indie")
    await rig.press("☐ 1.")
    await rig.restart()
    reply = await rig.press("☐ 2.")
    assert "☑ 1." in reply.plain_text
    assert "☑ 2." in reply.plain_text


async def test_replayed_batch_changes_nothing(rig: Rig) -> None:
    await rig.say("/start")
    await rig.say("Maya")
    await rig.press("Indie")
    await rig.press("☐ 1.")
    await rig.press("☑ 1.")  # untick again
    before = await _progress(rig.database)
    sent_before = len(rig.fake.sent)
    rig.fake.replay(list(rig.fake.delivered))
    await rig.idle()
    assert await _progress(rig.database) == before
    assert len(rig.fake.sent) == sent_before, "replayed updates get no second reply"


async def test_stale_button_gets_a_toast(rig: Rig) -> None:
    await rig.say("/start")
    await rig.say("Maya")
    first = rig.fake.last(MAYA)
    await rig.press("Indie")
    answers = len(rig.fake.callback_answers)
    data = next(d for label, d in first.buttons() if "Touring" in label)
    rig.fake.press_button(MAYA, first.message_id, data)
    await rig.fake.wait_for(lambda: len(rig.fake.callback_answers) > answers)
    await rig.idle()
    assert "Switch to" in rig.fake.last(MAYA).plain_text


async def test_blocked_user_is_marked_unreachable(rig: Rig) -> None:
    await rig.say("/start")
    rig.fake.block(MAYA)
    await rig.fake.wait_for(lambda: not rig.fake.pending_updates)
    await rig.idle()

    async def unreachable() -> bool:
        async with rig.database.transaction() as session:
            return bool(
                (
                    await session.execute(
                        select(User.unreachable)
                        .join(Identity, Identity.user_id == User.id)
                        .where(Identity.external_id == str(MAYA))
                    )
                ).scalar_one()
            )

    for _ in range(50):
        if await unreachable():
            break
        await rig.idle()
    assert await unreachable()


async def test_a_403_on_send_marks_the_user_unreachable_and_pauses_reminders(rig: Rig) -> None:
    await rig.say("/start")
    await _add_reminder(rig.database)
    rig.fake.fail_next(
        "sendMessage", status=403, description="Forbidden: bot was blocked by the user"
    )
    calls = len(rig.fake.calls_of("sendMessage"))
    rig.fake.user_message(MAYA, "Maya")
    await rig.fake.wait_for(lambda: len(rig.fake.calls_of("sendMessage")) > calls)
    await rig.idle()
    await rig.fake.wait_for(lambda: rig.front.failures["forbidden"] == 1)
    assert len(rig.fake.calls_of("sendMessage")) == calls + 1, "a 403 is not retried"
    async with rig.database.transaction() as session:
        user = (await session.scalars(select(User))).one()
        reminder = (await session.scalars(select(Reminder))).one()
    assert user.unreachable
    assert reminder.paused


async def test_notify_sends_a_notice_and_reports_a_block(rig: Rig) -> None:
    """The Notifier side: a notice arrives as a new message with its buttons; a 403 is
    reported as ``blocked`` (and marks the person unreachable), a 400 as ``failed``."""
    await rig.say("/start")
    nudge = Message(
        text="Time for *one* step <today>",
        buttons=((Button(label="Done", payload="v1:c:today"),),),
        edit=True,  # a notice never edits, whatever the reply says
    )
    result = await rig.front.notify(str(MAYA), [Message(text="Hey!"), nudge])
    assert result.status is DeliveryStatus.SENT
    last = rig.fake.last(MAYA)
    assert last.plain_text == "Hey!\n\nTime for one step <today>"
    assert [label for label, _ in last.buttons()] == ["Done"]

    rig.fake.fail_next("sendMessage", status=400, description="Bad Request: chat not found")
    failed = await rig.front.notify(str(MAYA), [Message(text="again")])
    assert failed.status is DeliveryStatus.FAILED
    assert "chat not found" in failed.detail.casefold()

    rig.fake.block(MAYA)
    blocked = await rig.front.notify(str(MAYA), [Message(text="still there?")])
    assert blocked.status is DeliveryStatus.BLOCKED
    async with rig.database.transaction() as session:
        user = (await session.scalars(select(User))).one()
    assert user.unreachable


@pytest.mark.parametrize(
    ("words", "refusal"),
    [
        ("Forbidden: bot was blocked by the user", Refusal.GONE),
        ("Forbidden: user is deactivated", Refusal.GONE),
        ("Forbidden: bot can't initiate conversation with a user", Refusal.NO_PRIVATE_CHAT),
        ("Forbidden: bot was kicked from the group chat", Refusal.NOT_IN_CHAT),
        ("Forbidden: bot was kicked from the supergroup chat", Refusal.NOT_IN_CHAT),
        ("Forbidden: bot is not a member of the supergroup chat", Refusal.NOT_IN_CHAT),
        ("Forbidden: bot is not a member of the channel chat", Refusal.NOT_IN_CHAT),
        ("Forbidden: bot can't send messages to bots", Refusal.OTHER),
        ("Forbidden: injected failure", Refusal.OTHER),
    ],
)
def test_each_403_is_read_by_its_words(words: str, refusal: Refusal) -> None:
    assert classify(words) is refusal


async def _add_reminder(database: Database) -> None:
    """A live reminder for the only user, so a pause would show."""
    async with database.transaction() as session:
        user = (await session.scalars(select(User))).one()
        session.add(
            Reminder(
                user_id=user.id,
                kind="daily",
                platform="telegram",
                target_chat=str(MAYA),
                schedule={},
                timezone="UTC",
                paused=False,
            )
        )


async def _reachable_and_running(database: Database) -> tuple[bool, bool]:
    """Whether Maya is still reachable, and her reminder still running."""
    async with database.transaction() as session:
        user = (
            await session.scalars(
                select(User)
                .join(Identity, Identity.user_id == User.id)
                .where(Identity.external_id == str(MAYA))
            )
        ).one()
        reminder = (await session.scalars(select(Reminder))).one()
    return not user.unreachable, not reminder.paused


async def test_a_group_that_kicked_the_bot_does_not_make_the_sender_unreachable(rig: Rig) -> None:
    """Maya writes in a group just as someone removes the bot: the reply is refused with 403
    "bot was kicked from the group chat". That says nothing about Maya — she stays reachable
    and her reminders keep running (the old code took every 403 for "she blocked us")."""
    await rig.say("/start")
    await _add_reminder(rig.database)
    rig.fake.user_message(MAYA, "/progress", chat_id=GROUP, chat_type="group")
    rig.fake.remove_bot(GROUP, by=LEO)  # before the bot fetched her message
    await rig.fake.wait_for(lambda: rig.front.failures["forbidden"] == 1)
    await rig.idle()
    assert await _reachable_and_running(rig.database) == (True, True)
    assert rig.front.failures["forbidden_not_in_chat"] == 1
    refused = [c for c in rig.fake.calls_of("sendMessage") if c["chat_id"] == GROUP]
    assert len(refused) == 1, "a 403 is not retried"
    assert not rig.fake.messages(GROUP)


async def test_notify_tells_the_403s_apart(rig: Rig) -> None:
    """Through the Notifier, Telegram's 403s (worded by the fake as Telegram words them) end
    as they should: someone without a private chat with the bot is ``failed`` with the reason
    and marks nobody; a deleted account is ``blocked``, like a block. (A group that removed the
    bot: see the test above; its notices are ``failed`` the same way.)"""
    await rig.say("/start")
    await _add_reminder(rig.database)
    rig.fake.user_message(LEO, "hello all", chat_id=GROUP, chat_type="supergroup")
    await rig.fake.wait_for(lambda: bool(rig.fake.messages(GROUP)))

    no_chat = await rig.front.notify(str(LEO), [Message(text="nudge")])
    assert no_chat.status is DeliveryStatus.FAILED
    assert no_chat.detail.startswith("no direct chat: they must open a private chat")
    assert "bot can't initiate conversation with a user" in no_chat.detail
    assert rig.front.failures["forbidden_no_private_chat"] == 1
    async with rig.database.transaction() as session:
        assert not any(u.unreachable for u in await session.scalars(select(User)))

    rig.fake.deactivate(MAYA)
    gone = await rig.front.notify(str(MAYA), [Message(text="still there?")])
    assert gone.status is DeliveryStatus.BLOCKED
    assert gone.detail == "Forbidden: user is deactivated"
    assert await _reachable_and_running(rig.database) == (False, False)
    assert rig.front.failures["forbidden_gone"] == 1


async def test_emoji_text_is_split_by_telegrams_utf16_count(rig: Rig) -> None:
    """3 000 guitars are 3 000 code points but 6 000 UTF-16 units, Telegram's measure: sent
    whole, the fake (like Telegram) refuses them as too long."""
    await rig.say("/start")
    result = await rig.front.notify(str(MAYA), [Message(text="🎸" * 3000)])
    assert result.status is DeliveryStatus.SENT, result.detail
    pieces = [m.plain_text for m in rig.fake.messages(MAYA)[-2:]]
    assert "".join(pieces) == "🎸" * 3000


async def test_burst_of_429s_is_retried_and_nothing_is_lost(
    skipping: tuple[Rig, SkippingTimer],
) -> None:
    rig, timer = skipping
    rig.fake.fail_next("sendMessage", status=429, retry_after=7, times=3)
    reply = await rig.say("/start")
    assert "artist name" in reply.plain_text
    refused = [c for c in rig.fake.calls_of("sendMessage")]
    assert len(refused) >= 4, "three refusals, then the send that went through"
    assert sum("artist name" in m.plain_text for m in rig.fake.messages(MAYA)) == 1
    assert timer.waits == [7.0, 7.0, 7.0], "each refusal's retry_after waited out, no more"
    assert rig.front.failures["rate_limited"] == 3


@pytest.mark.postgres_only
@pytest.mark.slow
async def test_two_hundred_musicians_at_once_within_telegram_limits(rig: Rig) -> None:
    fake = rig.fake

    async def journey(user: int) -> None:
        fake.user_message(user, "/start")
        await fake.wait_for(lambda: len(fake.messages(user)) >= 1, timeout=120)
        fake.user_message(user, f"Artist {user}")
        await fake.wait_for(lambda: len(fake.messages(user)) >= 2, timeout=120)
        menu = fake.last(user)
        pick = next(d for label, d in menu.buttons() if "Indie" in label)
        fake.press_button(user, menu.message_id, pick)
        await fake.wait_for(lambda: len(fake.messages(user)) >= 3, timeout=120)
        card = fake.last(user)
        tick = next(d for label, d in card.buttons() if label.startswith("☐ 1."))
        fake.press_button(user, card.message_id, tick)
        await fake.wait_for(lambda: "☑ 1." in fake.last(user).plain_text, timeout=120)

    users = range(5000, 5200)
    await asyncio.gather(*(journey(u) for u in users))
    assert not fake.violations, fake.violations[:5]
    async with rig.database.transaction() as session:
        ticked = (
            await session.scalars(
                select(UserTaskProgress).where(UserTaskProgress.status == "in_progress")
            )
        ).all()
    assert len(ticked) == len(users)


async def test_coach_run_serves_telegram_until_sigterm(database: Database, tmp_path: Path) -> None:
    """The real entry point: `coach run` long-polls the (fake) Bot API and stops on SIGTERM."""
    async with FakeTelegram() as fake:
        process = await start_coach_run(
            database,
            tmp_path,
            env={"TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.url},
        )
        try:
            fake.user_message(MAYA, "/start")
            await fake.wait_for(lambda: bool(fake.messages(MAYA)), timeout=60)
            assert "artist name" in fake.last(MAYA).plain_text
        finally:
            log = await stop_coach_run(process)
        assert process.returncode == 0, log[-2000:]
        assert fake.token not in log, "the token never appears in the logs"


async def test_network_errors_are_retried_with_backoff(
    skipping: tuple[Rig, SkippingTimer],
) -> None:
    rig, timer = skipping
    rig.fake.fail_next("sendMessage", status=502, times=3)
    reply = await rig.say("/start")
    assert "artist name" in reply.plain_text
    assert len(rig.fake.calls_of("sendMessage")) >= 4
    assert sum("artist name" in m.plain_text for m in rig.fake.messages(MAYA)) == 1
    assert rig.front.failures["network"] == 3
    assert rig.front.failures["gave_up"] == 0
    assert timer.waits == [0.5, 1.0, 2.0], "the back-off doubles"


async def test_one_chats_updates_keep_their_order(rig: Rig) -> None:
    before = len(rig.fake.sent)
    for text in ("/start", "Maya", "1", "/progress"):
        rig.fake.user_message(MAYA, text)  # queued together: one getUpdates batch
    await rig.fake.wait_for(lambda: len(rig.fake.sent) >= before + 4, timeout=20)
    await rig.idle()
    texts = [m.plain_text for m in rig.fake.messages(MAYA)]
    assert "artist name" in texts[0]
    assert "Nice to meet you, Maya" in texts[1]
    assert "You're on Indie Singer-Songwriter" in texts[2]
    assert "% overall" in texts[-1]


async def test_start_while_telegram_is_unreachable_can_be_tried_again(database: Database) -> None:
    """Unreachable at start is PlatformUnreachable (coach run keeps trying in the background);
    the next start() works once Telegram answers. A refused token is a plain configuration
    error, never a traceback."""
    coach = await synced_coach(database)
    port = free_port()
    fake = FakeTelegram()
    front = TelegramFrontEnd(coach, fake.token, api_base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(PlatformUnreachable, match="Telegram could not be reached"):
        await front.start(poll_timeout=1)
    await fake.start(port=port)
    try:
        await front.start(poll_timeout=1)
        try:
            fake.user_message(MAYA, "/start")
            await fake.wait_for(lambda: bool(fake.messages(MAYA)))
            assert "artist name" in fake.last(MAYA).plain_text
        finally:
            await front.stop()
        wrong = TelegramFrontEnd(coach, "999:not-the-token", api_base_url=fake.url)
        with pytest.raises(ConfigurationError, match="Telegram refused TELEGRAM_BOT_TOKEN") as no:
            await wrong.start(poll_timeout=1)
        assert "not-the-token" not in str(no.value), "PTB's own message quotes the token"
        assert no.value.__suppress_context__, "nor is PTB's error chained (a traceback shows it)"
        await wrong.stop()
    finally:
        await fake.stop()


async def test_a_refused_token_stops_coach_run_with_a_plain_message(
    database: Database, tmp_path: Path
) -> None:
    """PTB's InvalidToken quotes the token; it used to reach stderr in a traceback."""
    async with FakeTelegram() as fake:
        wrong = "999:not-the-" + fake.token.split(":")[1]
        env = {"TELEGRAM_BOT_TOKEN": wrong, "TELEGRAM_API_BASE_URL": fake.url}
        process = await start_coach_run(database, tmp_path, env=env)
        _out, err = await asyncio.wait_for(process.communicate(), timeout=60)  # exits by itself
    log = err.decode()
    assert process.returncode == 1, log[-2000:]
    assert "Telegram refused TELEGRAM_BOT_TOKEN" in log
    assert "Traceback" not in log
    assert wrong not in log
    assert wrong.split(":")[1] not in log


async def test_an_update_ptb_cannot_read_does_not_stop_polling(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """PTB's own poller parses a whole batch or fails it, and retried that batch for ever: one
    malformed update stopped the bot. It is logged and acknowledged; the rest is handled."""
    broken = rig.fake.queue_update({"message": {"text": 1}})
    reply = await rig.say("/start")  # the same batch
    assert "artist name" in reply.plain_text
    assert f"telegram update {broken['update_id']} could not be read" in caplog.text
    assert not rig.fake.pending_updates, "acknowledged: Telegram won't send it again"
    assert await rig.front.inbox.held() <= {broken["update_id"] + 1}, "never written down"


async def test_a_restart_first_handles_what_the_inbox_holds(database: Database) -> None:
    """Updates a dead predecessor wrote down and confirmed (Telegram forgot them) are handled
    at start, before anything new of the same chat."""
    coach = await synced_coach(database)
    async with FakeTelegram() as fake:
        left = [fake.user_message(MAYA, "/start"), fake.user_message(MAYA, "Maya")]
        await Inbox(database, "telegram", clock=coach.clock, worker="dead").put(
            [Entry(u["update_id"], json.dumps(u)) for u in left]
        )
        fake.forget_updates()  # confirmed by the dead process
        front = _front(coach, fake)
        await front.start(poll_timeout=1)
        try:
            fake.user_message(MAYA, "1")  # new: the first roadmap, once named
            await fake.wait_for(lambda: len(fake.messages(MAYA)) >= 3)
            texts = [m.plain_text for m in fake.messages(MAYA)]
            assert "artist name" in texts[0]
            assert "Nice to meet you, Maya" in texts[1]
            assert "You're on Indie Singer-Songwriter" in texts[2], fake.dump()
        finally:
            await front.stop()
        assert await front.inbox.held() == set(), "handled rows are deleted"


async def test_an_inbox_that_cannot_be_read_at_start_does_not_stop_the_start(
    database: Database,
) -> None:
    """The database is down (here: the inbox table is away) when polling starts: start()
    still returns; leftovers are taken, and polling begins, once the database answers —
    leftovers still first."""
    coach = await synced_coach(database)
    async with FakeTelegram() as fake:
        left = fake.user_message(MAYA, "/start")
        await Inbox(database, "telegram", clock=coach.clock, worker="dead").put(
            [Entry(left["update_id"], json.dumps(left))]
        )
        fake.forget_updates()
        async with database.connection() as conn:
            await conn.execute(sql("ALTER TABLE inbox_updates RENAME TO inbox_away"))
        timer = ManualTimer()
        front = _front(coach, fake, timer)
        try:
            await front.start(poll_timeout=1)
            fake.user_message(MAYA, "Maya")
            for _ in range(4):  # a few attempts to read the inbox, each after its wait
                await timer.until_sleeping()
                timer.skip_to_next()
            await timer.until_sleeping()
            assert timer.waits == [0.5, 1.0, 2.0, 4.0, 8.0], "the inbox is waited for, doubling"
            assert fake.sent == []
            assert fake.calls_of("getUpdates") == [], "no poll before the leftovers are queued"
            assert fake.pending_updates, "nothing confirmed before the leftovers are queued"
            async with database.connection() as conn:
                await conn.execute(sql("ALTER TABLE inbox_away RENAME TO inbox_updates"))
            timer.skip_to_next()
            await fake.wait_for(lambda: len(fake.messages(MAYA)) >= 2)
            texts = [m.plain_text for m in fake.messages(MAYA)]
            assert "artist name" in texts[0]
            assert "Nice to meet you, Maya" in texts[1]
        finally:
            await front.stop()


async def test_every_kind_of_update_handed_over_again_changes_nothing(rig: Rig) -> None:
    """What a restart hands over again from the inbox (handled before the crash, its row not
    yet deleted), kind by kind: conversation updates are refused by their recorded id, desk
    commands too (they used to be answered again), a block/unblock replays to the same flag,
    an update the core ignores stays ignored."""
    await rig.say("/start")
    await rig.say("Maya")
    await rig.press("Indie")
    await rig.press("☐ 1.")
    await rig.say("/broadcasts off")
    rig.fake.block(MAYA)
    rig.fake.unblock(MAYA)
    rig.fake.user_message(LEO, "/today@OtherBot", chat_id=GROUP, chat_type="supergroup")
    await rig.idle()
    before = await _progress(rig.database)
    sent, edits = len(rig.fake.sent), len(rig.fake.edits)
    rig.fake.replay(list(rig.fake.delivered))
    await rig.idle()
    await asyncio.sleep(0.3)  # anything a replay might still send
    assert await _progress(rig.database) == before
    assert (len(rig.fake.sent), len(rig.fake.edits)) == (sent, edits), rig.fake.dump()
    async with rig.database.transaction() as session:
        user = (
            await session.execute(
                select(User).join(Identity).where(Identity.external_id == str(MAYA))
            )
        ).scalar_one()
    assert user.broadcasts_opt_out
    assert not user.unreachable, "blocked, then unblocked: replayed in order, the same end"


async def test_update_and_stats_with_its_chart_through_telegram(rig: Rig) -> None:
    """/update records numbers (a friendly value, a clear message for a bad one) and /stats
    arrives as one photo: the chart, with the figures as its caption."""
    await rig.say("/start")
    await rig.say("Maya")
    await rig.press("Indie")
    reply = await rig.say("/update monthly listeners 1.2k")
    assert "Saved: 1,200 listeners — Monthly listeners." in reply.plain_text
    reply = await rig.say("/update monthly listeners lots")
    assert "Saved" not in reply.plain_text
    reply = await rig.say("/update monthly listeners 1400")
    assert "+200 since last time" in reply.plain_text
    photos = len(rig.fake.calls_of("sendPhoto"))
    reply = await rig.say("/stats")
    assert len(rig.fake.calls_of("sendPhoto")) == photos + 1
    assert reply.photo
    assert reply.caption is not None
    assert "Monthly listeners" in reply.caption
    assert "1,400 listeners" in reply.caption
