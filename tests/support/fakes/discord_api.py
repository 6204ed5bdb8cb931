"""A loopback fake of Discord (REST API v10 + gateway websocket) for the *real* discord.py 2.

:class:`FakeDiscord` is one aiohttp server on ``127.0.0.1`` (a free port). Point discord.py at
it with ``Route.BASE = fake.api_base`` and ``DiscordWebSocket.DEFAULT_GATEWAY = fake.gateway``
(``GET /gateway/bot`` answers with the fake's own ``ws://`` URL too)::

    async with FakeDiscord() as fake:
        fake.add_guild(900, "The Venue", channels=[901], roles=[555])
        fake.add_member(900, 1001, "Ana", manage=True)
        ...                                       # start the bot; it IDENTIFYs and gets READY
        iid = fake.member_runs_command(900, 901, 1001, "band", sub="create", name="Owls")
        await fake.wait_for(lambda: fake.interaction(iid).acked)
        assert "Owls" in fake.interaction(iid).texts()

The gateway: HELLO (op 10) → IDENTIFY (op 2) → READY + GUILD_CREATE per guild; heartbeats
(op 1) are ACKed (op 11); a dropped connection is RESUMEd (op 6) and every event the client
missed is replayed with its sequence number, then RESUMED. Events are plain JSON text frames
(no zlib), which discord.py accepts.

Sharding, as Discord does it (discord.com/developers/docs/events/gateway#sharding): IDENTIFY's
``shard: [shard_id, num_shards]`` makes a session that shard's; READY lists only the guilds
with ``(guild_id >> 22) % num_shards == shard_id``, and every later event goes to the session
of its guild's shard — DMs (no guild) to shard 0 only. Several processes, one per shard, can
connect to one fake (:attr:`FakeDiscord.dispatched_to` records where each event went).

REST, with Discord's own error answers (HTTP status and JSON ``code``):

* interaction callbacks ``POST /interactions/{id}/{token}/callback``: types 4 (message),
  5 (deferred message), 6 (deferred update), 7 (update message), 9 (modal). Later than
  :attr:`ack_deadline` seconds after dispatch → 404 ``10062 Unknown interaction``; a second
  callback → 400 ``40060 Interaction has already been acknowledged``.
* follow-ups ``POST /webhooks/{app}/{token}`` (only after the callback; the token lives 15 min),
  ``PATCH``/``DELETE``/``GET …/messages/@original`` and ``PATCH …/messages/{id}``;
* ``POST``/``PATCH /channels/{id}/messages``, ``POST /users/@me/channels`` (DM channels);
  a DM to a user whose DMs are closed to the bot (:meth:`FakeDiscord.block`) → 403
  ``50007 Cannot send messages to this user``; a DM channel with a deleted account
  (:meth:`FakeDiscord.delete_user`) → 404 ``10013 Unknown User``;
* ``PUT``/``GET /applications/{app}/commands`` and ``…/guilds/{id}/commands`` (bulk overwrite),
  each command checked as Discord checks it (names, descriptions, option types and order,
  sub-commands, choices, autocomplete, ``default_member_permissions``, ``contexts``); once
  commands are synced, an interaction the fake dispatches must fit them (offered in that
  context, options that exist, of their type) — Discord sends nothing else;
* autocomplete (:meth:`FakeDiscord.member_types_option`): an interaction of type 4 for an
  option synced with ``autocomplete``, answered only by callback type 8 (≤ 25 choices, names and
  string values of 1–100 characters), kept in :attr:`FakeInteraction.choices`;
* ``GET /users/@me``, ``/oauth2/applications/@me``, ``GET /gateway`` and ``/gateway/bot``.

Every message is validated like Discord does: content ≤ 2000 characters, ≤ 10 embeds, ≤ 5
action rows, each of 1–5 buttons or one string select (1–25 options, option labels and values
≤ 100, ``min_values``/``max_values`` within them), ``custom_id`` ≤ 100 characters and distinct
within a message, labels ≤ 80 — else 400 ``50035 Invalid Form Body``. A select is submitted
with :meth:`FakeDiscord.choose` (the whole selection, as Discord sends it).
:meth:`rate_limit_next` makes the next matching requests answer 429 with ``retry_after`` and
the ``X-RateLimit-*`` headers (and ``Via``, which discord.py checks to tell Discord's 429 from
a proxy's). :meth:`cut_next` makes the next matching request lose
its connection without any answer (a network failure, not an HTTP error).

Simplifications: one application and bot user; permissions are taken as given per member
(no channel overwrites); ephemeral messages are kept with the interaction (and flagged), not
hidden from a channel listing; nothing is persisted.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Self

from aiohttp import WSMsgType, web

__all__ = ["FakeDiscord", "FakeInteraction", "FakeMessage"]

JSONDict = dict[str, Any]

MAX_CONTENT: Final = 2000
MAX_ROWS: Final = 5
MAX_BUTTONS_PER_ROW: Final = 5
MAX_CUSTOM_ID: Final = 100
MAX_LABEL: Final = 80
MAX_OPTIONS: Final = 25
MAX_OPTION_TEXT: Final = 100
MAX_PLACEHOLDER: Final = 150
BUTTON: Final = 2
STRING_SELECT: Final = 3
MAX_EMBED_DESCRIPTION: Final = 4096
TOKEN_LIFE: Final = 15 * 60
EPHEMERAL: Final = 64
MANAGE_GUILD: Final = 1 << 5
SEND_MESSAGES: Final = 1 << 11
VIEW_CHANNEL: Final = 1 << 10

_snowflakes = itertools.count(1_300_000_000_000_000_000)


def snowflake() -> int:
    """A fresh, increasing id."""
    return next(_snowflakes)


class ApiError(Exception):
    """A Discord error answer."""

    def __init__(self, status: int, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


@dataclass
class FakeMessage:
    """A message as the fake stores it."""

    id: int
    channel_id: int
    content: str
    embeds: list[JSONDict] = field(default_factory=list)
    components: list[JSONDict] = field(default_factory=list)
    attachments: list[JSONDict] = field(default_factory=list)
    flags: int = 0
    interaction_id: int | None = None
    author_id: int = 0
    edits: int = 0
    #: The ``allowed_mentions`` the message was sent with (``None``: not given).
    allowed_mentions: JSONDict | None = None

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    def pinged(self) -> set[int | str]:
        """Who Discord would notify, by its rules: only mentions in the *content* (never an
        embed's), filtered by ``allowed_mentions`` — with none given, every user and role
        mention and @everyone/@here ping; given, only the ``parse`` kinds and the ``users`` /
        ``roles`` listed. Users as ints, ``"everyone"``, roles as ``"role:<id>"``."""
        users = {int(u) for u in re.findall(r"<@!?(\d+)>", self.content)}
        roles = {int(r) for r in re.findall(r"<@&(\d+)>", self.content)}
        everyone = "@everyone" in self.content or "@here" in self.content
        allowed = self.allowed_mentions
        if allowed is not None:
            parse = set(allowed.get("parse") or [])
            listed_users = {int(u) for u in allowed.get("users") or []}
            listed_roles = {int(r) for r in allowed.get("roles") or []}
            users = users if "users" in parse else users & listed_users
            roles = roles if "roles" in parse else roles & listed_roles
            everyone = everyone and "everyone" in parse
        out: set[int | str] = set(users) | {f"role:{r}" for r in roles}
        if everyone:
            out.add("everyone")
        return out

    def text(self) -> str:
        """Content and embed descriptions, as a reader sees them."""
        parts = [self.content]
        for embed in self.embeds:
            parts += [str(embed.get("title") or ""), str(embed.get("description") or "")]
        return "\n".join(p for p in parts if p)

    def buttons(self) -> list[tuple[str, str]]:
        """(label, custom_id) of every button, row by row."""
        return [
            (str(c.get("label", "")), str(c.get("custom_id", "")))
            for row in self.components
            for c in row.get("components", [])
            if c.get("type") == BUTTON
        ]

    def selects(self) -> list[JSONDict]:
        """Every string select menu, row by row (``custom_id``, ``options``, …)."""
        return [
            c
            for row in self.components
            for c in row.get("components", [])
            if c.get("type") == STRING_SELECT
        ]

    def select(self, custom_id_prefix: str) -> JSONDict:
        """The select menu whose custom_id starts with ``custom_id_prefix``."""
        for menu in self.selects():
            if str(menu.get("custom_id", "")).startswith(custom_id_prefix):
                return menu
        raise AssertionError(f"no select {custom_id_prefix!r} in {self.components}")

    def button(self, label_part: str) -> str:
        """The custom_id of the button whose label contains ``label_part``."""
        for label, custom_id in self.buttons():
            if label_part.casefold() in label.casefold():
                return custom_id
        raise AssertionError(f"no button {label_part!r} in {self.buttons()}")


@dataclass
class FakeInteraction:
    """One dispatched interaction and everything the bot answered to it."""

    id: int
    token: str
    type: int
    payload: JSONDict
    dispatched_at: float
    callbacks: list[JSONDict] = field(default_factory=list)
    errors: list[int] = field(default_factory=list)
    original: FakeMessage | None = None
    followups: list[FakeMessage] = field(default_factory=list)
    modal: JSONDict | None = None
    #: What the bot offered to an autocomplete interaction (callback type 8).
    choices: list[JSONDict] | None = None
    acked_at: float | None = None

    @property
    def acked(self) -> bool:
        return self.acked_at is not None

    @property
    def callback_type(self) -> int | None:
        return int(self.callbacks[0]["type"]) if self.callbacks else None

    def messages(self) -> list[FakeMessage]:
        """The original response (if any) then the follow-ups."""
        return ([self.original] if self.original is not None else []) + self.followups

    def texts(self) -> str:
        """Every answer's text, joined."""
        return "\n".join(m.text() for m in self.messages())


@dataclass
class _Session:
    id: str
    seq: int = 0
    log: list[JSONDict] = field(default_factory=list)
    ws: web.WebSocketResponse | None = None
    shard: tuple[int, int] = (0, 1)


@dataclass
class _RateLimit:
    method: str
    path: re.Pattern[str]
    retry_after: float
    is_global: bool
    times: int = 1


class FakeDiscord:
    """The fake Discord; see the module docstring."""

    token: Final = "fake-discord-bot-token"
    application_id: Final = 1_200_000_000_000_000_001

    def __init__(self, *, heartbeat_interval_ms: int = 1000, ack_deadline: float = 3.0) -> None:
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.ack_deadline = ack_deadline
        self.bot_user: JSONDict = {
            "id": str(self.application_id),
            "username": "StardomCoach",
            "discriminator": "0",
            "global_name": "Stardom Coach",
            "avatar": None,
            "bot": True,
        }
        self.guilds: dict[int, JSONDict] = {}
        self.members: dict[tuple[int, int], JSONDict] = {}
        self.users: dict[int, JSONDict] = {}
        self.channels: dict[int, JSONDict] = {}
        self.dm_channels: dict[int, int] = {}
        self.blocked: set[int] = set()
        self.messages_by_id: dict[int, FakeMessage] = {}
        self.interactions: dict[int, FakeInteraction] = {}
        self.commands: dict[int | None, list[JSONDict]] = {}
        self.requests: list[tuple[str, str, int]] = []
        self.identifies = 0
        self.resumes = 0
        self.heartbeats = 0
        self.identified_shards: list[tuple[int, int]] = []
        self._session: _Session | None = None
        #: The live (latest) session of each shard id.
        self._shards: dict[int, _Session] = {}
        #: ``(event, shard id)`` of every dispatch, in order.
        self.dispatched_to: list[tuple[str, int]] = []
        self._sessions: dict[str, _Session] = {}
        self._rate_limits: list[_RateLimit] = []
        self._cuts: list[tuple[str, re.Pattern[str]]] = []
        self._waiters: set[asyncio.Future[None]] = set()
        self._runner: web.AppRunner | None = None
        self._port = 0

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_base(self) -> str:
        """What ``discord.http.Route.BASE`` should be."""
        return f"{self.url}/api/v10"

    @property
    def gateway(self) -> str:
        return f"ws://127.0.0.1:{self._port}/gateway"

    async def start(self, port: int = 0) -> None:
        """Serve REST and the gateway on 127.0.0.1 on ``port``, by default a free one.

        A test that wants Discord unreachable at first points the bot at a free port and starts
        the fake there later."""
        app = web.Application()
        app.router.add_get("/gateway", self._gateway_ws)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        # A short shutdown: aiohttp waits up to 60 s by default for open connections (a bot's
        # keep-alive REST connection) before it lets stop() return.
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        server = site._server
        assert server is not None
        self._port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for session in self._sessions.values():
            if session.ws is not None and not session.ws.closed:
                await session.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ world

    def add_user(self, user_id: int, name: str) -> JSONDict:
        user = {
            "id": str(user_id),
            "username": name.lower(),
            "discriminator": "0",
            "global_name": name,
            "avatar": None,
        }
        self.users[user_id] = user
        return user

    def add_guild(
        self,
        guild_id: int,
        name: str,
        *,
        channels: list[int],
        roles: list[int] = (),  # type: ignore[assignment]
    ) -> None:
        everyone = {
            "id": str(guild_id),
            "name": "@everyone",
            "permissions": str(VIEW_CHANNEL | SEND_MESSAGES),
            "position": 0,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        role_list = [everyone] + [
            {**everyone, "id": str(r), "name": f"role-{r}", "position": n + 1}
            for n, r in enumerate(roles)
        ]
        chans = []
        for n, cid in enumerate(channels):
            chan = {
                "id": str(cid),
                "type": 0,
                "guild_id": str(guild_id),
                "name": f"channel-{cid}",
                "position": n,
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
            }
            self.channels[cid] = chan
            chans.append(chan)
        self.guilds[guild_id] = {
            "id": str(guild_id),
            "name": name,
            "icon": None,
            "owner_id": str(snowflake()),
            "roles": role_list,
            "channels": chans,
            "threads": [],
            "members": [],
            "member_count": 1,
            "features": [],
            "emojis": [],
            "stickers": [],
            "large": False,
            "unavailable": False,
            "joined_at": datetime.now(UTC).isoformat(),
            "premium_tier": 0,
            "verification_level": 0,
            "preferred_locale": "en-US",
        }
        if self._shards:
            self.dispatch("GUILD_CREATE", self.guilds[guild_id])

    def add_member(
        self,
        guild_id: int,
        user_id: int,
        name: str,
        *,
        manage: bool = False,
        roles: list[int] = (),  # type: ignore[assignment]
    ) -> None:
        user = self.users.get(user_id) or self.add_user(user_id, name)
        perms = VIEW_CHANNEL | SEND_MESSAGES | (MANAGE_GUILD if manage else 0)
        self.members[(guild_id, user_id)] = {
            "user": user,
            "roles": [str(r) for r in roles],
            "permissions": str(perms),
            "joined_at": datetime.now(UTC).isoformat(),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
            "avatar": None,
            "pending": False,
        }

    def block(self, user_id: int) -> None:
        """The user closes their DMs to the bot (or blocks it; Discord answers the same):
        DMs from the bot answer 50007."""
        self.blocked.add(user_id)

    def allow_dms(self, user_id: int) -> None:
        """The user opens their DMs to the bot again."""
        self.blocked.discard(user_id)

    def delete_user(self, user_id: int) -> None:
        """The account is deleted: opening a DM channel with it answers 10013 Unknown User."""
        self.users.pop(user_id, None)
        self.blocked.add(user_id)  # an existing DM channel: Discord won't deliver there either

    # ------------------------------------------------------------------ driving

    def member_runs_command(
        self,
        guild_id: int,
        channel_id: int,
        user_id: int,
        name: str,
        /,
        *,
        sub: str | None = None,
        **options: Any,
    ) -> int:
        """A member runs ``/name [sub] option=value…`` in a server channel; returns its id.

        An option value given as ``("user", id)`` or ``("role", id)`` is sent as a user or
        role option with its resolved object, like Discord does for mentions.
        """
        data = self._command_data(name, sub, options, guild_id)
        return self._interact(2, data, guild_id=guild_id, channel_id=channel_id, user_id=user_id)

    def user_runs_command_in_dm(
        self, user_id: int, name: str, /, *, sub: str | None = None, **options: Any
    ) -> int:
        """A user runs ``/name [sub] option=value…`` in their DM with the bot."""
        data = self._command_data(name, sub, options, None)
        return self._interact(2, data, guild_id=None, channel_id=None, user_id=user_id)

    def member_types_option(
        self,
        guild_id: int,
        channel_id: int,
        user_id: int,
        name: str,
        /,
        *,
        focused: str,
        typed: str,
        sub: str | None = None,
        **options: Any,
    ) -> int:
        """A member types ``typed`` into option ``focused`` of ``/name [sub]`` in a server
        channel (the other options as filled so far): Discord's autocomplete interaction (type
        4), which only an option synced with ``autocomplete`` gets. The bot's answer is in
        :attr:`FakeInteraction.choices`."""
        data = self._command_data(name, sub, options, guild_id, focused=(focused, typed))
        return self._interact(4, data, guild_id=guild_id, channel_id=channel_id, user_id=user_id)

    def user_types_option_in_dm(
        self, user_id: int, name: str, /, *, focused: str, typed: str, **options: Any
    ) -> int:
        """A user types into an option of ``/name`` in their DM (an autocomplete interaction)."""
        data = self._command_data(name, None, options, None, focused=(focused, typed))
        return self._interact(4, data, guild_id=None, channel_id=None, user_id=user_id)

    def press_button(self, user_id: int, message: FakeMessage, custom_id: str) -> int:
        """A user presses a button on a message (guild or DM); returns the interaction id."""
        if custom_id not in {c for _, c in message.buttons()}:
            raise AssertionError(f"{custom_id!r} is not on message {message.id}")
        chan = self.channels.get(message.channel_id, {})
        guild_id = int(chan["guild_id"]) if chan.get("guild_id") else None
        data = {"custom_id": custom_id, "component_type": BUTTON}
        return self._interact(
            3,
            data,
            guild_id=guild_id,
            channel_id=message.channel_id,
            user_id=user_id,
            message=message,
        )

    def choose(self, user_id: int, message: FakeMessage, custom_id: str, values: list[str]) -> int:
        """A user submits a select menu of a message with ``values`` chosen (Discord sends the
        whole selection, not the change); returns the interaction id."""
        menu = next((m for m in message.selects() if m.get("custom_id") == custom_id), None)
        if menu is None:
            raise AssertionError(f"{custom_id!r} is not a select on message {message.id}")
        offered = {str(o["value"]) for o in menu.get("options", [])}
        if not set(values) <= offered or len(set(values)) != len(values):
            raise AssertionError(f"{values} are not distinct options of {sorted(offered)}")
        low, high = int(menu.get("min_values", 1)), int(menu.get("max_values", 1))
        if not low <= len(values) <= high:
            raise AssertionError(f"{len(values)} values, the menu takes {low} to {high}")
        chan = self.channels.get(message.channel_id, {})
        guild_id = int(chan["guild_id"]) if chan.get("guild_id") else None
        data = {"custom_id": custom_id, "component_type": STRING_SELECT, "values": values}
        return self._interact(
            3,
            data,
            guild_id=guild_id,
            channel_id=message.channel_id,
            user_id=user_id,
            message=message,
        )

    def submit_modal(self, user_id: int, opened_by: int, values: dict[str, str]) -> int:
        """A user submits the modal the bot opened in answer to interaction ``opened_by``."""
        origin = self.interactions[opened_by]
        if origin.modal is None:
            raise AssertionError(f"interaction {opened_by} opened no modal")
        rows = [
            {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]}
            for k, v in values.items()
        ]
        data = {"custom_id": origin.modal["custom_id"], "components": rows}
        guild_id = int(origin.payload["guild_id"]) if origin.payload.get("guild_id") else None
        channel_id = int(origin.payload["channel_id"])
        return self._interact(5, data, guild_id=guild_id, channel_id=channel_id, user_id=user_id)

    def redeliver(self, interaction_id: int) -> None:
        """Dispatch the same INTERACTION_CREATE again (a gateway redelivery)."""
        self.dispatch("INTERACTION_CREATE", self.interactions[interaction_id].payload)

    def dm_message(self, user_id: int, text: str) -> int:
        """A user writes to the bot in a DM (MESSAGE_CREATE); returns the message id."""
        channel_id = self._dm_channel(user_id)
        message = {
            "id": str(snowflake()),
            "channel_id": str(channel_id),
            "author": self.users[user_id],
            "content": text,
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
            "components": [],
        }
        self.dispatch("MESSAGE_CREATE", message)
        return int(message["id"])

    async def drop_connection(self) -> None:
        """Cut the gateway connection (code 4000, resumable); events queue until RESUME."""
        session = self._session
        assert session is not None, "no gateway session"
        assert session.ws is not None, "no gateway connection"
        ws, session.ws = session.ws, None
        await ws.close(code=4000, message=b"dropped by the test")

    def cut_next(self, method: str, path_pattern: str) -> None:
        """The next request matching ``method`` and the path regex loses its connection: the
        fake closes it without an answer (the client sees a network error)."""
        self._cuts.append((method.upper(), re.compile(path_pattern)))

    def rate_limit_next(
        self,
        method: str,
        path_pattern: str,
        *,
        retry_after: float = 0.3,
        is_global: bool = False,
        times: int = 1,
    ) -> None:
        """The next ``times`` requests matching ``method`` and the path regex answer 429
        (discord.py tries a request five times before it gives up with ``HTTPException``)."""
        self._rate_limits.append(
            _RateLimit(method.upper(), re.compile(path_pattern), retry_after, is_global, times)
        )

    # ------------------------------------------------------------------ reading

    def interaction(self, interaction_id: int) -> FakeInteraction:
        return self.interactions[interaction_id]

    def messages(self, channel_id: int) -> list[FakeMessage]:
        """Every non-ephemeral message in a channel, oldest first."""
        return [
            m
            for m in self.messages_by_id.values()
            if m.channel_id == channel_id and not m.ephemeral
        ]

    def dm_messages(self, user_id: int) -> list[FakeMessage]:
        channel = self.dm_channels.get(user_id)
        return [] if channel is None else self.messages(channel)

    def requests_to(self, method: str, pattern: str) -> list[int]:
        """Statuses of the requests made to matching routes, in order."""
        rx = re.compile(pattern)
        return [s for m, p, s in self.requests if m == method and rx.search(p)]

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        timeout: float = 10.0,  # noqa: ASYNC109 - a polling helper; the timeout is its API
    ) -> None:
        deadline = time.monotonic() + timeout
        loop = asyncio.get_running_loop()
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for the fake Discord")
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.add(waiter)
            try:
                await asyncio.wait_for(waiter, timeout=min(left, 0.2))
            except TimeoutError:
                pass
            finally:
                self._waiters.discard(waiter)

    @property
    def connected(self) -> bool:
        return self._session is not None and self._session.ws is not None

    # ------------------------------------------------------------------ gateway

    def shard_of(self, guild_id: int | None) -> int:
        """The shard an event of ``guild_id`` goes to: ``(guild_id >> 22) % num_shards``, and
        shard 0 for DMs (Discord's rule)."""
        if guild_id is None or not self._shards:
            return 0
        count = next(iter(self._shards.values())).shard[1]
        return (guild_id >> 22) % count

    def dispatch(self, event: str, data: JSONDict, session: _Session | None = None) -> None:
        """Send (or, while disconnected, queue for RESUME) a dispatch event, on the session
        of its guild's shard (``GUILD_CREATE`` carries the guild as ``id``)."""
        if session is None:
            raw = data.get("id") if event == "GUILD_CREATE" else data.get("guild_id")
            shard = self.shard_of(int(raw) if raw else None)
            session = self._shards.get(shard)
            if session is None:
                raise AssertionError(
                    f"no gateway session for shard {shard}: is the bot (that shard) running?"
                )
        self.dispatched_to.append((event, session.shard[0]))
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.log.append(frame)
        if session.ws is not None and not session.ws.closed:
            asyncio.get_running_loop().create_task(session.ws.send_json(frame))

    async def _gateway_ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        session: _Session | None = None
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                break
            frame = json.loads(msg.data)
            op, data = frame.get("op"), frame.get("d")
            if op == 1:
                self.heartbeats += 1
                await ws.send_json({"op": 11})
            elif op == 2:
                if data.get("token") != self.token:
                    await ws.close(code=4004, message=b"Authentication failed.")
                    break
                session = self._identify(ws, data)
                await self._ready(session)
            elif op == 6:
                session = self._sessions.get(data.get("session_id"))
                if session is None or data.get("token") != self.token:
                    await ws.send_json({"op": 9, "d": False})
                    continue
                self.resumes += 1
                session.ws = ws
                self._session = session
                self._shards[session.shard[0]] = session
                missed = [f for f in session.log if f["s"] > int(data.get("seq") or 0)]
                for frame_ in missed:
                    await ws.send_json(frame_)
                session.seq += 1
                await ws.send_json({"op": 0, "t": "RESUMED", "s": session.seq, "d": {}})
                self._poke()
        if session is not None and session.ws is ws:
            session.ws = None
        return ws

    def _identify(self, ws: web.WebSocketResponse, data: JSONDict) -> _Session:
        self.identifies += 1
        shard = data.get("shard") or [0, 1]
        session = _Session(id=f"session-{snowflake()}", ws=ws, shard=(shard[0], shard[1]))
        self.identified_shards.append(session.shard)
        self._sessions[session.id] = session
        self._session = session
        self._shards[session.shard[0]] = session
        return session

    async def _ready(self, session: _Session) -> None:
        shard_id, count = session.shard
        guild_ids = [g for g in self.guilds if (g >> 22) % count == shard_id]
        ready = {
            "v": 10,
            "user": self.bot_user,
            "guilds": [{"id": str(g), "unavailable": True} for g in guild_ids],
            "session_id": session.id,
            "resume_gateway_url": self.gateway,
            "shard": [shard_id, count],
            "application": {"id": str(self.application_id), "flags": 0},
        }
        self.dispatch("READY", ready, session)
        for gid in guild_ids:
            self.dispatch("GUILD_CREATE", self.guilds[gid], session)
        self._poke()

    # ------------------------------------------------------------------ interactions

    def synced(self, name: str, guild_id: int | None) -> JSONDict | None:
        """The definition of ``/name`` a member of ``guild_id`` (``None``: a DM) is offered:
        the server's own commands first, then the global ones."""
        lists = ([self.commands.get(guild_id, [])] if guild_id is not None else []) + [
            self.commands.get(None, [])
        ]
        return next((c for cmds in lists for c in cmds if c.get("name") == name), None)

    def _command_data(
        self,
        name: str,
        sub: str | None,
        options: dict[str, Any],
        guild_id: int | None,
        *,
        focused: tuple[str, str] | None = None,
    ) -> JSONDict:
        """The ``data`` of a command (or autocomplete) interaction, as Discord builds it.

        Once commands are synced, Discord only sends what they define, so the fake checks the
        invocation against the definition: the command is offered where it is run
        (``contexts``), the sub-command and every option exist, required options are given,
        a value fits its option's type (integer, choices; a user or role given as ``("user",
        id)`` / ``("role", id)``) — an AssertionError otherwise (the test's mistake). Without
        any synced command, option types are guessed from the values.
        """
        definition = self.synced(name, guild_id) if self.commands else None
        if self.commands and definition is None:
            raise AssertionError(f"/{name} is not a synced command here")
        params = (definition.get("options") or []) if definition else []
        if definition is not None:
            context = 0 if guild_id is not None else 1
            if context not in (definition.get("contexts") or [0, 1, 2]):
                raise AssertionError(f"/{name} is not offered in context {context}")
            if sub is not None:
                found = next((o for o in params if o["name"] == sub and o["type"] == 1), None)
                if found is None:
                    raise AssertionError(f"/{name} has no sub-command {sub}")
                params = found.get("options") or []
            elif any(o["type"] in {1, 2} for o in params):
                raise AssertionError(f"/{name} needs a sub-command")
        known = {o["name"]: o for o in params}
        opts: list[JSONDict] = []
        resolved: JSONDict = {}
        for key, value in options.items():
            spec = known.get(key)
            if definition is not None and spec is None:
                raise AssertionError(f"/{name} {sub or ''} has no option {key!r}: {sorted(known)}")
            if isinstance(value, tuple) and value[0] == "user":
                uid = int(value[1])
                opts.append(self._typed(spec, key, 6, str(uid)))
                resolved.setdefault("users", {})[str(uid)] = self.users[uid]
                member = self.members.get((guild_id or 0, uid))
                if member is not None:
                    partial = {k: v for k, v in member.items() if k != "user"}
                    resolved.setdefault("members", {})[str(uid)] = partial
            elif isinstance(value, tuple) and value[0] == "role":
                rid = str(value[1])
                opts.append(self._typed(spec, key, 8, rid))
                role = {
                    "id": rid,
                    "name": f"role-{rid}",
                    "permissions": "0",
                    "position": 1,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": True,
                    "flags": 0,
                }
                resolved.setdefault("roles", {})[rid] = role
            elif isinstance(value, int) and not isinstance(value, bool):
                opts.append(self._typed(spec, key, 4, value))
            else:
                opts.append(self._typed(spec, key, 3, str(value)))
        if focused is not None:
            key, typed = focused
            spec = known.get(key)
            if definition is not None and (spec is None or not spec.get("autocomplete")):
                raise AssertionError(f"/{name} option {key!r} has no autocomplete")
            kind = int(spec["type"]) if spec is not None else 3
            opts = [o for o in opts if o["name"] != key]
            opts.append({"name": key, "type": kind, "value": typed, "focused": True})
        elif definition is not None:
            given = {o["name"] for o in opts}
            missing = [o["name"] for o in params if o.get("required") and o["name"] not in given]
            if missing:
                raise AssertionError(f"/{name} needs {missing}")
        if sub is not None:
            opts = [{"name": sub, "type": 1, "options": opts}]
        command_id = definition["id"] if definition is not None else str(snowflake())
        data: JSONDict = {"id": command_id, "name": name, "type": 1, "options": opts}
        if definition is not None and definition.get("guild_id"):
            data["guild_id"] = definition["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return data

    @staticmethod
    def _typed(spec: JSONDict | None, key: str, kind: int, value: Any) -> JSONDict:
        """One option value, checked against its synced definition (``spec``) if there is one."""
        if spec is not None:
            if int(spec["type"]) != kind:
                raise AssertionError(f"option {key!r} is of type {spec['type']}, not {kind}")
            choices = spec.get("choices")
            if choices and value not in {c["value"] for c in choices}:
                raise AssertionError(f"{value!r} is not one of {key!r}'s choices")
        return {"name": key, "type": kind, "value": value}

    def _interact(
        self,
        kind: int,
        data: JSONDict,
        *,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        message: FakeMessage | None = None,
    ) -> int:
        iid = snowflake()
        token = f"itoken-{iid}"
        payload: JSONDict = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": kind,
            "token": token,
            "version": 1,
            "data": data,
            "locale": "en-US",
            "app_permissions": str(VIEW_CHANNEL | SEND_MESSAGES),
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild_id or user_id)},
            "attachment_size_limit": 8_388_608,
        }
        if guild_id is not None:
            member = self.members[(guild_id, user_id)]
            assert channel_id is not None
            payload |= {
                "guild_id": str(guild_id),
                "guild_locale": "en-US",
                "channel_id": str(channel_id),
                "channel": self.channels[channel_id],
                "member": member,
                "context": 0,
                "guild": {"id": str(guild_id), "locale": "en-US", "features": []},
            }
        else:
            dm = channel_id or self._dm_channel(user_id)
            payload |= {
                "channel_id": str(dm),
                "channel": {"id": str(dm), "type": 1, "recipients": [self.users[user_id]]},
                "user": self.users[user_id],
                "context": 1,
            }
        if message is not None:
            payload["message"] = self._message_json(message)
        self.interactions[iid] = FakeInteraction(iid, token, kind, payload, time.monotonic())
        self.dispatch("INTERACTION_CREATE", payload)
        return iid

    def _dm_channel(self, user_id: int) -> int:
        channel_id = self.dm_channels.get(user_id)
        if channel_id is None:
            channel_id = self.dm_channels[user_id] = snowflake()
            self.channels[channel_id] = {
                "id": str(channel_id),
                "type": 1,
                "recipients": [self.users[user_id]],
                "last_message_id": None,
            }
        return channel_id

    # ------------------------------------------------------------------ REST

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        method = request.method
        cut = next(
            (n for n, (m, rx) in enumerate(self._cuts) if m == method and rx.search(path)), None
        )
        if cut is not None:
            del self._cuts[cut]
            self.requests.append((method, path, 0))
            assert request.transport is not None
            request.transport.abort()  # no status line, no body: the connection just drops
            raise web.HTTPServiceUnavailable  # never reaches the client
        try:
            limited = self._take_rate_limit(method, path)
            if limited is not None:
                self.requests.append((method, path, 429))
                return limited
            if request.headers.get("Authorization") != f"Bot {self.token}" and not path.startswith(
                ("/interactions/", "/webhooks/")
            ):
                raise ApiError(401, 0, "401: Unauthorized")
            body = await self._body(request)
            result = await self._route(method, path, body)
        except ApiError as exc:
            self.requests.append((method, path, exc.status))
            return _json({"code": exc.code, "message": exc.message, **exc.extra}, status=exc.status)
        self.requests.append((method, path, 200 if result is not None else 204))
        self._poke()
        if result is None:
            return web.Response(status=204)
        return _json(result, headers=_ratelimit_headers())

    def _take_rate_limit(self, method: str, path: str) -> web.Response | None:
        for n, rule in enumerate(self._rate_limits):
            if rule.method == method and rule.path.search(path):
                rule.times -= 1
                if rule.times <= 0:
                    del self._rate_limits[n]
                headers = {
                    **_ratelimit_headers(remaining=0, reset_after=rule.retry_after),
                    "Retry-After": str(max(1, round(rule.retry_after))),
                    "Via": "1.1 google",
                }
                if rule.is_global:
                    headers["X-RateLimit-Global"] = "true"
                    headers["X-RateLimit-Scope"] = "global"
                body = {
                    "message": "You are being rate limited.",
                    "retry_after": rule.retry_after,
                    "global": rule.is_global,
                }
                return _json(body, status=429, headers=headers)
        return None

    async def _body(self, request: web.Request) -> JSONDict:
        if request.method in {"GET", "DELETE"} or not request.can_read_body:
            return {}
        if request.content_type.startswith("multipart/"):
            body: JSONDict = {}
            files: list[JSONDict] = []
            reader = await request.multipart()
            async for part in reader:
                name = getattr(part, "name", None)
                raw = await part.read()  # type: ignore[union-attr]
                if name == "payload_json":
                    body = json.loads(raw)
                else:
                    filename = getattr(part, "filename", None) or "file"
                    # the bytes too: a test reads what was attached (a calendar file)
                    files.append({"filename": filename, "size": len(raw), "data": bytes(raw)})
            body["_files"] = files
            return body
        data = await request.read()
        return json.loads(data) if data else {}

    async def _route(self, method: str, path: str, body: JSONDict) -> Any:
        app = str(self.application_id)
        parts = path.strip("/").split("/")
        match (method, parts):
            case ("GET", ["users", "@me"]):
                return self.bot_user
            case ("GET", ["oauth2", "applications", "@me"]):
                return {
                    "id": app,
                    "name": "Stardom Coach",
                    "icon": None,
                    "description": "",
                    "bot_public": True,
                    "bot_require_code_grant": False,
                    "owner": {**self.bot_user, "id": str(snowflake()), "bot": False},
                    "verify_key": "0" * 64,
                    "flags": 0,
                    "interactions_endpoint_url": None,
                }
            case ("GET", ["gateway"]):
                return {"url": self.gateway}
            case ("GET", ["gateway", "bot"]):
                return {
                    "url": self.gateway,
                    "shards": 1,
                    "session_start_limit": {
                        "total": 1000,
                        "remaining": 999,
                        "reset_after": 0,
                        "max_concurrency": 1,
                    },
                }
            case ("PUT", ["applications", a, "commands"]) if a == app:
                return self._overwrite_commands(None, body)
            case ("PUT", ["applications", a, "guilds", gid, "commands"]) if a == app:
                return self._overwrite_commands(int(gid), body)
            case ("GET", ["applications", a, "commands"]) if a == app:
                return self.commands.get(None, [])
            case ("GET", ["applications", a, "guilds", gid, "commands"]) if a == app:
                return self.commands.get(int(gid), [])
            case ("POST", ["interactions", iid, token, "callback"]):
                return self._callback(int(iid), token, body)
            case ("POST", ["webhooks", a, token]) if a == app:
                return self._followup(token, body)
            case ("PATCH", ["webhooks", a, token, "messages", mid]) if a == app:
                return self._edit_webhook_message(token, mid, body)
            case ("GET", ["webhooks", a, token, "messages", "@original"]) if a == app:
                inter = self._by_token(token)
                if inter.original is None:
                    raise ApiError(404, 10008, "Unknown Message")
                return self._message_json(inter.original)
            case ("DELETE", ["webhooks", a, token, "messages", "@original"]) if a == app:
                inter = self._by_token(token)
                if inter.original is not None:
                    self.messages_by_id.pop(inter.original.id, None)
                    inter.original = None
                return None
            case ("POST", ["channels", cid, "messages"]):
                return self._message_json(self._create_message(int(cid), body))
            case ("PATCH", ["channels", cid, "messages", mid]):
                message = self.messages_by_id.get(int(mid))
                if message is None or message.channel_id != int(cid):
                    raise ApiError(404, 10008, "Unknown Message")
                return self._message_json(self._apply(message, body))
            case ("POST", ["users", "@me", "channels"]):
                uid = int(body["recipient_id"])
                if uid not in self.users:
                    raise ApiError(404, 10013, "Unknown User")
                return self.channels[self._dm_channel(uid)]
        raise ApiError(404, 0, f"404: Not Found ({method} {path})")

    def _overwrite_commands(self, guild_id: int | None, body: Any) -> list[JSONDict]:
        commands = body if isinstance(body, list) else []
        names = set()
        stored = []
        for cmd in commands:
            name = str(cmd.get("name", ""))
            if not _NAME.fullmatch(name) or name in names:
                raise ApiError(400, 50035, "Invalid Form Body", errors={"name": name})
            _validate_command(cmd)
            names.add(name)
            stored.append(
                {
                    **cmd,
                    "id": str(snowflake()),
                    "application_id": str(self.application_id),
                    "version": str(snowflake()),
                    "default_member_permissions": cmd.get("default_member_permissions"),
                    "type": cmd.get("type", 1),
                    **({"guild_id": str(guild_id)} if guild_id else {}),
                }
            )
        if len(stored) > 100:
            raise ApiError(400, 30032, "Maximum number of application commands reached")
        self.commands[guild_id] = stored
        return stored

    def _by_token(self, token: str) -> FakeInteraction:
        for inter in self.interactions.values():
            if inter.token == token:
                if time.monotonic() - inter.dispatched_at > TOKEN_LIFE:
                    raise ApiError(401, 50027, "Invalid Webhook Token")
                if not inter.acked:
                    raise ApiError(404, 10015, "Unknown Webhook")
                return inter
        raise ApiError(404, 10015, "Unknown Webhook")

    def _callback(self, iid: int, token: str, body: JSONDict) -> JSONDict:
        inter = self.interactions.get(iid)
        if inter is None or inter.token != token:
            raise ApiError(404, 10062, "Unknown interaction")
        if time.monotonic() - inter.dispatched_at > self.ack_deadline:
            inter.errors.append(10062)
            raise ApiError(404, 10062, "Unknown interaction")
        if inter.acked:
            inter.errors.append(40060)
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        if inter.type == 4 and kind != 8:  # an autocomplete is answered with choices only
            raise ApiError(400, 50035, "Invalid Form Body", errors={"type": kind})
        if "_files" in body:  # a multipart callback: the files belong to the message in data
            data = {**data, "_files": body["_files"]}
        channel_id = int(inter.payload["channel_id"])
        response: JSONDict = {"id": str(iid), "type": kind}
        resource: JSONDict | None = None
        if kind == 4:
            inter.original = self._create_message(channel_id, data, interaction=inter)
            response |= {
                "response_message_id": str(inter.original.id),
                "response_message_loading": False,
                "response_message_ephemeral": inter.original.ephemeral,
            }
            resource = {"type": 4, "message": self._message_json(inter.original)}
        elif kind == 5:
            flags = int(data.get("flags", 0))
            inter.original = FakeMessage(  # "… is thinking": filled by an edit later
                id=snowflake(),
                channel_id=channel_id,
                content="",
                flags=flags,
                interaction_id=inter.id,
                author_id=self.application_id,
            )
            self.messages_by_id[inter.original.id] = inter.original
            response |= {
                "response_message_id": str(inter.original.id),
                "response_message_loading": True,
                "response_message_ephemeral": bool(flags & EPHEMERAL),
            }
            resource = {"type": 5, "message": self._message_json(inter.original)}
        elif kind in {6, 7}:
            if inter.type != 3:
                raise ApiError(400, 50035, "Invalid Form Body", errors={"type": kind})
            message_id = int(inter.payload["message"]["id"])
            inter.original = self.messages_by_id[message_id]
            if kind == 7:
                self._apply(inter.original, data)
            response |= {"response_message_id": str(message_id)}
        elif kind == 8:
            if inter.type != 4:
                raise ApiError(400, 50035, "Invalid Form Body", errors={"type": kind})
            inter.choices = _validate_choices(data)
        elif kind == 9:
            if not data.get("custom_id") or len(str(data["custom_id"])) > MAX_CUSTOM_ID:
                raise ApiError(400, 50035, "Invalid Form Body", errors={"custom_id": "bad"})
            inter.modal = data
        else:
            raise ApiError(400, 50035, "Invalid Form Body", errors={"type": kind})
        inter.callbacks.append(body)
        inter.acked_at = time.monotonic()
        result: JSONDict = {"interaction": response}
        if resource is not None:
            result["resource"] = resource
        return result

    def _followup(self, token: str, body: JSONDict) -> JSONDict:
        inter = self._by_token(token)
        channel_id = int(inter.payload["channel_id"])
        message = self._create_message(channel_id, body, interaction=inter)
        inter.followups.append(message)
        return self._message_json(message)

    def _edit_webhook_message(self, token: str, mid: str, body: JSONDict) -> JSONDict:
        inter = self._by_token(token)
        if mid == "@original":
            target = inter.original
        else:
            target = next((m for m in inter.followups if m.id == int(mid)), None)
        if target is None:
            raise ApiError(404, 10008, "Unknown Message")
        return self._message_json(self._apply(target, body))

    def _create_message(
        self, channel_id: int, body: JSONDict, *, interaction: FakeInteraction | None = None
    ) -> FakeMessage:
        chan = self.channels.get(channel_id)
        if chan is None:
            raise ApiError(404, 10003, "Unknown Channel")
        if chan.get("type") == 1 and interaction is None:
            recipient = int(chan["recipients"][0]["id"])
            if recipient in self.blocked:
                raise ApiError(403, 50007, "Cannot send messages to this user")
        self._validate(body, creating=True)
        message = FakeMessage(
            id=snowflake(),
            channel_id=channel_id,
            content=str(body.get("content") or ""),
            embeds=list(body.get("embeds") or []),
            components=list(body.get("components") or []),
            attachments=list(body.get("_files") or []),
            flags=int(body.get("flags") or 0),
            interaction_id=interaction.id if interaction else None,
            author_id=self.application_id,
            allowed_mentions=body.get("allowed_mentions"),
        )
        self.messages_by_id[message.id] = message
        return message

    def _apply(self, message: FakeMessage, body: JSONDict) -> FakeMessage:
        self._validate(body, creating=False)
        if "content" in body:
            message.content = str(body["content"] or "")
        if "embeds" in body:
            message.embeds = list(body["embeds"] or [])
        if "components" in body:
            message.components = list(body["components"] or [])
        if "_files" in body:
            message.attachments = list(body["_files"])
        message.edits += 1
        return message

    def _validate(self, body: JSONDict, *, creating: bool) -> None:
        def bad(field_: str, why: str) -> ApiError:
            return ApiError(400, 50035, "Invalid Form Body", errors={field_: why})

        content = body.get("content")
        if content is not None and len(str(content)) > MAX_CONTENT:
            raise bad("content", f"Must be {MAX_CONTENT} or fewer in length.")
        embeds = body.get("embeds") or []
        if len(embeds) > 10:
            raise bad("embeds", "Must be 10 or fewer in length.")
        for embed in embeds:
            if len(str(embed.get("description") or "")) > MAX_EMBED_DESCRIPTION:
                raise bad("embeds.description", "Must be 4096 or fewer in length.")
        rows = body.get("components") or []
        if len(rows) > MAX_ROWS:
            raise bad("components", f"Must be {MAX_ROWS} or fewer in length.")
        custom_ids: set[str] = set()
        for row in rows:
            items = row.get("components") or []
            if row.get("type") != 1 or not items:
                raise bad("components", "Invalid action row")
            kinds = {item.get("type") for item in items}
            if kinds == {STRING_SELECT}:
                if len(items) != 1:
                    raise bad("components", "A select menu takes a whole action row")
                _validate_select(items[0], bad)
            elif kinds != {BUTTON} or len(items) > MAX_BUTTONS_PER_ROW:
                raise bad("components", "Invalid action row")
            for item in items:
                custom_id = str(item.get("custom_id") or "")
                if not custom_id or len(custom_id) > MAX_CUSTOM_ID:
                    raise bad("custom_id", f"Must be between 1 and {MAX_CUSTOM_ID} in length.")
                if custom_id in custom_ids:
                    raise bad("custom_id", "Component custom id cannot be duplicated")
                custom_ids.add(custom_id)
                if len(str(item.get("label") or "")) > MAX_LABEL:
                    raise bad("label", f"Must be {MAX_LABEL} or fewer in length.")
        if (
            creating
            and not (content or embeds or rows or body.get("_files"))
            and not body.get("flags")
        ):
            raise ApiError(400, 50006, "Cannot send an empty message")

    def _message_json(self, message: FakeMessage) -> JSONDict:
        return {
            "id": str(message.id),
            "channel_id": str(message.channel_id),
            "author": self.bot_user,
            "content": message.content,
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [
                {
                    "id": str(snowflake()),
                    "filename": a["filename"],
                    "size": a["size"],
                    "url": f"{self.url}/attachments/{a['filename']}",
                    "proxy_url": f"{self.url}/attachments/{a['filename']}",
                }
                for a in message.attachments
            ],
            "embeds": message.embeds,
            "pinned": False,
            "type": 0,
            "flags": message.flags,
            "components": message.components,
        }

    def _poke(self) -> None:
        # wake every waiter (each re-checks its own predicate)
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)


