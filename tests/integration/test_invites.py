"""Band invites and ``/start`` payloads through the core, on SQLite and PostgreSQL (issue #17 §2).

A manager's ``/band invite`` in the band's server gives a code (stored only as its HMAC) and a
Telegram deep link; someone redeems it from a private chat (``/join <code>`` or ``/start
inv-<code>``) and is a member of the band. Used-up, expired, withdrawn and unknown invites are
refused with a reply that says which, and audited; issuing and redeeming are rate limited.
Time is the injected clock (``FakeClock``); the race for a single-use invite runs on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
import re

import pytest
from bandkit import GuildDriver, member_identities
from coachkit import Driver, count, synced_coach
from reminderkit import FakeClock
from sqlalchemy import select

from core.admin import stats
from core.admin.ratelimit import RateLimit, RateLimiter
from core.app.engine import Coach
from core.app.start_payloads import UNKNOWN
from core.bands.invites import ISSUES_PER_DAY, TRIES
from core.db.engine import Database
from core.db.models import Band, BandInvite, BandMember, User
from core.kernel.audit import latest

_JOIN = re.compile(r"/join ((?:[A-Z0-9]{4}-){3}[A-Z0-9]{4})")
_LINK = re.compile(r"/link ((?:[A-Z0-9]{4}-){3}[A-Z0-9]{4})")
_TME = re.compile(r"https://t\.me/coach_test_bot\?start=(inv-[A-Z0-9]{16})")


def _code(driver: Driver, pattern: re.Pattern[str] = _JOIN) -> str:
    match = pattern.search(driver.text)
    assert match is not None, driver.text
    return match.group(1)


async def _band(database: Database, **kw: object) -> tuple[Coach, GuildDriver, FakeClock]:
    """A Discord band (The Night Owls) and its manager Ana; the coach knows the Telegram bot."""
    clock = FakeClock()
    coach = await synced_coach(database, clock=clock, telegram_bot="coach_test_bot", **kw)
    ana = GuildDriver(coach, "1001", name="Ana", manager=True)
    await ana.say("/band create The Night Owls")
    return coach, ana, clock


async def _denials(database: Database) -> list[str]:
    return [
        str(e.details.get("reason"))
        for e in await latest(database, 50)
        if e.action == "band.join" and e.outcome == "denied"
    ]


async def test_an_invite_brings_a_telegram_musician_into_a_discord_band(
    database: Database,
) -> None:
    coach, ana, _clock = await _band(database)
    await ana.say("/band invite")
    [reply] = ana.replies
    assert reply.private
    assert reply.chat_id == "1001", "the code goes to the manager's DM"
    code = _code(ana)
    link = _TME.search(ana.text)
    assert link is not None
    assert link.group(1) == "inv-" + code.replace("-", "")
    async with database.transaction() as session:
        stored = (await session.scalars(select(BandInvite))).one()
    assert code.replace("-", "") not in stored.code_hash
    assert len(stored.code_hash) == 64
    assert (stored.uses, stored.uses_left) == (1, 1)

    tom = Driver(coach, "555", platform="telegram")  # never spoke to the bot before
    await tom.say(f"/start {link.group(1)}")  # what Telegram sends for the t.me link
    assert "Welcome to The Night Owls" in tom.text
    assert "link your Discord account" in tom.text, "its home is on the other platform"
    assert "The band works in its Discord server." in tom.text
    assert ("telegram", "555") in await member_identities(database)
    joined = next(e for e in await latest(database) if e.action == "band.join")
    assert (joined.outcome, joined.details["via"]) == ("ok", "invite")
    assert code not in str(joined.details)
    assert code.replace("-", "") not in str(joined.details)

    # the one use is taken: nobody else gets in with it, by either door
    lea = Driver(coach, "556", platform="telegram")
    await lea.say(f"/start {link.group(1)}")
    assert "already been used" in lea.text
    eve = Driver(coach, "777", platform="discord")
    await eve.say(f"/join {code}")
    assert "already been used" in eve.text
    assert await member_identities(database) == {("discord", "1001"), ("telegram", "555")}
    assert await _denials(database) == ["used", "used"]
    # the person already in is told so, and takes no use
    await tom.say(f"/join {code}")
    assert "already in The Night Owls" in tom.text


async def test_a_linked_invitee_acts_in_the_band_from_its_server(database: Database) -> None:
    """The invite made the Telegram account a member; /link brings the membership to Discord."""
    coach, ana, _clock = await _band(database)
    await ana.say("/band invite")
    code = _code(ana)
    tom_tg = Driver(coach, "555", platform="telegram")
    await tom_tg.say(f"/join {code}")
    tom_guild = GuildDriver(coach, "2002", name="Tom")  # the band has a role? no: not a member
    await tom_guild.say("/band members")
    assert "not in The Night Owls yet" in tom_guild.text

    tom_dc = Driver(coach, "2002", platform="discord")  # his Discord DM
    await tom_dc.say("/link")
    assert "https://t.me/coach_test_bot?start=lnk-" in tom_dc.text, "one tap on Telegram"
    lnk = re.search(r"start=(lnk-[A-Z0-9]{16})", tom_dc.text)
    assert lnk is not None
    await tom_tg.say(f"/start {lnk.group(1)}")
    assert "Linked" in tom_tg.text
    await tom_guild.say("/band members")
    assert "not in" not in tom_guild.text
    assert "Tom" in tom_guild.text


async def test_expired_withdrawn_and_unknown_invites_are_refused(database: Database) -> None:
    coach, ana, clock = await _band(database)
    await ana.say("/band invite")
    old = _code(ana)
    clock.advance(days=7, minutes=1)
    # a different person each time: a repeated denial of one person is written once a minute
    ben = Driver(coach, "ben", platform="telegram")
    await ben.say(f"/join {old}")
    assert "has expired" in ben.text

    await ana.say("/band invite 3")
    fresh = _code(ana)
    assert "up to 3 people" in ana.text
    await ana.say("/band invite revoke")
    assert "Withdrawn: 1 open invite" in ana.text, "the expired one is not open"
    cat = Driver(coach, "cat", platform="telegram")
    await cat.say(f"/join {fresh}")
    assert "was withdrawn" in cat.text
    await ana.say("/band invite revoke")
    assert "no open invite" in ana.text

    dan = Driver(coach, "dan", platform="discord")
    await dan.say("/join ABCD-EFGH-JKLM-NPQR")
    assert "don't know that invite" in dan.text
    eli = Driver(coach, "eli", platform="telegram")
    await eli.say("/start inv-nonsense")
    assert "don't know that invite" in eli.text
    assert await _denials(database) == ["unknown", "unknown", "revoked", "expired"]
    assert await member_identities(database) == {("discord", "1001")}


async def test_one_invite_for_several_people(database: Database) -> None:
    coach, ana, _clock = await _band(database)
    await ana.say("/band invite 2")
    code = _code(ana)
    for who in ("a1", "a2", "a3"):
        await Driver(coach, who, platform="telegram").say(f"/join {code}")
    assert await member_identities(database) == {
        ("discord", "1001"),
        ("telegram", "a1"),
        ("telegram", "a2"),
    }
    async with database.transaction() as session:
        assert (await session.scalars(select(BandInvite.uses_left))).one() == 0


async def test_only_managers_invite_and_a_band_issues_a_few_a_day(database: Database) -> None:
    coach, ana, clock = await _band(database)
    ben = GuildDriver(coach, "1002", name="Ben")
    await ben.say("/band join")
    await ben.say("/band invite")
    assert "Only server managers" in ben.text
    refused = next(e for e in await latest(database) if e.action == "band.invite")
    assert (refused.outcome, refused.details["reason"]) == ("denied", "manager")
    assert await count(database, BandInvite) == 0

    for _ in range(ISSUES_PER_DAY):
        await ana.say("/band invite")
    await ana.say("/band invite")
    assert "limit" in ana.text
    assert await count(database, BandInvite) == ISSUES_PER_DAY
    await ana.say("/band invite 99")
    assert "1 to 25 people" in ana.text
    await ana.say("/band invite lots")
    assert "didn't get" in ana.text
    clock.advance(days=1)
    await ana.say("/band invite")
    assert _code(ana)


async def test_a_person_tries_only_a_few_codes(database: Database) -> None:
    coach, ana, _clock = await _band(database)
    await ana.say("/band invite")
    good = _code(ana)
    mallory = Driver(coach, "m", platform="telegram")
    for n in range(TRIES):
        await mallory.say(f"/join AAAA-BBBB-CCCC-{n:04d}".replace("0", "2"))
        assert "don't know that invite" in mallory.text
    await mallory.say(f"/join {good}")
    assert "wait ten minutes" in mallory.text, "the limit holds even for a good code"
    assert ("telegram", "m") not in await member_identities(database)
    await Driver(coach, "n", platform="telegram").say(f"/join {good}")  # others are not held
    assert ("telegram", "n") in await member_identities(database)

    coach.redeems = RateLimiter(RateLimit(1, 600))  # one try: the refusal is its first denial
    await ana.say("/band invite")
    olga = Driver(coach, "o", platform="telegram")
    await olga.say(f"/join {_code(ana)}")
    assert "Welcome to" in olga.text
    await olga.say("/join ABCD-EFGH-JKLM-NPQR")
    assert "wait ten minutes" in olga.text
    assert (await _denials(database))[0] == "rate"


async def test_joining_happens_in_a_private_chat(database: Database) -> None:
    coach, ana, _clock = await _band(database)
    await ana.say("/band invite")
    code = _code(ana)
    await ana.say(f"/join {code}")  # in the band's server channel
    assert "DM me" in ana.text
    group = Driver(coach, "g1", platform="telegram")
    await group.say(f"/join {code}")  # fine in private; now the same in a group:
    other = Driver(coach, "g2", platform="telegram")
    await other._push(other.inbound(kind="command", text=f"/join {code}", chat_type="group"))
    assert "private chat" in other.text
    await other.say("/join")
    assert "/band invite" in other.text


async def test_start_payloads_tags_and_unknown(database: Database) -> None:
    coach, _ana, _clock = await _band(database, admins=["console:boss"])
    kim = Driver(coach, "kim", platform="telegram")
    await kim.say("/start src-Instagram")
    assert "artist name" in kim.text.casefold(), "a tag is followed by the ordinary /start"
    await kim.say("/start src-tiktok")  # the first tag stays
    await Driver(coach, "lou", platform="telegram").say("/start src-instagram")
    await Driver(coach, "max", platform="telegram").say("/start src-tiktok")
    await Driver(coach, "ned", platform="telegram").say("/start")
    async with database.transaction() as session:
        tags = dict((await session.execute(select(User.start_tag, User.id))).all())
        figures = await stats.collect(session, coach.clock())
    assert None in tags
    assert figures.tags == (("instagram", 2), ("tiktok", 1))

    boss = Driver(coach, "boss")
    await boss.say("/admin stats")
    assert "Came by a tagged link:\ninstagram: 2\ntiktok: 1" in boss.text

    zed = Driver(coach, "zed", platform="telegram")
    for payload in ("hello", "src-", "src-" + "x" * 40, "xyz-123", "lnk-"):
        await zed.say(f"/start {payload}")
        assert UNKNOWN in zed.text or "unknown or has expired" in zed.text, payload
    await zed.say("/start lnk-ABCDEFGHJKLMNPQR")
    assert "unknown or has expired" in zed.text, "an expired link code says so"


async def test_an_invite_code_is_never_logged_at_info(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    coach, ana, _clock = await _band(database)
    with caplog.at_level(logging.INFO):
        await ana.say("/band invite")
        code = _code(ana)
        await Driver(coach, "555", platform="telegram").say(f"/start inv-{code.replace('-', '')}")
        await Driver(coach, "556", platform="telegram").say(f"/join {code}")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert code not in logged
    assert code.replace("-", "") not in logged


@pytest.mark.postgres_only
async def test_two_people_racing_for_a_single_use_invite(database: Database) -> None:
    """Each redeems on its own connection at the same moment: exactly one gets in."""
    coach, ana, _clock = await _band(database)
    for round_ in range(5):
        await ana.say("/band invite")
        code = _code(ana)
        racers = [Driver(coach, f"r{round_}-{i}", platform="telegram") for i in range(4)]
        await asyncio.gather(*(r.say(f"/join {code}") for r in racers))
        won = [r for r in racers if "Welcome to" in r.text]
        lost = [r for r in racers if "already been used" in r.text]
        assert (len(won), len(lost)) == (1, 3), [r.text for r in racers]
    async with database.transaction() as session:
        band_id = (await session.scalars(select(Band.id))).one()
        joined = await session.scalars(
            select(BandMember.user_id).where(BandMember.band_id == band_id)
        )
        assert len(list(joined)) == 1 + 5, "the manager and one winner a round"
