"""Private replies never reach a shared chat (issue #11, section 2), through the core.

The gate (core/app/private_replies.py) sits in ``Coach.handle``: every reply of every
path (the hot path, the admin desk, a band's server path) passes it. These tests drive the
real core on both databases; the front ends' own tests (test_telegram_private.py,
test_discord_private.py) show the same through the real libraries.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

import pytest
from coachkit import Driver, count, synced_coach
from pydantic import ValidationError
from sqlalchemy import select

from core.accounts.linking import CODE_LENGTH, link_key
from core.app import engine as engine_module
from core.app.engine import Coach
from core.app.private_replies import route
from core.db.engine import Database
from core.db.models import Identity, LinkCode, User
from core.kernel.audit import latest
from core.kernel.types import Inbound, Message, Outbound, Toast
from core.settings import load_settings

GROUP = "-100200300"
SERVER, CHANNEL, NEWS = "900", "c:901", "c:902"
_CODE = re.compile(r"/link ((?:[A-Z0-9]{4}-){3}[A-Z0-9]{4})")
SECRET = "the secret only Maya may read"


class GroupDriver(Driver):
    """A musician writing in the Telegram group ``GROUP``."""

    def inbound(self, **kw: Any) -> Inbound:
        return super().inbound(**{"chat_id": GROUP, "chat_type": "group", **kw})


class ServerDriver(Driver):
    """A member using slash commands in a Discord server channel (interactions can whisper)."""

    def inbound(self, **kw: Any) -> Inbound:
        base = {"chat_id": CHANNEL, "chat_type": "guild", "server_id": SERVER}
        return super().inbound(**{**base, "can_whisper": True, "manages_server": True, **kw})


def _code(text: str) -> str:
    match = _CODE.search(text)
    assert match is not None, text
    return match.group(1)


def _shown_anywhere(replies: list[Outbound], secret: str) -> list[Outbound]:
    return [r for r in replies if secret in r.text]


# ----------------------------------------------------------------------------- the gate


@pytest.fixture
def secret_help(monkeypatch: pytest.MonkeyPatch) -> None:
    """A NEW flow that returns something private and knows nothing about where it was asked:
    /help answers with a private reply (and would edit, were it a button)."""
    monkeypatch.setattr(
        engine_module, "help_card", lambda *_: Message(text=SECRET, private=True, edit=True)
    )


@pytest.mark.usefixtures("secret_help")
async def test_the_gate_moves_a_new_private_reply_out_of_a_group(database: Database) -> None:
    coach = await synced_coach(database)
    leo = GroupDriver(coach, "1002", platform="telegram")
    [reply] = await leo.say("/help")
    assert reply.text == SECRET
    assert reply.chat_id == "1002", "addressed to Leo's own private chat, not the group"
    assert not reply.edit, "never an edit of a message in the group"
    # in his private chat the same flow is answered in place
    private = Driver(coach, "1002", platform="telegram")
    [reply] = await private.say("/help")
    assert (reply.chat_id, reply.edit) == (None, True)


@pytest.mark.usefixtures("secret_help")
async def test_the_gate_whispers_in_a_server_and_never_edits(database: Database) -> None:
    """A Discord interaction can be answered so that only the sender sees it: the private
    reply stays in the channel as an ephemeral answer — never as an edit of a public message.
    An event that can't whisper (a server message with no interaction) sends it to the DM."""
    coach = await synced_coach(database)
    ana = ServerDriver(coach, "1001", platform="discord")
    await ana.say("/band create Night Owls")
    [reply] = await ana.say("/help")
    assert reply.text == SECRET
    assert (reply.chat_id, reply.ephemeral, reply.edit) == (None, True, False)
    [reply] = await coach.handle(ana.inbound(kind="command", text="/help", can_whisper=False))
    assert (reply.chat_id, reply.ephemeral) == ("1001", False)


def test_route_places_every_private_reply() -> None:
    """The rule itself, case by case (plain replies pass untouched)."""
    group = Inbound(platform="telegram", user_id="7", chat_id=GROUP, chat_type="group", kind="text")
    dm = Inbound(platform="telegram", user_id="7", chat_id="7", kind="text")
    server = Inbound(
        platform="discord",
        user_id="7",
        chat_id=CHANNEL,
        chat_type="guild",
        server_id=SERVER,
        kind="button",
        can_whisper=True,
    )
    public = Message(text="hi", edit=True)
    secret = Toast(text="s", private=True, edit=True)
    assert route(group, [public]) == [public]
    assert route(dm, [secret]) == [secret]
    [moved] = route(group, [secret])
    assert (moved.chat_id, moved.edit, isinstance(moved, Toast)) == ("7", False, False)
    [whispered] = route(server, [secret])
    assert (whispered.chat_id, whispered.ephemeral, whispered.edit) == (None, True, False)
    # addressed elsewhere (a band's news channel, a group) by mistake: to the person instead
    for inbound in (dm, server, group):
        [moved] = route(inbound, [Message(text="s", private=True, chat_id=NEWS)])
        assert moved.chat_id == "7"
    # already addressed to the person's own chat: left alone
    mine = Message(text="s", private=True, chat_id="7")
    assert route(group, [mine]) == [mine]


