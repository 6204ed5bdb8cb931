"""The Discord front end: a discord.py ``Client`` with an app-command tree around the coach.

* Every interaction is acknowledged within Discord's 3 seconds: the core gets
  :data:`ACK_AFTER` seconds to answer, and if it is slower the interaction is deferred first
  (a "thinking" reply for commands, a silent update for buttons) and the answers follow as
  edits of the original response and follow-ups — well inside the 15-minute token life.
* Buttons carry the core's payload as ``custom_id``; the dynamic items of
  :mod:`bot.discord.components`, registered in ``setup_hook``, handle presses on messages from
  before a restart too, and hand them to the front end of the client that received them. A
  checklist's multi-select menu sends each item it changed through the core in turn, and the
  interaction gets one answer. Data-input questions in a server get an "✍️ Answer" button
  that opens a modal (the bot has no Message Content intent, so it can't read typed answers in
  servers); in DMs people simply type.
* Slash commands are built from the core's registry (:mod:`bot.discord.commands`: typed options,
  choices, autocomplete answered by the core, ``/band``'s sub-commands, where each is offered and
  to whom by default), and are synced only by ``coach discord sync-commands``.
* As a :class:`core.kernel.notify.Notifier` it sends reminders and broadcasts: to a musician by DM
  (chat id = user id), to a band channel (``c:<id>``). A refusal is read by its code
  (:mod:`bot.discord.refusals`): only "Unknown User" marks the person unreachable; 50007
  "Cannot send messages to this user" (DMs closed) is a failed notice, and the person is
  told privately in the server, at their next interaction there, how to open their DMs.
* Sends that finally fail: discord.py retries a 429 by its ``retry_after`` (a wait longer than
  ``ratelimit_max_seconds`` is refused at once with ``RateLimited``) and a 5xx with a back-off,
  five tries in all, but not a dropped connection. An interaction answer or DM reply lost that
  way — or answered after Discord's 3-second deadline (10062) — owes the chat a short note
  (:mod:`core.undelivered`), sent as a message once Discord accepts sends again: the
  interaction's own token may be dead by then, a channel or DM is not. A notice reports
  ``failed`` and is retried by its sender, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any

import aiohttp
import discord
from discord import app_commands
from sqlalchemy.exc import SQLAlchemyError

from bot.discord import commands, components, endpoints, refusals, translate
from bot.discord import render as rd
from bot.slots import LoopTimer, Priority, SlotExpired, SlotScheduler, notice_priority
from core.accounts import reachability
from core.app.engine import SORRY, Coach
from core.errors import ConfigurationError, PlatformUnreachable
from core.kernel.notify import SENT, DeliveryResult, DeliveryStatus, dms_closed
from core.kernel.types import Inbound, Message, Outbound
from core.observe.context import ref
from core.undelivered import OwedNotes

logger = logging.getLogger(__name__)

#: How long the core may take before an interaction is deferred (Discord allows 3 s in all).
ACK_AFTER = 2.0
#: Network failures as discord.py raises them (it raises these as they are, not as
#: ``HTTPException``): Discord refused, reset or timed out the connection — and
#: ``RateLimited`` (no ``HTTPException`` either) for a 429 wait over ``ratelimit_max_seconds``.
UNREACHABLE = (aiohttp.ClientError, OSError, TimeoutError, discord.RateLimited)
#: Notice requests per second (DMs opened, messages sent), below Discord's global 50/s: the
#: rest stays free for replies. Interaction answers do not count against Discord's global
#: limit, but discord.py holds every request while a global 429 is waited out, so notices
#: must never be the ones to trigger one (see "Outbound budget" in the README).
NOTICES_PER_SECOND = 40
#: How long a notice waits for a slot before it is ``failed`` (its sender retries it later,
#: well inside the two-minute leases of the reminder tick and the broadcast sender).
NOTICE_SLOT_WAIT = 30.0
#: The longest 429 wait discord.py may sit out for one request (its minimum is 30 s); longer
#: is ``RateLimited`` at once: a notice fails and is retried by its sender, inside its lease.
RATELIMIT_MAX_SECONDS = 60.0
#: How long stop() waits for the answers in flight.
STOP_GRACE = 5.0
#: An interaction no longer known (answered after its 3 s) or a webhook token expired.
_EXPIRED = frozenset({10062, 10015})


def answer_lost(exc: discord.HTTPException) -> bool:
    """Whether a failed answer means the person never got it because of Discord's state —
    rate limited or failing after discord.py's retries, or too late for the interaction — and
    not because they can't be reached (403) or another process already answered (40060)."""
    return exc.status == 429 or exc.status >= 500 or exc.code in _EXPIRED


