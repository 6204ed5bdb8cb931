"""Telegram groups (issue #11, section 2): private replies never land in a group, and a card
changes only for its owner. The real python-telegram-bot application against the loopback
fake Bot API, with several members in one group.

Telegram lets a bot post about 20 messages a minute into one group, and the front end paces
itself under that (one every ~3 s), so these tests keep their group messages few: the
musicians are set up straight through the core, and only what is about groups goes through
Telegram.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from coachkit import Driver, count, synced_coach
from fakes.telegram_api import FakeTelegram, SentMessage
from sqlalchemy import select

from bot.telegram.app import TelegramFrontEnd
from core.app import engine as engine_module
from core.app.engine import Coach
from core.app.private_replies import OPEN_PRIVATE_CHAT, SENT_PRIVATELY
from core.db.engine import Database
from core.db.models import Identity, LinkCode, Profile, UserTaskProgress
from core.kernel.notify import DeliveryStatus
from core.kernel.types import Inbound, Message

MAYA, LEO, EVE = 1001, 1002, 1003
GROUP = -100_500_600
SECRET = "the secret only its person may read"
_CODE = re.compile(r"(?:[A-Z0-9]{4}-){3}[A-Z0-9]{4}")


class GroupDriver(Driver):
    """A musician in the Telegram group ``GROUP``, straight to the core (no Telegram pacing)."""

    def inbound(self, **kw: Any) -> Inbound:
        return super().inbound(**{"chat_id": str(GROUP), "chat_type": "group", **kw})


@dataclass
class Group:
    """The fake Bot API, the coach and the running front end, around one group."""

    fake: FakeTelegram
    coach: Coach
    front: TelegramFrontEnd

    async def idle(self) -> None:
        """Wait until every queued update was fetched and handled."""
        await self.fake.wait_for(lambda: not self.fake.pending_updates)
        app = self.front.application
        await self.fake.wait_for(app.update_queue.empty)
        processor = app.update_processor
        await self.fake.wait_for(lambda: processor.current_concurrent_updates == 0, timeout=20)

    async def say(self, user: int, text: str, name: str = "Maya") -> dict[str, Any]:
        """``user`` writes ``text`` in the group; the update, once handled."""
        update = self.fake.user_message(
            user, text, chat_id=GROUP, chat_type="supergroup", first_name=name
        )
        await self.idle()
        return update

    async def dm(self, user: int, text: str) -> SentMessage:
        """``user`` writes to the bot in their private chat; the bot's latest message there."""
        self.fake.user_message(user, text)
        await self.idle()
        return self.fake.last(user)

    async def press(self, user: int, card: SentMessage, data: str, *, force: bool = False) -> None:
        """``user`` presses a button with ``data`` on ``card`` (``force``: a hand-made press)."""
        answered = len(self.fake.callback_answers)
        self.fake.press_button(user, card.message_id, data, chat_id=GROUP, force=force)
        await self.fake.wait_for(lambda: len(self.fake.callback_answers) > answered, timeout=20)
        await self.idle()

    def group_text(self) -> str:
        """Everything the bot ever showed in the group, edits included."""
        shown = [m.plain_text for m in self.fake.sent if m.chat_id == GROUP]
        shown += [e.after.plain_text for e in self.fake.edits if e.chat_id == GROUP]
        return "\n".join(shown)

    def wherever(self, predicate: Callable[[str], bool]) -> list[int]:
        """The chats where the bot ever showed a text matching ``predicate``."""
        shown = [(m.chat_id, m.plain_text) for m in self.fake.sent]
        shown += [(e.chat_id, e.after.plain_text) for e in self.fake.edits]
        return sorted({chat for chat, text in shown if predicate(text)})


@pytest.fixture
async def group(database: Database) -> AsyncIterator[Group]:
    coach = Coach(
        database, admins=[f"telegram:{LEO}"], catalog=(await synced_coach(database)).catalog
    )
    async with FakeTelegram() as fake:
        front = TelegramFrontEnd(coach, fake.token, api_base_url=fake.url)
        await front.start(poll_timeout=1)
        try:
            yield Group(fake, coach, front)
        finally:
            await front.stop()


# ----------------------------------------------------------------------------- private replies


async def test_link_in_a_group_shows_no_code_and_makes_none(group: Group) -> None:
    asked = await group.say(MAYA, "/link")
    [reply] = group.fake.messages(GROUP)
    assert "private chat" in reply.plain_text
    assert reply.reply_to_message_id == asked["message"]["message_id"], "answers Maya's message"
    assert await count(group.coach.db, LinkCode) == 0
    # in her private chat she gets one — there and nowhere else
    code = _CODE.search((await group.dm(MAYA, "/link")).plain_text)
    assert code is not None
    assert group.wherever(lambda text: code.group(0) in text) == [MAYA]