async def test_private_content_is_marked_everywhere(database: Database) -> None:
    """The replies that carry a secret or personal data are marked private: the link code,
    the export, the forget question and result, and whatever an admin sees about people."""
    coach = Coach(database, admins=["telegram:1"], catalog=(await synced_coach(database)).catalog)
    boss = Driver(coach, "1", platform="telegram")
    await boss.onboard("Boss")
    for command in ("/link", "/export", "/forget", "/admin user telegram:1", "/admin audit"):
        replies = await boss.say(command)
        assert replies, command
        assert all(r.private for r in replies), command
    await boss.say("/forget")
    replies = await boss.press("Yes, delete")
    assert replies
    assert all(r.private for r in replies)


async def test_admin_lookup_in_a_group_goes_to_the_admin_privately(database: Database) -> None:
    coach = Coach(database, admins=["telegram:1"], catalog=(await synced_coach(database)).catalog)
    maya = Driver(coach, "4242", platform="telegram")
    await maya.onboard("Maya")
    boss = GroupDriver(coach, "1", platform="telegram")
    replies = await boss.say("/admin user telegram:4242")
    assert replies
    assert all(r.chat_id == "1" for r in replies), "the admin's private chat"
    assert any("telegram:4242" in r.text for r in replies)
    # and a non-admin is simply refused where they asked
    [refused] = await GroupDriver(coach, "4242", platform="telegram").say("/admin user x")
    assert refused.chat_id is None
    assert "not allowed" in refused.text


async def test_a_hand_made_forget_button_in_a_group_deletes_nothing(database: Database) -> None:
    coach = await synced_coach(database)
    maya = Driver(coach, "4242", platform="telegram")
    await maya.onboard("Maya")
    await maya.say("/forget")
    forget = maya.find("Yes, delete").payload
    in_group = GroupDriver(coach, "4242", platform="telegram")
    [reply] = await in_group.press_payload(forget)
    assert "private chat" in reply.text
    assert isinstance(reply, Toast)
    assert await count(database, User) == 1, "nothing was deleted"


# ----------------------------------------------------------------------------- /link


async def test_link_in_a_group_is_refused_before_a_code_exists(database: Database) -> None:
    coach = await synced_coach(database)
    maya = GroupDriver(coach, "4242", platform="telegram")
    await maya.onboard("Maya")
    for command in ("/link", "/unlink"):
        [reply] = await maya.say(command)
        assert "private chat" in reply.text
        assert not _CODE.search(reply.text)
        assert reply.chat_id is None
    assert await count(database, LinkCode) == 0


async def test_a_code_typed_in_a_group_is_cancelled(database: Database) -> None:
    """Maya pastes her code into a group by mistake. Everyone there can read it, so the code
    is dead at once: Eve, who saw it, can't become Maya with it."""
    coach = await synced_coach(database)
    maya_dc = Driver(coach, "100200300", platform="discord")
    await maya_dc.onboard("Maya")
    await maya_dc.say("/link")
    code = _code(maya_dc.text)
    maya_tg = GroupDriver(coach, "4242", platform="telegram")
    await maya_tg.say("/start")
    [reply] = await maya_tg.say(f"/link {code}")
    assert "cancelled" in reply.text
    assert await count(database, LinkCode) == 0
    eve = Driver(coach, "666", platform="telegram")
    await eve.say("/start")
    await eve.say(f"/link {code}")
    assert "unknown or has expired" in eve.text
    async with database.transaction() as session:
        owners = dict((await session.execute(select(Identity.external_id, Identity.user_id))).all())
    assert owners["666"] != owners["100200300"], "Eve did not become Maya"
    entry = next(e for e in await latest(database) if e.actor == "telegram:4242")
    assert (entry.action, entry.outcome) == ("account.link", "denied")
    assert entry.details == {"reason": "shared chat", "cancelled": True}


async def test_link_codes_are_long_and_keyed_at_rest(database: Database) -> None:
    """80-bit codes, stored as HMAC-SHA256 under COACH_LINK_SECRET: not the plain SHA-256 of
    the code, and a worker with another key can't redeem it."""
    catalog = (await synced_coach(database)).catalog
    key = "k" * 32
    coach = Coach(database, catalog=catalog, link_secret=key)
    maya = Driver(coach, "4242", platform="telegram")
    await maya.onboard("Maya")
    await maya.say("/link")
    code = _code(maya.text).replace("-", "")
    assert len(code) == CODE_LENGTH == 16
    async with database.transaction() as session:
        stored = (await session.scalars(select(LinkCode.code_hash))).one()
    assert stored != hashlib.sha256(code.encode()).hexdigest()
    assert stored == hmac.new(key.encode(), code.encode(), hashlib.sha256).hexdigest()
    assert link_key(None) != link_key(key)

    elsewhere = Coach(database, catalog=catalog, link_secret="another-key-" * 3)
    wrong = Driver(elsewhere, "100200300", platform="discord")
    await wrong.say("/start")
    await wrong.say(f"/link {code}")
    assert "unknown or has expired" in wrong.text
    # the very same code, on a worker with the right key, links
    right = Driver(coach, "100200300", platform="discord")
    await right.say(f"/link {code}")
    assert "Linked" in right.text


def test_the_link_secret_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_LINK_SECRET", "too-short")
    with pytest.raises(ValidationError, match="at least 16"):
        load_settings()
    monkeypatch.setenv("COACH_LINK_SECRET", "s" * 40)
    settings = load_settings()
    assert "s" * 40 in settings.secrets(), "redacted from the logs like the tokens"
