"""A loopback fake of the Telegram Bot API for tests.

:class:`FakeTelegram` is an aiohttp server on ``127.0.0.1`` (a free port) that speaks enough of
the real Bot API JSON contract for the *real* python-telegram-bot 22 ``Bot``/``Application`` to
run against it::

    async with FakeTelegram() as fake:
        bot = Bot(fake.token, base_url=f"{fake.url}/bot", base_file_url=f"{fake.url}/file/bot")
        fake.user_message(42, "/start")          # queue an update, as a user would
        ...                                      # the bot polls getUpdates and answers
        await fake.wait_for(lambda: len(fake.messages(42)) == 1)
        assert fake.last(42).buttons() == [("Begin", "begin")]

The contract, as the real API has it:

* ``POST /bot<token>/<method>`` with an urlencoded, multipart or JSON body (GET query strings
  too). Method names are case-insensitive. PTB sends every non-string value JSON-encoded
  (``chat_id=42``, ``reply_markup={"inline_keyboard": ...}``), so values are decoded per field.
* Success: ``200 {"ok": true, "result": ...}``. Failure: the HTTP status equals
  ``error_code``, with ``{"ok": false, "error_code": ..., "description": "..."}`` and, for flood
  control, ``"parameters": {"retry_after": N}``. PTB maps 400 → ``BadRequest``, 401/404 →
  ``InvalidToken`` (``EndPointNotFound`` from ``do_api_request``), 403 → ``Forbidden``,
  409 → ``Conflict``, ``retry_after`` → ``RetryAfter``, anything else → ``NetworkError``.
* A wrong token answers 401 ``Unauthorized``; an unknown method 404 ``Not Found``.
* Sends the bot may not make answer 403 with Telegram's own words: a user who blocked the bot
  (:meth:`FakeTelegram.block`, ``bot was blocked by the user``), a deleted account
  (:meth:`FakeTelegram.deactivate`, ``user is deactivated``), a user the fake knows only from a
  group who never opened a private chat with the bot (``bot can't initiate conversation with a
  user``), a group the bot was removed from (:meth:`FakeTelegram.remove_bot`, ``bot was kicked
  from the group chat`` / ``bot is not a member of the supergroup chat``). A chat id the fake
  has never seen at all is 400 ``chat not found``.
* Groups as bands (issue #17): ``getChatMember`` answers a member's status
  (:meth:`FakeTelegram.set_member_status`: ``creator``, ``administrator``, ``member`` …); a
  basic group upgraded to a supergroup (:meth:`FakeTelegram.migrate_group`) queues the two
  service messages Telegram sends (``migrate_to_chat_id`` in the old group,
  ``migrate_from_chat_id`` in the new one) and answers sends to the old id with 400 ``group
  chat was upgraded to a supergroup chat`` and ``parameters.migrate_to_chat_id`` (PTB:
  ``ChatMigrated``); a deleted group (:meth:`FakeTelegram.delete_chat`) answers 400 ``chat not
  found``. With ``privacy_mode=True`` (Telegram's default for bots) a group message reaches the
  bot only if it is a command (not one addressed to another bot), a reply to the bot's
  message, or mentions the bot; others are kept in :attr:`FakeTelegram.withheld`.
* ``setMyCommands`` / ``getMyCommands`` / ``deleteMyCommands`` keep one list per scope and
  language (:meth:`FakeTelegram.commands_for`); a scope of an unknown type is refused, and so
  is a chat scope for a chat the bot doesn't have (``chat not found``: a person who never opened
  a private chat with it), as Telegram does.
* Files uploaded with ``sendPhoto`` can be fetched back with ``getFile`` and
  ``GET /file/bot<token>/<file_path>``.
* Confirmation: a ``getUpdates`` whose ``offset`` moves past delivered updates confirms them
  (they are never sent again); :attr:`FakeTelegram.on_confirm` is called at that moment, before
  the call is answered — a test can ``SIGKILL`` the bot there, inside the window in which
  Telegram has forgotten the batch but the bot may not have handled it.
* :attr:`FakeTelegram.on_call` sees every call before it is handled and may drop it (a bot
  killed while sending: the edit it asked for never happens).
* Webhook delivery (:meth:`FakeTelegram.deliver_by_webhook`): queued updates are POSTed oldest
  first, with the secret header, over one or more connections but never two of one chat at once
  (button presses: of one user), as the Bot API server does; a 2xx confirms one, anything else
  (or no answer) is retried, as Telegram does; a redelivery after a 2xx can be injected. Every
  attempt is in :attr:`FakeTelegram.webhook_attempts`.

Deliberate simplifications (documented so nobody relies on them): ``Markdown``/``MarkdownV2``
text is accepted and stored unparsed; ``inline_message_id`` edits are rejected; group chats
behave like supergroups; nothing expires (callback queries can be answered any time once).
Text lengths are counted in UTF-16 code units, like Telegram's entity offsets — stricter than
counting code points when astral characters (most emoji) are involved.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import html
import itertools
import json
import re
import struct
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, Final, Self

import aiohttp
from aiohttp import web

__all__ = [
    "BLOCKED",
    "CANT_INITIATE",
    "DEACTIVATED",
    "Edit",
    "FakeTelegram",
    "SentMessage",
    "UploadedFile",
    "kicked_from",
    "not_a_member",
    "parse_html",
]

JSONDict = dict[str, Any]

#: Methods that put a message in front of a user: they count against the flood limits.
MESSAGE_METHODS: Final = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
    }
)
#: Telegram's limits.
MAX_TEXT: Final = 4096
MAX_CAPTION: Final = 1024
MAX_CALLBACK_ANSWER: Final = 200
MAX_CALLBACK_DATA_BYTES: Final = 64
MAX_BUTTONS: Final = 100
MAX_COMMANDS: Final = 100
#: Flood control: overall per second, a private chat's burst per second, a group per minute.
GLOBAL_PER_SECOND: Final = 30
PRIVATE_BURST_PER_SECOND: Final = 3
GROUP_PER_MINUTE: Final = 20

#: Update types delivered when ``allowed_updates`` is empty or never given.
_DEFAULT_EXCLUDED_UPDATES: Final = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)
_INT_FIELDS: Final = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "user_id",
        "cache_time",
        "reply_to_message_id",
        "message_thread_id",
        "max_connections",
    }
)
_NUMBER_FIELDS: Final = frozenset({"timeout"})
_BOOL_FIELDS: Final = frozenset(
    {
        "show_alert",
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "has_spoiler",
        "show_caption_above_media",
        "allow_paid_broadcast",
    }
)
_JSON_FIELDS: Final = frozenset(
    {
        "reply_markup",
        "commands",
        "entities",
        "caption_entities",
        "allowed_updates",
        "reply_parameters",
        "link_preview_options",
        "scope",
    }
)
_CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
#: Fields of an InlineKeyboardButton of which exactly one must be set.
_BUTTON_ACTIONS: Final = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_COMMAND_RE: Final = re.compile(r"[a-z0-9_]{1,32}")
_BOT_COMMAND_RE: Final = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,32})?")

NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
#: The 403 descriptions, worded as Telegram words them (PTB raises ``Forbidden`` with them).
BLOCKED: Final = "Forbidden: bot was blocked by the user"
CANT_INITIATE: Final = "Forbidden: bot can't initiate conversation with a user"
DEACTIVATED: Final = "Forbidden: user is deactivated"
#: A send to a group that became a supergroup (with ``parameters.migrate_to_chat_id``).
UPGRADED: Final = "Bad Request: group chat was upgraded to a supergroup chat"


def kicked_from(chat_type: str) -> str:
    """403 for a group or supergroup the bot was removed from and banned in."""
    return f"Forbidden: bot was kicked from the {chat_type} chat"


def not_a_member(chat_type: str) -> str:
    """403 for a group or supergroup the bot left or was removed from without a ban."""
    return f"Forbidden: bot is not a member of the {chat_type} chat"


QUERY_TOO_OLD: Final = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)


class ApiError(Exception):
    """An error answer of the Bot API (raised inside the fake, turned into an HTTP response)."""

    def __init__(
        self,
        status: int,
        description: str,
        *,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (Telegram's unit for offsets and lengths)."""
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------- HTML parse mode

#: Tag name → entity type; ``None`` means the tag makes no entity of its own.
_HTML_TAGS: Final[dict[str, str | None]] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "tg-spoiler": "spoiler",
    "span": "spoiler",  # only as <span class="tg-spoiler">
    "blockquote": "blockquote",
}
_CHAR_REF_RE: Final = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_ATTR_RE: Final = re.compile(
    r"\s*([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'=<>`]+)))?"
)


