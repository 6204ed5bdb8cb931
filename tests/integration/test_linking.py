"""``/link`` and ``/unlink``: one musician on Telegram and Discord, through the core."""

from __future__ import annotations

import re
from datetime import timedelta

from coachkit import Driver, count, synced_coach
from sqlalchemy import select

from core.accounts.linking import CODE_TTL
from core.app.engine import Coach
from core.db.base import utcnow
from core.db.engine import Database
from core.db.models import Identity, LinkCode, Profile, User, UserTaskProgress
from core.kernel.audit import latest

_CODE = re.compile(r"/link ((?:[A-Z0-9]{4}-){3}[A-Z0-9]{4})")


def _code(driver: Driver) -> str:
    match = _CODE.search(driver.text)
    assert match is not None, driver.text
    return match.group(1)


async def _two_platforms(database: Database) -> tuple[Coach, Driver, Driver]:
    coach = await synced_coach(database)
    tg = Driver(coach, "4242", platform="telegram")
    dc = Driver(coach, "100200300", platform="discord")
    await tg.onboard("Maya")
    await tg.say("/skip")
    await dc.say("/start")  # a Discord account of its own, with nothing in it yet
    return coach, tg, dc


async def test_link_shares_solo_progress(database: Database) -> None:
    _coach, tg, dc = await _two_platforms(database)
    await tg.say("/link")
    code = _code(tg)
    assert all(r.ephemeral for r in tg.replies)
    async with database.transaction() as session:
        stored = (await session.scalars(select(LinkCode))).one()
    assert code.replace("-", "") not in stored.code_hash, "only the hash is stored"
    assert len(stored.code_hash) == 64
    await dc.say(f"/link {code.lower()}")
    assert "Linked" in dc.text
    async with database.transaction() as session:
        owners = set((await session.scalars(select(Identity.user_id))).all())
    assert len(owners) == 1, "both identities belong to one user"
    assert await count(database, User) == 1
    assert await count(database, Profile) == 1, "the Discord account's empty profile is gone"
    await dc.say("/progress")
    assert "Indie" in dc.text
    await dc.say("/skip")  # progress made on Discord shows on Telegram
    assert await count(database, UserTaskProgress, UserTaskProgress.status == "skipped") == 2
    await tg.say("/progress")
    assert "2 task(s) skipped" in tg.text
    assert next(e.action for e in await latest(database)) == "account.link"


async def test_a_code_works_once(database: Database) -> None:
    coach, tg, dc = await _two_platforms(database)
    await tg.say("/link")
    code = _code(tg)
    await dc.say(f"/link {code}")
    assert "Linked" in dc.text
    eve = Driver(coach, "555", platform="discord")
    await eve.say("/start")
    await eve.say(f"/link {code}")
    assert "unknown or has expired" in eve.text
    async with database.transaction() as session:
        eve_owner = (
            await session.scalars(select(Identity.user_id).where(Identity.external_id == "555"))
        ).one()
        maya_owner = (
            await session.scalars(select(Identity.user_id).where(Identity.external_id == "4242"))
        ).one()
    assert eve_owner != maya_owner
    entry = next(e for e in await latest(database) if e.action == "account.link")
    assert entry.outcome == "denied"
    assert entry.actor == "discord:555"


async def test_an_expired_code_is_refused(database: Database) -> None:
    coach, tg, _dc = await _two_platforms(database)
    await tg.say("/link")
    code = _code(tg)
    later = Coach(
        database, catalog=coach.catalog, clock=lambda: utcnow() + CODE_TTL + timedelta(seconds=5)
    )
    late = Driver(later, "100200300", platform="discord")
    await late.say(f"/link {code}")
    assert "unknown or has expired" in late.text
    assert await count(database, User) == 2


async def test_own_code_and_garbage(database: Database) -> None:
    _coach, tg, _dc = await _two_platforms(database)
    await tg.say("/link")
    code = _code(tg)
    await tg.say(f"/link {code}")
    assert "own code" in tg.text
    await tg.say("/link 🎸🎸🎸")
    assert "unknown or has expired" in tg.text


async def test_unlink_splits_the_account_again(database: Database) -> None:
    _coach, tg, dc = await _two_platforms(database)
    await dc.say("/unlink")
    assert "isn't linked" in dc.text
    await tg.say("/link")
    await dc.say(f"/link {_code(tg)}")
    await dc.say("/unlink")
    assert "Unlinked" in dc.text
    assert await count(database, User) == 2
    await dc.say("/start")
    assert "artist name" in dc.text, "Discord starts afresh"
    await tg.say("/progress")
    assert "1 task(s) skipped" in tg.text, "Telegram keeps the progress"
    assert next(e.action for e in await latest(database)) == "account.unlink"