def _validate_select(menu: JSONDict, bad: Callable[[str, str], ApiError]) -> None:
    """A string select as Discord checks it: 1–25 options with distinct values, labels and
    values ≤ 100 characters, 0 ≤ min_values ≤ max_values ≤ the number of options (max ≥ 1)."""
    options = menu.get("options") or []
    if not 1 <= len(options) <= MAX_OPTIONS:
        raise bad("options", f"Must be between 1 and {MAX_OPTIONS} in length.")
    values = [str(o.get("value") or "") for o in options]
    if len(set(values)) != len(values):
        raise bad("options", "Select option values must be unique")
    for option in options:
        for key in ("label", "value"):
            if not 1 <= len(str(option.get(key) or "")) <= MAX_OPTION_TEXT:
                raise bad(f"options.{key}", f"Must be between 1 and {MAX_OPTION_TEXT} in length.")
    low, high = int(menu.get("min_values", 1)), int(menu.get("max_values", 1))
    if not 0 <= low <= high <= len(options) or high < 1:
        raise bad("max_values", "Must be between min_values and the number of options.")
    if len(str(menu.get("placeholder") or "")) > MAX_PLACEHOLDER:
        raise bad("placeholder", f"Must be {MAX_PLACEHOLDER} or fewer in length.")


_NAME: Final = re.compile(r"[-_a-z0-9]{1,32}")
#: Application command option types: 1 sub-command, 2 group, 3 string, 4 integer, 5 boolean,
#: 6 user, 7 channel, 8 role, 9 mentionable, 10 number, 11 attachment.
_VALUE_TYPES: Final = frozenset(range(3, 12))
_CHOICE_TYPES: Final = frozenset({3, 4, 10})