def _decode_ref(ref: str) -> str | None:
    named = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
    if ref in named:
        return named[ref]
    try:
        code = int(ref[2:], 16) if ref[1:2] in "xX" else int(ref[1:])
        return chr(code)
    except (ValueError, OverflowError):
        return None


def parse_html(source: str) -> tuple[str, list[JSONDict]]:
    """Parse Telegram's HTML parse mode into ``(plain_text, entities)`` as Telegram does.

    Allowed tags: b, strong, i, em, u, ins, s, strike, del, code, pre, a (href),
    tg-spoiler, ``span class="tg-spoiler"``, blockquote (``expandable``); they must be balanced.
    ``&``, ``<`` and ``>`` outside tags must be written ``&amp;``, ``&lt;``, ``&gt;`` (Telegram
    itself tolerates a bare ``>``; this fake does not). Character references allowed:
    ``&lt; &gt; &amp; &quot;`` and numeric ones. Entity offsets are in UTF-16 code units.

    Raises:
        ApiError: 400 ``Bad Request: can't parse entities: ...``.
    """

    def fail(reason: str, index: int) -> ApiError:
        offset = len(source[:index].encode())
        return _bad(f"can't parse entities: {reason} at byte offset {offset}")

    out: list[str] = []
    pos16 = 0
    entities: list[JSONDict] = []
    # open tags: (name, start offset in UTF-16, attributes)
    stack: list[tuple[str, int, dict[str, str]]] = []
    i = 0
    n = len(source)
    while i < n:
        ch = source[i]
        if ch == "<":
            end = _tag_end(source, i)
            if end < 0:
                raise fail("Can't find end of the tag starting", i)
            inner = source[i + 1 : end]
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack:
                    raise fail(f'Unexpected end tag "</{name}>"', i)
                open_name, start, attrs = stack[-1]
                if name != open_name:
                    raise fail(
                        f'Unmatched end tag, expected "</{open_name}>", found "</{name}>"', i
                    )
                stack.pop()
                entity = _entity_for(open_name, attrs, start, pos16 - start, stack)
                if entity is not None:
                    entities.append(entity)
            else:
                match = re.match(r"[a-zA-Z][a-zA-Z0-9-]*", inner)
                name = match.group(0).lower() if match else inner[:16]
                if match is None or name not in _HTML_TAGS:
                    raise fail(f'Unsupported start tag "{name}"', i)
                parsed = _parse_attrs(inner[match.end() :])
                if parsed is None:
                    raise fail(f'Can\'t parse attributes of tag "{name}"', i)
                if name == "span" and parsed.get("class") != "tg-spoiler":
                    raise fail('Tag "span" must have class "tg-spoiler"', i)
                stack.append((name, pos16, parsed))
            i = end + 1
        elif ch == "&":
            ref = _CHAR_REF_RE.match(source, i)
            decoded = _decode_ref(ref.group(1)) if ref else None
            if ref is None or decoded is None:
                raise fail('Unsupported HTML entity or unescaped "&" (write "&amp;")', i)
            out.append(decoded)
            pos16 += utf16_len(decoded)
            i = ref.end()
        elif ch == ">":
            raise fail('Unescaped ">" (write "&gt;")', i)
        else:
            j = i
            while j < n and source[j] not in "<&>":
                j += 1
            chunk = source[i:j]
            out.append(chunk)
            pos16 += utf16_len(chunk)
            i = j
    if stack:
        name = stack[-1][0]
        raise _bad(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{name}\""
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _tag_end(source: str, start: int) -> int:
    """Index of the ``>`` closing the tag opened at ``start`` (quotes respected), or -1."""
    quote = ""
    for j in range(start + 1, len(source)):
        ch = source[j]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == ">":
            return j
        elif ch == "<":
            return -1
    return -1


def _parse_attrs(text: str) -> dict[str, str] | None:
    attrs: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _ATTR_RE.match(text, pos)
        if match is None or match.end() == pos:
            return None
        value = next((g for g in match.groups()[1:] if g is not None), "")
        attrs[match.group(1).lower()] = html.unescape(value)
        pos = match.end()
    return attrs


def _entity_for(
    name: str,
    attrs: dict[str, str],
    offset: int,
    length: int,
    outer: list[tuple[str, int, dict[str, str]]],
) -> JSONDict | None:
    kind = _HTML_TAGS[name]
    if kind == "code" and outer and outer[-1][0] == "pre":
        # <pre><code class="language-x">: the language of the enclosing pre, no entity of its own
        language = attrs.get("class", "")
        if language.startswith("language-"):
            outer[-1][2]["language"] = language.removeprefix("language-")
        return None
    if length == 0 or kind is None:
        return None
    entity: JSONDict = {"type": kind, "offset": offset, "length": length}
    if kind == "text_link":
        href = attrs.get("href")
        if not href:
            return None
        entity["url"] = href
    elif kind == "pre" and attrs.get("language"):
        entity["language"] = attrs["language"]
    elif kind == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    return entity


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"UploadedFile({self.filename!r}, {self.content_type!r}, {len(self.data)} bytes)"


@dataclass(frozen=True)
class SentMessage:
    """A message the bot sent, as the fake stores it.

    ``text`` (text messages) and ``caption`` (photos) are exactly what the bot sent, markup
    included (e.g. ``"<b>Hi</b> &amp; bye"``); ``plain_text`` is what the user reads
    (``"Hi & bye"``, text or caption) and ``entities`` its formatting, as Telegram echoes them.
    ``reply_markup`` is the markup dict as sent (an empty inline keyboard is stored as ``None``).
    ``date`` is Unix seconds (as in the API), ``ts`` the ``time.time()`` of the send or last edit.
    """

    message_id: int
    chat_id: int
    text: str | None
    parse_mode: str | None
    reply_markup: JSONDict | None
    photo: bool = False
    caption: str | None = None
    plain_text: str = ""
    entities: list[JSONDict] = field(default_factory=list)
    date: int = 0
    ts: float = 0.0
    edited: bool = False
    edit_date: int | None = None
    file_id: str | None = None
    reply_to_message_id: int | None = None
    #: ``sendDocument``: the file's bytes and name as uploaded (``None`` for other messages).
    document: bytes | None = None
    document_name: str | None = None

    def buttons(self) -> list[tuple[str, str]]:
        """The inline keyboard's ``(label, callback_data)`` pairs in reading order.

        URL buttons and other kinds appear with their URL (or ``""``) in place of the data.
        """
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        out: list[tuple[str, str]] = []
        for row in rows:
            for button in row:
                data = button.get("callback_data", button.get("url", ""))
                out.append((str(button.get("text", "")), str(data)))
        return out

    @property
    def inline_keyboard(self) -> JSONDict | None:
        """The inline keyboard markup, or ``None`` (reply keyboards are not echoed)."""
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            return self.reply_markup
        return None


@dataclass(frozen=True)
class Edit:
    """One successful edit: the message before and after."""

    method: str
    chat_id: int
    message_id: int
    before: SentMessage
    after: SentMessage
    ts: float


@dataclass
class _Failure:
    status: int
    retry_after: int
    description: str | None
    times: int


def webhook_queue(update: JSONDict) -> tuple[str, int]:
    """The Bot API server's delivery queue of an update (``webhook_queue_id`` in its
    ``Client.cpp``): messages and member updates by chat, button presses by the presser."""
    query = update.get("callback_query")
    if isinstance(query, dict):
        return ("user", int(query["from"]["id"]))
    for name in ("message", "edited_message", "my_chat_member", "chat_member"):
        body = update.get(name)
        if isinstance(body, dict) and isinstance(body.get("chat"), dict):
            return ("chat", int(body["chat"]["id"]))
    return ("update", int(update["update_id"]))


@dataclass
class _Queued:
    update: JSONDict
    replayed: bool = False

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])

    @property
    def kind(self) -> str:
        return next((k for k in self.update if k != "update_id"), "")


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    width: int
    height: int
    file_path: str


Handler = Callable[[JSONDict], Awaitable[Any]]


# --------------------------------------------------------------------------- the fake


