"""Events from a server chat (a Discord guild, or a Telegram group): find the server's band,
check the sender may act on it, lock the band's profile and hand the turn to the ordinary flows.

The same logic serves both platforms; the front end reports the platform's facts in the
``Inbound`` (the server's id, the sender's roles, whether they administer the server: on
Telegram, a group administrator read from ``getChatMember``) and only the words differ
(:mod:`core.bands.words`). A Telegram group *is* its band's channel: a band created in the
chat whose id is the server's own has that chat as its updates channel from the start.

Who may do what is decided here, in the core, on every event:

* the band is found by the server the event came from (``Inbound.server_id``) — never by
  anything the sender names — so someone in another server can't reach this server's band;
* a *member* has a membership row or holds the band's bound role (the front end reports the
  sender's roles in ``Inbound.role_ids``; holding the role creates the row on first use, so the
  member shows up in credits); anyone else is refused, and the refusal is audited;
* a *manager* has the platform's Manage Server permission (``Inbound.manages_server``) or
  created the band; managers rename, remove members, bind a role, pick the updates channel
  and reset. Creating a band needs Manage Server (on Telegram: a group administrator).

The acting user's own row is never locked here; the band's profile and conversation state are
(``FOR UPDATE OF profiles, conversation_state``), so concurrent members run one after the other.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from core.accounts.deep_links import DeepLinks
from core.accounts.store import musician_of
from core.bands import flows, store, words
from core.bands.store import Actor, BandRow
from core.db.executor import Executor
from core.kernel import store as conv_store
from core.kernel.audit import AuditAction, AuditNote
from core.kernel.markup import bold, esc, italic
from core.kernel.offload import InThread, Offload
from core.kernel.registry import Button as RegistryButton
from core.kernel.registry import Command, Routed
from core.kernel.turn import Turn
from core.kernel.types import (
    MAX_INBOUND_TEXT,
    Inbound,
    Message,
    Outbound,
    toast_or_message,
)
from core.roadmaps.catalog import Catalog

_ANY_MENTION = re.compile(r"<@[&!]?\d{1,20}>")
_ROLE_MENTION = re.compile(r"<@&(\d{1,20})>")


Run = Callable[[Turn], Awaitable[list[Outbound]]]


def _reply(inbound: Inbound, text: str) -> Outbound:
    """A note only the sender needs: a toast for a button press, else an ephemeral message."""
    return toast_or_message(inbound, text, ephemeral=True)


async def _actor(ex: Executor, inbound: Inbound, now: datetime) -> Actor:
    found = await store.actor(ex, inbound.platform, inbound.user_id)
    if found is not None:
        return found
    rec = await musician_of(ex, inbound, now)
    return Actor(rec.user_id, rec.timezone, now, inbound.display_name)


@dataclass(slots=True)
class _Call:
    """One guild event being handled, before the band's turn: who, where, what was found."""

    ex: Executor
    inbound: Inbound
    actor: Actor
    now: datetime
    audits: list[AuditNote]

    @property
    def who(self) -> str:
        return f"{self.inbound.platform}:{self.inbound.user_id}"

    def deny(self, action: AuditAction, target: str, **details: Any) -> None:
        self.audits.append(
            AuditNote(self.who, action, "denied", target, self.actor.user_id, details)
        )


@dataclass(slots=True)
class BandCall:
    """A band's own command or button (the registry's ``band`` door), in the band's turn;
    ``links``: the process's code key and deep links (``/band invite``)."""

    turn: Turn
    band: BandRow
    is_manager: bool
    links: DeepLinks | None = None

    def deny(self, action: AuditAction, target: str, **details: Any) -> None:
        """Record a refused attempt (written after the transaction)."""
        self.turn.audit(action, "denied", target, **details)


def band_sub(args: str) -> tuple[str, str]:
    """``/band <sub> <rest>`` split (``progress`` when bare)."""
    head, _, tail = args.partition(" ")
    return head.casefold() or "progress", tail.strip()


