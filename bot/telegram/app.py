"""The Telegram application: the real python-telegram-bot 22 ``Application`` around the coach.

No conversation state lives here (no ``ConversationHandler``, no persistence): every update is
translated to an ``Inbound``, handed to ``Coach.handle`` (which de-duplicates by ``update_id``
and keeps all state in the database), and the replies are rendered back. Updates of different
chats run concurrently; updates of one chat keep their order (:class:`PerChatOrder`).

Updates reach the application through the durable inbox (:mod:`bot.telegram.intake`): written
down before Telegram is told they arrived, deleted once handled, so a crash loses none. Polling
is therefore our own loop (:mod:`bot.telegram.polling`), not PTB's ``Updater``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import timedelta
from functools import partial
from typing import Any

from telegram import ReplyParameters, Update
from telegram.constants import ChatMemberStatus
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    TelegramError,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    ContextTypes,
    TypeHandler,
)

from bot.slots import notice_priority
from bot.telegram.forbidden import Refusal, classify
from bot.telegram.groups import (
    FORCE_REPLY,
    GroupAdmins,
    answered_by_reply,
    band_door,
    takes_member,
    with_reply_hint,
)
from bot.telegram.http import AiohttpRequest
from bot.telegram.intake import Intake
from bot.telegram.lean import LeanBot
from bot.telegram.menus import Menus
from bot.telegram.placement import Placement, band_matters, is_shared, place
from bot.telegram.polling import Poller
from bot.telegram.render import (
    MAX_CAPTION,
    html_pieces,
    keyboard,
    keyboard_json,
    telegram_length,
    to_html,
)
from bot.telegram.sending import (
    Budgets,
    Call,
    LoopTimer,
    PacedLimiter,
    Priority,
    Sender,
    Timer,
)
from bot.telegram.translate import to_inbound
from core.app.engine import Coach
from core.app.private_replies import (
    NOT_SENT_PRIVATELY,
    OPEN_PRIVATE_CHAT,
    SENT_PRIVATELY,
    direct_chat,
)
from core.errors import ConfigurationError, PlatformUnreachable
from core.inbox import DEFAULT_LEASE, Inbox
from core.kernel.markup import to_plain
from core.kernel.notify import NO_DIRECT_CHAT, SENT, DeliveryResult, DeliveryStatus, no_direct_chat
from core.kernel.types import (
    Card,
    Document,
    Inbound,
    Message,
    Outbound,
    Picture,
    Toast,
)
from core.observe.context import ref
from core.undelivered import OwedNotes

logger = logging.getLogger(__name__)

DEFAULT_API = "https://api.telegram.org"
#: Telegram's 400 for a chat that does not exist (any more: a deleted group).
CHAT_GONE = "chat not found"
#: Sends per second overall and per minute to one group, a little under Telegram's 30 and 20.
OVERALL_PER_SECOND = 28
GROUP_PER_MINUTE = 19
#: The update types the coach handles (polling and webhook ask Telegram for these only).
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")
#: Updates processed at once across all chats. Each spends most of its time waiting on PostgreSQL
#: and the Bot API, so 32 left a fifth of the bot's core idle at saturation; 64 fills it
#: (benchmarks/telegram_e2e.py, 2026-12-07: 274-323 -> 366-381 updates/s, reply p95 at 100/s
#: unchanged at ~9 ms). Replies go out through the aiohttp client (bot/telegram/http.py), whose
#: cost per request does not grow with the requests in flight as httpx's did.
MAX_CONCURRENT_UPDATES = 64
#: Updates that may wait for their turn at once (their chat's previous update, here or in another
#: webhook worker) besides those running: waiting takes none of the running slots.
MAX_WAITING_UPDATES = 4096
#: What ``coach run`` says when Telegram refuses the token (never the token itself).
REFUSAL_MESSAGE = (
    "Telegram refused TELEGRAM_BOT_TOKEN: copy it again from @BotFather (/token) and set it in "
    "the environment."
)


@contextlib.contextmanager
def startup_errors() -> Iterator[None]:
    """Turn PTB's start-up failures into the core's: a refused token is a setting to fix
    (said plainly: PTB's message quotes the token, so it is not even chained as the cause),
    a network failure an outage that ``coach run`` waits out."""
    try:
        yield
    except InvalidToken:
        raise ConfigurationError(REFUSAL_MESSAGE) from None
    except NetworkError as exc:  # TimedOut too
        raise PlatformUnreachable(f"Telegram could not be reached ({type(exc).__name__})") from exc


class PerChatOrder(BaseUpdateProcessor):
    """Runs updates of different chats concurrently and those of one chat in arrival order.

    ``on_done`` is told about each update whose processing ran to its end (PTB routes a
    handler's error to the error handlers, so that is every update not cancelled by a stop):
    the inbox then deletes its row (:meth:`bot.telegram.intake.Intake.done`).

    ``turn``, when set (webhook mode, :class:`~bot.telegram.webhook.TelegramWebhook`), is
    awaited before an update of a chat runs: it waits for the chat's older updates that
    *other* workers hold (``Inbox.wait_turn``), so a chat keeps its order across workers. An
    update older than the chat's newest one here (taken over from a dead worker while a newer
    one of its chat waits for it) does not queue behind that newer one: it runs at once,
    else the two would wait for each other.

    At most ``max_concurrent_updates`` handlers run at once; an update waiting for its turn
    holds none of those slots (PTB's own bound is :data:`MAX_WAITING_UPDATES`), so the chats
    held up after a worker died — waiting up to a lease for the update it had — do not stall
    the others.
    """

    def __init__(
        self,
        max_concurrent_updates: int = MAX_CONCURRENT_UPDATES,
        on_done: Callable[[object], None] | None = None,
    ) -> None:
        super().__init__(MAX_WAITING_UPDATES)
        self._running = asyncio.Semaphore(max_concurrent_updates)
        self._tails: dict[int, tuple[int, asyncio.Future[None]]] = {}
        self._on_done = on_done
        self.turn: Callable[[Update, int], Awaitable[object]] | None = None

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the chat's previous update (and, across workers, its turn), then process
        this one."""
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None or not isinstance(update, Update):
            async with self._running:
                await coroutine
            self._done(update)
            return
        tail = self._tails.get(chat.id)
        if tail is not None and update.update_id < tail[0]:  # taken over: older than the tail
            await self._run(update, chat.id, coroutine)
            return
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[chat.id] = (update.update_id, mine)
        try:
            if tail is not None:
                await asyncio.shield(tail[1])
            await self._run(update, chat.id, coroutine)
        finally:
            mine.set_result(None)
            if self._tails.get(chat.id, (0, None))[1] is mine:
                del self._tails[chat.id]

    async def _run(self, update: Update, chat_id: int, coroutine: Awaitable[Any]) -> None:
        if self.turn is not None:
            try:
                await self.turn(update, chat_id)
            except BaseException:  # cancelled by a stop: the handler never runs
                close = getattr(coroutine, "close", None)
                if close is not None:
                    close()
                raise
        async with self._running:
            await coroutine
        self._done(update)

    def _done(self, update: object) -> None:
        if self._on_done is not None:
            self._on_done(update)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


#: The bot's ``my_chat_member`` statuses in a private chat that say someone blocked it or came
#: back.
_BACK_OR_GONE = frozenset({"kicked", "member"})
#: The variants that are text in a chat, foldable into one message (:func:`merge_replies`).
_TEXT = (Message, Card)


class PrivateReplyRefused(ValueError):
    """A private reply was about to be sent into a group (see :meth:`TelegramFrontEnd._send`)."""


def merge_replies(replies: list[Outbound]) -> list[Outbound]:
    """Fold runs of plain replies into the next message, to send fewer messages.

    "✅ Done!", "🎉 Stage complete" and the next task's card arrive as one message instead of
    three: easier to read, and it keeps a private chat under Telegram's ~1 message/s. Only
    messages and cards are text to fold (a toast, a picture or a document is a different
    call); edits and replies with buttons end a run (the buttons stay on the merged message,
    which keeps its variant); so does a question that waits for a typed answer (in a group it
    is asked by ``ForceReply``: bot/telegram/groups.py). A private reply is never merged: it
    keeps its own message and its mark.
    """
    merged: list[Outbound] = []
    pending: list[str] = []
    for reply in replies:
        if isinstance(reply, _TEXT) and not reply.edit and not reply.private:
            pending.append(reply.text)
            if reply.buttons or answered_by_reply(reply):  # a question keeps what it is
                merged.append(reply.model_copy(update={"text": "\n\n".join(pending)}))
                pending = []
            continue
        if pending:
            merged.append(Message(text="\n\n".join(pending)))
            pending = []
        merged.append(reply)
    if pending:
        merged.append(Message(text="\n\n".join(pending)))
    return merged


class TelegramFrontEnd:
    """Holds the coach and the PTB application; translates in both directions.

    It is also the Telegram :class:`~core.kernel.notify.Notifier`: reminder nudges and broadcasts go
    through :meth:`notify`, so they share the replies' rate limits and retries. With
    :meth:`start` (long polling) and :meth:`stop` it is the :class:`~core.kernel.frontend.FrontEnd`
    ``coach run`` brings up; in webhook mode :class:`bot.telegram.webhook.TelegramWebhook`, which
    holds it, is.

    Every Bot API call of a reply or notice goes through :attr:`sending`
    (:mod:`bot.telegram.sending`): paced, and on a 429 or a network error retried within a
    time budget (``budgets``). A reply given up makes its chat owed a short note
    (:mod:`core.undelivered`), sent once Telegram accepts messages again.
    """

    platform = "telegram"

    def __init__(
        self,
        coach: Coach,
        token: str,
        *,
        api_base_url: str = DEFAULT_API,
        budgets: Budgets | None = None,
        timer: Timer | None = None,
        inbox_lease: timedelta = DEFAULT_LEASE,
        group_per_minute: float = GROUP_PER_MINUTE,
        sends_per_second: float = OVERALL_PER_SECOND,
    ) -> None:
        self.coach = coach
        #: Failed sends by kind (``forbidden`` and, per refusal, ``forbidden_gone``,
        #: ``forbidden_no_private_chat``, ``forbidden_not_in_chat``, ``forbidden_other``;
        #: ``bad_request``, ``network``, ``rate_limited`` (each 429), ``gave_up`` (a time
        #: budget ran out), ``superseded`` (a queued edit replaced by a newer one),
        #: ``answer_failed``, ``other``), counted here and logged; a metrics endpoint can
        #: expose them.
        self.failures: Counter[str] = Counter()
        #: Monotonic time and sleeping for every wait of this front end: a 429's pause, the
        #: sends' network back-off and budgets, the poller's back-off and flood-control waits,
        #: its retries of the inbox. Tests pass one they move by hand.
        self.timer: Timer = timer or LoopTimer()
        budgets = budgets or Budgets()
        # One scheduler shares the cap by priority (replies, nudges, broadcasts), paces groups,
        # and pauses after a 429 (see sending.py). A notice that gets no slot within its
        # budget fails, and its owner (the tick, the broadcast sender) retries it later.
        self.limiter = PacedLimiter(
            overall_per_second=sends_per_second,
            group_per_minute=group_per_minute,
            timer=self.timer,
            max_wait={Priority.NUDGE: budgets.notice, Priority.BROADCAST: budgets.notice},
        )
        self.sending = Sender(
            self.limiter,
            budgets=budgets,
            failures=self.failures,
            on_gave_up=self._reply_given_up,
            on_refused=self._parked_reply_refused,
            on_accepted=self._accepted,
            timer=self.timer,
        )
        self._notes: OwedNotes | None = None
        self._stopping = False
        api = api_base_url.rstrip("/")
        bot = LeanBot(
            token,
            base_url=f"{api}/bot",
            base_file_url=f"{api}/file/bot",
            # aiohttp instead of PTB's default httpx: a fraction of the CPU per request (see
            # bot/telegram/http.py); the pool covers every update in flight plus headroom.
            request=AiohttpRequest(connection_pool_size=2 * MAX_CONCURRENT_UPDATES),
            get_updates_request=AiohttpRequest(connection_pool_size=1),
            rate_limiter=self.limiter,
        )
        self.bot = bot
        #: Where updates are written down before Telegram is told (the coach's one clock).
        self.inbox = Inbox(coach.db, "telegram", lease=inbox_lease, clock=coach.clock)
        processor = PerChatOrder(on_done=self._handled)
        # No PTB Updater: our Poller (bot/telegram/polling.py) or the webhook feeds the queue.
        self.application: Application[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder().bot(bot).updater(None).concurrent_updates(processor).build()
        )
        self.intake = Intake(bot, self.application, self.inbox)
        #: The command menus per scope, from the core's registry (admins get /admin).
        self.menus = Menus(bot, coach.access, coach.registry)
        #: Who administers a group (``getChatMember``, kept briefly): a band's managers.
        self.admins = GroupAdmins(bot, self.timer.now)
        self._takes_member = takes_member(coach.registry)
        self._poller: Poller | None = None
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)

    async def register_commands(self) -> None:
        """Publish the command menus (``setMyCommands`` per scope: private chats, groups, each
        bot admin's private chat; :mod:`bot.telegram.menus`) and keep the admins' current.

        Also tells the core the bot's username (known once ``initialize()`` asked ``getMe``):
        the invites and link codes it gives carry ``t.me/<username>?start=…`` links."""
        self.coach.links.know_telegram_bot(self.bot.username)
        await self.menus.publish()

    async def start(self, *, poll_timeout: int = 30, poll_interval: float = 0.0) -> None:
        """Initialise, start, and begin long polling (without taking over the event loop).

        Before the first ``getUpdates``, whatever the inbox still holds (a crash interrupted
        it) is queued for the handlers, so each chat's older updates come first.

        Raises:
            ConfigurationError: Telegram refused the token (said plainly, never quoting it).
            PlatformUnreachable: Telegram could not be reached; calling ``start()`` again later
                picks up where this attempt stopped.
        """
        with startup_errors():
            await self.application.initialize()
            await self.register_commands()  # post_init only runs under run_polling(), not here
            if not self.application.running:
                await self.application.start()
            if self._poller is not None:
                return
            await self.bot.delete_webhook()  # getUpdates is refused while a webhook is set
        self.inbox.start()
        # the poller queues what the inbox holds before its first getUpdates
        self._poller = Poller(
            self.bot.base_url,
            self.intake,
            timeout=poll_timeout,
            interval=poll_interval,
            allowed_updates=ALLOWED_UPDATES,
            refused=REFUSAL_MESSAGE,
            sleep=self.timer.sleep,
        )
        await self._poller.start()
        logger.info("telegram: polling for updates")

    def down_reason(self) -> str | None:
        """Why this front end is not receiving updates now, or ``None`` when it is (polling
        runs and its last ``getUpdates`` worked): ``/readyz``."""
        if not self.application.running:
            return "not started"
        poller = self._poller
        if poller is None or not poller.running:
            return "not polling"
        if poller.failing:
            return "getUpdates failing"
        return None

    async def stop(self) -> None:
        """Stop polling and processing, and shut down. Updates written down but not handled
        stay in the inbox for the next start."""
        poller, self._poller = self._poller, None
        if poller is not None:
            await poller.stop()
        await self.menus.close()
        if self.application.running:
            await self.application.stop()  # handles what is already queued
        await self._stop_sending()
        await self.application.shutdown()
        await self.inbox.stop()  # deletes the rows of what was handled
        # a start that failed half-way left the bot's HTTP sessions open, and the application
        # (never initialised) does not close them itself; a no-op otherwise
        await self.application.bot.shutdown()

    # ------------------------------------------------------------------ in

    def _handled(self, update: object) -> None:
        """PTB is done with an update: its inbox row can go."""
        self.intake.done(update)

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        member = update.my_chat_member
        if member is not None:
            status = member.new_chat_member.status
            await self._membership(member.chat.id, member.chat.type, status)
            if member.chat.type == "private" and status in _BACK_OR_GONE:
                await self.coach.report_reachability(
                    "telegram", str(member.from_user.id), reachable=status == "member"
                )
            return
        message = update.message
        if message is not None and (message.migrate_to_chat_id or message.migrate_from_chat_id):
            await self._migrated(
                message.chat.id, message.migrate_to_chat_id, message.migrate_from_chat_id
            )
            return
        inbound = to_inbound(
            update, bot_username=context.bot.username, takes_member=self._takes_member
        )
        if inbound is None:
            if update.callback_query is not None:
                await self._answer(update, None)
            return
        if inbound.server_id is not None and inbound.kind != "text":
            inbound = await self._with_admin(inbound)
        elif inbound.server_id is not None:
            admin = self.admins.kept(int(inbound.chat_id), int(inbound.user_id))
            inbound = inbound.model_copy(update={"manages_server": admin})
        with self.coach.log_event(inbound):  # this update's lines carry its id (JSON logs)
            if inbound.chat_type == "private":  # an admin's menu may be waiting for this chat
                self.menus.seen(inbound.user_id)
            replies = await self.coach.handle(inbound)
            await self._deliver(update, inbound, replies)

    async def _with_admin(self, inbound: Inbound) -> Inbound:
        """A group command or press with the sender's admin status (a band's managers):
        asked afresh for the band's own routes, where manager-only actions are decided, kept
        briefly for anything else (:mod:`bot.telegram.groups`)."""
        chat, user = int(inbound.chat_id), int(inbound.user_id)
        if band_door(self.coach.route, inbound):
            admin = await self.admins.fresh(chat, user)
        else:
            admin = self.admins.kept(chat, user)
        return inbound.model_copy(update={"manages_server": admin})

    async def _is_band(self, inbound: Inbound) -> bool:
        """Whether the event's group is a band's (false when that can't be read now: the
        presser's card then stays the owner's, as in any group)."""
        if inbound.server_id is None:
            return False
        try:
            return await self.coach.has_band(inbound.platform, inbound.server_id)
        except Exception as exc:
            logger.warning("telegram: could not read whether a group is a band: %r", exc)
            return False

    async def _membership(self, chat_id: int, chat_type: str, status: str) -> None:
        """The bot's own membership of a group changed: a band there is unreachable while the
        bot is out (removed, or banned), and reachable again once it is added back."""
        if chat_type == "private":
            return
        if status in {ChatMemberStatus.LEFT, ChatMemberStatus.BANNED}:
            self.admins.forget(chat_id)
            await self._band_reachable(chat_id, reachable=False)
        elif status in {ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR}:
            await self._band_reachable(chat_id, reachable=True)

    async def _band_reachable(self, chat_id: int | str, *, reachable: bool) -> None:
        """Tell the core a group's band is (un)reachable; a failure to record it is logged,
        never raised into a send (the next refused send, or membership update, says it again)."""
        try:
            await self.coach.report_band_reachability("telegram", str(chat_id), reachable=reachable)
        except Exception:
            logger.exception("telegram: could not record a band's reachability")

    async def _migrated(self, chat_id: int, to_id: int | None, from_id: int | None) -> None:
        """A group became a supergroup: Telegram says so in the old group (``migrate_to``) and
        in the new one (``migrate_from``); the band moves with it (the second is a no-op)."""
        old, new = (chat_id, to_id) if to_id else (from_id, chat_id)
        if old is None or new is None:
            return
        self.admins.forget(old)
        try:
            await self.coach.move_server("telegram", str(old), str(new))
        except Exception:  # the next send to the old id is refused with the new one again
            logger.exception("telegram: could not move a band to its group's new id")

    # ------------------------------------------------------------------ out

    async def _deliver(self, update: Update, inbound: Inbound, replies: list[Outbound]) -> None:
        """Send the replies to one update: those addressed to another chat (a private reply
        the core moved to the sender's private chat) first, then the ones for this chat, placed
        by :func:`bot.telegram.placement.place` (in a group: answering the member's own message;
        a card edited only by its owner's press)."""
        pressed = update.callback_query is not None
        here = [r for r in replies if r.chat_id in {None, inbound.chat_id}]
        note = None
        for reply in replies:
            if reply.chat_id not in {None, inbound.chat_id}:
                note = await self._deliver_elsewhere(inbound, reply) or note
        if note is not None:  # in the group: where the private reply went (or why it didn't)
            toast_free = pressed and not any(isinstance(r, Toast) for r in here)
            here.append(Toast(text=note) if toast_free else Message(text=note))
        toast = next((r for r in here if isinstance(r, Toast)), None)
        if pressed:
            await self._answer(update, toast)
        band = band_matters(update, inbound) and await self._is_band(inbound)
        where = place(update, inbound, band=band)
        chat_id = where.chat_id
        # the press's toast is its answerCallbackQuery; a toast answering typed text is shown
        shown = [r for r in here if not (pressed and isinstance(r, Toast))]
        try:
            for reply in merge_replies(shown):
                try:
                    await self._with_retries(partial(self._send, where, reply))
                except PrivateReplyRefused:
                    continue  # logged and counted by _send; the other replies still go out
        except ChatMigrated as exc:  # the group became a supergroup while we answered
            await self._migrated(chat_id, exc.new_chat_id, None)
            await self.notify(str(exc.new_chat_id), shown, priority=Priority.REPLY, moved=True)
        except Forbidden as exc:
            refusal = self._refused(chat_id, exc)
            # Only the sender's own private chat says anything about the sender: a group that
            # removed the bot is not their doing (bot/telegram/forbidden.py).
            if refusal is Refusal.GONE and inbound.chat_type == "private":
                await self.coach.report_reachability("telegram", inbound.user_id, reachable=False)
            if refusal is Refusal.NOT_IN_CHAT:
                await self._band_reachable(chat_id, reachable=False)

    async def _deliver_elsewhere(self, inbound: Inbound, reply: Outbound) -> str | None:
        """Send a reply addressed to another chat; for a private reply moved out of a group,
        the note the group gets: it arrived, or how to let the bot write first."""
        assert reply.chat_id is not None  # noqa: S101 - only addressed replies come here
        result = await self.notify(reply.chat_id, [reply], priority=Priority.REPLY)
        if not result.sent:
            logger.info(
                "telegram: reply to chat %s not sent: %s",
                ref("telegram", reply.chat_id),
                result.detail,
            )
        moved = inbound.chat_type != "private" and reply.chat_id == direct_chat(inbound)
        if not moved:
            return None
        if result.sent:
            return SENT_PRIVATELY
        return OPEN_PRIVATE_CHAT if result.detail.startswith(NO_DIRECT_CHAT) else NOT_SENT_PRIVATELY

    async def notify(
        self,
        chat_id: str,
        replies: Sequence[Outbound],
        *,
        priority: Priority | None = None,
        moved: bool = False,
    ) -> DeliveryResult:
        """Send a notice (a nudge, a broadcast) as new messages to a chat.

        Its calls wait for slots of the class the notice says it is (:func:`notice_priority`)
        unless ``priority`` says otherwise (a reply addressed to another chat, an owed note: a
        musician is waiting for those).

        A 403 is told apart by its words (:mod:`bot.telegram.forbidden`): the person blocked
        the bot or deleted their account → the identity is marked unreachable (which pauses
        their reminders) and ``blocked`` is returned; they never opened a private chat with the
        bot → ``failed`` with the :data:`~core.kernel.notify.NO_DIRECT_CHAT` reason, nothing marked;
        the bot is not in that group, or any other 403 → ``failed`` (and a band bound to that
        group is marked unreachable: :meth:`Coach.report_band_reachability`). A refusal (400),
        or a 429 or network failure that outlived the notice's time budget, is ``failed`` too
        (the caller retries later); a 400 "chat not found" for a group marks its band
        unreachable too (the group was deleted). A group that became a supergroup (400 with
        ``migrate_to_chat_id``: PTB's ``ChatMigrated``) moves its band to the new id and the
        notice is sent there (``moved``: this is that second try). Nothing raises.
        """
        if priority is None:
            priority = notice_priority(replies)
        try:
            for reply in merge_replies([r.model_copy(update={"edit": False}) for r in replies]):
                await self._send(Placement(int(chat_id)), reply, notice=True, priority=priority)
        except ChatMigrated as exc:
            if moved:  # moved twice in one notice: Telegram would not; don't chase it
                return DeliveryResult(DeliveryStatus.FAILED, str(exc)[:200])
            # the group is a supergroup now: its band moves, and the notice goes there
            new = str(exc.new_chat_id)
            await self._migrated(int(chat_id), int(new), None)
            return await self.notify(new, replies, priority=priority, moved=True)
        except Forbidden as exc:
            refusal = self._refused(chat_id, exc)
            if refusal is Refusal.GONE:
                await self.coach.report_reachability("telegram", chat_id, reachable=False)
                return DeliveryResult(DeliveryStatus.BLOCKED, exc.message[:200])
            if refusal is Refusal.NO_PRIVATE_CHAT:
                return no_direct_chat(exc.message)
            if refusal is Refusal.NOT_IN_CHAT:  # removed from the group: its band waits
                await self._band_reachable(chat_id, reachable=False)
            return DeliveryResult(DeliveryStatus.FAILED, exc.message[:200])
        except BadRequest as exc:
            if is_shared(int(chat_id)) and CHAT_GONE in exc.message.casefold():
                # the group was deleted: its band is kept, and waits (no more notices tried)
                await self._band_reachable(chat_id, reachable=False)
            return DeliveryResult(DeliveryStatus.FAILED, exc.message[:200])
        except (TelegramError, ValueError) as exc:  # GaveUp, PrivateReplyRefused, …
            return DeliveryResult(DeliveryStatus.FAILED, str(exc)[:200])
        return SENT

    @property
    def notes(self) -> OwedNotes:
        """The notes owed to chats whose reply was given up (:mod:`core.undelivered`)."""
        if self._notes is None:
            coach = self.coach
            self._notes = OwedNotes(
                coach.db,
                self.platform,
                partial(self.notify, priority=Priority.REPLY),
                clock=coach.clock,
                busy=lambda chat: self.sending.busy(int(chat)),
            )
        return self._notes

    def _accepted(self) -> None:
        """Telegram took a send: notes owed from an outage can go out now (not while stopping:
        the database may be closing)."""
        if not self._stopping:
            self.notes.accepted()

    async def _reply_given_up(self, chat_id: int) -> None:
        await self.notes.owe(str(chat_id))

    async def _parked_reply_refused(self, chat_id: int, exc: Forbidden) -> None:
        """A 403 for a reply that was waiting in its chat's lane (the handler is long gone):
        read as :meth:`_deliver` reads it. A private chat's id is its person's id."""
        refusal = self._refused(chat_id, exc)
        if refusal is Refusal.GONE and not is_shared(chat_id):
            await self.coach.report_reachability("telegram", str(chat_id), reachable=False)

    async def _stop_sending(self) -> None:
        """Stop retrying parked calls (replies given up now are owed their note, which the
        database keeps for the next start) and any owed-note delivery in progress."""
        self._stopping = True
        await self.sending.close()
        if self._notes is not None:
            await self._notes.close()

    def _refused(self, chat_id: int | str, exc: Forbidden) -> Refusal:
        """Count and log a 403, and say which kind it is."""
        refusal = classify(exc.message)
        self.failures["forbidden"] += 1
        self.failures[f"forbidden_{refusal}"] += 1
        logger.info(
            "telegram refused a send to chat %s (%s): %s",
            ref("telegram", chat_id),
            refusal,
            exc.message,
        )
        return refusal

    async def _answer(self, update: Update, toast: Outbound | None) -> None:
        query = update.callback_query
        if query is None:
            return
        try:
            await query.answer(to_plain(toast.text)[:200] if toast else None)
        except BadRequest as exc:  # too old or already answered: nothing left to do
            logger.info("callback answer refused: %s", exc.message)
        except TelegramError as exc:  # 429, network: the press's replies must still go out
            self.failures["answer_failed"] += 1
            logger.info("callback answer failed: %s", exc)

    async def _with_retries(self, send: Callable[[], Awaitable[None]]) -> None:
        """Run one reply's send.

        The retrying happens per Bot API call inside :meth:`_send`, through :attr:`sending`: a
        429 is waited out by its ``retry_after`` and a network error backed off, within the
        reply's time budget, and a call Telegram does not take at once is *parked* in its
        chat's lane, so this returns without waiting for it. 400 and 403 are answers, not
        failures: raised here from the first attempt, as before. A timeout may hide a message
        that did arrive, so a retry can duplicate it: at least once beats losing a reply.
        """
        await send()

    async def _send(
        self,
        where: Placement,
        reply: Outbound,
        *,
        notice: bool = False,
        priority: Priority = Priority.REPLY,
    ) -> None:
        """Send (or edit) one reply — the only place the front end writes into a chat.

        Each Bot API call goes through :attr:`sending` (:mod:`bot.telegram.sending`): a reply
        returns once its calls are made or parked; a notice waits for them. Every call waits
        for a send slot of its ``priority`` (PTB's ``rate_limit_args``).

        Raises:
            PrivateReplyRefused: a private reply addressed to a group; nothing is sent (the
                core's gate moves those to the person's private chat, so this is a bug
                caught, never a message shown).
        """
        chat_id = where.chat_id
        if reply.private and is_shared(chat_id):
            self.failures["private_refused"] += 1
            logger.error(
                "telegram: refused to put a private reply into group %s",
                ref("telegram", chat_id),
            )
            raise PrivateReplyRefused(f"a private reply is not sent to group {chat_id}")
        for call in self._calls(where, reply, priority):
            await self.sending.send(call, notice=notice)

    def _calls(self, where: Placement, reply: Outbound, priority: Priority) -> list[Call]:
        """The Bot API calls that carry ``reply``, by its variant: an edit of the card (a
        checklist ticked in place), a :class:`Document` (``sendDocument``) or a
        :class:`Picture` (``sendPhoto``) with the text as caption when it fits, and otherwise
        the text in as many pieces as needed (a message, a card, a toast that answers no
        press)."""
        bot = self.bot
        chat_id = where.chat_id
        force_reply = False
        if is_shared(chat_id) and answered_by_reply(reply):
            # privacy mode: the answer must be a reply to this very message (groups.py)
            reply = with_reply_hint(reply)
            force_reply = not reply.buttons and not (reply.edit and where.editable is not None)
        if reply.edit and where.editable is not None:
            html, markup = to_html(reply.text), keyboard_json(reply.buttons)
            edit = partial(self._edit, chat_id, where.editable, html, markup, priority)
            return [Call(chat_id, "editMessageText", edit, edits=where.editable)]
        answer = (
            ReplyParameters(where.reply_to, allow_sending_without_reply=True)
            if where.reply_to is not None
            else None
        )
        calls: list[Call] = []
        if isinstance(reply, Document):  # /export's JSON: a document with its caption
            caption = to_html(reply.text)
            if telegram_length(caption) <= MAX_CAPTION:
                document = partial(
                    bot.send_document,
                    chat_id,
                    reply.file,
                    filename=reply.name,
                    caption=caption,
                    parse_mode="HTML",
                    reply_parameters=answer,
                    rate_limit_args=priority,
                )
                return [Call(chat_id, "sendDocument", document)]
            document = partial(
                bot.send_document,
                chat_id,
                reply.file,
                filename=reply.name,
                reply_parameters=answer,
                rate_limit_args=priority,
            )
            calls.append(Call(chat_id, "sendDocument", document))
        elif isinstance(reply, Picture):
            caption = to_html(reply.text)
            if telegram_length(caption) <= MAX_CAPTION:
                photo = partial(
                    bot.send_photo,
                    chat_id,
                    reply.image,
                    caption=caption,
                    parse_mode="HTML",
                    reply_markup=keyboard(reply.buttons),
                    reply_parameters=answer,
                    rate_limit_args=priority,
                )
                return [Call(chat_id, "sendPhoto", photo)]
            photo = partial(
                bot.send_photo,
                chat_id,
                reply.image,
                reply_parameters=answer,
                rate_limit_args=priority,
            )
            calls.append(Call(chat_id, "sendPhoto", photo))
        pieces = html_pieces(reply.text)
        markup = FORCE_REPLY if force_reply else keyboard_json(reply.buttons)
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            text = partial(
                bot.send_html,
                chat_id,
                piece,
                markup if last else None,
                where.reply_to,
                rate_limit_args=priority,
            )
            calls.append(Call(chat_id, "sendMessage", text))
        return calls

    async def _edit(
        self, chat_id: int, message_id: int, html: str, markup: str | None, priority: Priority
    ) -> None:
        try:
            await self.bot.edit_html(chat_id, message_id, html, markup, rate_limit_args=priority)
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        if isinstance(error, TelegramError):
            logger.warning("telegram error while handling an update: %s", error)
        else:
            logger.error("error while handling a telegram update", exc_info=error)