class FakeTelegram:
    """A fake Telegram Bot API server on 127.0.0.1 (see the module docstring).

    Drive it like users do (:meth:`user_message`, :meth:`press_button`, :meth:`block`), inject
    failures (:meth:`fail_next`, :meth:`replay`), and inspect what the bot did (:attr:`sent`,
    :meth:`messages`, :meth:`last`, :attr:`edits`, :attr:`callback_answers`, :attr:`commands`,
    :attr:`calls`, :attr:`violations`).

    Args:
        token: The bot token the fake accepts (``"<bot id>:<secret>"``).
        bot_username: The bot's username as returned by ``getMe``.
        enforce_limits: If true, a message beyond a flood limit is refused with 429 and
            ``retry_after`` 1 (and not counted); otherwise it is accepted. Either way the
            violation is logged in :attr:`violations`.
        monotonic: The clock the flood limits are counted on (a test may stop it, so a burst
            counts as one second however slowly a loaded machine sends it).
    """

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",  # noqa: S107 - a fake token for a fake server
        *,
        bot_username: str = "StardomCoachBot",
        enforce_limits: bool = False,
        privacy_mode: bool = False,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.monotonic = monotonic
        #: Group privacy mode (@BotFather's /setprivacy, on by default on Telegram): in a
        #: group the bot gets only commands (``/cmd`` or ``/cmd@<this bot>``), replies to its
        #: own messages and messages that mention it; every other group message is kept in
        #: :attr:`withheld` instead of being delivered.
        self.privacy_mode: bool = privacy_mode
        if not re.fullmatch(r"\d+:[A-Za-z0-9_-]+", token):
            raise ValueError(f"not a bot token: {token!r}")
        self.token: str = token
        self.bot_id: int = int(token.split(":", 1)[0])
        self.bot_username: str = bot_username
        #: Refuse messages beyond a flood limit with 429 (they are logged either way).
        self.enforce_limits: bool = enforce_limits

        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._stopping = False
        self._wakeup = asyncio.Event()
        self._poll_generation = 0
        # ids keep growing across reset(), as on Telegram (a running poller keeps its offset)
        self._update_ids = itertools.count(10_000)
        self._query_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._initial_enforce_limits = enforce_limits
        self._pusher: asyncio.Task[None] | None = None
        self.reset()

        handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendChatAction": self._send_chat_action,
            "getFile": self._get_file,
            "getChatMember": self._get_chat_member,
        }
        self._methods: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler) for name, handler in handlers.items()
        }

    def reset(self) -> None:
        """Forget everything: queued updates, chats, messages, calls, failures, violations.

        The server keeps running (so a module-scoped fake can be shared by tests) and
        ``enforce_limits`` returns to its constructor value.
        """
        self.enforce_limits = self._initial_enforce_limits
        #: Called with the confirmed update ids when a ``getUpdates`` confirms delivered updates
        #: (before it is answered); see the module docstring.
        self.on_confirm: Callable[[list[int]], None] | None = None
        #: Called with ``(method, params)`` for every call with the right token before it is
        #: handled; returning True drops the call (nothing applied; answered 502), as if the
        #: bot died while sending it.
        self.on_call: Callable[[str, JSONDict], bool] | None = None
        #: Every message the bot sent, as sent (snapshots; see :meth:`messages` for edits).
        self.sent: list[SentMessage] = []
        #: Every successful edit, in order.
        self.edits: list[Edit] = []
        #: The parameters of every successful ``answerCallbackQuery``.
        self.callback_answers: list[JSONDict] = []
        #: Every ``(method, params)`` call with the right token, in order (failed ones too).
        self.calls: list[tuple[str, JSONDict]] = []
        #: Flood-limit violations, one line each.
        self.violations: list[str] = []
        #: Every ``sendChatAction`` as ``(chat_id, action)``.
        self.chat_actions: list[tuple[int, str]] = []
        #: Every update delivered through ``getUpdates`` (replays included), in order.
        self.delivered: list[JSONDict] = []
        #: Every webhook delivery attempt as ``(update_id, HTTP status)``; 0 = no answer.
        self.webhook_attempts: list[tuple[int, int]] = []
        #: Update ids POSTed a second time after a 2xx (``deliver_by_webhook(redeliver_every)``).
        self.redelivered: list[int] = []
        #: ``(chat_id, message_id)`` of every message the bot deleted.
        self.deleted: list[tuple[int, int]] = []
        #: The webhook URL set with ``setWebhook`` (``""`` = none, polling allowed).
        self.webhook_url: str = ""
        #: Group messages privacy mode kept from the bot (:attr:`privacy_mode`), in order.
        self.withheld: list[JSONDict] = []
        #: ``(chat_id, user_id)`` → the member's status in a group (``creator``,
        #: ``administrator``, ``member``, ``left``, ``kicked``); a user the group has seen and
        #: nobody promoted is a ``member`` (:meth:`set_member_status`).
        self._statuses: dict[tuple[int, int], str] = {}
        #: Groups upgraded to supergroups: old id → new id (sends to the old id are refused).
        self._migrated: dict[int, int] = {}
        #: Groups deleted: sends there answer 400 ``chat not found``.
        self._deleted: set[int] = set()

        self._allowed_updates: frozenset[str] | None = None

        self._queue: list[_Queued] = []
        self._chats: dict[int, JSONDict] = {}
        self._users: dict[int, JSONDict] = {}
        self._blocked: set[int] = set()
        self._deactivated: set[int] = set()
        #: Groups the bot is no longer in: chat id → banned ("kicked") rather than just gone.
        self._removed: dict[int, bool] = {}
        self._next_message_id: dict[int, int] = {}
        self._user_messages: dict[tuple[int, int], JSONDict] = {}
        self._current: dict[tuple[int, int], SentMessage] = {}
        self._order: dict[int, list[int]] = {}
        self._queries: dict[str, JSONDict] = {}
        self._answered: set[str] = set()
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._files: dict[str, _StoredFile] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._global_times: deque[float] = deque()
        self._chat_times: dict[int, deque[float]] = {}

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` of the running server."""
        if self._port is None:
            raise RuntimeError("FakeTelegram is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def bot_url(self) -> str:
        """The ``base_url`` to give PTB: ``f"{url}/bot"``."""
        return f"{self.url}/bot"

    @property
    def file_url(self) -> str:
        """The ``base_file_url`` to give PTB: ``f"{url}/file/bot"``."""
        return f"{self.url}/file/bot"

    async def start(self, port: int = 0) -> None:
        """Serve on 127.0.0.1 on ``port``, by default a free one (see :attr:`url`).

        A test that wants Telegram unreachable at first points the bot at a free port and
        starts the fake there later."""
        if self._runner is not None:
            return
        self._stopping = False
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop serving; pending long polls answer at once with no updates."""
        await self.stop_webhook_delivery()
        if self._runner is None:
            return
        self._stopping = True
        self._notify()
        runner, self._runner = self._runner, None
        await runner.cleanup()
        self._port = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ driving it

    def user_message(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Maya",
        username: str | None = None,
        chat_title: str | None = None,
        language_code: str = "en",
        reply_to: int | None = None,
        entities: list[JSONDict] | None = None,
    ) -> JSONDict:
        """Queue an update in which user ``user_id`` sends ``text``; return the update.

        ``reply_to`` makes the message a reply to that message of the chat (the bot's or a
        user's; Telegram nests the replied message in ``reply_to_message``); ``entities`` are
        added to the message's own (a ``text_mention`` of a member without a username).
        In a group with :attr:`privacy_mode` on, a message the bot would not see is not
        queued: it goes to :attr:`withheld`, and the update is returned all the same.

        ``language_code`` is the sender's app language as Telegram reports it ("en", "pt-br").

        The chat is ``user_id``'s private chat unless ``chat_id`` is given (needed for groups,
        whose ids are negative by convention). A ``/command`` at the start gets its
        ``bot_command`` entity. The chat becomes known, so the bot may send to it. A user who
        had blocked the bot unblocks it first (a ``my_chat_member`` update precedes the message).
        """
        if chat_type not in ("private", "group", "supergroup"):
            raise ValueError(f"unsupported chat type {chat_type!r}")
        if chat_id is None:
            if chat_type != "private":
                raise ValueError("a group message needs chat_id")
            chat_id = user_id
        if user_id in self._deactivated:
            raise ValueError(f"user {user_id} deleted their account: they can't write")
        if chat_id in self._removed:
            raise ValueError(f"the bot is not in chat {chat_id} (add_bot puts it back)")
        user = self._remember_user(user_id, first_name, username, language_code)
        chat = self._remember_chat(chat_id, chat_type, user, chat_title)
        if chat_type == "private" and user_id in self._blocked:
            self.unblock(user_id)  # writing to the bot again means unblocking it first
        message: JSONDict = {
            "message_id": self._new_message_id(chat_id),
            "from": copy.deepcopy(user),
            "chat": copy.deepcopy(chat),
            "date": int(time.time()),
            "text": text,
        }
        command = _BOT_COMMAND_RE.match(text)
        if command:
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command.group(0))}
            ]
        if entities:
            message["entities"] = [*message.get("entities", []), *copy.deepcopy(entities)]
        replied_to_bot = False
        if reply_to is not None:
            replied = self._any_message_json(chat_id, reply_to)
            if replied is None:
                raise ValueError(f"chat {chat_id} has no message {reply_to} to reply to")
            message["reply_to_message"] = replied
            replied_to_bot = replied["from"].get("id") == self.bot_id
        self._user_messages[(chat_id, message["message_id"])] = message
        if self.privacy_mode and chat_type != "private":
            addressed = command is not None and (
                "@" not in command.group(0)
                or command.group(0).split("@", 1)[1].casefold() == self.bot_username.casefold()
            )
            mentioned = f"@{self.bot_username}".casefold() in text.casefold()
            if not (addressed or replied_to_bot or mentioned):
                withheld = {"update_id": None, "message": message}
                self.withheld.append(copy.deepcopy(withheld))
                return withheld
        return self._enqueue({"message": message})

    def queue_update(self, body: JSONDict) -> JSONDict:
        """Queue an update made of ``body`` as given (with the next ``update_id``); return it.

        For updates the helpers don't make — including malformed ones Telegram would never
        send but a bot must survive (``{"message": {"text": 1}}``).
        """
        return self._enqueue(copy.deepcopy(body))

    def press_button(
        self,
        user_id: int,
        message_id: int,
        callback_data: str,
        *,
        chat_id: int | None = None,
        force: bool = False,
    ) -> JSONDict:
        """Queue a ``callback_query`` update: ``user_id`` presses a button of a bot message.

        The message is copied from the fake's current state of message ``message_id`` in
        ``chat_id`` (default: the user's private chat). ``callback_data`` must be on its
        current inline keyboard unless ``force`` is true (a stale or forged press).

        Raises:
            LookupError: The bot sent no such message.
            ValueError: No button of the message carries ``callback_data``.
        """
        chat_id = user_id if chat_id is None else chat_id
        current = self._current.get((chat_id, message_id))
        if current is None:
            known = self._order.get(chat_id, [])
            raise LookupError(
                f"the bot sent no message {message_id} to chat {chat_id} (it sent: {known})"
            )
        datas = [data for _, data in current.buttons()]
        if not force and callback_data not in datas:
            raise ValueError(
                f"message {message_id} in chat {chat_id} has no button with data "
                f"{callback_data!r}; its buttons: {current.buttons()}"
            )
        user = self._users.get(user_id) or self._remember_user(user_id, "Maya", None)
        query_id = str(4_000_000_000_000_000_000 + next(self._query_ids))
        query: JSONDict = {
            "id": query_id,
            "from": copy.deepcopy(user),
            "message": self._message_json(current),
            "chat_instance": str(abs(chat_id) * 7 + 1_000_000_000_000_000_000),
            "data": callback_data,
        }
        self._queries[query_id] = query
        return self._enqueue({"callback_query": query})

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends to their chat answer 403 from now on.

        Queues a ``my_chat_member`` update (``member`` → ``kicked``).
        """
        if user_id in self._blocked:
            return
        self._blocked.add(user_id)
        self._private_member_update(user_id, "member", "kicked")

    def unblock(self, user_id: int) -> None:
        """The user unblocks the bot; queues ``my_chat_member`` (``kicked`` → ``member``)."""
        if user_id not in self._blocked:
            return
        self._blocked.discard(user_id)
        self._private_member_update(user_id, "kicked", "member")

    def deactivate(self, user_id: int) -> None:
        """The user deletes their Telegram account: sends to them answer 403
        ``user is deactivated`` from now on (Telegram sends the bot no update about it)."""
        self._deactivated.add(user_id)

    def remove_bot(self, chat_id: int, *, by: int, banned: bool = True) -> None:
        """User ``by`` removes the bot from group ``chat_id``: sends there answer 403 from now
        on — ``bot was kicked from the … chat`` when ``banned`` (Telegram's "remove" in a
        group), else ``bot is not a member of the … chat`` (it left, or was unbanned after).

        Queues ``my_chat_member`` (``member`` → ``kicked`` or ``left``), as Telegram does. A
        message queued before this call still reaches the bot; :meth:`user_message` refuses new
        ones to the group until :meth:`add_bot`.
        """
        chat = self._chats.get(chat_id)
        if chat is None or chat["type"] == "private":
            raise ValueError(f"chat {chat_id} is not a group the fake knows")
        if chat_id in self._removed:
            return
        self._removed[chat_id] = banned
        user = self._users.get(by) or self._remember_user(by, "Admin", None)
        self._chat_member_update(chat, user, "member", "kicked" if banned else "left")

    def add_bot(self, chat_id: int, *, by: int) -> None:
        """User ``by`` adds the bot back to group ``chat_id``; queues ``my_chat_member``."""
        banned = self._removed.pop(chat_id, None)
        if banned is None:
            return
        user = self._users.get(by) or self._remember_user(by, "Admin", None)
        self._chat_member_update(
            self._chats[chat_id], user, "kicked" if banned else "left", "member"
        )

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """Make ``user_id``'s status in group ``chat_id`` what ``getChatMember`` answers:
        ``creator``, ``administrator``, ``member``, ``restricted``, ``left`` or ``kicked``."""
        if status not in {"creator", "administrator", "member", "restricted", "left", "kicked"}:
            raise ValueError(f"not a chat member status: {status!r}")
        self._statuses[(chat_id, user_id)] = status

    def migrate_group(self, chat_id: int, new_chat_id: int, *, by: int) -> None:
        """User ``by`` upgrades group ``chat_id`` to a supergroup with the id ``new_chat_id``,
        as Telegram does: a service message in the old group (``migrate_to_chat_id``) and one
        in the new supergroup (``migrate_from_chat_id``) are queued, members and their statuses
        move, and sends to the old id answer 400 with ``migrate_to_chat_id`` from now on."""
        chat = self._chats.get(chat_id)
        if chat is None or chat["type"] != "group":
            raise ValueError(f"chat {chat_id} is not a basic group the fake knows")
        user = self._users.get(by) or self._remember_user(by, "Admin", None)
        new_chat = {"id": new_chat_id, "type": "supergroup", "title": chat["title"]}
        self._chats[new_chat_id] = new_chat
        for (group, member), status in list(self._statuses.items()):
            if group == chat_id:
                self._statuses[(new_chat_id, member)] = status
        self._migrated[chat_id] = new_chat_id
        for where, field_, value in (
            (chat, "migrate_to_chat_id", new_chat_id),
            (new_chat, "migrate_from_chat_id", chat_id),
        ):
            message = {
                "message_id": self._new_message_id(where["id"]),
                "from": copy.deepcopy(user),
                "chat": copy.deepcopy(where),
                "date": int(time.time()),
                field_: value,
            }
            self._enqueue({"message": message})

    def delete_chat(self, chat_id: int) -> None:
        """The group is deleted: sends there answer 400 ``chat not found`` from now on
        (Telegram sends the bot no update about it)."""
        self._deleted.add(chat_id)

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        times: int = 1,
        description: str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail before doing anything.

        ``status`` 429 answers flood control with ``parameters.retry_after`` (PTB: ``RetryAfter``);
        500 a JSON ``Internal Server Error`` and 502 an nginx-style HTML page (PTB: both
        ``NetworkError``); other statuses a JSON error with ``description`` (400 → ``BadRequest``,
        403 → ``Forbidden``, ...).
        """
        canonical = self._canonical(method)
        self._failures.setdefault(canonical, []).append(
            _Failure(status, retry_after, description, times)
        )

    def stop_failing(self, method: str | None = None) -> None:
        """Forget the failures :meth:`fail_next` still holds for ``method`` (all when None):
        Telegram takes that method's calls again."""
        if method is None:
            self._failures.clear()
        else:
            self._failures.pop(self._canonical(method), None)

    def open_private_chat(self, user_id: int, first_name: str = "Maya") -> None:
        """Make ``user_id``'s private chat known, as if they had pressed Start before the test
        began: the bot may write to them, and no update is queued."""
        user = self._users.get(user_id) or self._remember_user(user_id, first_name, None)
        self._remember_chat(user_id, "private", user, None)

    def replay(self, updates: list[JSONDict]) -> None:
        """Put already delivered updates back in the queue with their own ``update_id``s.

        Simulates a ``getUpdates`` batch delivered again after the bot crashed before
        confirming it. Replayed updates are delivered by the next ``getUpdates`` even if its
        ``offset`` is past them (a running PTB poller has already moved on); after that the
        usual confirmation applies.
        """
        for update in updates:
            queued = _Queued(copy.deepcopy(update), replayed=True)
            self._queue = [q for q in self._queue if q.update_id != queued.update_id]
            self._queue.append(queued)
        self._queue.sort(key=lambda q: q.update_id)
        self._notify()

    def forget_updates(self) -> None:
        """Drop every queued update, as if a poller had confirmed them all."""
        self._queue.clear()

    def deliver_by_webhook(
        self,
        url: str,
        *,
        secret: str | None = None,
        retry_delay: float = 0.05,
        connections: int = 1,
        redeliver_every: int = 0,
    ) -> None:
        """Push queued updates to ``url`` (a loopback webhook) as Telegram pushes to a webhook.

        Oldest update first, with ``secret`` in ``X-Telegram-Bot-Api-Secret-Token``; a 2xx
        answer confirms the update, anything else (or no answer) leaves it queued and it is
        POSTed again after ``retry_delay`` seconds. Up to ``connections`` POSTs at once (the
        Bot API's ``max_connections``), but like Telegram's Bot API server (``WebhookActor``
        in github.com/tdlib/telegram-bot-api: one queue per ``webhook_queue_id``) never two of
        one queue: a chat's next message is sent only once its previous one was answered with
        a 2xx; button presses queue per user (:func:`webhook_queue`).
        ``redeliver_every`` (``n > 0``): every n-th confirmed update is POSTed once more before
        its queue moves on, as Telegram does when our answer was lost (in
        :attr:`redelivered`). Runs until :meth:`stop_webhook_delivery` (or :meth:`stop`).
        """
        if self._pusher is not None:
            raise RuntimeError("already delivering by webhook")
        self._pusher = asyncio.create_task(
            self._push(url, secret, retry_delay, max(1, connections), redeliver_every)
        )

    async def stop_webhook_delivery(self) -> None:
        """Stop pushing updates to the webhook."""
        pusher, self._pusher = self._pusher, None
        if pusher is not None:
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pusher

    async def _push(
        self,
        url: str,
        secret: str | None,
        retry_delay: float,
        connections: int,
        redeliver_every: int,
    ) -> None:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        timeout = aiohttp.ClientTimeout(total=10)
        busy: set[tuple[str, int]] = set()  # queues with a POST in flight
        confirmed = 0

        async def post(update: JSONDict) -> int:
            try:
                async with http.post(url, json=update, headers=headers) as response:
                    await response.read()
                    return response.status
            except (aiohttp.ClientError, TimeoutError):
                return 0

        async def connection() -> None:
            nonlocal confirmed
            while True:
                queued = next((q for q in self._queue if webhook_queue(q.update) not in busy), None)
                if queued is None:
                    wakeup = self._wakeup
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wakeup.wait(), 0.1)
                    continue
                key = webhook_queue(queued.update)
                busy.add(key)
                try:
                    status = await post(queued.update)
                    self.webhook_attempts.append((queued.update_id, status))
                    if 200 <= status < 300:
                        self._queue = [q for q in self._queue if q is not queued]
                        self.delivered.append(copy.deepcopy(queued.update))
                        confirmed += 1
                        if redeliver_every and confirmed % redeliver_every == 0:
                            again = await post(queued.update)  # "our answer was lost"
                            self.webhook_attempts.append((queued.update_id, again))
                            self.redelivered.append(queued.update_id)
                    else:
                        await asyncio.sleep(retry_delay)
                finally:
                    busy.discard(key)
                self._notify()

        async with aiohttp.ClientSession(
            timeout=timeout, connector=aiohttp.TCPConnector(limit=connections)
        ) as http:
            await asyncio.gather(*(connection() for _ in range(connections)))

    # ------------------------------------------------------------------ inspecting

    def messages(self, chat_id: int) -> list[SentMessage]:
        """The bot's messages in ``chat_id`` in send order, edits applied, deletions removed."""
        return [self._current[(chat_id, mid)] for mid in self._order.get(chat_id, [])]

    def last(self, chat_id: int) -> SentMessage:
        """The bot's latest message in ``chat_id`` (current state)."""
        messages = self.messages(chat_id)
        if not messages:
            raise AssertionError(f"the bot sent nothing to chat {chat_id}\n{self.dump()}")
        return messages[-1]

    @property
    def commands(self) -> list[JSONDict]:
        """The command list of the default scope and language, as set with ``setMyCommands``."""
        return copy.deepcopy(self._commands.get(("default", ""), []))

    def commands_for(
        self, scope: JSONDict | None = None, language_code: str = ""
    ) -> list[JSONDict]:
        """The command list of ``scope`` (a BotCommandScope dict) and ``language_code``."""
        return copy.deepcopy(self._commands.get((_scope_key(scope), language_code), []))

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Queued updates not yet confirmed by an ``offset`` (delivered or not)."""
        return [copy.deepcopy(q.update) for q in self._queue]

    @property
    def unanswered_callbacks(self) -> list[JSONDict]:
        """Callback queries pressed but not answered with ``answerCallbackQuery``."""
        return [q for qid, q in self._queries.items() if qid not in self._answered]

    def calls_of(self, method: str) -> list[JSONDict]:
        """The parameters of every call of ``method`` (case-insensitive), in order."""
        canonical = self._canonical(method)
        return [params for name, params in self.calls if name == canonical]

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        timeout: float = 10,  # noqa: ASYNC109 - a polling helper; the timeout is its API
    ) -> None:
        """Poll ``predicate`` until it is true; after ``timeout`` seconds fail with a state dump.

        Raises:
            AssertionError: The predicate stayed false.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            if loop.time() >= deadline:
                name = getattr(predicate, "__qualname__", repr(predicate))
                raise AssertionError(
                    f"wait_for({name}) still false after {timeout}s\n{self.dump()}"
                )
            await asyncio.sleep(0.01)

    def dump(self, last_calls: int = 25) -> str:
        """A readable summary of the fake's state (for failure messages)."""
        where = self.url if self._port is not None else "(stopped)"
        lines = [f"FakeTelegram {where}, bot @{self.bot_username}"]
        lines.append(f"last {last_calls} of {len(self.calls)} calls:")
        for method, params in self.calls[-last_calls:]:
            shown = ", ".join(f"{k}={_short(v)}" for k, v in params.items())
            lines.append(f"  {method}({shown})")
        lines.append("messages by chat (current state):")
        for chat_id in self._order:
            for message in self.messages(chat_id):
                flags = " (edited)" if message.edited else ""
                flags += " [photo]" if message.photo else ""
                lines.append(
                    f"  {chat_id}#{message.message_id}{flags}: {_short(message.plain_text)} "
                    f"buttons={message.buttons()}"
                )
        lines.append(f"pending updates: {[q.update_id for q in self._queue]}")
        lines.append(f"unanswered callback queries: {len(self.unanswered_callbacks)}")
        lines.append(f"violations: {self.violations or 'none'}")
        return "\n".join(lines)

    # ------------------------------------------------------------------ HTTP

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/file/bot"):
            return self._serve_file(path.removeprefix("/file/bot"))
        match = re.fullmatch(r"/bot([^/]+)/([A-Za-z0-9_]+)/?", path)
        if match is None:
            return _error_response(ApiError(404, "Not Found"))
        token, method = match.groups()
        if token != self.token:
            return _error_response(ApiError(401, "Unauthorized"))
        canonical = self._canonical(method)
        raw: JSONDict = {}
        try:
            raw = await _read_raw_params(request)
            params = _decode_params(raw)
        except ApiError as exc:
            self.calls.append((canonical, raw))  # undecodable: recorded as received
            return _error_response(exc)
        self.calls.append((canonical, params))
        if self.on_call is not None and self.on_call(canonical, params):
            return web.Response(status=502, text="dropped")
        injected = self._take_failure(canonical)
        if injected is not None:
            return injected
        entry = self._methods.get(method.lower())
        if entry is None:
            return _error_response(ApiError(404, "Not Found"))
        try:
            result = await entry[1](params)
        except ApiError as exc:
            return _error_response(exc)
        return web.json_response({"ok": True, "result": result})

    def _serve_file(self, rest: str) -> web.Response:
        token, _, file_path = rest.partition("/")
        if token != self.token:
            return _error_response(ApiError(401, "Unauthorized"))
        for stored in self._files.values():
            if stored.file_path == file_path:
                return web.Response(body=stored.data, content_type="application/octet-stream")
        return _error_response(ApiError(404, "Not Found"))

    def _take_failure(self, method: str) -> web.Response | None:
        pending = self._failures.get(method)
        if not pending:
            return None
        failure = pending[0]
        failure.times -= 1
        if failure.times <= 0:
            pending.pop(0)
        if failure.status == 502:
            body = (
                "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
                "</body>\r\n</html>\r\n"
            )
            return web.Response(status=502, text=body, content_type="text/html")
        if failure.status == 429:
            return _error_response(
                ApiError(
                    429,
                    failure.description or f"Too Many Requests: retry after {failure.retry_after}",
                    retry_after=failure.retry_after,
                )
            )
        default = {
            400: "Bad Request: injected failure",
            403: "Forbidden: injected failure",
            409: "Conflict: injected failure",
            500: "Internal Server Error",
        }.get(failure.status, "Injected failure")
        return _error_response(ApiError(failure.status, failure.description or default))

    def _canonical(self, method: str) -> str:
        entry = self._methods.get(method.lower())
        return entry[0] if entry else method

    # ------------------------------------------------------------------ state helpers

    def _enqueue(self, body: JSONDict) -> JSONDict:
        update: JSONDict = {"update_id": next(self._update_ids), **body}
        self._queue.append(_Queued(update))
        self._notify()
        return copy.deepcopy(update)

    def _notify(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    def _remember_user(
        self, user_id: int, first_name: str, username: str | None, language_code: str = "en"
    ) -> JSONDict:
        user: JSONDict = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": language_code,
        }
        if username:
            user["username"] = username
        self._users[user_id] = user
        return user

    def _remember_chat(
        self, chat_id: int, chat_type: str, user: JSONDict, title: str | None
    ) -> JSONDict:
        known = self._chats.get(chat_id)
        if known is not None and known["type"] != chat_type:
            raise ValueError(f"chat {chat_id} is a {known['type']} chat, not {chat_type}")
        if chat_type == "private":
            chat: JSONDict = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
            if "username" in user:
                chat["username"] = user["username"]
        else:
            default_title = known["title"] if known else f"Test {chat_type} {chat_id}"
            chat = {"id": chat_id, "type": chat_type, "title": title or default_title}
        self._chats[chat_id] = chat
        return chat

    def _new_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _bot_user(self) -> JSONDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Stardom Coach",
            "username": self.bot_username,
        }

    def _private_member_update(self, user_id: int, old: str, new: str) -> None:
        user = self._users.get(user_id) or self._remember_user(user_id, "Maya", None)
        chat = self._chats.get(user_id) or self._remember_chat(user_id, "private", user, None)
        self._chat_member_update(chat, user, old, new)

    def _chat_member_update(self, chat: JSONDict, user: JSONDict, old: str, new: str) -> None:
        """Queue ``my_chat_member``: ``user`` changed the bot's status in ``chat``."""

        def member(status: str) -> JSONDict:
            state: JSONDict = {"status": status, "user": self._bot_user()}
            if status == "kicked":
                state["until_date"] = 0
            return state

        self._enqueue(
            {
                "my_chat_member": {
                    "chat": copy.deepcopy(chat),
                    "from": copy.deepcopy(user),
                    "date": int(time.time()),
                    "old_chat_member": member(old),
                    "new_chat_member": member(new),
                }
            }
        )

    def _message_json(self, message: SentMessage, *, with_reply: bool = True) -> JSONDict:
        data: JSONDict = {
            "message_id": message.message_id,
            "from": self._bot_user(),
            "chat": copy.deepcopy(self._chats[message.chat_id]),
            "date": message.date,
        }
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        if message.photo:
            stored = self._files.get(message.file_id or "")
            data["photo"] = [_photo_size(stored)] if stored else []
            if message.caption is not None:
                data["caption"] = message.plain_text
                if message.entities:
                    data["caption_entities"] = copy.deepcopy(message.entities)
        elif message.document is not None:
            data["document"] = {
                "file_id": message.file_id,
                "file_unique_id": f"doc-{message.file_id}",
                "file_name": message.document_name or "file",
                "file_size": len(message.document),
            }
            if message.caption is not None:
                data["caption"] = message.plain_text
        else:
            data["text"] = message.plain_text
            if message.entities:
                data["entities"] = copy.deepcopy(message.entities)
        if message.inline_keyboard is not None:
            data["reply_markup"] = copy.deepcopy(message.inline_keyboard)
        if with_reply and message.reply_to_message_id is not None:
            # Telegram nests one level only
            replied = self._any_message_json(message.chat_id, message.reply_to_message_id)
            if replied is not None:
                data["reply_to_message"] = replied
        return data

    def _any_message_json(self, chat_id: int, message_id: int) -> JSONDict | None:
        user_message = self._user_messages.get((chat_id, message_id))
        if user_message is not None:
            return copy.deepcopy(user_message)
        bot_message = self._current.get((chat_id, message_id))
        return self._message_json(bot_message, with_reply=False) if bot_message else None

    def _target_chat(self, params: JSONDict) -> int:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad("chat_id is empty")
        if not isinstance(chat_id, int):
            raise _bad("chat not found")
        if chat_id in self._deactivated:
            raise ApiError(403, DEACTIVATED)
        if chat_id in self._deleted:
            raise _bad("chat not found")
        moved = self._migrated.get(chat_id)
        if moved is not None:
            raise ApiError(400, UPGRADED, migrate_to_chat_id=moved)
        if chat_id not in self._chats:
            if chat_id in self._users:  # seen in a group, never opened a private chat
                raise ApiError(403, CANT_INITIATE)
            raise _bad("chat not found")
        if chat_id in self._blocked:
            raise ApiError(403, BLOCKED)
        banned = self._removed.get(chat_id)
        if banned is not None:
            chat_type = self._chats[chat_id]["type"]
            raise ApiError(403, kicked_from(chat_type) if banned else not_a_member(chat_type))
        return chat_id

    def _bot_message(self, params: JSONDict, missing: str) -> SentMessage:
        if params.get("inline_message_id"):
            raise _bad("inline_message_id is not supported by FakeTelegram")
        chat_id = self._target_chat(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise _bad("message identifier is not specified")
        current = self._current.get((chat_id, message_id))
        if current is None:
            if (chat_id, message_id) in self._user_messages:
                raise _bad("message can't be edited")
            raise _bad(missing)
        return current

    def _count_message(self, method: str, chat_id: int) -> None:
        """Log flood-limit violations of one more message; refuse it if enforcing."""
        now = self.monotonic()
        while self._global_times and now - self._global_times[0] > 60:
            self._global_times.popleft()
        chat_times = self._chat_times.setdefault(chat_id, deque())
        while chat_times and now - chat_times[0] > 60:
            chat_times.popleft()
        found: list[str] = []
        overall = 1 + sum(1 for t in self._global_times if now - t < 1)
        if overall > GLOBAL_PER_SECOND:
            found.append(
                f"{method} to {chat_id}: {overall} messages within 1s overall "
                f"(limit {GLOBAL_PER_SECOND}/s)"
            )
        chat_type = self._chats[chat_id]["type"]
        if chat_type == "private":
            burst = 1 + sum(1 for t in chat_times if now - t < 1)
            if burst > PRIVATE_BURST_PER_SECOND:
                found.append(
                    f"{method} to private chat {chat_id}: {burst} messages within 1s "
                    f"(about 1/s sustained, bursts up to {PRIVATE_BURST_PER_SECOND})"
                )
        else:
            per_minute = 1 + sum(1 for t in chat_times if now - t < 60)
            if per_minute > GROUP_PER_MINUTE:
                found.append(
                    f"{method} to {chat_type} chat {chat_id}: {per_minute} messages within 60s "
                    f"(limit {GROUP_PER_MINUTE}/min)"
                )
        self.violations.extend(found)
        if found and self.enforce_limits:
            raise ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
        self._global_times.append(now)
        chat_times.append(now)

    def _render(
        self, text: str, parse_mode: str | None, entities: Any, *, caption: bool
    ) -> tuple[str, list[JSONDict]]:
        mode = (parse_mode or "").lower()
        if mode == "html":
            plain, parsed = parse_html(text)
        elif mode in ("", "markdown", "markdownv2"):
            plain = text
            parsed = list(entities) if isinstance(entities, list) and not mode else []
        else:
            raise _bad("unsupported parse_mode")
        if caption:
            if utf16_len(plain) > MAX_CAPTION:
                raise _bad("message caption is too long")
        elif not plain.strip():
            raise _bad("message text is empty")
        elif utf16_len(plain) > MAX_TEXT:
            raise _bad("message is too long")
        return plain, parsed

    def _check_reply_to(self, chat_id: int, params: JSONDict) -> int | None:
        reply = params.get("reply_parameters")
        allow = bool(params.get("allow_sending_without_reply"))
        message_id: Any = params.get("reply_to_message_id")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow = allow or bool(reply.get("allow_sending_without_reply"))
            if reply.get("chat_id") not in (None, chat_id):
                raise _bad("replies to other chats are not supported by FakeTelegram")
        if message_id is None:
            return None
        if self._any_message_json(chat_id, int(message_id)) is None:
            if allow:
                return None
            raise _bad("message to be replied not found")
        return int(message_id)

    def _deliver(self, message: SentMessage) -> JSONDict:
        key = (message.chat_id, message.message_id)
        self._current[key] = message
        self._order.setdefault(message.chat_id, []).append(message.message_id)
        self.sent.append(message)
        return self._message_json(message)

    def _caption(self, params: JSONDict) -> tuple[str | None, str | None, str, list[JSONDict]]:
        """A photo's or document's optional caption: as sent, its parse mode, plain text and
        entities (rendered like a message text)."""
        caption = params.get("caption")
        parse_mode = params.get("parse_mode") or None
        if not isinstance(caption, str):
            return None, parse_mode, "", []
        plain, entities = self._render(
            caption, parse_mode, params.get("caption_entities"), caption=True
        )
        return caption, parse_mode, plain, entities

    def _apply_edit(self, method: str, before: SentMessage, after: SentMessage) -> JSONDict:
        """Record an edit, refused as Telegram does when nothing would change."""
        if _same_content(before, after):
            raise _bad(NOT_MODIFIED.removeprefix("Bad Request: "))
        self._count_message(method, before.chat_id)
        now = time.time()
        after = replace(after, edited=True, edit_date=int(now), ts=now)
        self._current[(after.chat_id, after.message_id)] = after
        self.edits.append(Edit(method, after.chat_id, after.message_id, before, after, now))
        return self._message_json(after)

    # ------------------------------------------------------------------ methods

    async def _get_me(self, params: JSONDict) -> JSONDict:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        limit = params.get("limit") or 100
        if not isinstance(limit, int) or not 1 <= limit <= 100:
            limit = 100
        timeout = params.get("timeout") or 0
        timeout = min(float(timeout), 50.0) if isinstance(timeout, int | float) else 0.0
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else None

        if isinstance(offset, int) and offset > 0:
            # confirm everything before offset, except replays not yet delivered again
            confirmed = [
                q.update_id for q in self._queue if q.update_id < offset and not q.replayed
            ]
            self._queue = [q for q in self._queue if q.update_id >= offset or q.replayed]
            if confirmed and self.on_confirm is not None:
                self.on_confirm(confirmed)

        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an older long poll is terminated (409), as on Telegram

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            wakeup = self._wakeup
            if self._stopping:
                return []
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running",
                )
            batch = self._collect(limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0:
                return batch
            try:
                await asyncio.wait_for(wakeup.wait(), remaining)
            except TimeoutError:
                pass

    def _collect(self, limit: int) -> list[JSONDict]:
        allowed = self._allowed_updates
        kept: list[_Queued] = []
        for queued in self._queue:
            if allowed is not None:
                wanted = queued.kind in allowed
            else:
                wanted = queued.kind not in _DEFAULT_EXCLUDED_UPDATES
            if wanted:
                kept.append(queued)
        self._queue = kept
        batch = self._queue[:limit]
        for queued in batch:
            queued.replayed = False
            self.delivered.append(copy.deepcopy(queued.update))
        return [copy.deepcopy(q.update) for q in batch]

    async def _set_webhook(self, params: JSONDict) -> bool:
        self.webhook_url = str(params.get("url") or "")
        if params.get("drop_pending_updates"):
            self._queue.clear()
        return True

    async def _delete_webhook(self, params: JSONDict) -> bool:
        self.webhook_url = ""
        if params.get("drop_pending_updates"):
            self._queue.clear()
        return True

    async def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }

    async def _set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > MAX_COMMANDS:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        stored: list[JSONDict] = []
        for item in commands:
            if not isinstance(item, dict):
                raise _bad("can't parse BotCommand JSON object")
            command = item.get("command")
            description = item.get("description")
            if not isinstance(command, str) or not _COMMAND_RE.fullmatch(command):
                raise _bad("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            stored.append({"command": command, "description": description})
        key = (self._scope(params), str(params.get("language_code") or ""))
        self._commands[key] = stored
        return True

    async def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        key = (self._scope(params), str(params.get("language_code") or ""))
        return copy.deepcopy(self._commands.get(key, []))

    async def _delete_my_commands(self, params: JSONDict) -> bool:
        key = (self._scope(params), str(params.get("language_code") or ""))
        self._commands.pop(key, None)
        return True

    def _scope(self, params: JSONDict) -> str:
        """A command scope checked as Telegram checks it: a known type; the chat of a chat scope
        must be one the bot has (a person who never opened a private chat with it is not:
        "chat not found"); ``chat_member`` names a user. Its key in :attr:`_commands`."""
        scope = params.get("scope")
        if scope is None:
            return "default"
        if not isinstance(scope, dict) or scope.get("type") not in _SCOPE_TYPES:
            raise _bad("can't parse BotCommandScope JSON object")
        if scope["type"] in {"chat", "chat_administrators", "chat_member"}:
            chat_id = scope.get("chat_id")
            if not isinstance(chat_id, int) or chat_id not in self._chats:
                raise _bad("chat not found")
            if scope["type"] == "chat_member" and not isinstance(scope.get("user_id"), int):
                raise _bad("user not found")
        return _scope_key(scope)

    async def _send_message(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        text = params.get("text")
        if not isinstance(text, str) or text == "":
            raise _bad("message text is empty")
        parse_mode = params.get("parse_mode") or None
        plain, entities = self._render(text, parse_mode, params.get("entities"), caption=False)
        markup = _check_markup(params.get("reply_markup"))
        reply_to = self._check_reply_to(chat_id, params)
        self._count_message("sendMessage", chat_id)
        now = time.time()
        message = SentMessage(
            message_id=self._new_message_id(chat_id),
            chat_id=chat_id,
            text=text,
            parse_mode=parse_mode,
            reply_markup=markup,
            plain_text=plain,
            entities=entities,
            date=int(now),
            ts=now,
            reply_to_message_id=reply_to,
        )
        return self._deliver(message)

    async def _send_photo(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        photo = params.get("photo")
        if isinstance(photo, UploadedFile):
            stored = self._store_file(photo.data)
        elif isinstance(photo, str) and photo in self._files:
            stored = self._files[photo]
        elif isinstance(photo, str) and re.match(r"https?://", photo):
            stored = self._store_file(b"")
        elif photo is None or photo == "":
            raise _bad("there is no photo in the request")
        else:
            raise _bad("wrong file identifier/HTTP URL specified")
        return self._deliver_media("sendPhoto", chat_id, params, photo=True, file_id=stored.file_id)

    def _deliver_media(self, method: str, chat_id: int, params: JSONDict, **media: Any) -> JSONDict:
        """A photo or document message: its optional caption rendered like a text message."""
        caption, parse_mode, plain, entities = self._caption(params)
        markup = _check_markup(params.get("reply_markup"))
        reply_to = self._check_reply_to(chat_id, params)
        self._count_message(method, chat_id)
        now = time.time()
        message = SentMessage(
            message_id=self._new_message_id(chat_id),
            chat_id=chat_id,
            text=None,
            parse_mode=parse_mode,
            reply_markup=markup,
            caption=caption,
            plain_text=plain,
            entities=entities,
            date=int(now),
            ts=now,
            reply_to_message_id=reply_to,
            **media,
        )
        return self._deliver(message)

    async def _send_document(self, params: JSONDict) -> JSONDict:
        """``sendDocument`` with an uploaded file (the only form the coach uses)."""
        chat_id = self._target_chat(params)
        document = params.get("document")
        if not isinstance(document, UploadedFile):
            raise _bad("there is no document in the request")
        return self._deliver_media(
            "sendDocument",
            chat_id,
            params,
            file_id=f"BQACAgIAAxkDAAI{next(self._file_ids):08d}FakeDoc",
            document=document.data,
            document_name=document.filename,
        )

    async def _edit_message_text(self, params: JSONDict) -> JSONDict:
        current = self._bot_message(params, "message to edit not found")
        if current.photo:
            raise _bad("there is no text in the message to edit")
        text = params.get("text")
        if not isinstance(text, str) or text == "":
            raise _bad("message text is empty")
        parse_mode = params.get("parse_mode") or None
        plain, entities = self._render(text, parse_mode, params.get("entities"), caption=False)
        markup = _check_markup(params.get("reply_markup"), inline_only=True)
        after = replace(
            current,
            text=text,
            parse_mode=parse_mode,
            plain_text=plain,
            entities=entities,
            reply_markup=markup,
        )
        return self._apply_edit("editMessageText", current, after)

    async def _edit_message_caption(self, params: JSONDict) -> JSONDict:
        current = self._bot_message(params, "message to edit not found")
        if not current.photo:
            raise _bad("there is no caption in the message to edit")
        caption, parse_mode, plain, entities = self._caption(params)
        markup = _check_markup(params.get("reply_markup"), inline_only=True)
        after = replace(
            current,
            caption=caption,
            parse_mode=parse_mode,
            plain_text=plain,
            entities=entities,
            reply_markup=markup,
        )
        return self._apply_edit("editMessageCaption", current, after)

    async def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict:
        current = self._bot_message(params, "message to edit not found")
        markup = _check_markup(params.get("reply_markup"), inline_only=True)
        after = replace(current, reply_markup=markup)
        return self._apply_edit("editMessageReplyMarkup", current, after)

    async def _delete_message(self, params: JSONDict) -> bool:
        current = self._bot_message(params, "message to delete not found")
        key = (current.chat_id, current.message_id)
        del self._current[key]
        self._order[current.chat_id].remove(current.message_id)
        self.deleted.append(key)
        return True

    async def _answer_callback_query(self, params: JSONDict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._queries or query_id in self._answered:
            raise _bad(QUERY_TOO_OLD.removeprefix("Bad Request: "))
        text = params.get("text")
        if isinstance(text, str) and len(text) > MAX_CALLBACK_ANSWER:
            raise _bad("MESSAGE_TOO_LONG")
        self._answered.add(query_id)
        self.callback_answers.append(dict(params))
        return True

    async def _send_chat_action(self, params: JSONDict) -> bool:
        chat_id = self._target_chat(params)
        action = params.get("action")
        if action not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        self.chat_actions.append((chat_id, str(action)))
        return True

    async def _get_chat_member(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        user_id = params.get("user_id")
        if not isinstance(user_id, int):
            raise _bad("invalid user_id specified")
        if user_id == self.bot_id:
            return {"status": "member", "user": self._bot_user()}
        user = self._users.get(user_id)
        if user is None:
            raise _bad("user not found")
        chat = self._chats[chat_id]
        if chat["type"] == "private":
            status = "member"
        else:
            status = self._statuses.get((chat_id, user_id), "member")
        member: JSONDict = {"status": status, "user": copy.deepcopy(user)}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                dict.fromkeys(
                    (
                        "can_be_edited",
                        "is_anonymous",
                        "can_manage_video_chats",
                        "can_restrict_members",
                        "can_promote_members",
                        "can_change_info",
                        "can_post_stories",
                        "can_edit_stories",
                        "can_delete_stories",
                    ),
                    False,
                )
            )
            member.update(can_manage_chat=True, can_delete_messages=True, can_invite_users=True)
        elif status == "kicked":
            member["until_date"] = 0
        return member

    async def _get_file(self, params: JSONDict) -> JSONDict:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _bad("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    def _store_file(self, data: bytes) -> _StoredFile:
        number = next(self._file_ids)
        width, height = _image_size(data)
        stored = _StoredFile(
            file_id=f"AgACAgIAAxkDAAI{number:08d}FakePhoto",
            file_unique_id=f"AQAD{number:08d}",
            data=data,
            width=width,
            height=height,
            file_path=f"photos/file_{number}.jpg",
        )
        self._files[stored.file_id] = stored
        return stored


# --------------------------------------------------------------------------- helpers


async def _read_raw_params(request: web.Request) -> JSONDict:
    """The call's parameters from the query string and an urlencoded/multipart/JSON body."""
    raw: JSONDict = dict(request.query)
    if request.method == "POST" and request.body_exists:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as exc:
                raise _bad("can't parse JSON body") from exc
            if not isinstance(body, dict):
                raise _bad("JSON body must be an object")
            raw.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    raw[key] = UploadedFile(value.filename, value.content_type, value.file.read())
                elif isinstance(value, bytes | bytearray):
                    raw[key] = bytes(value).decode("utf-8", "replace")
                else:
                    raw[key] = value
    return raw


def _decode_params(raw: JSONDict) -> JSONDict:
    """Decode each value by its field and resolve ``attach://`` references."""
    params = {key: _coerce(key, value) for key, value in raw.items()}
    for key, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            attached = raw.get(value.removeprefix("attach://"))
            if isinstance(attached, UploadedFile):
                params[key] = attached
    return params


def _coerce(key: str, value: Any) -> Any:
    """Decode one form value (always a string there) by what the field holds."""
    if not isinstance(value, str):
        return value
    if key in _INT_FIELDS:
        if re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        if key == "chat_id":
            return value  # @channelusername
        raise _bad(f"invalid {key} specified")
    if key in _NUMBER_FIELDS:
        try:
            number = float(value)
        except ValueError as exc:
            raise _bad(f"invalid {key} specified") from exc
        return int(number) if number.is_integer() else number
    if key in _BOOL_FIELDS:
        return value.strip().lower() in ("true", "1")
    if key in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError as exc:
            raise _bad(f"can't parse {key} JSON object") from exc
    return value


def _check_markup(markup: Any, *, inline_only: bool = False) -> JSONDict | None:
    """Validate ``reply_markup``; return it (``None`` for none or an empty inline keyboard)."""
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        if inline_only:
            raise _bad("inline keyboard expected")
        return copy.deepcopy(markup)
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    count = 0
    for row in rows:
        for button in row:
            count += 1
            if not isinstance(button, dict) or not button.get("text"):
                raise _bad("can't parse inline keyboard button: Text buttons are unallowed")
            actions = [name for name in _BUTTON_ACTIONS if name in button]
            if len(actions) != 1:
                raise _bad(
                    "can't parse inline keyboard button: InlineKeyboardButton must have exactly "
                    "one optional field"
                )
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode()) <= 64:
                    raise _bad("BUTTON_DATA_INVALID")
            if "url" in button and not re.match(r"(https?|tg)://\S+$", str(button["url"])):
                raise _bad("BUTTON_URL_INVALID")
    if count > MAX_BUTTONS:
        raise _bad("BUTTONS_TOO_MUCH")
    if count == 0:
        return None
    return copy.deepcopy(markup)


def _same_content(before: SentMessage, after: SentMessage) -> bool:
    return (
        before.plain_text == after.plain_text
        and before.entities == after.entities
        and before.inline_keyboard == after.inline_keyboard
        and (before.caption is None) == (after.caption is None)
    )


_SCOPE_TYPES: Final = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)


def _scope_key(scope: Any) -> str:
    if not isinstance(scope, dict) or scope.get("type") in (None, "default"):
        return "default"
    return json.dumps(scope, sort_keys=True)


def _error_response(error: ApiError) -> web.Response:
    body: JSONDict = {"ok": False, "error_code": error.status, "description": error.description}
    if error.retry_after is not None:
        body["parameters"] = {"retry_after": error.retry_after}
    if error.migrate_to_chat_id is not None:
        body["parameters"] = {"migrate_to_chat_id": error.migrate_to_chat_id}
    return web.json_response(body, status=error.status)


def _image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG (from its header); 800x600 for anything else."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    return 800, 600


def _photo_size(stored: _StoredFile) -> JSONDict:
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "width": stored.width,
        "height": stored.height,
        "file_size": len(stored.data),
    }


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value) if not isinstance(value, str) else value.replace("\n", "⏎")
    return text if len(text) <= limit else text[: limit - 1] + "…"
