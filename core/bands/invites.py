"""Band invites: a manager's ``/band invite`` gives a code that lets someone join the band from a
private chat, on either platform (``/join <code>``, or Telegram's ``/start inv-<code>`` link).

Why a code and not "anyone in the server": a band's home is a server or group, but the person
invited may not be in it yet, may be on the other platform, or the band may be bound to a role
they don't hold. The invite is the manager's say-so, so it makes them a *member of the band* —
a membership row on their user, as ``/band join`` gives — whatever platform they redeem it on.
Their memberships are their user's, so once they ``/link`` their accounts (or already have)
they act in the band from its home like everyone else (docs/architecture.md, "Invites and deep
links").

The rules, and why:

* **Managers only**, checked on every call by the band door (``/band invite`` is a manager
  sub-command, a refusal is audited as ``band.invite``).
* **The code**: 80 random bits in the link codes' alphabet (core/accounts/linking.py), stored as
  the same keyed HMAC-SHA256 (``COACH_LINK_SECRET``), never in clear and never logged; the reply
  that shows it is private (kept out of a shared chat).
* **Uses and expiry**: for 1 person by default (``/band invite 5``: up to 25), for
  :data:`INVITE_TTL`; ``/band invite revoke`` withdraws every open one. Redeeming takes one use
  in a single conditional ``UPDATE … WHERE uses_left > 0 AND revoked_at IS NULL AND expires_at
  > now``: two people racing the last use, one wins (PostgreSQL re-checks the condition on the
  row the winner changed; SQLite has one writer). A used-up, expired or withdrawn invite is
  refused with a reply that says which, and the refusal is audited (``band.join`` denied).
* **Rate limits**: a band issues at most :data:`ISSUES_PER_DAY` invites a day (counted in the
  table, so every worker agrees); a person tries at most a few codes in ten minutes (the
  engine's per-person redeem limiter, in memory like the inbound limit), beyond which nothing is
  looked up.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Final

from sqlalchemy import Integer, bindparam, func, insert, literal_column, select, update
from sqlalchemy.sql.elements import ColumnClause

from core.accounts.deep_links import DeepLinks, StartKind
from core.accounts.linking import (
    CODE_LENGTH,
    AccountCall,
    code_hash,
    new_code,
    normalise,
    shown,
)
from core.bands import store, words
from core.db.tables import band_invites as invites
from core.db.tables import bands
from core.kernel.audit import AuditNote
from core.kernel.markup import bold, esc
from core.kernel.turn import Turn
from core.kernel.types import Message, Outbound

#: How long an invite stays valid.
INVITE_TTL: Final = timedelta(days=7)
#: People one invite may bring in at most (``/band invite <n>``).
MAX_USES: Final = 25
#: Invites one band may issue in a day.
ISSUES_PER_DAY: Final = 10
#: Codes one person may try (``/join``, ``/start inv-…``) per :data:`TRY_WINDOW_SECONDS`.
TRIES: Final = 5
TRY_WINDOW_SECONDS: Final = 600.0

_PLATFORM_NAMES: Final = {"telegram": "Telegram", "discord": "Discord", "console": "terminal"}

#: Constants written into the SQL (the hot path's executor binds only named parameters).
_ZERO: Final[ColumnClause[int]] = literal_column("0", Integer)
_ONE: Final[ColumnClause[int]] = literal_column("1", Integer)
_ISSUED_SINCE = select(func.count()).where(
    invites.c.band_id == bindparam("band_id"), invites.c.created_at > bindparam("since")
)
_ADD = insert(invites)
_REVOKE = (
    update(invites)
    .where(
        invites.c.band_id == bindparam("b_band_id"),
        invites.c.revoked_at.is_(None),
        invites.c.uses_left > _ZERO,
        invites.c.expires_at > bindparam("now"),
    )
    .values(revoked_at=bindparam("now"))
    .returning(invites.c.id)
)
_FIND = (
    select(
        invites.c.id,
        invites.c.band_id,
        invites.c.uses_left,
        invites.c.expires_at,
        invites.c.revoked_at,
        bands.c.name,
        bands.c.platform,
    )
    .join(bands, bands.c.id == invites.c.band_id)
    .where(invites.c.code_hash == bindparam("code_hash"))
)
#: One use taken, only while the invite is still good: the race's one decision.
_TAKE = (
    update(invites)
    .where(
        invites.c.id == bindparam("invite_id"),
        invites.c.uses_left > _ZERO,
        invites.c.revoked_at.is_(None),
        invites.c.expires_at > bindparam("now"),
    )
    .values(uses_left=invites.c.uses_left - _ONE)
    .returning(invites.c.uses_left)
)

USAGE: Final = (
    "`/band invite` — an invite for one person · `/band invite 5` — for up to five (at most "
    f"{MAX_USES}) · `/band invite revoke` — withdraw every open invite. Invites last "
    f"{INVITE_TTL.days} days."
)


async def command(
    turn: Turn, band_id: uuid.UUID, band_name: str, rest: str, links: DeepLinks | None
) -> list[Outbound]:
    """``/band invite [<uses> | revoke]`` in the band's turn (the caller checked: a manager)."""
    word = rest.strip().casefold()
    if word == "revoke":
        return await _revoke(turn, band_id)
    if word and not word.isdigit():
        return [Message(text=f"I didn't get `{esc(rest[:20])}`.\n{USAGE}", ephemeral=True)]
    uses = int(word) if word else 1
    if not 1 <= uses <= MAX_USES:
        return [Message(text=f"An invite is for 1 to {MAX_USES} people.\n{USAGE}", ephemeral=True)]
    return await _issue(turn, band_id, band_name, uses, links)