def intents() -> discord.Intents:
    """Only what the bot uses; no privileged intent.

    ``guilds``: the server and channel cache (band channels, permissions in interactions);
    ``dm_messages``: musicians type answers in DMs (DM content arrives without the privileged
    Message Content intent). Slash commands, buttons and modals need no intent at all.
    """
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.dm_messages = True
    return wanted


class _Client(components.CoachClient):
    def __init__(self, front: DiscordFrontEnd, **kw: Any) -> None:
        super().__init__(front, **kw)
        self.front = front

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        if interaction.type is discord.InteractionType.modal_submit:
            await self.front.on_modal(interaction)

    async def on_message(self, message: discord.Message) -> None:
        if message.guild is None and not message.author.bot:
            await self.front.on_dm(message)

    # the gateway's state for /readyz: discord.py keeps is_ready() true while it reconnects
    async def on_disconnect(self) -> None:
        self.front.gateway_lost = True

    async def on_resumed(self) -> None:
        self.front.gateway_lost = False

    async def on_ready(self) -> None:
        self.front.gateway_lost = False


class DiscordFrontEnd:
    """One Discord connection (one shard, or all of them) serving the coach: the Discord
    :class:`~core.kernel.frontend.FrontEnd` ``coach run`` brings up, and its notifier."""

    platform = "discord"

    def __init__(
        self,
        coach: Coach,
        token: str,
        *,
        api_base_url: str | None = None,
        gateway_url: str | None = None,
        shard_id: int | None = None,
        shard_count: int | None = None,
        ack_after: float = ACK_AFTER,
        guild_ready_timeout: float = 2.0,
        ratelimit_max_seconds: float = RATELIMIT_MAX_SECONDS,
    ) -> None:
        endpoints.point_at(api_base_url, gateway_url)
        self.coach = coach
        #: True from a gateway disconnect until discord.py resumed or re-identified (/readyz).
        self.gateway_lost = False
        self._token = token
        self._explicit_gateway = gateway_url is not None
        self.ack_after = ack_after
        self._client_options: dict[str, Any] = {
            "guild_ready_timeout": guild_ready_timeout,
            "max_ratelimit_timeout": ratelimit_max_seconds,
        }
        if shard_count is not None:
            self._client_options.update(shard_id=shard_id or 0, shard_count=shard_count)
        self.client, self.tree = self._new_client()
        self._task: asyncio.Task[None] | None = None
        self.failed_sends = 0
        #: ``429 Too Many Requests`` answers Discord gave this connection's REST calls, retried
        #: ones included (discord.py waits them out itself, so only its HTTP trace sees them):
        #: ``coach_outbound_rate_limited_total`` on ``/metrics``.
        self.rate_limited = 0
        #: Who gets the "your DMs are closed" note at their next interaction in a server.
        self.closed_dms = refusals.ClosedDmsNote(
            lambda user_id: reachability.closed_dms_notice(self.coach.db, "discord", user_id)
        )
        self._busy = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._notes: OwedNotes | None = None
        self._stopping = False
        #: The one scheduler of this connection's notices: nudges before broadcasts, both
        #: paced under the global limit; replies and interaction answers are not paced here
        #: (discord.py's per-route buckets and 429 handling pace them).
        self.notice_slots = SlotScheduler(
            overall_per_second=NOTICES_PER_SECOND,
            group_per_minute=60,  # unused: notices are paced per connection, not per channel
            timer=LoopTimer(),
            max_wait={Priority.NUDGE: NOTICE_SLOT_WAIT, Priority.BROADCAST: NOTICE_SLOT_WAIT},
        )

    # ------------------------------------------------------------------ lifecycle

    def _new_client(self) -> tuple[_Client, app_commands.CommandTree[_Client]]:
        """A discord.py client with our command tree (a closed client can't be started again)."""
        client = _Client(
            self, intents=intents(), http_trace=self._count_429s(), **self._client_options
        )
        tree: app_commands.CommandTree[_Client] = app_commands.CommandTree(client)
        tree.on_error = self._on_tree_error  # type: ignore[method-assign]
        commands.build(tree, self)
        return client, tree

    def _count_429s(self) -> aiohttp.TraceConfig:
        """An aiohttp trace (discord.py's public ``http_trace`` option) that counts the 429s
        discord.py retries on its own and never raises: without it an operator can't see the
        bot running into Discord's limits until sends start failing."""
        trace = aiohttp.TraceConfig()

        async def on_request_end(
            _session: aiohttp.ClientSession, _context: Any, params: aiohttp.TraceRequestEndParams
        ) -> None:
            if params.response.status == 429:
                self.rate_limited += 1

        trace.on_request_end.append(on_request_end)
        return trace

    async def login(self) -> None:
        """Log in over REST and learn the gateway URL (``GET /gateway/bot``).

        Raises:
            ConfigurationError: Discord refused the token (said plainly, never quoting it).
        """
        try:
            await self.client.login(self._token)
        except discord.LoginFailure as exc:
            raise ConfigurationError(
                "Discord refused DISCORD_BOT_TOKEN: copy the bot's token again from the Developer "
                "Portal (Bot → Reset Token) and set it in the environment."
            ) from exc
        if not self._explicit_gateway:
            await endpoints.learn_gateway(self.client)

    def down_reason(self) -> str | None:
        """Why this front end is not receiving events now (gateway not READY: connecting,
        resuming, or closed), or ``None``: ``/readyz``."""
        if self.client.is_closed():
            return "closed"
        if not self.client.is_ready():
            return "not connected to the gateway"
        if self.gateway_lost:
            return "gateway connection lost; reconnecting"
        return None

    async def start(self, *, ready_timeout: float = 60.0) -> None:
        """Log in, connect to the gateway (discord.py reconnects and resumes by itself) and
        wait until READY.

        Raises:
            ConfigurationError: Discord refused the token.
            PlatformUnreachable: Discord could not be reached, or was not READY in time. The
                attempt is closed and a fresh client put in place: ``start()`` may be called
                again later.
        """
        self._stopping = False
        try:
            await self.login()
            self._task = asyncio.create_task(self.client.connect(reconnect=True))
            ready = asyncio.create_task(self.client.wait_until_ready())
            done, _ = await asyncio.wait(
                {ready, self._task}, timeout=ready_timeout, return_when="FIRST_COMPLETED"
            )
            if ready not in done:
                ready.cancel()
                if self._task in done:
                    self._task.result()  # raises what stopped the connection
                raise TimeoutError("Discord did not become ready")
        except (aiohttp.ClientError, OSError, TimeoutError, discord.DiscordServerError) as exc:
            await self.stop()
            self.client, self.tree = self._new_client()
            raise PlatformUnreachable(
                f"Discord could not be reached ({type(exc).__name__})"
            ) from exc
        options = self._client_options
        shard = (
            f" (shard {options['shard_id']} of {options['shard_count']})"
            if "shard_count" in options
            else ""
        )
        logger.info("discord: connected to the gateway%s", shard)

    async def stop(self) -> None:
        """Let the answers in flight finish (a few seconds at most), then close the connection
        and wait for the gateway task (and any owed-note delivery).

        Closing first would cut answers Discord is still acknowledging: each would look lost
        (a dropped connection) and owe its chat a note for a reply that did arrive.
        """
        self._stopping = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), STOP_GRACE)
        notes, self._notes = self._notes, None  # a later start() makes a fresh one
        if notes is not None:
            await notes.close()
        await self.client.close()
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._task
            self._task = None

    async def sync_commands(self, guild_id: int | None = None) -> list[str]:
        """Upload the slash commands (bulk overwrite), globally or to one server (instant,
        for testing). Needs only REST: call after :meth:`login`."""
        if guild_id is None:
            synced = await self.tree.sync()
        else:
            guild = discord.Object(guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        return [c.name for c in synced]

    async def idle(self) -> None:
        """Wait until no interaction or DM is being handled (tests, graceful shutdown)."""
        await self._idle.wait()

    @contextlib.contextmanager
    def _working(self) -> Iterator[None]:
        self._busy += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._busy -= 1
            if self._busy == 0:
                self._idle.set()

    # ------------------------------------------------------------------ inbound

    async def on_command(self, interaction: discord.Interaction[Any], text: str) -> None:
        """A slash command, as the text the core reads (``/band create Owls``)."""
        inbound = translate.from_interaction(interaction, kind="command", text=text)
        await self._answer(interaction, [inbound], component=False)

    async def on_button(self, interaction: discord.Interaction[Any], payload: str) -> None:
        """A payload button (from any message, also from before a restart)."""
        inbound = translate.from_interaction(interaction, kind="button", payload=payload)
        await self._answer(interaction, [inbound], component=True)

    async def on_ticks(self, interaction: discord.Interaction[Any], payloads: list[str]) -> None:
        """A checklist's menu: each item it changed goes through the core as its button would,
        one after the other; the interaction gets one answer (:func:`merge_answers`)."""
        inbounds = [
            translate.from_interaction(interaction, kind="button", payload=payload, part=n)
            for n, payload in enumerate(payloads)
        ]
        if not inbounds:  # submitted unchanged: acknowledge quietly
            with self._working():
                try:
                    await interaction.response.defer()
                except (discord.HTTPException, *UNREACHABLE) as exc:
                    logger.info("discord: could not acknowledge an unchanged menu: %r", exc)
            return
        await self._answer(interaction, inbounds, component=True)

    async def on_answer_button(self, interaction: discord.Interaction[Any], custom_id: str) -> None:
        """ "✍️ Answer": open the modal at once (a modal must be the first response)."""
        slug = custom_id.removeprefix(components.ANSWER_PREFIX)
        try:
            await interaction.response.send_modal(rd.answer_modal(slug, "Your answer"))
        except discord.HTTPException as exc:
            logger.info("discord: could not open the answer modal: %s", exc)

    async def on_modal(self, interaction: discord.Interaction[Any]) -> None:
        """A submitted answer modal: the typed value is an answer, as if typed in a DM."""
        data: Any = interaction.data or {}
        if not str(data.get("custom_id", "")).startswith(components.ANSWER_PREFIX):
            return
        text = translate.modal_answer(interaction)
        # the question the form was opened for: the core takes the text as its answer only
        answers = str(data["custom_id"]).removeprefix(components.ANSWER_PREFIX)
        inbound = translate.from_interaction(
            interaction,
            kind="text",
            text=text,
            answers=None if answers == components.PROMPT_ANSWER else answers,
        )
        await self._answer(interaction, [inbound], component=False)

    async def on_dm(self, message: discord.Message) -> None:
        """A DM typed to the bot: answer in the DM channel."""
        inbound = translate.from_dm(message)
        with self._working(), self.coach.log_event(inbound):
            replies = await self.coach.handle(inbound)
            try:
                for reply in replies:
                    for rendered in rd.render(reply, in_server=False):
                        await message.channel.send(**rendered.kwargs())
            except discord.HTTPException as exc:
                self.failed_sends += 1
                logger.warning("discord: DM reply failed: %s", exc)
                if answer_lost(exc):
                    await self.notes.owe(inbound.chat_id)
                return
            except UNREACHABLE as exc:  # else discord.py's on_error logs a traceback
                self.failed_sends += 1
                logger.warning("discord: DM reply failed, Discord unreachable: %r", exc)
                await self.notes.owe(inbound.chat_id)
                return
            if replies:
                self._accepted()

    # ------------------------------------------------------------------ answering

    async def _answer(
        self, interaction: discord.Interaction[Any], inbounds: list[Inbound], *, component: bool
    ) -> None:
        """Answer an interaction with what the core makes of its events (one, or a menu's
        several, all of the same person and chat)."""
        with self._working(), self.coach.log_event(inbounds[0]):
            await self._answer_now(interaction, inbounds, component=component)
            if interaction.guild_id is not None:
                await self._note_closed_dms(interaction, inbounds[0].user_id)

    async def _handle(self, inbounds: list[Inbound]) -> list[Outbound]:
        if len(inbounds) == 1:
            return await self.coach.handle(inbounds[0])
        return merge_answers([await self.coach.handle(inbound) for inbound in inbounds])

    async def _note_closed_dms(self, interaction: discord.Interaction[Any], user_id: str) -> None:
        """If their latest notice failed because their DMs are closed, say so — privately, in
        the server they are using, once per failed notice — with how to open them."""
        if not interaction.response.is_done():  # the answer itself failed: nothing to add to
            return
        try:
            notice = await self.closed_dms.pending(user_id)
            if notice is not None:
                await interaction.followup.send(refusals.CLOSED_DMS_NOTE, ephemeral=True)
                self.closed_dms.told(user_id, notice)
        except (discord.HTTPException, SQLAlchemyError, *UNREACHABLE) as exc:
            logger.warning("discord: closed-DMs note not checked or sent: %r", exc)

    async def _answer_now(
        self, interaction: discord.Interaction[Any], inbounds: list[Inbound], *, component: bool
    ) -> None:
        inbound = inbounds[0]
        work = asyncio.create_task(self._handle(inbounds))
        done, _ = await asyncio.wait({work}, timeout=self.ack_after)
        deferred = False
        if work not in done:  # the core is slow: acknowledge now, answer when it's done
            deferred = await self._defer(interaction, component=component)
        try:
            replies = await work
        except Exception:  # handle() never raises; this is a last line of defence
            logger.exception("discord: the coach failed")
            replies = [Message(text=SORRY, ephemeral=True)]
        # replies meant for another chat (the band's updates channel) go there as notices
        here = [r for r in replies if r.chat_id in {None, inbound.chat_id}]
        elsewhere = [r for r in replies if r.chat_id not in {None, inbound.chat_id}]
        for reply in elsewhere:
            assert reply.chat_id is not None  # noqa: S101 - filtered above
            result = await self.notify(reply.chat_id, [reply], priority=Priority.REPLY)
            if not result.sent:
                logger.info(
                    "discord: update to %s not sent: %s",
                    ref("discord", reply.chat_id),
                    result.detail,
                )
        try:
            await self._respond(interaction, here, component=component, deferred=deferred)
        except discord.HTTPException as exc:
            # the effect is stored; only this answer is lost — owed a note unless nobody missed
            # it (40060: a redelivered interaction someone already answered) or it can't reach
            # them anyway (403)
            self.failed_sends += 1
            logger.warning("discord: answering interaction %s failed: %s", interaction.id, exc)
            if answer_lost(exc):
                await self.notes.owe(inbound.chat_id)
        except UNREACHABLE as exc:  # the effect is stored; the answer is lost with the network
            self.failed_sends += 1
            logger.warning("discord: answering interaction %s failed: %r", interaction.id, exc)
            await self.notes.owe(inbound.chat_id)
        else:
            self._accepted()

    async def _defer(self, interaction: discord.Interaction[Any], *, component: bool) -> bool:
        try:
            if component:
                await interaction.response.defer()
            else:
                await interaction.response.defer(thinking=True)
        except discord.HTTPException as exc:
            logger.warning("discord: could not defer interaction %s: %s", interaction.id, exc)
            return False
        return True

    async def _respond(
        self,
        interaction: discord.Interaction[Any],
        replies: list[Outbound],
        *,
        component: bool,
        deferred: bool,
    ) -> None:
        in_server = interaction.guild_id is not None
        messages = [(r.edit, m) for r in replies for m in rd.render(r, in_server=in_server)]
        if not messages:  # a replay: acknowledge quietly, say nothing
            if deferred and not component:
                await interaction.delete_original_response()
            elif not deferred:
                if component:
                    await interaction.response.defer()
                else:
                    await interaction.response.send_message("✓", ephemeral=True)
            return
        original_open = deferred and not component  # a "thinking…" message waits for content
        for index, (edit, message) in enumerate(messages):
            first = index == 0
            # an ephemeral answer never replaces a server message: everybody would see it
            replace = edit and not (in_server and message.ephemeral)
            if component and replace and (first or deferred):
                if not deferred and first:
                    await interaction.response.edit_message(**message.edit_kwargs())
                else:
                    await interaction.edit_original_response(
                        **message.edit_kwargs(), attachments=_files(message)
                    )
                continue
            if first and not deferred:
                await interaction.response.send_message(
                    **message.kwargs(), ephemeral=message.ephemeral
                )
                continue
            if original_open and not message.ephemeral:
                kwargs = message.edit_kwargs()
                await interaction.edit_original_response(**kwargs, attachments=_files(message))
                original_open = False
                continue
            await interaction.followup.send(**message.kwargs(), ephemeral=message.ephemeral)
        if original_open:  # every answer was private: drop the public "thinking…" message
            await interaction.delete_original_response()

    async def _on_tree_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        logger.error("discord: command failed", exc_info=error)
        if not interaction.response.is_done():
            with contextlib.suppress(discord.HTTPException):
                await interaction.response.send_message(SORRY, ephemeral=True)

    # ------------------------------------------------------------------ notices

    async def notify(
        self, chat_id: str, replies: Sequence[Outbound], *, priority: Priority | None = None
    ) -> DeliveryResult:
        """Send a notice: a DM to a person (``chat_id`` = user id) or to a band channel
        (``c:<channel id>``). Never raises for a platform refusal.

        Each request waits for a slot of :attr:`notice_slots` by the notice's class
        (:func:`~bot.slots.notice_priority`), unless ``priority`` is ``REPLY`` (a reply
        addressed to another chat, an owed note: not paced here)."""
        if priority is None:
            priority = notice_priority(replies)

        async def slot() -> None:
            if priority is not Priority.REPLY:
                await self.notice_slots.acquire(priority, None)

        if not self.client.is_ready():  # still connecting (coach run keeps trying)
            return DeliveryResult(DeliveryStatus.FAILED, "not connected to Discord yet")
        in_server = chat_id.startswith(translate.CHANNEL_PREFIX)
        if in_server and any(r.private for r in replies):
            # the core's gate sends private replies to a DM or whispers them; this is the
            # second line, for anything that reached a channel anyway (a notice included)
            self.failed_sends += 1
            logger.error(
                "discord: refused to post a private reply into channel %s",
                ref("discord", chat_id),
            )
            return DeliveryResult(DeliveryStatus.FAILED, "private reply refused for a channel")
        try:
            if in_server:
                channel: discord.abc.Messageable = self.client.get_partial_messageable(
                    int(chat_id.removeprefix(translate.CHANNEL_PREFIX))
                )
            else:
                await slot()
                channel = await self.client.create_dm(discord.Object(int(chat_id)))
            for reply in replies:
                for message in rd.render(
                    reply.model_copy(update={"edit": False}), in_server=in_server
                ):
                    await slot()
                    await channel.send(**message.kwargs())
        except (discord.Forbidden, discord.NotFound) as exc:
            return await self._refused(chat_id, exc, to_person=not in_server)
        except SlotExpired as exc:  # waves queued ahead of it: its sender retries later
            self.failed_sends += 1
            return DeliveryResult(DeliveryStatus.FAILED, str(exc))
        except (discord.HTTPException, ValueError) as exc:
            self.failed_sends += 1
            return DeliveryResult(DeliveryStatus.FAILED, type(exc).__name__)
        except UNREACHABLE as exc:
            # Discord unreachable (refused, reset, timed out) or asking for a longer wait than
            # we sit out: discord.py raises these as they are, not as HTTPException. The
            # Notifier contract is "never raise": a raise here used to abort a whole broadcast
            # round, Telegram's recipients included.
            self.failed_sends += 1
            logger.warning(
                "discord: notice to %s not sent, Discord unreachable: %r",
                ref("discord", chat_id),
                exc,
            )
            return DeliveryResult(DeliveryStatus.FAILED, type(exc).__name__)
        self._accepted()
        return SENT

    def _accepted(self) -> None:
        """Discord took a send: notes owed from an outage can go out now (not while stopping:
        the database may be closing)."""
        if not self._stopping:
            self.notes.accepted()

    @property
    def notes(self) -> OwedNotes:
        """The notes owed to chats whose answer was lost (:mod:`core.undelivered`)."""
        if self._notes is None:
            self._notes = OwedNotes(
                self.coach.db,
                self.platform,
                partial(self.notify, priority=Priority.REPLY),  # someone missed a reply
                clock=self.coach.clock,
            )
        return self._notes

    async def _refused(
        self, chat_id: str, exc: discord.HTTPException, *, to_person: bool
    ) -> DeliveryResult:
        """A notice Discord refused (403/404), by what the refusal means (``refusals``)."""
        refusal = refusals.classify(exc.code, to_person=to_person)
        words = f"Discord {exc.code} {exc.text}"[:120]
        if refusal is refusals.Refusal.GONE and to_person:
            await self.coach.report_reachability("discord", chat_id, reachable=False)
            return DeliveryResult(DeliveryStatus.BLOCKED, f"gone ({words})")
        if refusal is refusals.Refusal.DMS_CLOSED:
            self.closed_dms.refused(chat_id)
            return dms_closed(words)
        self.failed_sends += 1
        return DeliveryResult(DeliveryStatus.FAILED, f"{refusal} ({words})")


def merge_answers(answers: list[list[Outbound]]) -> list[Outbound]:
    """The core's answers to several events of one interaction (a checklist menu's items) as
    one answer: the newest edit of the card the menu sat on — the state after every item —
    then everything else in order, each once (two items may well say the same)."""
    edits = [reply for replies in answers for reply in replies if reply.edit]
    rest: list[Outbound] = []
    for reply in (reply for replies in answers for reply in replies if not reply.edit):
        if reply not in rest:
            rest.append(reply)
    return [edits[-1], *rest] if edits else rest


def _files(message: rd.Rendered) -> list[discord.File]:
    return [message.file] if message.file is not None else []