async def test_a_new_private_reply_goes_to_the_private_chat_not_the_group(
    group: Group, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flow nobody taught about groups answers with a private reply (here /help, patched):
    the core's gate sends it to the asker's private chat and the group is told so. Maya never
    opened a private chat with the bot, so Telegram refuses it ("can't initiate
    conversation"): she is told how to open one, and the secret is shown nowhere."""
    await group.dm(LEO, "/start")  # Leo has a private chat with the bot; Maya has none
    monkeypatch.setattr(engine_module, "help_card", lambda *_: Message(text=SECRET, private=True))

    await group.say(LEO, "/help", name="Leo")
    assert group.fake.last(LEO).plain_text == SECRET
    assert group.fake.last(GROUP).plain_text == SENT_PRIVATELY

    await group.say(MAYA, "/help")
    assert group.fake.last(GROUP).plain_text == OPEN_PRIVATE_CHAT
    assert group.front.failures["forbidden_no_private_chat"] == 1

    assert SECRET not in group.group_text()
    assert group.wherever(lambda text: SECRET in text) == [LEO]


async def test_an_admin_lookup_from_a_group_arrives_privately(group: Group) -> None:
    await GroupDriver(group.coach, str(MAYA), platform="telegram").onboard("Maya")
    await group.dm(LEO, "/start")
    await group.say(LEO, f"/admin user telegram:{MAYA}", name="Leo")
    assert f"telegram:{MAYA}" in group.fake.last(LEO).plain_text
    assert group.fake.last(GROUP).plain_text == SENT_PRIVATELY
    assert f"telegram:{MAYA}" not in group.group_text()


async def test_the_front_end_refuses_a_private_reply_for_a_group(
    group: Group, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second line: with the core's gate switched off, a private reply that reaches the
    Telegram front end for a group is not sent (and a notice can't carry one there either);
    the other replies still go out."""
    monkeypatch.setattr(engine_module, "keep_private", lambda inbound, replies: replies)
    monkeypatch.setattr(engine_module, "help_card", lambda *_: Message(text=SECRET, private=True))
    await group.say(MAYA, "/help")
    assert SECRET not in group.group_text()
    assert group.front.failures["private_refused"] == 1

    result = await group.front.notify(str(GROUP), [Message(text=SECRET, private=True)])
    assert result.status is DeliveryStatus.FAILED
    assert SECRET not in group.group_text()
    assert group.front.failures["private_refused"] == 2


# ----------------------------------------------------------------------------- group buttons


def _tick(card: SentMessage) -> str:
    return next(data for label, data in card.buttons() if label.startswith("☐ 1."))


async def _ticked(database: Database) -> dict[str, list[str]]:
    """Who has ticked what (external user id → ticked item keys)."""
    async with database.transaction() as session:
        rows = (
            await session.execute(
                select(Identity.external_id, UserTaskProgress.task_data)
                .join(Profile, Profile.id == UserTaskProgress.profile_id)
                .join(Identity, Identity.user_id == Profile.user_id)
            )
        ).all()
    return {external: sorted(data.get("ticked", [])) for external, data in rows}


async def test_a_card_in_a_group_changes_only_for_its_owner(group: Group) -> None:
    """Maya and Leo each have their own solo profile and their own /today card in one group.
    Leo pressing Maya's card acts for Leo alone and answers with a new message — Maya's card
    is never rewritten; a hand-made cancel (``v1:no``) on her card can't blank it either. Her
    own press edits her card in place, as in a private chat."""
    db = group.coach.db
    for user, name in ((MAYA, "Maya"), (LEO, "Leo")):
        await GroupDriver(group.coach, str(user), platform="telegram").onboard(name)

    maya_asks = await group.say(MAYA, "/today")
    maya_card = group.fake.last(GROUP)
    assert maya_card.reply_to_message_id == maya_asks["message"]["message_id"]
    await group.say(LEO, "/today", name="Leo")
    leo_card = group.fake.last(GROUP)
    assert leo_card.message_id != maya_card.message_id
    before = group.fake.messages(GROUP)

    # Leo presses a tick on Maya's card: his own item is ticked, in a new message
    await group.press(LEO, maya_card, _tick(maya_card))
    assert not [e for e in group.fake.edits if e.message_id == maya_card.message_id]
    assert await _ticked(db) == {str(LEO): ["name-search"]}
    new = group.fake.messages(GROUP)[len(before) :]
    assert len(new) == 1
    assert "☑ 1." in new[0].plain_text

    # a hand-made cancel on Maya's card, while Leo has a question open, leaves it alone
    leo = GroupDriver(group.coach, str(LEO), platform="telegram")
    await leo.press_payload("v1:rm:electronic-producer")  # "switch roadmap?" is now open
    assert leo.find("Yes, switch").payload.startswith("v1:sw:")
    await group.press(LEO, maya_card, "v1:no", force=True)
    assert not [e for e in group.fake.edits if e.message_id == maya_card.message_id]
    current = {m.message_id: m for m in group.fake.messages(GROUP)}
    assert current[maya_card.message_id].plain_text == maya_card.plain_text
    assert "staying where you are" in group.fake.last(GROUP).plain_text

    # Maya's own press edits her card in place
    await group.press(MAYA, maya_card, _tick(maya_card))
    [edit] = [e for e in group.fake.edits if e.message_id == maya_card.message_id]
    assert "☑ 1." in edit.after.plain_text
    assert await _ticked(db) == {str(LEO): ["name-search"], str(MAYA): ["name-search"]}
    assert not group.fake.unanswered_callbacks, "every press was answered"
