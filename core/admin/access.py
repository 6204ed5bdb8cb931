"""Who may do what: bot admins and band managers, decided in the core on every call.

A front end never decides access. It reports who is speaking (``Inbound.platform`` and
``user_id``) and what the platform says about them (``Inbound.server_id`` and
``manages_server``: Discord's Manage Server permission *in that server*); the checks here turn
that into allowed or denied, and every denial is written to the audit log.

* A **bot admin** is an identity listed in ``COACH_ADMINS`` (``telegram:123,console:boss``;
  fixed by the operator, not revocable in chat) or a user whose ``users.roles`` holds
  ``"admin"`` (granted and revoked in chat by another admin).
* A **band manager** of a server is a bot admin, a member whose ``band_members.role`` is
  ``"manager"`` in the band bound to that server, or someone the platform says manages that very
  server (``manages_server`` only counts when ``server_id`` is the server in question — a
  manager of another server is a stranger here).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select

from core.db.engine import Database
from core.db.tables import (
    band_members as _members,
)
from core.db.tables import (
    bands as _bands,
)
from core.db.tables import (
    identities as _identities,
)
from core.db.tables import (
    users as _users,
)
from core.kernel import audit
from core.kernel.audit import AuditAction
from core.kernel.types import Inbound

#: The role name in ``users.roles`` that makes a bot admin.
ADMIN_ROLE: Final = "admin"
#: What a denied person reads (plain: it says nothing about what exists).
NOT_ALLOWED: Final = "Sorry, that's not allowed."

_IDENTITY = re.compile(r"^(telegram|discord|console):([^\s,:]{1,64})$")


def parse_admins(raw: str | Iterable[str]) -> frozenset[str]:
    """``"telegram:123, console:boss"`` → ``{"telegram:123", "console:boss"}``.

    Raises:
        ValueError: an entry is not ``platform:id`` with a known platform — a typo in the admin
            list must stop the process at start, not silently leave it without admins.
    """
    parts = raw.split(",") if isinstance(raw, str) else list(raw)
    found: set[str] = set()
    for part in parts:
        entry = part.strip()
        if not entry:
            continue
        if not _IDENTITY.match(entry):
            raise ValueError(
                f"COACH_ADMINS entry {entry!r} is not platform:id "
                "(platform telegram, discord or console)"
            )
        found.add(entry)
    return frozenset(found)


def label(platform: str, external_id: str) -> str:
    """How an identity is written in COACH_ADMINS and in the audit log: ``platform:id``."""
    return f"{platform}:{external_id}"


@dataclass(frozen=True, slots=True)
class Actor:
    """The person behind an event, as far as access is concerned."""

    platform: str
    external_id: str
    user_id: uuid.UUID | None
    roles: tuple[str, ...]

    @property
    def label(self) -> str:
        """``platform:id``."""
        return label(self.platform, self.external_id)


class Access:
    """The access checks; one per coach (it holds the COACH_ADMINS bootstrap list)."""

    def __init__(self, db: Database, bootstrap_admins: Iterable[str] = ()) -> None:
        self.db = db
        self.bootstrap = parse_admins(bootstrap_admins)

    async def actor(self, platform: str, external_id: str) -> Actor:
        """Load who is speaking (their user id and roles, if we know them)."""
        async with self.db.transaction() as session:
            row = (
                await session.execute(
                    select(_users.c.id, _users.c.roles)
                    .join(_identities, _identities.c.user_id == _users.c.id)
                    .where(
                        _identities.c.platform == platform,
                        _identities.c.external_id == external_id,
                    )
                )
            ).first()
        if row is None:
            return Actor(platform, external_id, None, ())
        roles = tuple(str(r) for r in (row.roles or []) if isinstance(r, str))
        return Actor(platform, external_id, row.id, roles)

    def is_bootstrap_admin(self, actor: Actor) -> bool:
        """Listed in COACH_ADMINS (cannot be revoked in chat)."""
        return actor.label in self.bootstrap

    def is_bot_admin(self, actor: Actor) -> bool:
        """A bot admin: in COACH_ADMINS or holding the ``admin`` role."""
        return self.is_bootstrap_admin(actor) or ADMIN_ROLE in actor.roles

    async def manages_server(self, actor: Actor, inbound: Inbound, server_id: str) -> bool:
        """May ``actor`` manage the band of ``server_id`` (on ``inbound``'s platform)?"""
        if self.is_bot_admin(actor):
            return True
        if inbound.manages_server and inbound.server_id == server_id:
            return True
        if actor.user_id is None:
            return False
        async with self.db.transaction() as session:
            role = (
                await session.execute(
                    select(_members.c.role)
                    .join(_bands, _bands.c.id == _members.c.band_id)
                    .where(
                        _bands.c.platform == inbound.platform,
                        _bands.c.external_id == server_id,
                        _members.c.user_id == actor.user_id,
                    )
                )
            ).scalar_one_or_none()
        return role == "manager"

    async def require_admin(
        self,
        inbound: Inbound,
        action: AuditAction,
        target: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> Actor | None:
        """The actor when they are a bot admin; else ``None`` after auditing the denial
        (``details``: facts for the denial's row, e.g. the unknown subcommand typed)."""
        actor = await self.actor(inbound.platform, inbound.user_id)
        if self.is_bot_admin(actor):
            return actor
        await self._deny(actor, action, target, details)
        return None

    async def require_band_manager(
        self, inbound: Inbound, server_id: str, action: AuditAction
    ) -> Actor | None:
        """The actor when they may manage ``server_id``'s band; else ``None``, denial audited.

        For the band commands of the Discord front end (issue #4) and anything else that acts
        on a band.
        """
        actor = await self.actor(inbound.platform, inbound.user_id)
        if await self.manages_server(actor, inbound, server_id):
            return actor
        await self._deny(actor, action, label(inbound.platform, server_id))
        return None

    async def _deny(
        self,
        actor: Actor,
        action: AuditAction,
        target: str | None,
        details: dict[str, Any] | None = None,
    ) -> None:
        await audit.record(
            self.db,
            actor=actor.label,
            action=action,
            outcome="denied",
            target=target,
            actor_user_id=actor.user_id,
            details=details,
        )
