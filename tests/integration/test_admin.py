"""Roles and admin commands: who may do what (checked in the core, every denial audited), and
what /admin stats, user, reset, audit, grant, revoke and roadmaps reload do."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from coachkit import Driver, count, synced_coach
from sqlalchemy import func, select

from core.admin.access import NOT_ALLOWED, Access, parse_admins
from core.app.engine import Coach
from core.db.base import utcnow
from core.db.engine import Database
from core.db.models import (
    AuditLog,
    Band,
    BandMember,
    Identity,
    Profile,
    Roadmap,
    User,
    UserTaskProgress,
)
from core.kernel import audit
from core.kernel.audit import latest
from core.kernel.payloads import encode
from core.kernel.types import Inbound, Picture

FIXTURES = Path(__file__).resolve().parents[1] / "support" / "fixtures"


async def _person(
    db: Database, handle: str, *, roles: list[str] | None = None, name: str | None = None
) -> uuid.UUID:
    platform, external = handle.split(":")
    async with db.transaction() as session:
        user = User(display_name=name, roles=roles or [])
        session.add(user)
        await session.flush()
        session.add(Identity(user_id=user.id, platform=platform, external_id=external))
    return user.id


async def _band(db: Database, server: str, members: dict[uuid.UUID, str]) -> None:
    async with db.transaction() as session:
        band = Band(name=f"Band of {server}", platform="discord", external_id=server)
        session.add(band)
        await session.flush()
        for user_id, role in members.items():
            session.add(BandMember(band_id=band.id, user_id=user_id, role=role))


@dataclass(frozen=True)
class Persona:
    """Someone sending commands from a Discord server."""

    name: str
    user: str
    server: str
    manages_server: bool = False

    def inbound(self, text: str = "", payload: str | None = None) -> Inbound:
        return Inbound(
            platform="discord",
            user_id=self.user,
            chat_id=f"chan-{self.server}",
            chat_type="guild",
            kind="button" if payload else "command",
            text=text,
            payload=payload,
            message_id="1" if payload else None,
            server_id=self.server,
            manages_server=self.manages_server,
        )


PERSONAS = {
    "bot admin": Persona("bot admin", "1", "guild-a"),
    "granted admin": Persona("granted admin", "6", "guild-a"),
    "band manager": Persona("band manager", "2", "guild-a"),
    "server manager (platform flag)": Persona("server manager", "7", "guild-a", True),
    "band member": Persona("band member", "3", "guild-a"),
    "stranger": Persona("stranger", "4", "guild-a"),
    "manager of another server": Persona("other manager", "5", "guild-b", True),
}
BOT_ADMINS = {"bot admin", "granted admin"}
BAND_MANAGERS = BOT_ADMINS | {"band manager", "server manager (platform flag)"}


async def _cast(db: Database) -> dict[str, uuid.UUID]:
    ids = {
        "bot admin": await _person(db, "discord:1"),
        "granted admin": await _person(db, "discord:6", roles=["admin"]),
        "band manager": await _person(db, "discord:2"),
        "server manager (platform flag)": await _person(db, "discord:7"),
        "band member": await _person(db, "discord:3"),
        "stranger": await _person(db, "discord:4"),
        "manager of another server": await _person(db, "discord:5"),
        "target": await _person(db, "discord:99", name="Target Person"),
    }
    await _band(db, "guild-a", {ids["band manager"]: "manager", ids["band member"]: "member"})
    await _band(db, "guild-b", {ids["manager of another server"]: "manager"})
    return ids


async def _denials(db: Database) -> int:
    return await count(db, AuditLog, AuditLog.outcome == "denied")


async def test_authorization_table(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every bot-admin command and button × every kind of person: allowed or denied, and each
    denial leaves exactly one audit row naming who, what and that it was denied (the cap on
    repeated denials, tested in test_audit_denials.py, is off to see each one)."""
    monkeypatch.setattr(audit, "DENIALS", audit.DenialThrottle(window=0))
    ids = await _cast(database)
    coach = await synced_coach(database)
    coach = Coach(database, admins=["discord:1"], catalog=coach.catalog)
    target = ids["target"]
    stamp = str(int(utcnow().timestamp() // 60))
    commands: list[tuple[str, str | None]] = [
        ("/admin", None),
        ("/admin help", None),
        ("/admin stats", None),
        ("/admin user discord:99", None),
        ("/admin reset discord:99", None),
        ("/admin audit 5", None),
        ("/admin grant discord:99", None),
        ("/admin revoke discord:99", None),
        ("/admin roadmaps reload", None),
        ("/admin broadcast Hello everyone", None),
        ("/admin broadcasts", None),
        ("/admin nonsense", None),
        ("", encode("reset_user", target.hex, stamp)),
        ("", encode("admin_pick", "u", target.hex, stamp)),
        ("", encode("admin_pick", "g", target.hex, stamp)),
        ("", encode("admin_pick", "r", target.hex, stamp)),
        ("", encode("broadcast_send", uuid.uuid4().hex)),
        ("", encode("broadcast_drop", uuid.uuid4().hex)),
    ]
    table: dict[tuple[str, str], bool] = {}
    for who, persona in PERSONAS.items():
        for text, payload in commands:
            before = await _denials(database)
            replies = await coach.handle(persona.inbound(text, payload))
            denied = any(r.text == NOT_ALLOWED for r in replies)
            table[(who, text or (payload or ""))] = not denied
            after = await _denials(database)
            assert after - before == (1 if denied else 0), (who, text, payload)
            if denied:
                [entry] = await latest(database, 1)
                assert entry.actor == f"discord:{persona.user}"
                assert entry.action.startswith("admin.")
                assert entry.actor_user_id == ids[who]
    expected = {(who, cmd): who in BOT_ADMINS for who, cmd in table}
    assert table == expected

    # band management (the Discord band commands use this check)
    access = coach.access
    for who, persona in PERSONAS.items():
        before = await _denials(database)
        allowed = await access.require_band_manager(
            persona.inbound("/band"), "guild-a", "band.rename"
        )
        assert (allowed is not None) == (who in BAND_MANAGERS), who
        assert await _denials(database) - before == (0 if allowed else 1), who
        if not allowed:
            [entry] = await latest(database, 1)
            assert (entry.action, entry.target) == ("band.rename", "discord:guild-a")


def test_coach_admins_are_validated() -> None:
    assert parse_admins(" telegram:123, console:boss ,,discord:9") == {
        "telegram:123",
        "console:boss",
        "discord:9",
    }
    for bad in ("telegram", "irc:1", "telegram:", "telegram:1 2", "telegram:1:2"):
        with pytest.raises(ValueError, match="COACH_ADMINS"):
            parse_admins(bad)


async def test_stranger_first_contact_is_denied_and_creates_nobody(database: Database) -> None:
    coach = Coach(database, admins=["console:boss"])
    replies = await coach.handle(
        Inbound(platform="console", user_id="eve", chat_id="eve", kind="command", text="/admin")
    )
    assert [r.text for r in replies] == [NOT_ALLOWED]
    assert await count(database, User) == 0
    [entry] = await latest(database)
    assert (entry.actor, entry.action, entry.outcome) == ("console:eve", "admin.help", "denied")


async def test_stats_user_and_audit(database: Database) -> None:
    coach = await synced_coach(database)
    coach = Coach(database, admins=["console:boss"], catalog=coach.catalog)
    maya = Driver(coach, "maya")
    await maya.onboard("*DJ_Maya*")
    boss = Driver(coach, "boss")

    replies = await boss.say("/admin stats")
    assert "Musicians: 1" in boss.text
    assert "Active: 1 in 7 days, 1 in 30 days" in boss.text
    assert "Indie Singer-Songwriter · Foundations" in boss.text
    [reply] = replies
    assert isinstance(reply, Picture)
    assert reply.image.startswith(b"\x89PNG")

    await boss.say("/admin user *dj_maya*")  # a name: the account first, its profile on a press
    assert "is this the account you mean?" in boss.text
    assert "Roadmap:" not in boss.text
    await boss.press("Show console:maya")
    assert "Identities: console:maya" in boss.text
    assert "Roadmap: Indie Singer-Songwriter" in boss.text
    assert "\\*DJ\\_Maya\\*" in boss.replies[0].text  # the name is escaped, shown literally
    await boss.say("/admin user console:maya")  # a handle: at once
    assert "Progress: " in boss.text
    await boss.say("/admin user nobody-like-that")
    assert "I found nobody called" in boss.text
    await boss.say("/admin user")
    assert "Usage: /admin user" in boss.text

    # two people with the same name: listed, not guessed
    await Driver(coach, "maya2").onboard("*DJ_Maya*")
    await boss.say("/admin user *DJ_Maya*")
    assert "Several people are called" in boss.text
    assert "console:maya" in boss.text
    assert "console:maya2" in boss.text
    assert [b.label for b in boss.buttons] == ["Show console:maya", "Show console:maya2", "Cancel"]

    await boss.say("/admin audit 4")
    assert "admin.audit ok by console:boss" in boss.text  # looking at the log is logged too
    assert "admin.user ok by console:boss → console:maya" in boss.text  # so is reading a profile
    await boss.say("/admin audit 50")
    assert "admin.stats ok by console:boss" in boss.text
    await boss.say("/admin audit 500")
    assert "Usage: /admin audit" in boss.text


async def test_reset_needs_confirmation_and_expires(database: Database) -> None:
    coach = await synced_coach(database)
    clock_now = [utcnow()]
    coach = Coach(
        database, admins=["console:boss"], catalog=coach.catalog, clock=lambda: clock_now[0]
    )
    maya = Driver(coach, "maya")
    await maya.onboard()
    await maya.say("/skip")
    assert await count(database, UserTaskProgress) == 1
    boss = Driver(coach, "boss")

    await boss.say("/admin reset console:maya")
    assert "Reset Maya" in boss.text
    assert await count(database, UserTaskProgress) == 1  # nothing yet
    await boss.press("Cancel")
    assert boss.text == "OK, nothing done."

    await boss.say("/admin reset Maya")
    yes = boss.find("Yes, reset")
    clock_now[0] += timedelta(minutes=11)
    await boss.press_payload(yes.payload)
    assert "expired" in boss.text
    assert await count(database, UserTaskProgress) == 1

    await boss.say("/admin reset Maya")
    yes = boss.find("Yes, reset")
    # a musician pressing a forged copy of the admin's button is refused (and audited)
    await maya.press_payload(yes.payload)
    assert maya.text == NOT_ALLOWED
    await boss.press_payload(yes.payload)
    assert "Maya starts over (1 progress rows removed)" in boss.text
    await boss.press_payload(yes.payload)  # double tap: nothing left
    assert "(0 progress rows removed)" in boss.text
    assert await count(database, UserTaskProgress) == 0
    assert await count(database, Profile, Profile.roadmap_id.is_(None)) == 1
    await maya.say("hello")
    assert "roadmap" in maya.text.casefold()  # she picks a roadmap again
    actions = [(e.action, e.outcome) for e in await latest(database, 50)]
    assert ("admin.reset", "ok") in actions
    assert ("admin.reset", "denied") in actions


async def test_grant_and_revoke(database: Database) -> None:
    coach = Coach(database, admins=["console:boss"])
    ana = Driver(coach, "ana")
    await ana.say("/start")
    await ana.say("Ana")
    await ana.say("/admin stats")
    assert ana.text == NOT_ALLOWED

    boss = Driver(coach, "boss")
    await boss.say("/start")
    await boss.say("/admin grant console:ana")
    assert "Ana is now a bot admin" in boss.text
    await boss.say("/admin grant console:ana")
    assert "already an admin" in boss.text
    await ana.say("/admin stats")
    assert "Musicians: 2" in ana.text
    # a granted admin cannot take away an operator's (COACH_ADMINS) role
    await ana.say("/admin revoke console:boss")
    assert "from COACH_ADMINS" in ana.text
    await boss.say("/admin revoke ana")  # a name: the account is shown, then picked
    assert "console:ana" in boss.text
    assert "no longer" not in boss.text
    await boss.press("Take admin from console:ana")
    assert "no longer a bot admin" in boss.text
    await ana.say("/admin stats")
    assert ana.text == NOT_ALLOWED
    entries = [(e.action, e.outcome, e.target) for e in await latest(database, 50)]
    assert ("role.grant", "ok", "console:ana") in entries
    assert ("role.grant", "unchanged", "console:ana") in entries
    assert ("role.revoke", "ok", "console:ana") in entries


async def _roadmap_state(db: Database) -> list[tuple[str, str, bool]]:
    async with db.transaction() as session:
        rows = await session.execute(
            select(Roadmap.slug, Roadmap.content_hash, Roadmap.archived).order_by(Roadmap.slug)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_roadmaps_reload_refuses_broken_content(database: Database, tmp_path: Path) -> None:
    content = tmp_path / "roadmaps"
    shutil.copytree(FIXTURES / "roadmaps_v2", content)
    shutil.copy(FIXTURES / "roadmaps_bad" / "min-greater-than-max.yaml", content)
    coach = Coach(database, admins=["console:boss"], roadmaps_dir=content)
    boss = Driver(coach, "boss")
    before = await _roadmap_state(database)
    await boss.say("/admin roadmaps reload")
    assert "Not reloaded" in boss.text
    assert "nothing changed" in boss.text
    assert "min-greater-than-max.yaml:" in boss.text
    assert await _roadmap_state(database) == before

    (content / "min-greater-than-max.yaml").unlink()
    catalog_before = await coach.catalog.current(database)
    await boss.say("/admin roadmaps reload")
    assert "Roadmaps reloaded" in boss.text
    assert [slug for slug, _h, _a in await _roadmap_state(database)] == ["alpha"]
    catalog_after = await coach.catalog.current(database)
    assert catalog_after is not catalog_before
    assert catalog_after.roadmap_by_slug("alpha") is not None
    outcomes = [(e.action, e.outcome) for e in await latest(database, 5)]
    assert outcomes[:2] == [("admin.roadmaps_reload", "ok"), ("admin.roadmaps_reload", "refused")]
    async with database.transaction() as session:
        assert (await session.execute(select(func.count()).select_from(Roadmap))).scalar_one()


async def test_access_loads_roles_from_the_database(database: Database) -> None:
    await _person(database, "telegram:5", roles=["admin"])
    await _person(database, "telegram:6", roles=["moderator"])
    access = Access(database, ["telegram:7"])
    assert access.is_bot_admin(await access.actor("telegram", "5"))
    assert not access.is_bot_admin(await access.actor("telegram", "6"))
    assert access.is_bot_admin(await access.actor("telegram", "7"))  # bootstrap, no row
    assert not access.is_bot_admin(await access.actor("telegram", "8"))


def test_terminal_admin_through_coach_chat(tmp_path: Path) -> None:
    """``COACH_ADMINS=console:boss coach chat --user boss``: the terminal is a platform too."""
    db = f"sqlite+aiosqlite:///{tmp_path / 'coach.db'}"
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "COACH_ADMINS": "console:boss",
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }

    def chat(user: str, lines: str) -> str:
        result = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
            [sys.executable, "-m", "bot.cli", "chat", "--db", db, "--user", user],
            input=lines,
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    out = chat("maya", "/start\nMaya\n1\n/admin stats\n/export\n")
    assert NOT_ALLOWED in out
    [saved] = re.findall(r"\[file: saved to (.+\.json)\]", out)
    exported = json.loads(Path(saved).read_text())
    assert exported["identities"] == ["console:maya"]
    assert Path(saved).is_relative_to(tmp_path)
    out = chat("boss", "/admin stats\n/admin user maya\n1\n")  # 1: the button under the account
    assert "Musicians: 1" in out
    assert "[picture: saved to" in out
    assert "Identities: console:maya" in out
