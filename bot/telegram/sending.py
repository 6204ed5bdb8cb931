"""Telegram sends that wait out flood control within a time budget, and never vanish silently.

Three parts, one module, because they answer one question — "what happens to a send that
Telegram does not take right now?":

* :class:`SlotScheduler` and :class:`PacedLimiter`, PTB's rate limiter for the bot: one
  scheduler per bot shares Telegram's cap by :class:`Priority` — replies first, then nudges
  (reminders, plans, reviews, check-ins, milestones), then broadcasts. Slots come evenly (28/s
  overall, 19/min per group: buckets of one) and each goes to the oldest waiting send of the
  highest class whose group may send. When Telegram answers ``429 Too Many Requests``, every
  paced request pauses until ``retry_after`` is over. The limiter never retries by itself:
  the decision to try again belongs to the sender, which knows the budget. (PTB's
  ``AIORateLimiter`` retries a fixed number of times, takes its bucket slot *before* waiting
  out a pause — so everything queued during a pause goes out at once when it ends — logs
  every final 429 with a traceback, and knows no priorities.) Requests without a ``chat_id``
  (answering a button press, ``setMyCommands``) are neither paced nor paused, as with PTB's
  limiter.
* :class:`Sender`: every Bot API call of a reply or notice goes through :meth:`Sender.send`.
  When Telegram takes it at once (the common case) nothing else happens: no task, no queue.
  When it answers 429 or the network fails, the call is **parked** in its chat's lane, a small
  queue with one task that retries it — after ``retry_after``, or a back-off of 0.5, 1, 2, 4,
  8 s for network errors — until its **time budget** (:class:`Budgets`) runs out. Later calls
  to that chat queue behind it, so a chat's messages keep their order.
* Stale edits: an edit queued in a lane is dropped when a newer edit of the *same message* is
  queued behind it — the newer one carries the whole current card. "Newer" is the order in
  which calls enter the lane, and that is the order the core committed them: a chat's updates
  are handled one after the other (``PerChatOrder``), and a reply is handed to the sender
  inside its update's turn. Nothing else is ever dropped; an edit that already reached
  Telegram is simply followed by the newer one.

A **reply** does not wait for its parked call: the update's handler returns, so the chat's next
update is handled while Telegram makes us wait (that is how a newer edit can catch up with an
older one). When a reply's budget runs out the chat is owed a note (``on_gave_up``, see
:mod:`core.undelivered`), sent once Telegram accepts messages again. A **notice** (nudge,
broadcast, that note) waits for its call and raises :class:`GaveUp` when its budget runs out,
so the notifier reports ``failed`` and the delivery machinery retries it later.

Time is read and slept through a :class:`~bot.slots.Timer`, so tests can move it by hand.
The scheduler itself (:class:`~bot.slots.SlotScheduler`, :class:`~bot.slots.Priority`) lives
in :mod:`bot.slots`, shared with Discord; it is re-exported here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from bot.slots import (
    AGE_PROMOTION,
    LoopTimer,
    Priority,
    SlotExpired,
    SlotScheduler,
    Timer,
)
from core.observe.context import ref

__all__ = [
    "AGE_PROMOTION",
    "NETWORK_BACKOFF",
    "Budgets",
    "Call",
    "GaveUp",
    "LoopTimer",
    "PacedLimiter",
    "Priority",
    "Sender",
    "SlotScheduler",
    "Timer",
    "retry_after_seconds",
]

logger = logging.getLogger(__name__)

#: Back-off after network errors and timeouts (seconds), the last one repeating.
NETWORK_BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0)


@dataclass(frozen=True, slots=True)
class Budgets:
    """How long a send may keep trying (seconds, from the moment it is handed over).

    ``reply``: a musician is waiting, but nothing else is — a reply parks and lets the chat go
    on, so it can afford tens of seconds. ``notice``: the reminder tick or broadcast sender
    waits for the outcome and retries a failure itself later; it must stay well inside their
    two-minute leases, or another worker would send the same notice again.
    """

    reply: float = 60.0
    notice: float = 30.0


def retry_after_seconds(exc: RetryAfter) -> float:
    """Telegram's ``retry_after`` in seconds, whichever type PTB hands out.

    PTB 22 returns an ``int`` and warns that it will become a ``timedelta`` (or returns the
    ``timedelta`` with ``PTB_TIMEDELTA`` set); both are read, the warning is not raised.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


