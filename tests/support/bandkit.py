"""Test helpers for bands: a musician talking to the coach from a server (a Discord guild) or
from a Telegram group."""

from __future__ import annotations

from typing import Any

from coachkit import Driver
from sqlalchemy import select

from core.app.engine import Coach
from core.db.engine import Database
from core.db.models import BandMember, Identity
from core.kernel.types import Inbound
from core.roadmaps.catalog import Catalog, TaskInfo


class GuildDriver(Driver):
    """A musician in a server channel: every event carries the server, its roles and rights."""

    def __init__(
        self,
        coach: Coach,
        user: str,
        *,
        server: str = "900",
        channel: str = "901",
        name: str | None = None,
        manager: bool = False,
        roles: tuple[str, ...] = (),
    ) -> None:
        super().__init__(coach, user, platform="discord")
        self.server = server
        self.channel = channel
        self.name = name or f"user-{user}"
        self.manager = manager
        self.roles = roles

    def inbound(self, **kw: Any) -> Inbound:
        """An event from this member in their server's channel."""
        base: dict[str, Any] = {
            "platform": self.platform,
            "user_id": self.user,
            "chat_id": self.channel,
            "chat_type": "guild",
            "server_id": self.server,
            "manages_server": self.manager,
            "role_ids": self.roles,
            "display_name": self.name,
        }
        base.update(kw)
        return Inbound(**base)


def first_checklist(catalog: Catalog, roadmap_slug: str) -> tuple[int, TaskInfo]:
    """The position and task of the first checklist of a roadmap's first stage."""
    roadmap = catalog.roadmap_by_slug(roadmap_slug)
    assert roadmap is not None
    return next((i, t) for i, t in enumerate(roadmap.stages[0].tasks) if t.is_checklist)


class TelegramGroupDriver(Driver):
    """A member of a Telegram group, straight to the core: the ``Inbound`` the Telegram front
    end makes in a group (``server_id`` is the group's own chat id; ``admin``: the member's
    ``getChatMember`` status is creator or administrator)."""

    def __init__(
        self, coach: Coach, user: int, group: int, *, name: str, admin: bool = False
    ) -> None:
        super().__init__(coach, str(user), platform="telegram")
        self.group, self.name, self.admin = group, name, admin

    def inbound(self, **kw: Any) -> Inbound:
        """An event from this member in the group."""
        base: dict[str, Any] = {
            "platform": "telegram",
            "user_id": self.user,
            "chat_id": str(self.group),
            "chat_type": "group",
            "server_id": str(self.group),
            "manages_server": self.admin,
            "display_name": self.name,
        }
        base.update(kw)
        return Inbound(**base)


async def night_owls(coach: Coach, roadmap: str = "Indie") -> tuple[GuildDriver, GuildDriver]:
    """The Night Owls in a Discord server: Ana (Manage Server) creates the band, Ben joins,
    Ana picks ``roadmap`` (a label part of its button); (ana, ben)."""
    ana = GuildDriver(coach, "1001", name="Ana", manager=True)
    ben = GuildDriver(coach, "1002", name="Ben")
    await ana.say("/band create The Night Owls")
    await ben.say("/band join")
    await ana.say("/start")
    await ana.press(roadmap)
    return ana, ben


async def member_identities(database: Database) -> set[tuple[str, str]]:
    """(platform, external id) of every band member's identities: who is in a band, on which
    platform(s) — a member who linked accounts shows up once per platform."""
    async with database.transaction() as session:
        rows = await session.execute(
            select(Identity.platform, Identity.external_id).join(
                BandMember, BandMember.user_id == Identity.user_id
            )
        )
        return {(p, e) for p, e in rows.all()}
