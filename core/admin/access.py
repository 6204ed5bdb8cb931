"""Who may do what: bot admins and band managers, decided in the core on every call.

A front end never decides access. It reports who is speaking (``Inbound.platform`` and
``user_id``) and what the platform says about them (``Inbound.server_id`` and
``manages_server``: Discord's Manage Server permission *in that server*); the checks here turn
that into allowed or denied, and every denial is written to the audit log.

* A **bot admin** is an identity listed in ``COACH_ADMINS`` (``telegram:123,console:boss``;
  fixed by the operator, not revocable in chat) or a user whose ``users.roles`` holds
  ``"admin"`` (granted and revoked in chat by another admin).
  Who is an admin decides what the platforms' menus offer (Telegram shows ``/admin`` only in
  admins' private chats): :meth:`Access.admins_on` lists them, and whoever draws such menus
  hears of every grant and revoke through :meth:`Access.on_roles_changed`.
* A **band manager** of a server is a bot admin, a member whose ``band_members.role`` is
  ``"manager"`` in the band bound to that server, or someone the platform says manages that very
  server (``manages_server`` only counts when ``server_id`` is the server in question — a
  manager of another server is a stranger here).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import String, cast, select

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

logger = logging.getLogger(__name__)

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


#: Told the identities (``platform:id``) of a person whose roles just changed.
RolesChanged = Callable[[frozenset[str]], Awaitable[None]]


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
        self._listeners: list[RolesChanged] = []

    async def admins_on(self, platform: str) -> list[str]:
        """The ids on ``platform`` of every bot admin: the ``COACH_ADMINS`` entries for it and
        each identity there of a user holding the admin role (for the menus that offer admin
        commands to admins only; the checks never read this)."""
        found = {
            entry.split(":", 1)[1] for entry in self.bootstrap if entry.startswith(f"{platform}:")
        }
        async with self.db.transaction() as session:
            rows = await session.execute(
                select(_identities.c.external_id, _users.c.roles)
                .join(_users, _users.c.id == _identities.c.user_id)
                .where(
                    _identities.c.platform == platform,
                    # coarse: the JSON read as text, alike on both backends (no index: it
                    # runs at a front end's start); the exact test is below
                    cast(_users.c.roles, String).like(f'%"{ADMIN_ROLE}"%'),
                )
            )
            found.update(external for external, roles in rows if ADMIN_ROLE in (roles or []))
        return sorted(found)

    def on_roles_changed(self, listener: RolesChanged) -> Callable[[], None]:
        """Call ``listener`` after every change of someone's roles; returns the unsubscribe.

        This process's grants and revokes only (another process's front end republishes its
        menus when it starts). A listener must be quick (it runs before the admin's answer)
        and its failures are logged, never the admin's problem.
        """
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    async def roles_changed(self, identities: Iterable[str]) -> None:
        """Tell the listeners that the person with these identities got or lost a role."""
        who = frozenset(identities)
        for listener in list(self._listeners):
            try:
                await listener(who)
            except Exception:
                logger.exception("a roles-changed listener failed")

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
