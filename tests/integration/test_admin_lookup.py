"""``/admin user|grant|revoke|reset <who>``: a handle acts, a name only shows accounts.

Anyone can give themselves any name, so an impostor can rename themselves after the musician
an admin means. A handle (``platform:id``, a user id) names one account for certain and acts at
once; a name shows the account(s) it fits — platform, id, display and artist name, first
seen — and the admin presses the button of the one they mean. Two people with the same name are
never silently chosen between. The buttons are the desk's usual confirmations: minute-stamped,
ten minutes, the admin re-checked on the press.
"""

from __future__ import annotations

from coachkit import Driver, count, synced_coach
from reminderkit import FakeClock
from sqlalchemy import select

from core.admin.access import NOT_ALLOWED
from core.app.engine import Coach
from core.db.engine import Database
from core.db.models import AuditLog, Identity, User, UserTaskProgress
from core.kernel.audit import latest
from core.kernel.types import Inbound, Toast

BOSS = "telegram:1"


async def _roles(db: Database, external_id: str) -> list[str]:
    async with db.transaction() as session:
        roles = (
            await session.execute(
                select(User.roles)
                .join(Identity, Identity.user_id == User.id)
                .where(Identity.external_id == external_id)
            )
        ).scalar_one()
    return list(roles)


async def _coach(database: Database, clock: FakeClock) -> tuple[Coach, Driver]:
    """A coach with the roadmaps synced, the operator ``telegram:1`` its admin (the driver)."""
    synced = await synced_coach(database)
    coach = Coach(database, admins=[BOSS], clock=clock, catalog=synced.catalog)
    return coach, Driver(coach, "1", platform="telegram")


async def test_an_impostor_who_took_the_name_is_shown_not_granted(database: Database) -> None:
    clock = FakeClock()
    coach, boss = await _coach(database, clock)
    eve = Driver(coach, "666", platform="telegram")
    await eve.say("/start")
    await eve.say("Eve")
    await eve.say("/name Maya")  # the admin means a Maya who isn't even here yet

    await boss.say("/admin grant Maya")

    assert await _roles(database, "666") == [], "a name never acts on its own"
    assert "Anyone can call themselves Maya: is this the account you mean?" in boss.text
    assert "telegram:666 — first seen 2026-11-26" in boss.text
    assert "Display name: — · artist name: Maya" in boss.text
    assert [b.label for b in boss.buttons] == ["Make telegram:666 an admin", "Cancel"]
    await boss.press("Cancel")
    assert boss.text == "OK, nothing done."
    assert await _roles(database, "666") == []
    assert not [e for e in await latest(database, 20) if e.action.startswith("role.")]

    for command in ("/admin reset Maya", "/admin revoke Maya", "/admin user Maya"):
        await boss.say(command)
        assert "telegram:666" in boss.text
        assert "starts over" not in boss.text
        assert "no longer" not in boss.text
        assert "Roadmap:" not in boss.text
    assert not [e for e in await latest(database, 20) if e.outcome == "ok"], "nothing was done"


