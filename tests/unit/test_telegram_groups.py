"""A Telegram group's events as the band logic needs them (issue #17 §1), without any I/O:
the group's id as the server, members named by ``text_mention`` or by replying to their
message, commands for another bot ignored, questions kept as questions when replies fold,
and the admin status kept only as long as its time-to-live."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import telegram
from telegram import Chat, MessageEntity, Update, User

from bot.telegram.app import merge_replies
from bot.telegram.groups import GroupAdmins, answered_by_reply, takes_member
from bot.telegram.placement import band_matters, place
from bot.telegram.translate import to_inbound
from core.app.features import FEATURES
from core.kernel.registry import Registry
from core.kernel.types import Button, Card, Inbound, Message

GROUP, ANA, BEN = -100_42, 42, 43
BOT = "StardomCoachBot"
WHEN = datetime(2026, 12, 7, tzinfo=UTC)
MEMBERS = takes_member(Registry(FEATURES))


def _user(uid: int, name: str, *, is_bot: bool = False) -> User:
    return User(id=uid, first_name=name, is_bot=is_bot)


def _update(text: str, *, reply_to: telegram.Message | None = None, **kw: Any) -> Update:
    chat = Chat(id=GROUP, type="supergroup")
    message = telegram.Message(
        message_id=9,
        date=WHEN,
        chat=chat,
        from_user=_user(ANA, "Ana"),
        text=text,
        reply_to_message=reply_to,
        **kw,
    )
    return Update(update_id=1, message=message)


def _bens_message() -> telegram.Message:
    chat = Chat(id=GROUP, type="supergroup")
    return telegram.Message(
        message_id=3, date=WHEN, chat=chat, from_user=_user(BEN, "Ben"), text="I'll mix it"
    )


def test_a_group_event_names_the_group_as_its_server() -> None:
    inbound = to_inbound(_update("/band progress"), bot_username=BOT)
    assert inbound is not None
    assert (inbound.chat_type, inbound.server_id, inbound.chat_id) == (
        "group",
        str(GROUP),
        str(GROUP),
    )
    private = telegram.Message(
        message_id=1, date=WHEN, chat=Chat(id=ANA, type="private"), from_user=_user(ANA, "A")
    )
    dm = to_inbound(Update(update_id=2, message=private), bot_username=BOT)
    assert dm is not None
    assert dm.server_id is None


def test_commands_for_another_bot_are_not_ours() -> None:
    assert to_inbound(_update("/band@OtherBot create X"), bot_username=BOT) is None
    ours = to_inbound(_update(f"/band@{BOT} create X"), bot_username=BOT)
    assert ours is not None
    assert ours.text == f"/band@{BOT} create X"


def test_a_reply_names_its_author_for_member_commands_only() -> None:
    assign = to_inbound(
        _update("/assign Master the mix", reply_to=_bens_message()),
        bot_username=BOT,
        takes_member=MEMBERS,
    )
    assert assign is not None
    assert assign.text == f"/assign Master the mix <@{BEN}>"
    remove = to_inbound(
        _update("/band remove", reply_to=_bens_message()), bot_username=BOT, takes_member=MEMBERS
    )
    assert remove is not None
    assert remove.text == f"/band remove <@{BEN}>"
    # a command that names nobody stays as typed, reply or not
    rename = to_inbound(
        _update("/band rename Owls", reply_to=_bens_message()),
        bot_username=BOT,
        takes_member=MEMBERS,
    )
    assert rename is not None
    assert rename.text == "/band rename Owls"
    # a reply to the bot's own message names no member (the bot is never one)
    bots = telegram.Message(
        message_id=4,
        date=WHEN,
        chat=Chat(id=GROUP, type="supergroup"),
        from_user=_user(7, BOT, is_bot=True),
        text="Your next step",
    )
    to_bot = to_inbound(
        _update("/assign Master the mix", reply_to=bots), bot_username=BOT, takes_member=MEMBERS
    )
    assert to_bot is not None
    assert to_bot.text == "/assign Master the mix"


def test_a_text_mention_becomes_a_mention_the_core_reads() -> None:
    text = "/assign Master the mix Ben"
    entity = MessageEntity(
        type=MessageEntity.TEXT_MENTION, offset=text.index("Ben"), length=3, user=_user(BEN, "Ben")
    )
    inbound = to_inbound(_update(text, entities=(entity,)), bot_username=BOT, takes_member=MEMBERS)
    assert inbound is not None
    assert inbound.text == f"/assign Master the mix <@{BEN}>"


def test_a_question_keeps_its_variant_when_replies_fold() -> None:
    question = Card(text="How many listeners?", form="question", task="iss-baseline")
    out = merge_replies([Message(text="✅ Done"), question])
    assert len(out) == 1
    assert answered_by_reply(out[0])
    assert out[0].text == "✅ Done\n\nHow many listeners?"
    checklist = Card(
        text="Tick",
        form="checklist",
        task="t",
        buttons=((Button(label="a", payload="v1:c:today", ticked=False),),),
    )
    assert not answered_by_reply(checklist)


class _Bot:
    """``getChatMember`` answers from a table (a unit test makes no call)."""

    def __init__(self) -> None:
        self.status = "administrator"
        self.calls = 0

    async def get_chat_member(self, chat_id: int, user_id: int) -> Any:
        self.calls += 1
        return type("Member", (), {"status": self.status})()


async def test_admin_status_is_kept_for_its_ttl_and_asked_afresh_on_demand() -> None:
    now = [100.0]
    bot = _Bot()
    admins = GroupAdmins(bot, lambda: now[0], ttl=60)  # type: ignore[arg-type]
    assert not admins.kept(GROUP, ANA), "nothing kept: not an admin, and no call made"
    assert bot.calls == 0
    assert await admins.fresh(GROUP, ANA)
    assert admins.kept(GROUP, ANA)
    bot.status = "member"  # demoted: a fresh ask sees it at once
    assert not await admins.fresh(GROUP, ANA)
    assert not admins.kept(GROUP, ANA)
    bot.status = "creator"
    assert await admins.fresh(GROUP, ANA)
    now[0] += 61  # past the time-to-live: no longer trusted
    assert not admins.kept(GROUP, ANA)
    assert bot.calls == 3


def _press(presser: int, chat: Chat, answered: telegram.Message | None) -> Update:
    """``presser`` presses a card of the bot's in ``chat`` that answered ``answered``."""
    card = telegram.Message(
        message_id=11,
        date=WHEN,
        chat=chat,
        from_user=_user(7, BOT, is_bot=True),
        text="card",
        reply_to_message=answered,
    )
    query = telegram.CallbackQuery(
        id="q", from_user=_user(presser, "P"), chat_instance="c", message=card, data="x"
    )
    return Update(update_id=5, callback_query=query)


def test_only_a_press_on_someone_elses_group_card_asks_whether_the_group_is_a_band() -> None:
    group = Chat(id=GROUP, type="supergroup")
    bens = _bens_message()

    def matters(update: Update) -> bool:
        return band_matters(update, _inbound(update))

    anas_press, bens_press = _press(ANA, group, bens), _press(BEN, group, bens)
    assert matters(anas_press)  # Ben's card: edited by Ana's press only in a band's group
    assert place(anas_press, _inbound(anas_press)).editable is None
    assert place(anas_press, _inbound(anas_press), band=True).editable == 11
    assert not matters(bens_press)  # his own card: edited either way
    assert place(bens_press, _inbound(bens_press)).editable == 11
    assert not matters(_update("/today"))  # a message: answered, never edited
    assert not matters(_press(ANA, Chat(id=ANA, type="private"), None))


def _inbound(update: Update) -> Inbound:
    inbound = to_inbound(update, bot_username=BOT)
    assert inbound is not None
    return inbound
