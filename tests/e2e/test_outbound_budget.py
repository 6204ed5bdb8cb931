"""The outbound budget (issue #14 §4): one scheduler shares a platform's cap by priority.

Replies first, then nudges (reminders, plans, reviews, …), then broadcasts; the overall pace,
the per-group pace and the pause after a 429 hold for every class. The first part drives the
:class:`~bot.telegram.sending.SlotScheduler` alone on a hand-moved timer (thousands of grants
in no real time); the second drives the real PTB front end against the fake Bot API with its
flood limits enforced; the third, Discord's notice scheduler against its fake.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import warnings
from collections import deque
from collections.abc import Iterable

import pytest
from coachkit import synced_coach
from discordkit import CHANNEL, running
from fakes.telegram_api import FakeTelegram
from sendkit import ManualTimer
from telegram.error import RetryAfter
from telegram.warnings import PTBDeprecationWarning

from bot.discord.client import NOTICES_PER_SECOND as DISCORD_NOTICES_PER_SECOND
from bot.slots import SlotExpired, notice_priority
from bot.telegram.app import OVERALL_PER_SECOND, TelegramFrontEnd
from bot.telegram.sending import AGE_PROMOTION, PacedLimiter, Priority, SlotScheduler
from core.admin.broadcast import message as broadcast_message
from core.db.engine import Database
from core.kernel.notify import DeliveryStatus
from core.kernel.types import Message, NoticeKind

GROUP = -100_555


class Rig:
    """A scheduler on a manual timer, and a log of who got each slot when."""

    def __init__(self, *, max_wait: dict[Priority, float] | None = None) -> None:
        self.timer = ManualTimer()
        self.slots = SlotScheduler(
            overall_per_second=28, group_per_minute=19, timer=self.timer, max_wait=max_wait
        )
        self.log: list[tuple[float, str, int | None]] = []
        self.tasks: list[asyncio.Task[None]] = []

    def queue(self, name: str, priority: Priority, group: int | None = None) -> asyncio.Task[None]:
        async def send() -> None:
            await self.slots.acquire(priority, group)
            self.log.append((self.timer.now(), name, group))

        task = asyncio.create_task(send())
        self.tasks.append(task)
        return task

    async def settle(self) -> None:
        for _ in range(5):
            await asyncio.sleep(0)

    async def run(self, until: int | None = None) -> None:
        """Move time slot by slot until ``until`` sends were logged (default: every task done)."""
        await self.settle()
        for _ in range(200_000):
            if until is not None and len(self.log) >= until:
                return
            if until is None and all(t.done() for t in self.tasks):
                return
            if not self.timer.skip_to_next():
                await self.settle()
                if not self.timer.skip_to_next():
                    break
            await self.settle()
        if until is not None:
            assert len(self.log) >= until, f"only {len(self.log)} sends"

    def names(self) -> list[str]:
        return [name for _, name, _ in self.log]


def _most_in_window(times: Iterable[float], window: float) -> int:
    """The most times within any half-open window of ``window`` seconds."""
    most, recent = 0, deque[float]()
    for t in sorted(times):
        recent.append(t)
        while t - recent[0] >= window - 1e-9:
            recent.popleft()
        most = max(most, len(recent))
    return most


# ------------------------------------------------------------------ 1. the scheduler alone


async def test_a_reply_queued_behind_a_thousand_broadcasts_goes_out_next() -> None:
    rig = Rig()
    for n in range(1000):
        rig.queue(f"broadcast {n}", Priority.BROADCAST)
    await rig.run(until=5)
    rig.queue("reply", Priority.REPLY)
    rig.queue("nudge", Priority.NUDGE)
    await rig.run(until=8)
    names = rig.names()
    started = names.index("reply")
    assert started in {5, 6}, names[:10]  # at most the one slot already granted goes first
    assert names[started + 1] == "nudge", "then the nudge, ahead of the other broadcasts"
    assert rig.slots.waiting(Priority.BROADCAST) > 900
    for task in rig.tasks:
        task.cancel()
    await asyncio.gather(*rig.tasks, return_exceptions=True)


async def test_no_one_second_window_holds_more_than_the_pace_and_idle_classes_leave_it_free() -> (
    None
):
    rig = Rig()
    for n in range(300):
        rig.queue(f"b{n}", (Priority.BROADCAST, Priority.NUDGE, Priority.REPLY)[n % 3])
    await rig.run()
    times = [t for t, _, _ in rig.log]
    assert len(times) == 300
    assert _most_in_window(times, 1.0) <= 28, "never more than the pace in any second"
    elapsed = times[-1] - times[0]
    assert elapsed == pytest.approx(299 / 28, rel=0.01), "no slot left unused while any waits"
    # strict priority: every reply before every nudge, every nudge before every broadcast
    # (nobody waited AGE_PROMOTION seconds: 300 sends take under 11 s, the last queued went
    # out after ~10.7 s — the promotion is tested on its own below)
    # the first queued took the free slot at once; then every reply (n % 3 == 2) before every
    # nudge (1), every nudge before every broadcast (0)
    classes = [2 - int(name[1:]) % 3 for name in rig.names()[1:]]
    assert classes == sorted(classes)


async def test_a_group_gets_at_most_19_a_minute_while_private_chats_keep_the_pace() -> None:
    rig = Rig()
    for n in range(40):
        rig.queue(f"group {n}", Priority.NUDGE, GROUP)
    for n in range(200):
        rig.queue(f"private {n}", Priority.BROADCAST)
    await rig.run()
    group_times = [t for t, _, g in rig.log if g == GROUP]
    private_times = [t for t, _, g in rig.log if g is None]
    assert len(group_times) == 40
    assert _most_in_window(group_times, 60.0) <= 19
    gaps = [b - a for a, b in itertools.pairwise(group_times)]
    assert min(gaps) >= 60 / 19 - 1e-9
    # the group's turns did not hold the private chats back: they took every other slot
    assert private_times[-1] - private_times[0] < 200 / 28 + 1
    assert _most_in_window([t for t, _, _ in rig.log], 1.0) <= 28


async def test_a_429_pause_holds_every_class_then_the_pace_resumes() -> None:
    """Through the PTB limiter (the pause is its part): a 429 on one send pauses all."""
    timer = ManualTimer()
    limiter = PacedLimiter(
        overall_per_second=28, group_per_minute=19, timer=timer, pace_timer=timer
    )
    log: list[tuple[float, str]] = []
    refused = [True]

    def send(name: str, priority: Priority, chat: int) -> asyncio.Task[object]:
        async def callback() -> bool:
            if refused[0]:
                refused[0] = False
                raise RetryAfter(5)
            log.append((timer.now(), name))
            return True

        return asyncio.create_task(
            limiter.process_request(callback, (), {}, "sendMessage", {"chat_id": chat}, priority)
        )

    with warnings.catch_warnings():  # PTB warns that retry_after will become a timedelta
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        first = send("first", Priority.BROADCAST, 1)
        await asyncio.gather(first, return_exceptions=True)
    assert isinstance(first.exception(), RetryAfter)
    paused_at = timer.now()
    tasks = [
        send(f"{priority.name} {n}", priority, 10 + n)
        for n, priority in enumerate((Priority.BROADCAST, Priority.NUDGE, Priority.REPLY) * 20)
    ]
    for _ in range(2_000):
        if all(t.done() for t in tasks):
            break
        for _ in range(5):
            await asyncio.sleep(0)
        timer.skip_to_next()
    assert all(t.done() and t.exception() is None for t in tasks)
    assert log[0][0] >= paused_at + 5, "nothing went out during the pause"
    assert _most_in_window([t for t, _ in log], 1.0) <= 28, "no burst when it ends"


async def test_a_broadcast_behind_an_endless_nudge_wave_is_promoted_after_its_wait() -> None:
    rig = Rig()
    rig.queue("warm-up", Priority.NUDGE)  # takes the free slot; everyone else queues
    rig.queue("broadcast", Priority.BROADCAST)
    rig.queue("reply", Priority.REPLY)
    for second in range(30):  # a wave: the tick keeps a second's worth of nudges queued
        for n in range(28):
            rig.queue(f"nudge {second}.{n}", Priority.NUDGE)
        await rig.run(until=len(rig.log) + 28)
    at = {name: t for t, name, _ in rig.log}
    start = rig.log[0][0]
    assert rig.names()[1] == "reply", "a reply still goes first"
    waited = at["broadcast"] - start
    assert AGE_PROMOTION <= waited <= AGE_PROMOTION + 0.1, waited
    for task in rig.tasks:
        task.cancel()
    await asyncio.gather(*rig.tasks, return_exceptions=True)


async def test_a_notice_that_gets_no_slot_within_its_wait_gives_up_and_a_reply_never_does() -> None:
    rig = Rig(max_wait={Priority.NUDGE: 5.0, Priority.BROADCAST: 5.0})
    for n in range(28 * 8):  # eight seconds of replies (a flood of chatting musicians)
        rig.queue(f"reply {n}", Priority.REPLY)
    nudge = rig.queue("nudge", Priority.NUDGE)
    await rig.run()
    assert isinstance(nudge.exception(), SlotExpired)  # the Telegram limiter: GaveUp
    assert "nudge" not in rig.names()
    assert len(rig.log) == 28 * 8, "every reply went out, however long it waited"
    assert rig.slots.expired[Priority.NUDGE] == 1


def test_a_notice_says_its_class_and_a_broadcast_is_last() -> None:
    assert notice_priority(broadcast_message("hello")) is Priority.BROADCAST
    assert notice_priority([Message(text="x", notice=NoticeKind.REVIEW)]) is Priority.NUDGE
    assert notice_priority([Message(text="x")]) is Priority.NUDGE  # a reminder by default


# ------------------------------------------------------- 2. the real bot, limits enforced


async def test_a_musician_chatting_during_a_broadcast_and_a_wave_gets_replies_at_once(
    database: Database,
) -> None:
    """Real PTB, real time, the fake refusing (429) anything beyond Telegram's limits: 200
    broadcast notices and 100 nudges queue at once; a musician's replies
    overtake them all, and nothing breaks a limit."""
    coach = await synced_coach(database)
    async with FakeTelegram(enforce_limits=True) as fake:
        front = TelegramFrontEnd(coach, fake.token, api_base_url=fake.url)
        await front.start(poll_timeout=1)
        try:
            fans = range(50_000, 50_200)
            for chat in fans:
                fake.open_private_chat(chat)
            notices = [
                asyncio.create_task(front.notify(str(chat), broadcast_message("New roadmap!")))
                for chat in fans
            ]
            for chat in range(60_000, 60_100):
                fake.open_private_chat(chat)
            nudges = [
                asyncio.create_task(front.notify(str(chat), [Message(text="Practice today?")]))
                for chat in range(60_000, 60_100)
            ]
            await asyncio.sleep(0.5)  # the queues are long now
            latencies = []
            for text in ("/start", "/help", "/progress"):
                before = len(fake.messages(4242))
                started = time.monotonic()
                fake.user_message(4242, text)
                await fake.wait_for(lambda b=before: len(fake.messages(4242)) > b, timeout=10)
                latencies.append(time.monotonic() - started)
            waiting = front.limiter.slots.waiting(Priority.BROADCAST)
            results = await asyncio.gather(*notices, *nudges)
        finally:
            await front.stop()
    assert max(latencies) < 1.0, latencies
    assert waiting > 50, "the replies overtook a broadcast still queued"
    assert all(r.status is DeliveryStatus.SENT for r in results)
    assert fake.violations == [], fake.violations[:5]
    sent = [m for m in fake.sent if m.chat_id in set(fans) or 60_000 <= m.chat_id < 60_100]
    rate = (len(sent) - 1) / (max(m.ts for m in sent) - min(m.ts for m in sent))
    assert rate <= OVERALL_PER_SECOND + 0.5


# ------------------------------------------------------------------ 3. Discord's notices


async def test_discord_notices_take_slots_by_class_and_band_updates_from_a_reply_do_not(
    database: Database,
) -> None:
    """Discord: notices are paced by one scheduler under the global limit (nudges before
    broadcasts); a reply addressed to another chat is not paced there."""
    async with running(database) as bench:
        front = bench.front
        news = broadcast_message("Big news")
        nudge = [Message(text="Rehearsal at *8*!")]
        assert (await front.notify(f"c:{CHANNEL}", news)).sent
        assert (await front.notify(f"c:{CHANNEL}", nudge)).sent
        reply = await front.notify(f"c:{CHANNEL}", nudge, priority=Priority.REPLY)
        assert reply.sent
        granted = front.notice_slots.granted
        assert granted == {Priority.BROADCAST: 1, Priority.NUDGE: 1}
        assert len(bench.fake.messages(CHANNEL)) == 3
        assert DISCORD_NOTICES_PER_SECOND < 50, "under Discord's global 50 requests/s"
