"""The loopback Telegram Bot API fake, driven by the real python-telegram-bot 22 ``Bot``.

These tests pin the fake's contract so the Telegram adapter's tests can trust it: what PTB
sends arrives decoded, what the fake answers de-serialises into PTB objects, and its errors
surface as the same PTB exceptions the real API produces.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import re
import struct
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from fakes.telegram_api import FakeTelegram, parse_html
from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBDeprecationWarning

USER = 4242


def _png(width: int, height: int) -> bytes:
    """A valid, tiny grey PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x80" * width for _ in range(height)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _seconds(value: int | float | dtm.timedelta) -> float:
    """``RetryAfter.retry_after`` is an int, or a timedelta with ``PTB_TIMEDELTA=true``."""
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture(scope="module")
async def shared_bot(server: FakeTelegram) -> AsyncIterator[Bot]:
    # One Bot for the module: each Bot builds two httpx clients (~0.1 s of TLS setup).
    async with Bot(
        server.token, base_url=f"{server.url}/bot", base_file_url=f"{server.url}/file/bot"
    ) as client:
        yield client


@pytest.fixture
def fake(server: FakeTelegram) -> FakeTelegram:
    """The module's fake, emptied for this test."""
    server.reset()
    return server


@pytest.fixture
def bot(fake: FakeTelegram, shared_bot: Bot) -> Bot:
    return shared_bot


