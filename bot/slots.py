"""One send scheduler per platform: the bot's send cap shared by priority.

Each platform caps a bot's sends (Telegram: about 30 messages a second overall and 20 a minute
per group; Discord: 50 requests a second overall, and buckets per route). Weekly waves and
broadcasts must not starve the musician who is typing right now, so every send of a front end
that counts against the cap first takes a slot from its :class:`SlotScheduler`, saying its
:class:`Priority`: replies first, then nudges (reminders, plans, reviews, check-ins,
milestones), then broadcasts. Telegram's limiter (:mod:`bot.telegram.sending`) paces every
call through one; Discord paces its notices through one (:mod:`bot.discord.client`).

Time is read and slept through a :class:`Timer`, so tests can move it by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol

from core.kernel.types import NoticeKind, Outbound

#: Past this many groups, the scheduler forgets those that may send again (as PTB's limiter).
MAX_GROUP_BUCKETS = 512


class Timer(Protocol):
    """Monotonic time and sleeping, the seam tests move by hand."""

    def now(self) -> float:
        """Seconds on a monotonic clock."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        ...


class LoopTimer:
    """The event loop's clock and :func:`asyncio.sleep`."""

    def now(self) -> float:
        """The running loop's monotonic time."""
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        """Really wait."""
        await asyncio.sleep(seconds)


class SlotExpired(Exception):
    """A send waited longer than its class's ``max_wait`` for a slot."""


class Priority(IntEnum):
    """Who gets the next free slot of the bot's shared send cap: the lowest value first.

    Passed explicitly with every paced call as PTB's ``rate_limit_args`` (a call without one —
    ``setMyCommands``, a menu — counts as a reply).
    """

    #: A musician is waiting: replies, edits of a pressed card, addressed and owed replies.
    REPLY = 0
    #: One person's own coaching that nobody is waiting on this second: reminders, plans,
    #: reviews, check-ins, milestones.
    NUDGE = 1
    #: The same message to everyone.
    BROADCAST = 2


#: A waiting nudge or broadcast older than this takes the next slot no reply wants, ahead of
#: younger waiters of higher classes: a weekly wave cannot hold a broadcast back until its
#: notice budget runs out (it would fail, and burn one of its three attempts).
AGE_PROMOTION = 10.0


@dataclass(slots=True, eq=False)
class _Waiter:
    priority: Priority
    group: int | str | None
    since: float
    #: When it stops waiting and fails with :class:`GaveUp` (inf: never).
    deadline: float
    future: asyncio.Future[None]


