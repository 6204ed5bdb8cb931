"""Core replies rendered for Telegram: escaped HTML, keyboards, splitting on paragraphs."""

from __future__ import annotations

import telegram
from telegram import Chat, Update, User

from bot.telegram.app import merge_replies
from bot.telegram.render import (
    MAX_TEXT,
    html_pieces,
    keyboard,
    split_markup,
    telegram_length,
    to_html,
)
from bot.telegram.translate import to_inbound
from core.kernel.markup import bold, esc
from core.kernel.types import Button, Message


def test_user_text_is_escaped_and_markup_becomes_tags() -> None:
    html = to_html(f"Hi {bold(esc('<b>DJ_&_Co</b> *x*'))}, _welcome_")
    assert html == "Hi <b>&lt;b&gt;DJ_&amp;_Co&lt;/b&gt; *x*</b>, <i>welcome</i>"


def test_long_text_splits_on_paragraphs_and_every_piece_fits() -> None:
    paragraphs = [f"Paragraph {i} " + "word & " * 60 for i in range(40)]
    pieces = split_markup("\n\n".join(paragraphs))
    assert len(pieces) > 1
    assert all(len(to_html(p)) <= MAX_TEXT for p in pieces)
    assert "\n\n".join(pieces) == "\n\n".join(paragraphs), "nothing lost, nothing cut mid-paragraph"


def test_one_giant_line_is_still_cut_to_fit() -> None:
    pieces = split_markup("<" * 10_000)
    assert all(len(to_html(p)) <= MAX_TEXT for p in pieces)
    assert "".join(pieces) == "<" * 10_000


def test_html_pieces_render_once_or_split() -> None:
    assert html_pieces("*Hi* <you>") == ["<b>Hi</b> &lt;you&gt;"]
    text = "\n\n".join(f"*P{i}* " + "a < b " * 80 for i in range(30))
    pieces = html_pieces(text)
    assert len(pieces) > 1
    assert all(len(p) <= MAX_TEXT for p in pieces)
    assert pieces == [to_html(p) for p in split_markup(text)]


def test_same_buttons_reuse_one_keyboard() -> None:
    rows = ((Button(label="Done", payload="v1:c:today"),),)
    again = ((Button(label="Done", payload="v1:c:today"),),)
    assert keyboard(rows) is keyboard(again)
    assert keyboard(rows) is not keyboard(((Button(label="Later", payload="v1:c:today"),),))


def test_keyboard_rows_respect_eight_buttons() -> None:
    row = tuple(Button(label=f"b{i}", payload=f"v1:c:x{i}") for i in range(10))
    markup = keyboard((row,))
    assert markup is not None
    assert [len(r) for r in markup.inline_keyboard] == [8, 2]
    assert markup.inline_keyboard[0][0].callback_data == "v1:c:x0"
    assert keyboard(()) is None


def _update(text: str, chat_type: str = "private", update_id: int = 7) -> Update:
    user = User(id=42, first_name="Maya", is_bot=False, language_code="en")
    chat = Chat(id=42 if chat_type == "private" else -100, type=chat_type)
    message = telegram.Message(message_id=5, date=None, chat=chat, from_user=user, text=text)  # type: ignore[arg-type]
    return Update(update_id=update_id, message=message)


def test_translation_of_messages_and_foreign_commands() -> None:
    inbound = to_inbound(_update("/today@StardomCoachBot"), bot_username="StardomCoachBot")
    assert inbound is not None
    assert (inbound.kind, inbound.user_id, inbound.update_id) == ("command", "42", "7")
    assert to_inbound(_update("/today@OtherBot", "group"), bot_username="StardomCoachBot") is None
    text = to_inbound(_update("12.5k"), bot_username="StardomCoachBot")
    assert text is not None
    assert text.kind == "text"
    assert text.text == "12.5k"


def test_plain_replies_merge_into_the_next_message() -> None:
    card = Message(text="card", buttons=((Button(label="x", payload="v1:c:today"),),))
    edit = Message(text="edited", edit=True)
    out = merge_replies([edit, Message(text="done"), Message(text="stage"), card])
    assert [o.text for o in out] == ["edited", "done\n\nstage\n\ncard"]
    assert out[1].buttons == card.buttons
    tail = merge_replies([card, Message(text="a"), Message(text="b")])
    assert [o.text for o in tail] == ["card", "a\n\nb"]


def test_lengths_are_counted_in_utf16_units_like_telegram() -> None:
    assert telegram_length("🎸") == 2
    assert telegram_length("é<b>") == 4
    pieces = html_pieces("🎸" * 3000)
    assert len(pieces) == 2
    assert all(telegram_length(p) <= MAX_TEXT for p in pieces)