@pytest.fixture
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's future ``RetryAfter.retry_after`` type.

    Without ``PTB_TIMEDELTA`` PTB 22 emits a PTBDeprecationWarning while *constructing* every
    ``RetryAfter`` (its ``__init__`` reads the deprecated int property), which
    ``filterwarnings = error`` turns into the exception the caller sees instead of RetryAfter.
    """
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


async def test_get_me(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == fake.bot_id == 123456
    assert me.is_bot
    assert me.username == bot.username == "StardomCoachBot"
    assert [name for name, _ in fake.calls] == ["getMe"]


async def test_queued_message_arrives_and_offset_confirms_it(fake: FakeTelegram, bot: Bot) -> None:
    queued = fake.user_message(USER, "/start hello", username="maya_sings")
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [queued["update_id"]]
    message = updates[0].message
    assert message is not None
    assert message.text == "/start hello"
    assert message.chat.id == USER
    assert message.chat.type == "private"
    assert message.from_user is not None
    assert message.from_user.username == "maya_sings"
    assert message.parse_entities() == {message.entities[0]: "/start"}
    assert message.entities[0].type == "bot_command"

    # not confirmed yet: delivered again
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [queued["update_id"]]
    # offset confirms and drops it
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()
    assert fake.pending_updates == []


async def test_long_poll_returns_early_when_a_message_is_queued(
    fake: FakeTelegram, bot: Bot
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    assert not poll.done()
    fake.user_message(USER, "hi")
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 2
    assert updates[0].message is not None
    assert updates[0].message.text == "hi"


async def test_long_poll_times_out_empty(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=dtm.timedelta(seconds=0.2)) == ()
    assert time.monotonic() - started >= 0.15


async def test_a_second_poller_terminates_the_first_with_conflict(
    fake: FakeTelegram, bot: Bot
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    # a second bot instance (one Bot's getUpdates pool has a single connection)
    async with Bot(fake.token, base_url=f"{fake.url}/bot") as other:
        second = asyncio.create_task(other.get_updates(timeout=5))
        with pytest.raises(Conflict, match="terminated by other getUpdates"):
            await asyncio.wait_for(first, 2)
        fake.user_message(USER, "hi")
        assert len(await asyncio.wait_for(second, 2)) == 1


async def test_html_message_with_inline_keyboard_round_trips(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_message(USER, "/today")
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Done ✅", callback_data="done:12"),
                InlineKeyboardButton("Skip", callback_data="skip:12"),
            ],
            [InlineKeyboardButton("Guide", url="https://example.org/guide")],
        ]
    )
    html_text = (
        "🎸 <b>Step 1</b> &amp; <i>more</i>\n<a href='https://example.org/?a=1&amp;b=2'>x</a>"
    )
    message = await bot.send_message(
        USER, html_text, parse_mode=ParseMode.HTML, reply_markup=keyboard
    )

    # what PTB got back
    assert message.text == "🎸 Step 1 & more\nx"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [
        ("bold", 3, 6),  # the emoji is 2 UTF-16 units
        ("italic", 12, 4),
        ("text_link", 17, 1),
    ]
    assert message.entities[2].url == "https://example.org/?a=1&b=2"
    assert (
        message.text_html
        == '🎸 <b>Step 1</b> &amp; <i>more</i>\n<a href="https://example.org/?a=1&b=2">x</a>'
    )
    assert message.reply_markup == keyboard
    assert message.from_user is not None
    assert message.from_user.id == fake.bot_id
    assert message.message_id == 2  # the user's /today was 1 in this chat

    # what the fake stored
    sent = fake.last(USER)
    assert sent.text == html_text
    assert sent.plain_text == message.text
    assert sent.parse_mode == "HTML"
    assert sent.buttons() == [
        ("Done ✅", "done:12"),
        ("Skip", "skip:12"),
        ("Guide", "https://example.org/guide"),
    ]
    assert fake.sent == [sent]
    name, params = fake.calls[-1]
    assert name == "sendMessage"
    assert params["chat_id"] == USER  # decoded from the form's "4242"
    assert params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "done:12"

    # the user presses a button: the callback query carries the stored message
    pressed = fake.press_button(USER, message.message_id, "skip:12")
    (update,) = await bot.get_updates(offset=pressed["update_id"], timeout=0)
    query = update.callback_query
    assert query is not None
    assert query.data == "skip:12"
    assert query.from_user.id == USER
    assert query.message is not None
    assert query.message.message_id == message.message_id
    with pytest.raises(ValueError, match="no button"):
        fake.press_button(USER, message.message_id, "nope")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("x" * 4097, "message is too long"),
        ("🎸" * 2049, "message is too long"),  # 4098 UTF-16 units
        ("<b>" + "x" * 4097 + "</b>", "message is too long"),
        ("   ", "message text is empty"),
        ("<b></b>", "message text is empty"),
        ("<b>unclosed", "can't parse entities"),
        ("<b><i>x</b></i>", "can't parse entities"),
        ("line<br>break", "can't parse entities"),
        ("Tom & Jerry", "can't parse entities"),
        ("1 < 2", "can't parse entities"),
        ("2 > 1", "can't parse entities"),
        ('<span class="x">y</span>', "can't parse entities"),
    ],
)
async def test_invalid_text_is_a_bad_request(
    fake: FakeTelegram, bot: Bot, text: str, error: str
) -> None:
    fake.user_message(USER, "hi")
    with pytest.raises(BadRequest, match=f"(?i){re.escape(error)}"):
        await bot.send_message(USER, text, parse_mode=ParseMode.HTML)
    assert fake.sent == []


async def test_length_limit_counts_text_after_tags(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_message(USER, "hi")
    message = await bot.send_message(USER, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    assert len(message.text or "") == 4096
    # without a parse mode, markup is just text
    plain = await bot.send_message(USER, "Tom & <Jerry>")
    assert plain.text == "Tom & <Jerry>"


async def test_unknown_chat_is_a_bad_request(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999, "hello?")


@pytest.mark.parametrize(
    "data",
    ["x" * 65, "é" * 33, ""],  # 65 bytes; 66 bytes in 33 characters; empty
)
async def test_bad_callback_data_is_a_bad_request(fake: FakeTelegram, bot: Bot, data: str) -> None:
    fake.user_message(USER, "hi")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data=data)]])
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "pick", reply_markup=markup)


async def test_at_most_100_buttons(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_message(USER, "hi")
    rows = [[InlineKeyboardButton(str(i), callback_data=str(i))] for i in range(101)]
    with pytest.raises(BadRequest, match=r"(?i)BUTTONS_TOO_MUCH"):
        await bot.send_message(USER, "pick", reply_markup=InlineKeyboardMarkup(rows))
    await bot.send_message(USER, "pick", reply_markup=InlineKeyboardMarkup(rows[:100]))


async def test_edits(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_message(USER, "hi")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Done", callback_data="done")]])
    message = await bot.send_message(USER, "<b>Step</b>", parse_mode="HTML", reply_markup=keyboard)

    # same rendered text and markup: not modified (even though the source differs)
    with pytest.raises(BadRequest, match=r"(?i)not modified") as caught:
        await bot.edit_message_text(
            "<strong>Step</strong>",
            chat_id=USER,
            message_id=message.message_id,
            parse_mode="HTML",
            reply_markup=keyboard,
        )
    # PTB strips "Bad Request: " and str.capitalize()s the rest: match case-insensitively
    assert caught.value.message.startswith("Message is not modified: specified new message")
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_reply_markup(USER, message.message_id, reply_markup=keyboard)

    # editMessageText without reply_markup removes the inline keyboard, as on Telegram
    edited = await bot.edit_message_text("Step ✔", chat_id=USER, message_id=message.message_id)
    assert isinstance(edited, type(message))
    assert edited.text == "Step ✔"
    assert edited.edit_date is not None
    assert edited.reply_markup is None
    current = fake.last(USER)
    assert current.edited
    assert current.text == "Step ✔"
    assert current.buttons() == []
    assert fake.sent[0].text == "<b>Step</b>"  # `sent` keeps the original
    assert [e.method for e in fake.edits] == ["editMessageText"]
    assert fake.edits[0].before.buttons() == [("Done", "done")]

    await bot.edit_message_reply_markup(USER, message.message_id, reply_markup=keyboard)
    assert fake.last(USER).buttons() == [("Done", "done")]

    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=99)
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await bot.edit_message_text("x", chat_id=USER, message_id=1)  # the user's message


async def test_answer_callback_query_once(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_message(USER, "hi")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Done", callback_data="done")]])
    message = await bot.send_message(USER, "Step", reply_markup=keyboard)
    fake.press_button(USER, message.message_id, "done")
    updates = await bot.get_updates(timeout=0)
    query = updates[-1].callback_query
    assert query is not None
    assert fake.unanswered_callbacks != []

    assert await query.answer("Saved!")
    assert fake.callback_answers == [{"callback_query_id": query.id, "text": "Saved!"}]
    assert fake.unanswered_callbacks == []
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await query.answer("again")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("no-such-query")


async def test_fail_next_429_raises_retry_after(
    fake: FakeTelegram, bot: Bot, timedelta_retry_after: None
) -> None:
    fake.user_message(USER, "hi")
    fake.fail_next("sendMessage", status=429, retry_after=1)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "one")
    assert _seconds(caught.value.retry_after) == 1
    assert fake.sent == []
    # only the next call failed
    await bot.send_message(USER, "one")
    assert [m.text for m in fake.messages(USER)] == ["one"]


async def test_retry_after_warns_without_ptb_timedelta(
    fake: FakeTelegram, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Documents the trap: without PTB_TIMEDELTA every RetryAfter warns on construction.
    monkeypatch.delenv("PTB_TIMEDELTA", raising=False)
    fake.fail_next("getMe")
    with pytest.warns(PTBDeprecationWarning, match="retry_after"), pytest.raises(RetryAfter):
        await bot.get_me()


@pytest.mark.parametrize("status", [500, 502])
async def test_fail_next_server_errors_are_network_errors(
    fake: FakeTelegram, bot: Bot, status: int
) -> None:
    fake.user_message(USER, "hi")
    fake.fail_next("sendmessage", status=status, times=2)  # method names are case-insensitive
    for _ in range(2):
        with pytest.raises(NetworkError) as caught:
            await bot.send_message(USER, "one")
        assert not isinstance(caught.value, BadRequest | RetryAfter)
    await bot.send_message(USER, "one")
    assert len(fake.sent) == 1
    assert [name for name, _ in fake.calls].count("sendMessage") == 3


async def test_block_answers_forbidden_and_queues_my_chat_member(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.user_message(USER, "hi")
    await bot.send_message(USER, "welcome")
    fake.block(USER)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(USER, "still there?")
    with pytest.raises(Forbidden):
        await bot.send_chat_action(USER, "typing")

    updates = await bot.get_updates(timeout=0)
    member = updates[-1].my_chat_member
    assert member is not None
    assert member.chat.id == USER
    assert member.old_chat_member.status == ChatMember.MEMBER
    assert member.new_chat_member.status == ChatMember.BANNED  # "kicked"
    assert member.new_chat_member.user.id == fake.bot_id

    # writing again unblocks: kicked → member, then the message
    fake.user_message(USER, "/start")
    back = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    assert back[0].my_chat_member is not None
    assert back[0].my_chat_member.new_chat_member.status == ChatMember.MEMBER
    assert back[1].message is not None
    await bot.send_message(USER, "welcome back")
    assert [m.text for m in fake.messages(USER)] == ["welcome", "welcome back"]


async def test_forbidden_answers_are_worded_as_telegram_words_them(
    fake: FakeTelegram, bot: Bot
) -> None:
    """Each reason Telegram refuses a send with 403, with its exact description."""
    group, supergroup, gone, lurker = -555, -100_555, 4343, 4444
    fake.user_message(USER, "/remind daily 18:00", chat_id=group, chat_type="group")
    fake.user_message(lurker, "hi all", chat_id=supergroup, chat_type="supergroup")
    fake.user_message(gone, "/start")

    # seen only in a group, never opened a private chat with the bot
    with pytest.raises(Forbidden) as caught:
        await bot.send_message(lurker, "nudge")
    assert caught.value.message == "Forbidden: bot can't initiate conversation with a user"
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):  # never seen at all
        await bot.send_message(999_999, "hello?")

    fake.deactivate(gone)
    with pytest.raises(Forbidden) as caught:
        await bot.send_message(gone, "still there?")
    assert caught.value.message == "Forbidden: user is deactivated"
    with pytest.raises(ValueError, match="deleted"):
        fake.user_message(gone, "hi")

    fake.remove_bot(group, by=USER)
    fake.remove_bot(supergroup, by=lurker, banned=False)
    with pytest.raises(Forbidden) as caught:
        await bot.send_message(group, "hello?")
    assert caught.value.message == "Forbidden: bot was kicked from the group chat"
    with pytest.raises(Forbidden) as caught:
        await bot.send_chat_action(supergroup, "typing")
    assert caught.value.message == "Forbidden: bot is not a member of the supergroup chat"
    with pytest.raises(ValueError, match="not in chat"):
        fake.user_message(USER, "anyone?", chat_id=group, chat_type="group")

    updates = await bot.get_updates(timeout=0)
    removals = [u.my_chat_member for u in updates if u.my_chat_member is not None]
    assert [(m.chat.id, m.from_user.id, m.new_chat_member.status) for m in removals] == [
        (group, USER, ChatMember.BANNED),
        (supergroup, lurker, ChatMember.LEFT),
    ]
    fake.add_bot(group, by=USER)
    fake.remove_bot(group, by=USER, banned=False)
    with pytest.raises(Forbidden, match="bot is not a member of the group chat"):
        await bot.send_message(group, "hello?")
    fake.add_bot(group, by=USER)
    await bot.send_message(group, "back")
    assert fake.last(group).text == "back"
    # the private chat exists once they write to the bot there
    fake.user_message(lurker, "/start")
    await bot.send_message(lurker, "welcome")


async def test_allowed_updates_filters(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_message(USER, "hi")
    fake.block(USER)
    updates = await bot.get_updates(timeout=0, allowed_updates=[Update.MESSAGE])
    assert [u.message is not None for u in updates] == [True]
    assert len(fake.pending_updates) == 1  # the message, not yet confirmed


async def test_set_my_commands_is_stored(fake: FakeTelegram, bot: Bot) -> None:
    commands = [BotCommand("start", "Begin your path"), BotCommand("today", "Today's step")]
    assert await bot.set_my_commands(commands)
    assert fake.commands == [
        {"command": "start", "description": "Begin your path"},
        {"command": "today", "description": "Today's step"},
    ]
    assert await bot.get_my_commands() == tuple(commands)
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Start-Now", "x")])
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_DESCRIPTION_INVALID"):
        await bot.set_my_commands([BotCommand("start", "")])
    assert len(fake.commands) == 2


async def test_commands_are_kept_per_scope(fake: FakeTelegram, bot: Bot) -> None:
    private, groups = [BotCommand("start", "Begin")], [BotCommand("today", "Today")]
    assert await bot.set_my_commands(private, scope=BotCommandScopeAllPrivateChats())
    assert await bot.set_my_commands(groups, scope=BotCommandScopeAllGroupChats())
    assert fake.commands == [], "the default scope is its own"
    assert fake.commands_for({"type": "all_private_chats"}) == [
        {"command": "start", "description": "Begin"}
    ]
    assert await bot.get_my_commands(scope=BotCommandScopeAllGroupChats()) == tuple(groups)
    # a chat scope needs a chat the bot has: a person who never opened one is not found
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.set_my_commands(private, scope=BotCommandScopeChat(USER))
    fake.open_private_chat(USER)
    assert await bot.set_my_commands(private, scope=BotCommandScopeChat(USER))
    assert fake.commands_for({"type": "chat", "chat_id": USER}) == [
        {"command": "start", "description": "Begin"}
    ]
    assert await bot.delete_my_commands(scope=BotCommandScopeChat(USER))
    assert fake.commands_for({"type": "chat", "chat_id": USER}) == []
    with pytest.raises(BadRequest, match=r"(?i)BotCommandScope"):
        await bot.set_my_commands(private, scope=BotCommandScope("everyone"))


async def test_send_photo_bytes(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_message(USER, "/chart")
    png = _png(3, 2)
    message = await bot.send_photo(
        USER, photo=png, caption="<b>Progress</b> this week", parse_mode="HTML"
    )
    assert message.caption == "Progress this week"
    assert message.caption_entities[0].type == "bold"
    biggest = message.photo[-1]
    assert (biggest.width, biggest.height, biggest.file_size) == (3, 2, len(png))

    stored = fake.last(USER)
    assert stored.photo
    assert stored.text is None
    assert stored.caption == "<b>Progress</b> this week"
    assert stored.file_id == biggest.file_id

    # the file can be fetched back through base_file_url, and re-sent by file_id
    downloaded = await (await bot.get_file(biggest.file_id)).download_as_bytearray()
    assert bytes(downloaded) == png
    again = await bot.send_photo(USER, photo=biggest.file_id)
    assert again.photo[-1].file_id == biggest.file_id
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await bot.send_photo(USER, photo=png, caption="x" * 1025)


async def test_wrong_token_and_unknown_method(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(InvalidToken, match="rejected by the server"):
        async with Bot("999:WRONG", base_url=f"{fake.url}/bot"):
            pass
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("frobnicate")


async def test_replayed_updates_come_back_with_their_ids(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_message(USER, "one")
    fake.user_message(USER, "two")
    batch = await bot.get_updates(timeout=0)
    offset = batch[-1].update_id + 1
    assert await bot.get_updates(offset=offset, timeout=0) == ()

    fake.replay(fake.delivered[-2:])
    again = await bot.get_updates(offset=offset, timeout=0)  # past them, still delivered
    assert [u.update_id for u in again] == [u.update_id for u in batch]
    assert [u.message.text for u in again if u.message] == ["one", "two"]
    assert await bot.get_updates(offset=offset, timeout=0) == ()


async def test_violation_log_catches_a_burst_across_chats(fake: FakeTelegram, bot: Bot) -> None:
    users = range(1000, 1040)
    for user in users:
        fake.user_message(user, "hi")
    fake.monotonic = lambda: 1000.0  # the whole burst in one second, however loaded the machine
    await asyncio.gather(*(bot.send_message(user, "news") for user in users))
    assert len(fake.sent) == 40
    assert len(fake.violations) == 10  # messages 31..40
    assert all("within 1s overall" in v for v in fake.violations)


async def test_violation_log_per_chat_limits(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_message(USER, "hi")
    for i in range(3):  # a short burst is fine
        await bot.send_message(USER, f"part {i}")
    assert fake.violations == []
    await bot.send_message(USER, "part 4")
    assert len(fake.violations) == 1
    assert f"private chat {USER}" in fake.violations[0]

    group = -100_777
    fake.user_message(USER, "/today", chat_id=group, chat_type="supergroup")
    for i in range(21):
        await bot.send_message(group, f"{i}")
    assert any(f"supergroup chat {group}" in v and "60s" in v for v in fake.violations)


async def test_enforced_limits_answer_429(
    fake: FakeTelegram, bot: Bot, timedelta_retry_after: None
) -> None:
    fake.enforce_limits = True  # as FakeTelegram(enforce_limits=True); reset() restores it
    fake.user_message(USER, "hi")
    for i in range(3):
        await bot.send_message(USER, f"part {i}")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "part 4")
    assert _seconds(caught.value.retry_after) == 1
    assert len(fake.sent) == 3
    assert len(fake.violations) == 1


async def test_wait_for_fails_with_a_dump(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_message(USER, "hi")
    await bot.send_message(USER, "hello there")
    with pytest.raises(AssertionError, match="still false") as caught:
        await fake.wait_for(lambda: False, timeout=0.05)
    assert "sendMessage(" in str(caught.value)
    assert "hello there" in str(caught.value)


def test_parse_html_entities() -> None:
    text, entities = parse_html(
        '<pre><code class="language-python">x = 1</code></pre>'
        "<tg-spoiler>s</tg-spoiler><blockquote expandable>q</blockquote>&#128640;&quot;"
    )
    assert text == 'x = 1sq🚀"'
    assert entities == [
        {"type": "pre", "offset": 0, "length": 5, "language": "python"},
        {"type": "spoiler", "offset": 5, "length": 1},
        {"type": "expandable_blockquote", "offset": 6, "length": 1},
    ]


async def test_real_application_polls_and_answers(fake: FakeTelegram) -> None:
    """The whole loop: PTB's Application polls the fake, handlers answer through it."""

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Done", callback_data="done")]])
        await update.effective_message.reply_html(
            f"You said <i>{update.effective_message.text}</i>", reply_markup=keyboard
        )

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Nice!")
        await query.edit_message_text("Done ✔")

    app = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(f"{fake.url}/bot")
        .base_file_url(f"{fake.url}/file/bot")
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, on_text))
    app.add_handler(CallbackQueryHandler(on_button))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=1))
        try:
            fake.user_message(USER, "la la la")
            await fake.wait_for(lambda: len(fake.messages(USER)) == 1, timeout=3)
            reply = fake.last(USER)
            assert reply.plain_text == "You said la la la"
            assert reply.reply_to_message_id is None or reply.reply_to_message_id == 1

            fake.press_button(USER, reply.message_id, "done")
            await fake.wait_for(lambda: fake.last(USER).edited, timeout=3)
            assert fake.last(USER).text == "Done ✔"
            assert fake.callback_answers[-1]["text"] == "Nice!"
        finally:
            await app.updater.stop()
            await app.stop()
    assert fake.pending_updates == []  # the updater confirmed everything on stop