async def test_two_people_with_one_name_are_both_shown_and_only_the_pick_acts(
    database: Database,
) -> None:
    clock = FakeClock()
    coach, boss = await _coach(database, clock)
    maya = Driver(coach, "1001", platform="telegram")
    await maya.onboard("Maya")
    clock.advance(days=3)
    impostor = Driver(coach, "666", platform="telegram")
    await impostor.onboard("Mallory")
    await impostor.say("/name maya")

    await boss.say("/admin grant Maya")
    assert "Several people are called Maya — which account do you mean?" in boss.text
    assert "telegram:1001 — first seen 2026-11-26" in boss.text
    assert "telegram:666 — first seen 2026-11-29" in boss.text
    labels = [b.label for b in boss.buttons]
    assert labels == ["Make telegram:1001 an admin", "Make telegram:666 an admin", "Cancel"]
    assert await _roles(database, "1001") == []
    assert await _roles(database, "666") == []

    await boss.press("Make telegram:1001 an admin")
    assert boss.text == "Maya is now a bot admin."
    assert boss.replies[0].edit, "the answer replaces the question"
    assert await _roles(database, "1001") == ["admin"]
    assert await _roles(database, "666") == []
    [granted] = [e for e in await latest(database, 20) if e.action == "role.grant"]
    assert (granted.actor, granted.target, granted.outcome) == (BOSS, "telegram:1001", "ok")

    # the same display name from the platform, no artist name: listed, never picked for you
    for user in ("201", "202"):
        await coach.handle(
            Inbound(
                platform="telegram",
                user_id=user,
                chat_id=user,
                kind="command",
                text="/start",
                display_name="Sam",
            )
        )
    await boss.say("/admin user sam")
    assert "Several people are called sam" in boss.text
    assert "Display name: Sam · artist name: —" in boss.text
    assert "Roadmap:" not in boss.text
    await boss.press("Show telegram:202")
    assert "Identities: telegram:202" in boss.text
    assert all(r.private for r in boss.replies), "someone's profile is for the admin's eyes"
    [shown] = [e for e in await latest(database, 20) if e.action == "admin.user"]
    assert shown.target == "telegram:202"


async def test_a_handle_acts_at_once_and_never_matches_a_name(database: Database) -> None:
    clock = FakeClock()
    coach, boss = await _coach(database, clock)
    maya = Driver(coach, "1001", platform="telegram")
    await maya.onboard("Maya")
    trick = Driver(coach, "666", platform="telegram")
    await trick.onboard("telegram:777")  # a name that looks like a handle

    await boss.say("/admin grant telegram:1001")
    assert boss.text == "Maya is now a bot admin."
    await boss.say("/admin grant telegram:777")
    assert "I found nobody called telegram:777" in boss.text
    assert await _roles(database, "666") == []
    async with database.transaction() as session:
        maya_id = (
            await session.execute(select(Identity.user_id).where(Identity.external_id == "1001"))
        ).scalar_one()
    await boss.say(f"/admin user {maya_id}")
    assert "Identities: telegram:1001" in boss.text


async def test_the_pick_expires_and_rechecks_the_admin(database: Database) -> None:
    clock = FakeClock()
    coach, boss = await _coach(database, clock)
    maya = Driver(coach, "1001", platform="telegram")
    await maya.onboard("Maya")
    await maya.say("/skip")

    await boss.say("/admin grant Maya")
    grant = boss.find("Make telegram:1001 an admin")
    # the musician pressing a copy of the admin's button: refused and audited
    [refused] = await maya.press_payload(grant.payload)
    assert (refused.text, isinstance(refused, Toast)) == (NOT_ALLOWED, True)
    assert await _roles(database, "1001") == []
    [denied] = [e for e in await latest(database, 5) if e.outcome == "denied"]
    assert (denied.action, denied.actor) == ("admin.grant", "telegram:1001")

    clock.advance(minutes=11)
    await boss.press_payload(grant.payload)
    assert "expired" in boss.text
    assert await _roles(database, "1001") == []

    await boss.say("/admin reset Maya")  # reset shows the account on its own question
    assert "telegram:1001 — first seen" in boss.text
    reset = boss.find("Yes, reset telegram:1001")
    clock.advance(minutes=11)
    await boss.press_payload(reset.payload)
    assert "expired" in boss.text
    assert await count(database, UserTaskProgress) == 1
    await boss.say("/admin reset Maya")
    await boss.press("Yes, reset telegram:1001")
    assert "Maya starts over (1 progress rows removed)" in boss.text
    assert await count(database, AuditLog, AuditLog.action == "admin.reset") == 1
    clock.advance(minutes=1)
    await boss.say("/admin user Maya")
    await boss.press("Show telegram:1001")
    assert "Progress: 0/" in boss.text
    assert (await latest(database, 1))[0].action == "admin.user"
    stale = boss.find("Show telegram:1001").payload.replace(":u:", ":x:")
    await boss.press_payload(stale)
    assert "doesn't work anymore" in boss.text