def _invalid(where: str, why: str) -> ApiError:
    return ApiError(400, 50035, "Invalid Form Body", errors={where: why})


def _validate_command(cmd: JSONDict) -> None:
    """A chat-input command as Discord checks it on a bulk overwrite: a description of 1–100,
    ``default_member_permissions`` a permission bit set (or null), ``contexts`` of 0 (server),
    1 (bot DM), 2 (private channel), and its options (:func:`_validate_options`)."""
    name = str(cmd.get("name"))
    if not 1 <= len(str(cmd.get("description") or "")) <= MAX_OPTION_TEXT:
        raise _invalid(f"{name}.description", "Must be between 1 and 100 in length.")
    permissions = cmd.get("default_member_permissions")
    if permissions is not None and not str(permissions).isdecimal():
        raise _invalid(f"{name}.default_member_permissions", "Invalid permissions")
    contexts = cmd.get("contexts")
    if contexts is not None and (not contexts or not set(contexts) <= {0, 1, 2}):
        raise _invalid(f"{name}.contexts", "Invalid context type")
    _validate_options(name, cmd.get("options") or [], nested=False)


def _validate_options(where: str, options: list[JSONDict], *, nested: bool) -> None:
    """Options as Discord checks them: at most 25, names unique and lowercase, descriptions of
    1–100; sub-commands only at the top (or in a group) and never mixed with values; required
    values before optional ones; choices (at most 25, names 1–100, values of the option's type)
    only for strings and numbers; autocomplete only for those, and never with choices."""
    if len(options) > MAX_OPTIONS:
        raise _invalid(where, "Must be 25 or fewer in length.")
    kinds = [int(o.get("type", 0)) for o in options]
    subs = [k for k in kinds if k in {1, 2}]
    if subs and len(subs) != len(kinds):
        raise _invalid(where, "Sub-commands and options can't be mixed")
    if nested and any(k == 2 for k in kinds):
        raise _invalid(where, "A sub-command group can't be nested")
    seen: set[str] = set()
    optional = False
    for option, kind in zip(options, kinds, strict=True):
        name = str(option.get("name"))
        here = f"{where}.{name}"
        if not _NAME.fullmatch(name) or name in seen:
            raise _invalid(here, "Invalid or duplicate option name")
        seen.add(name)
        if not 1 <= len(str(option.get("description") or "")) <= MAX_OPTION_TEXT:
            raise _invalid(f"{here}.description", "Must be between 1 and 100 in length.")
        if kind in {1, 2}:
            _validate_options(here, option.get("options") or [], nested=True)
            continue
        if kind not in _VALUE_TYPES:
            raise _invalid(f"{here}.type", "Invalid option type")
        if option.get("required"):
            if optional:
                raise _invalid(here, "Required options must be placed before non-required")
        else:
            optional = True
        choices = option.get("choices")
        if choices:
            if kind not in _CHOICE_TYPES or len(choices) > MAX_OPTIONS:
                raise _invalid(f"{here}.choices", "Invalid choices")
            for choice in choices:
                _validate_choice(f"{here}.choices", choice, kind)
        if option.get("autocomplete") and (kind not in _CHOICE_TYPES or choices):
            raise _invalid(f"{here}.autocomplete", "Autocomplete can't be set with choices")