class GaveUp(TelegramError):
    """A notice's send kept failing (429 or network) until its time budget ran out."""


#: The Bot API methods that put a message into a chat: the ones a group's pace counts.
GROUP_PACED = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
    }
)


class PacedLimiter(BaseRateLimiter[Priority]):
    """PTB's rate limiter for the bot: every paced call waits for its slot from the
    :class:`SlotScheduler` (by the :class:`Priority` passed as ``rate_limit_args``), and a 429
    pauses every paced call until ``retry_after`` is over.

    The pause is global because Telegram's ``retry_after`` does not say which limit was hit
    (the bot's, or one chat's); a stricter pause than needed costs seconds, a looser one more
    429s. Requests without a ``chat_id`` (answering a button press, ``setMyCommands``) are
    neither paced nor paused, as with PTB's limiter: a button's spinner stops at once.
    """

    def __init__(
        self,
        *,
        overall_per_second: float,
        group_per_minute: float,
        timer: Timer | None = None,
        pace_timer: Timer | None = None,
        max_wait: Mapping[Priority, float] | None = None,
    ) -> None:
        #: The pause's time (the front end's timer: tests move it by hand).
        self._timer: Timer = timer or LoopTimer()
        self._paused_until = 0.0
        #: The slots keep the event loop's pace unless told otherwise: a test that holds a
        #: 429's pause open on a hand-moved timer still has its other sends paced for real.
        self.slots = SlotScheduler(
            overall_per_second=overall_per_second,
            group_per_minute=group_per_minute,
            timer=pace_timer or LoopTimer(),
            max_wait=max_wait,
        )

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    def paused_for(self) -> float:
        """Seconds left of the pause Telegram asked for (0 when not paused)."""
        if not self._paused_until:
            return 0.0
        return max(0.0, self._paused_until - self._timer.now())

    def pause(self, seconds: float) -> None:
        """Hold every paced request for ``seconds`` from now (a longer pause already set wins)."""
        self._paused_until = max(self._paused_until, self._timer.now() + seconds)

    async def process_request(  # noqa: PLR0917 - PTB's signature
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Priority | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Wait for the slot of this call's class, then make it; a 429 starts a pause."""
        chat_id = data.get("chat_id")
        if chat_id is None:
            return await callback(*args, **kwargs)
        with contextlib.suppress(ValueError, TypeError):
            chat_id = int(chat_id)
        # Telegram's 20 a minute per group are *messages*: a look-up in a group
        # (getChatMember, for a band manager's command) takes no message slot of the group
        shared = isinstance(chat_id, str) or chat_id < 0
        group = chat_id if shared and endpoint in GROUP_PACED else None
        priority = Priority.REPLY if rate_limit_args is None else Priority(rate_limit_args)
        while True:
            wait = self.paused_for()
            if wait > 0:
                await self._timer.sleep(wait)
                continue
            try:
                await self.slots.acquire(priority, group)
            except SlotExpired as exc:
                raise GaveUp(str(exc)) from None
            if self.paused_for() > 0:  # paused while queued for a slot: take a fresh one
                continue
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self.pause(retry_after_seconds(exc))
                raise


@dataclass(frozen=True, slots=True)
class Call:
    """One Bot API call of a reply or notice, ready to be made (and made again)."""

    chat_id: int
    #: The Bot API method, for the logs.
    method: str
    run: Callable[[], Awaitable[object]]
    #: The message this call edits: queued edits of one message supersede each other.
    edits: int | None = None


@dataclass(slots=True, eq=False)
class _Parked:
    call: Call
    deadline: float
    #: Not to be tried before this time (``retry_after`` or the network back-off).
    not_before: float
    #: Set for a notice, which waits for the outcome; None for a reply, which does not.
    outcome: asyncio.Future[None] | None = None
    network_failures: int = 0
    last_error: str = ""
    superseded: bool = False


@dataclass(slots=True, eq=False)
class _Lane:
    items: deque[_Parked] = field(default_factory=deque)
    task: asyncio.Task[None] | None = None


class Sender:
    """Makes Bot API calls; parks the ones Telegram refuses for now, per chat, within budgets.

    Args:
        limiter: The bot's limiter, whose pause counts against a parked call's budget.
        budgets: Time budgets of replies and notices.
        failures: The front end's failure counter (``rate_limited``, ``network``, ``gave_up``,
            ``superseded``, ``bad_request``, ``other``).
        on_gave_up: Called with the chat id when a reply's budget ran out.
        on_refused: Called for a parked reply that Telegram refused with 403.
        on_accepted: Called whenever Telegram took a call (owed notes may go out now).
        timer: Time and sleeping.
    """

    def __init__(
        self,
        limiter: PacedLimiter,
        *,
        budgets: Budgets,
        failures: Counter[str],
        on_gave_up: Callable[[int], Awaitable[None]],
        on_refused: Callable[[int, Forbidden], Awaitable[None]],
        on_accepted: Callable[[], None],
        timer: Timer | None = None,
    ) -> None:
        self.limiter = limiter
        self.budgets = budgets
        self.failures = failures
        self._on_gave_up = on_gave_up
        self._on_refused = on_refused
        self._on_accepted = on_accepted
        self.timer: Timer = timer or LoopTimer()
        self._lanes: dict[int, _Lane] = {}
        self._closed = False

    # ------------------------------------------------------------------ state

    def busy(self, chat_id: int) -> bool:
        """Whether calls to ``chat_id`` are parked (waiting for Telegram)."""
        return chat_id in self._lanes

    def parked(self, chat_id: int) -> int:
        """How many calls to ``chat_id`` are parked (tests, metrics)."""
        lane = self._lanes.get(chat_id)
        return len(lane.items) if lane else 0

    async def idle(self) -> None:
        """Wait until no call is parked (tests, a graceful stop)."""
        while self._lanes:
            tasks = [lane.task for lane in self._lanes.values() if lane.task is not None]
            await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self) -> None:
        """Stop retrying, for good (a stopped front end is not started again). Parked replies
        are given up (their chats are owed a note, which the database keeps for the next
        start); waiting notices fail with :class:`GaveUp`; a call refused from now on is not
        parked but given up at once."""
        self._closed = True
        lanes, self._lanes = list(self._lanes.items()), {}
        for _chat, lane in lanes:
            if lane.task is not None:
                lane.task.cancel()
        for chat_id, lane in lanes:
            if lane.task is not None:
                await asyncio.gather(lane.task, return_exceptions=True)
            owed = False
            for item in lane.items:
                if item.superseded:
                    continue
                if item.outcome is not None:
                    if not item.outcome.done():
                        item.outcome.set_exception(GaveUp("stopped before it could be sent"))
                elif not owed:
                    owed = True
                    await self._on_gave_up(chat_id)

    # ------------------------------------------------------------------ sending

    async def send(self, call: Call, *, notice: bool = False) -> None:
        """Make ``call``; on 429 or a network error park it and retry within its budget.

        A reply (``notice=False``) returns once the call is made *or parked*; a 400 or 403
        from the first attempt is raised to the caller as before. A notice returns when the
        call is made and raises what ended it (``Forbidden``, ``BadRequest``, :class:`GaveUp`).
        """
        budget = self.budgets.notice if notice else self.budgets.reply
        lane = self._lanes.get(call.chat_id)
        if lane is None and self.limiter.paused_for() <= 0:
            started = self.timer.now()
            try:
                await call.run()
            except RetryAfter as exc:
                wait = self._rate_limited(call, exc)
                item = _Parked(call, started + budget, self.timer.now() + wait)
                item.last_error = f"429, retry after {wait:.0f} s"
            except GaveUp:  # no send slot within its class's wait (a notice; never a reply)
                self.failures["gave_up"] += 1
                raise
            except BadRequest:
                self.failures["bad_request"] += 1
                raise
            except NetworkError as exc:  # TimedOut too; BadRequest is one, caught above
                item = _Parked(call, started + budget, self.timer.now())
                self._network_failed(item, exc)
            else:
                self._on_accepted()
                return
        else:
            now = self.timer.now()
            item = _Parked(call, now + budget, now)
        if self._closed:  # stopping: nothing would retry it
            if notice:
                raise GaveUp(f"{call.method} not sent: stopping")
            await self._give_up(item)
            return
        if notice:
            item.outcome = asyncio.get_running_loop().create_future()
        self._park(item)
        if item.outcome is not None:
            await item.outcome

    def _park(self, item: _Parked) -> None:
        chat_id = item.call.chat_id
        lane = self._lanes.get(chat_id)
        if lane is None:
            lane = self._lanes[chat_id] = _Lane()
            lane.task = asyncio.create_task(self._run_lane(chat_id, lane), name=f"lane-{chat_id}")
        if item.call.edits is not None:
            for older in lane.items:
                if older.call.edits == item.call.edits and not older.superseded:
                    older.superseded = True
        lane.items.append(item)

    async def _run_lane(self, chat_id: int, lane: _Lane) -> None:
        try:
            while lane.items:
                item = lane.items[0]
                if item.superseded:
                    lane.items.popleft()
                    self.failures["superseded"] += 1
                    logger.info(
                        "telegram: an edit of message %s in chat %s was superseded by a newer one",
                        item.call.edits,
                        chat_id,
                    )
                    _resolve(item)
                    continue
                now = self.timer.now()
                wait = max(item.not_before - now, self.limiter.paused_for())
                if now + wait > item.deadline:
                    lane.items.popleft()
                    await self._give_up(item)
                    continue
                if wait > 0:
                    await self.timer.sleep(wait)
                    continue  # superseded meanwhile? paused again? look again
                await self._attempt(lane, item)
        finally:
            if self._lanes.get(chat_id) is lane:
                del self._lanes[chat_id]

    async def _attempt(self, lane: _Lane, item: _Parked) -> None:
        call = item.call
        try:
            await call.run()
        except RetryAfter as exc:
            item.not_before = self.timer.now() + self._rate_limited(call, exc)
            item.last_error = f"429, retry after {retry_after_seconds(exc):.0f} s"
            return
        except GaveUp as exc:  # no send slot within the class's wait: the scheduler said so
            lane.items.popleft()
            self.failures["gave_up"] += 1
            _resolve(item, exc)
            return
        except BadRequest as exc:
            lane.items.popleft()
            self.failures["bad_request"] += 1
            logger.info(
                "telegram refused %s to chat %s: %s",
                call.method,
                ref("telegram", call.chat_id),
                exc,
            )
            _resolve(item, exc)
            return
        except NetworkError as exc:
            self._network_failed(item, exc)
            return
        except Forbidden as exc:
            lane.items.popleft()
            if item.outcome is not None:
                _resolve(item, exc)
            else:
                await self._on_refused(call.chat_id, exc)
            return
        except Exception as exc:  # ChatMigrated and the like: not ours to retry
            lane.items.popleft()
            self.failures["other"] += 1
            logger.warning(
                "telegram %s to chat %s failed: %r",
                call.method,
                ref("telegram", call.chat_id),
                exc,
            )
            _resolve(item, exc)
            return
        lane.items.popleft()
        _resolve(item)
        self._on_accepted()

    def _rate_limited(self, call: Call, exc: RetryAfter) -> float:
        self.failures["rate_limited"] += 1
        wait = retry_after_seconds(exc)
        logger.info(
            "telegram: 429 on %s to chat %s; retrying after %.0f s", call.method, call.chat_id, wait
        )
        return wait

    def _network_failed(self, item: _Parked, exc: NetworkError) -> None:
        self.failures["network"] += 1
        step = NETWORK_BACKOFF[min(item.network_failures, len(NETWORK_BACKOFF) - 1)]
        item.network_failures += 1
        item.last_error = str(exc)[:120]
        item.not_before = self.timer.now() + step
        # one warning per call, not one per attempt: an outage is one fact
        log = logger.warning if item.network_failures == 1 else logger.debug
        log("telegram %s failed (%s); retrying", item.call.method, item.last_error)

    async def _give_up(self, item: _Parked) -> None:
        call = item.call
        self.failures["gave_up"] += 1
        logger.warning(
            "telegram: gave up %s to chat %s: its time budget ran out (%s)",
            call.method,
            call.chat_id,
            item.last_error or "rate limited",
        )
        if item.outcome is not None:
            _resolve(item, GaveUp(f"{call.method} not taken within its time budget"))
        else:
            await self._on_gave_up(call.chat_id)


def _resolve(item: _Parked, error: BaseException | None = None) -> None:
    """Tell a waiting notice how its call ended (a reply has nobody waiting; errors are logged
    where they happen)."""
    future = item.outcome
    if future is None or future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