async def handle(
    ex: Executor,
    catalog: Catalog,
    inbound: Inbound,
    now: datetime,
    *,
    event: Routed,
    run: Run,
    audits: list[AuditNote],
    states: Mapping[str, StrEnum],
    offload: Offload | None = None,
    links: DeepLinks | None = None,
    band: BandRow | None = None,
) -> list[Outbound]:
    """One event from a server chat, in the caller's transaction: find the band, check the
    sender may act on it, lock the band's turn, then hand the event to its route — a band
    door route gets a :class:`BandCall`, any other runs as an ordinary turn (``run``).

    ``band``: the server's band when the caller read it already in this transaction (the
    engine does, to tell a Telegram band group from any group), so it is not read twice."""
    assert inbound.server_id is not None  # noqa: S101 - the engine routes only these here
    if inbound.update_id is not None and not await conv_store.first_time(
        ex, inbound.platform, inbound.update_id, now
    ):
        return []
    call = _Call(ex, inbound, await _actor(ex, inbound, now), now, audits)
    route = event.route
    if inbound.kind != "button" and len(inbound.text) > MAX_INBOUND_TEXT:
        return [_reply(inbound, "That message is too long for me. Could you shorten it?")]
    if event.solo_only:
        return [_reply(inbound, f"/{event.command} is about you, not the band: DM me there.")]
    sub, rest = (
        band_sub(event.args) if isinstance(route, Command) and route.name == "band" else ("", "")
    )
    if band is None:
        band = await store.band_for_server(ex, inbound.platform, inbound.server_id)
    if sub == "help":
        return [Message(text=flows.band_help(inbound.platform), ephemeral=True)]
    if sub == "create":
        return await _create(call, band, rest)
    if band is None:
        where = words.place(inbound.platform)
        return [
            _reply(
                inbound,
                f"There's no band in this {where} yet. One of "
                f"{words.managers(inbound.platform)} can start one with `/band create <name>`. "
                "For your solo roadmap, DM me.",
            )
        ]
    role = await store.member_role(ex, band.id, call.actor.user_id)
    if role is None and band.role_id is not None and band.role_id in inbound.role_ids:
        await store.add_member(ex, band.id, call.actor.user_id, "member", now)
        role = "member"
    is_manager = inbound.manages_server or role == "manager"
    target = f"band:{band.id}"
    if sub == "join":
        return await _join(call, band, role)
    refusal = _manager_only(route, sub)
    if refusal is not None and not is_manager:
        call.deny(refusal, target, reason="manager")
        return [_reply(inbound, words.only_managers(inbound.platform, "do that"))]
    if role is None and not is_manager:
        call.deny("band.access", target, server=inbound.server_id, kind=inbound.kind)
        how = "Members hold the band's role." if band.role_id else "Join with /band join."
        return [
            _reply(
                inbound,
                f"You're not in {bold(esc(band.name))} yet, so I can't let you change it. {how}",
            )
        ]
    rec = await store.lock_band_turn(ex, band.id, call.actor.user_id)
    turn = Turn(
        ex, inbound, rec, catalog, now, states=states, audits=audits, offload=offload or InThread()
    )
    if route is not None and route.door == "band":
        band_call = BandCall(turn, band, is_manager, links)
        argument = event.payload if event.payload is not None else event.args
        replies = await route.handler(band_call, argument)
    else:
        replies = await flows.mark_assignees(turn, band, await run(turn))
    replies += flows.channel_updates(turn, band)
    await turn.flush()
    return replies


def _manager_only(route: Command | RegistryButton | None, sub: str) -> AuditAction | None:
    """The audit action of a refusal when this route is for managers only, else ``None``."""
    if route is None or route.door != "band":
        return None
    if isinstance(route, Command) and route.subcommands:
        declared = next((s for s in route.subcommands if s.name == sub), None)
        if declared is None or declared.audience != "managers":
            return None
        return declared.refused_as or "band.access"
    if route.audience == "managers":
        return route.refused_as or "band.access"
    return None


async def _create(call: _Call, band: BandRow | None, raw: str) -> list[Outbound]:
    inbound = call.inbound
    assert inbound.server_id is not None  # noqa: S101 - checked by the caller
    if not inbound.manages_server:
        call.deny("band.create", f"server:{inbound.server_id}", reason="manager")
        return [_reply(inbound, words.only_managers(inbound.platform, "create the band"))]
    where = words.place(inbound.platform)
    if band is not None:
        return [_reply(inbound, f"This {where} already has a band: {bold(esc(band.name))}.")]
    name = flows.band_name(_ANY_MENTION.sub("", raw))
    if isinstance(name, Outbound):
        return [name]
    role = _ROLE_MENTION.search(raw)
    band_id = await store.create_band(
        call.ex,
        platform=inbound.platform,
        server_id=inbound.server_id,
        name=name,
        role_id=role.group(1) if role else None,
        creator=call.actor.user_id,
        now=call.now,
    )
    call.audits.append(
        AuditNote(call.who, "band.create", "ok", f"band:{band_id}", call.actor.user_id)
    )
    how = "everyone with the role is in" if role else "members join with /band join"
    text = (
        f"🎸 {bold(esc(name))} is this {where}'s band now — {how}. "
        "Pick your roadmap with /start; every tick and answer is credited to whoever "
        "made it (/band progress)."
    )
    if inbound.chat_id == inbound.server_id:
        # the chat is the server itself (a Telegram group): it is the band's channel, so the
        # band's reminder, digest and news go here without a /band channel
        created = await store.band_for_server(call.ex, inbound.platform, inbound.server_id)
        assert created is not None  # noqa: S101 - created above, in this transaction
        await flows.channel_here(call.ex, created, inbound, call.actor.timezone, call.now)
        text += "\n" + italic(
            "Band news, the band's reminder and its weekly digest (Mondays at 10:00) come "
            "to this group; /band digest off or /band digest friday 18:00 changes it."
        )
    return [Message(text=text)]


async def _join(call: _Call, band: BandRow, role: str | None) -> list[Outbound]:
    inbound = call.inbound
    if role is not None:
        return [_reply(inbound, f"You're already in {bold(esc(band.name))}. 🎶")]
    if band.role_id is not None and not inbound.manages_server:
        call.deny("band.join", f"band:{band.id}", reason="role")
        return [_reply(inbound, "This band is for holders of its role — ask a manager for it.")]
    await store.add_member(call.ex, band.id, call.actor.user_id, "member", call.now)
    welcome = f"Welcome to {bold(esc(band.name))}! 🎶 /today shows the band's next step."
    return [Message(text=welcome)]