async def test_a_confirming_get_updates_is_reported_before_it_is_answered(
    fake: FakeTelegram, bot: Bot
) -> None:
    first = fake.user_message(USER, "one")
    second = fake.user_message(USER, "two")
    seen: list[tuple[list[int], list[int]]] = []
    fake.on_confirm = lambda ids: seen.append(
        (list(ids), [u["update_id"] for u in fake.pending_updates])
    )
    await bot.get_updates(timeout=0)
    assert seen == [], "delivering confirms nothing"
    await bot.get_updates(offset=first["update_id"] + 1, timeout=0)
    assert seen == [([first["update_id"]], [second["update_id"]])], "forgotten when reported"


async def test_a_dropped_call_changes_nothing(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_message(USER, "hi")
    fake.on_call = lambda method, _params: method == "sendMessage"
    with pytest.raises(NetworkError):
        await bot.send_message(USER, "never arrives")
    assert fake.sent == []
    fake.reset()
    assert fake.on_call is None, "reset() forgets the hooks"


@contextlib.asynccontextmanager
async def _hook(
    receive: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> AsyncIterator[str]:
    """A loopback web server whose ``/hook`` answers with ``receive``: the webhook's URL."""
    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    finally:
        await runner.cleanup()


async def test_webhook_delivery_retries_until_a_2xx(fake: FakeTelegram) -> None:
    answers = [503, 500, 200, 200]
    bodies: list[dict[str, object]] = []

    async def receive(request: web.Request) -> web.Response:
        assert request.headers["X-Telegram-Bot-Api-Secret-Token"] == "s3cret"
        bodies.append(await request.json())
        return web.Response(status=answers.pop(0))

    async with _hook(receive) as url:
        first = fake.user_message(USER, "one")
        second = fake.user_message(USER, "two")
        fake.deliver_by_webhook(url, secret="s3cret")
        await fake.wait_for(lambda: not fake.pending_updates)
        await fake.stop_webhook_delivery()
    ids = [first["update_id"], second["update_id"]]
    assert fake.webhook_attempts == [(ids[0], 503), (ids[0], 500), (ids[0], 200), (ids[1], 200)]
    assert [b["update_id"] for b in bodies] == [ids[0], ids[0], ids[0], ids[1]]


async def test_webhook_delivery_keeps_one_update_of_a_chat_in_flight(fake: FakeTelegram) -> None:
    """Several connections, but like the Bot API server never two updates of one chat at once:
    chat A's second update waits for its first's 2xx while chat B's goes ahead; every second
    confirmed update is POSTed once more (an answer Telegram did not see)."""
    release = asyncio.Event()
    seen: list[tuple[int, str]] = []

    async def receive(request: web.Request) -> web.Response:
        body = await request.json()
        seen.append((body["message"]["chat"]["id"], body["message"]["text"]))
        if body["message"]["text"] == "a1":
            await release.wait()
        return web.Response(status=200)

    other = USER + 1
    async with _hook(receive) as url:
        fake.user_message(USER, "a1")
        fake.user_message(USER, "a2")
        fake.user_message(other, "b1")
        fake.deliver_by_webhook(url, connections=4, redeliver_every=2)
        await fake.wait_for(lambda: (other, "b1") in seen)
        assert (USER, "a2") not in seen  # a1 is not answered yet
        release.set()
        await fake.wait_for(lambda: not fake.pending_updates)
        await fake.wait_for(lambda: len(fake.redelivered) == 1)
        await fake.stop_webhook_delivery()
    mine = [text for chat, text in seen if chat == USER]
    assert mine[:2] == ["a1", "a2"] or mine[:3] == ["a1", "a1", "a2"]
    assert len(seen) == 4  # three updates, one of them twice