def _validate_choice(where: str, choice: JSONDict, kind: int) -> None:
    if not 1 <= len(str(choice.get("name") or "")) <= MAX_OPTION_TEXT:
        raise _invalid(f"{where}.name", "Must be between 1 and 100 in length.")
    value = choice.get("value")
    if kind == 3:
        if not isinstance(value, str) or not 1 <= len(value) <= MAX_OPTION_TEXT:
            raise _invalid(f"{where}.value", "Must be between 1 and 100 in length.")
    elif not isinstance(value, int | float) or isinstance(value, bool):
        raise _invalid(f"{where}.value", "Not a number")


def _validate_choices(data: JSONDict) -> list[JSONDict]:
    """An autocomplete answer (callback type 8): at most 25 choices, each a name of 1–100
    characters and a value (a string of at most 100, or a number)."""
    choices = data.get("choices")
    if not isinstance(choices, list) or len(choices) > MAX_OPTIONS:
        raise _invalid("choices", "Must be 25 or fewer in length.")
    for choice in choices:
        kind = 3 if isinstance(choice.get("value"), str) else 10
        _validate_choice("choices", choice, kind)
    return choices


def _json(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py parses a body as JSON only when Content-Type is exactly application/json
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={**(headers or {}), "Content-Type": "application/json"},
    )


def _ratelimit_headers(*, remaining: int = 4, reset_after: float = 1.0) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": "fake-bucket",
    }