async def _issue(
    turn: Turn, band_id: uuid.UUID, band_name: str, uses: int, links: DeepLinks | None
) -> list[Outbound]:
    ex, now = turn.ex, turn.now
    issued = (await ex.rows(_ISSUED_SINCE, {"band_id": band_id, "since": now - timedelta(1)}))[0][0]
    if issued >= ISSUES_PER_DAY:
        turn.audit("band.invite", "denied", f"band:{band_id}", reason="limit")
        return [
            Message(
                text=f"The band has made {ISSUES_PER_DAY} invites in the last day, which is my "
                "limit — an invite can bring in up to "
                f"{MAX_USES} people (`/band invite {MAX_USES}`). Try again tomorrow.",
                ephemeral=True,
            )
        ]
    if links is None:  # the band door always hands them over; a library caller may not
        return [Message(text="Invites aren't available here.", ephemeral=True)]
    code, invite_id = new_code(), uuid.uuid4()
    await ex.run(
        _ADD,
        {
            "id": invite_id,
            "code_hash": code_hash(code, links.key),
            "band_id": band_id,
            "created_by": turn.rec.user_id,  # the acting manager (a band turn's record)
            "uses": uses,
            "uses_left": uses,
            "expires_at": now + INVITE_TTL,
            "revoked_at": None,
            "created_at": now,
        },
    )
    turn.audit("band.invite", "ok", f"band:{band_id}", invite=str(invite_id), uses=uses)
    who = "one person" if uses == 1 else f"up to {uses} people"
    until = f"{now + INVITE_TTL:%Y-%m-%d %H:%M} UTC"
    lines = [
        f"🎟️ An invite to {bold(esc(band_name))} for {who}, valid until {until}.",
        "Share it with them — they send me this in a private chat, on Telegram or Discord:",
        bold(f"`/join {shown(code)}`"),
    ]
    url = links.telegram(StartKind.INVITE, code)
    if url:
        lines.append(f"On Telegram one tap does it: {esc(url)}")
    if turn.inbound.platform == "discord":
        lines.append(
            "Someone not in this server yet also needs the server's own invite link "
            "(Invite People) to reach the band's channel."
        )
    lines.append("`/band invite revoke` withdraws every open invite.")
    return [Message(text="\n".join(lines), ephemeral=True, private=True)]