class SlotScheduler:
    """One scheduler for the bot's sends: an overall pace shared by priority, and per-group
    paces (Telegram's pause after a 429 is the :class:`PacedLimiter`'s).

    Slots come evenly (one every ``1/overall_per_second`` s: a bucket of one) and each free
    slot goes to the **oldest waiter of the
    highest class** whose group may send (one every ``60/group_per_minute`` s per group). A
    reply therefore never waits behind more than the one send already granted, however many
    broadcasts queue; lower classes take every slot higher ones leave free, so a broadcast
    drains at the full pace whenever nobody chats and no wave runs. Two guards keep strict
    priority from starving the lower classes into failure: a nudge or broadcast that has
    waited :data:`AGE_PROMOTION` seconds goes before younger nudges (never before a reply), and
    one that waited longer than its class's ``max_wait`` gives up (:class:`SlotExpired`: its notice
    is ``failed`` and retried later by its owner, which holds it on a lease).

    The slots keep a schedule (a virtual time per slot, as in the generic cell rate
    algorithm) and a slot may be granted up to half an interval early: a busy event loop wakes
    the scheduler a few milliseconds late, and spacing each grant from the *late* moment lost
    those milliseconds every time (the benchmark drained at 86 % of the pace on a loaded
    machine). The long-run rate is the pace, and no trailing second ever holds more grants than
    the pace (28 at 28/s): a grant is not yet an arrival, and the HTTP requests of grants made
    a few milliseconds apart can reach Telegram closer together still — the suite's 200
    musicians once saw 31 in one second at the fake when a second could hold 29 grants.

    Checking both limits at the moment of the grant (rather than queueing for a group bucket,
    then for the overall one) means a grant is a send: no group can be sent to twice within its
    period because one of its sends waited longer for the overall slot.
    """

    def __init__(
        self,
        *,
        overall_per_second: float,
        group_per_minute: float,
        timer: Timer,
        max_wait: Mapping[Priority, float] | None = None,
    ) -> None:
        self.interval = 1 / overall_per_second
        self.tolerance = self.interval / 2
        self.group_interval = 60 / group_per_minute
        self._timer = timer
        self._max_wait = dict(max_wait or {})
        self._queues: tuple[deque[_Waiter], ...] = tuple(deque() for _ in Priority)
        #: The schedule's next slot (the virtual time); granted from ``tolerance`` before it.
        self._next_slot = -math.inf
        self._next_group: dict[int | str, float] = {}
        #: When the grants of the trailing second were made (at most ``per_window`` of them).
        self.per_window = max(1, math.floor(overall_per_second))
        self._recent: deque[float] = deque()
        self._dispatcher: asyncio.Task[None] | None = None
        #: Sends granted per class, and waiters that gave up (metrics, tests, the benchmark).
        self.granted: Counter[Priority] = Counter()
        self.expired: Counter[Priority] = Counter()

    def waiting(self, priority: Priority | None = None) -> int:
        """How many sends wait for a slot (of one class, or all)."""
        if priority is not None:
            return len(self._queues[priority])
        return sum(len(q) for q in self._queues)

    async def acquire(self, priority: Priority, group: int | str | None) -> None:
        """Wait for this send's slot; return when it may be made (at once if nobody waits)."""
        now = self._timer.now()
        if not self.waiting() and self._free(group, now):
            self._grant(priority, group, now)
            return
        waiter = _Waiter(
            priority,
            group,
            now,
            now + self._max_wait.get(priority, math.inf),
            asyncio.get_running_loop().create_future(),
        )
        self._queues[priority].append(waiter)
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(self._dispatch(), name="telegram-slots")
        try:
            await waiter.future
        except asyncio.CancelledError:
            with contextlib.suppress(ValueError):
                self._queues[priority].remove(waiter)
            raise

    def _free(self, group: int | str | None, now: float) -> bool:
        return (
            now >= self._next_slot - self.tolerance
            and self._window_wait(now) <= 0
            and self._group_free(group, now)
        )

    def _window_wait(self, now: float) -> float:
        """Seconds until the trailing second has room for one more grant (0: it has)."""
        recent = self._recent
        while recent and recent[0] <= now - 1.0:
            recent.popleft()
        if len(recent) < self.per_window:
            return 0.0
        return recent[0] + 1.0 - now

    def _grant(self, priority: Priority, group: int | str | None, now: float) -> None:
        self._next_slot = max(self._next_slot, now) + self.interval
        self._recent.append(now)
        if group is not None:
            if len(self._next_group) > MAX_GROUP_BUCKETS:  # forget groups that may send again
                self._next_group = {g: t for g, t in self._next_group.items() if t > now}
            self._next_group[group] = now + self.group_interval
        self.granted[priority] += 1

    def _expire(self, now: float) -> None:
        for queue in self._queues:
            # one class shares one max_wait, so its oldest waiters expire first
            while queue and (queue[0].future.done() or queue[0].deadline <= now):
                waiter = queue.popleft()
                if not waiter.future.done():
                    self.expired[waiter.priority] += 1
                    waiter.future.set_exception(
                        SlotExpired(f"no send slot within {now - waiter.since:.0f} s")
                    )

    def _pick(self, now: float) -> _Waiter | None:
        """The waiter the free slot goes to (None: every waiter's group must wait)."""
        firsts: list[_Waiter] = []
        for queue in self._queues:
            first = next((w for w in queue if self._group_free(w.group, now)), None)
            if first is not None:
                firsts.append(first)
        if not firsts:
            return None
        if firsts[0].priority is Priority.REPLY:
            return firsts[0]
        aged = [w for w in firsts if now - w.since >= AGE_PROMOTION]
        if aged:
            return min(aged, key=lambda w: w.since)
        return firsts[0]

    def _group_free(self, group: int | str | None, now: float) -> bool:
        return group is None or self._next_group.get(group, -math.inf) <= now

    async def _dispatch(self) -> None:
        while self.waiting():
            now = self._timer.now()
            self._expire(now)
            if not self.waiting():
                break
            wait = max(self._next_slot - self.tolerance - now, self._window_wait(now))
            if wait > 0:
                await self._timer.sleep(wait)
                continue
            waiter = self._pick(now)
            if waiter is None:  # every waiting send is to a group that just had its turn
                soonest = min(
                    self._next_group.get(w.group, now)
                    for queue in self._queues
                    for w in queue
                    if w.group is not None
                )
                # a new waiter for a free chat is looked at within one slot
                await self._timer.sleep(min(max(soonest - now, 0.0), self.interval))
                continue
            self._queues[waiter.priority].remove(waiter)
            self._grant(waiter.priority, waiter.group, now)
            waiter.future.set_result(None)


def notice_priority(replies: Sequence[Outbound]) -> Priority:
    """The send class of a notice: a broadcast yields to everything; every other notice (a
    reminder, plan, review, check-in, milestone — or one that does not say) only to replies."""
    if any(r.notice is NoticeKind.BROADCAST for r in replies):
        return Priority.BROADCAST
    return Priority.NUDGE