async def _revoke(turn: Turn, band_id: uuid.UUID) -> list[Outbound]:
    gone = await turn.ex.rows(_REVOKE, {"b_band_id": band_id, "now": turn.now})
    turn.audit("band.invite", "ok", f"band:{band_id}", revoked=len(gone))
    if not gone:
        return [Message(text="There's no open invite to withdraw.", ephemeral=True)]
    many = "1 open invite" if len(gone) == 1 else f"{len(gone)} open invites"
    return [Message(text=f"Withdrawn: {many}. Nobody can join with them now.", ephemeral=True)]


def _refused(call: AccountCall, reason: str, text: str, band: uuid.UUID | None = None) -> Message:
    """A refused code: audited (capped like every denial), answered with what went wrong."""
    inbound = call.inbound
    call.audits.append(
        AuditNote(
            f"{inbound.platform}:{inbound.user_id}",
            "band.join",
            "denied",
            f"band:{band}" if band else None,
            call.rec.user_id,
            {"reason": reason, "via": "invite"},
        )
    )
    return Message(text=text, ephemeral=True)


async def redeem(call: AccountCall, raw: str) -> list[Outbound]:
    """``/join <code>`` (or ``/start inv-<code>``) in a private chat: join the invite's band."""
    inbound, ex, now = call.inbound, call.ex, call.now
    if inbound.chat_type != "private":
        return [Message(text="Send the invite to me in a private chat: `/join <code>`.")]
    if not raw.strip():
        return [
            Message(
                text="Send `/join <code>` with the invite code a band manager gave you "
                "(they get one with `/band invite`)."
            )
        ]
    if not call.attempt():
        return [
            _refused(
                call,
                "rate",
                "That's a lot of invite codes in a short time. Please wait ten minutes and "
                "try again.",
            )
        ]
    code = normalise(raw)
    rows = (
        await ex.rows(_FIND, {"code_hash": code_hash(code, call.key)})
        if len(code) == CODE_LENGTH
        else []
    )
    if not rows:
        return [
            _refused(
                call,
                "unknown",
                "I don't know that invite — check it was copied whole, or ask the band's "
                "manager for a fresh one (`/band invite`).",
            )
        ]
    invite_id, band_id, uses_left, expires_at, revoked_at, name, platform = rows[0]
    band = bold(esc(name))
    if revoked_at is not None:
        return [_refused(call, "revoked", f"That invite to {band} was withdrawn.", band_id)]
    if expires_at <= now:
        return [
            _refused(
                call,
                "expired",
                f"That invite to {band} has expired. Ask a manager for a fresh one "
                "(`/band invite`).",
                band_id,
            )
        ]
    if await store.member_role(ex, band_id, call.rec.user_id) is not None:
        return [Message(text=f"You're already in {band}. 🎶")]
    if uses_left <= 0 or not await ex.rows(_TAKE, {"invite_id": invite_id, "now": now}):
        return [
            _refused(
                call,
                "used",
                f"That invite to {band} has already been used. Ask a manager for a fresh one "
                "(`/band invite`).",
                band_id,
            )
        ]
    await store.add_member(ex, band_id, call.rec.user_id, "member", now)
    call.audits.append(
        AuditNote(
            f"{inbound.platform}:{inbound.user_id}",
            "band.join",
            "ok",
            f"band:{band_id}",
            call.rec.user_id,
            {"via": "invite", "invite": str(invite_id)},
        )
    )
    return [Message(text=f"Welcome to {band}! 🎶\n{_where(str(platform), inbound.platform)}")]


def _where(home: str, here: str) -> str:
    """Where the band's work happens, and — from the other platform — how to get there."""
    place = f"its {_PLATFORM_NAMES.get(home, home)} {words.place(home)}"
    if home == here:
        return f"The band works in {place}: /today there shows its next step."
    other = _PLATFORM_NAMES.get(home, home)
    return (
        f"The band works in {place}. To join in there, link your {other} account to this one: "
        f"send /link here and the code to me on {other}. Your membership goes with you."
    )
