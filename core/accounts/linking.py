"""One musician, two platforms: ``/link`` joins a Telegram and a Discord identity to one user.

``/link`` (no argument) gives a one-time code; the same person sends ``/link <code>`` on the
other platform. Codes are short-lived (:data:`CODE_TTL`) and single use (deleted when
redeemed). A code is the key to an account — whoever redeems it *becomes* its owner on their
platform — so:

* it is only ever given, and taken, in a private chat: ``/link`` in a group is refused before
  a code exists, and a code typed into a group (where everyone reads it) is cancelled on the
  spot. The reply that carries it is also marked private, so the core's one gate
  (:mod:`core.app.private_replies`) would keep it out of a shared chat anyway;
* 16 symbols of a 32-letter alphabet: 80 bits, far beyond guessing (every failed attempt is
  audited) and beyond trying every code against a stolen table within its ten minutes;
* at rest it is an HMAC-SHA256 keyed with the server's ``COACH_LINK_SECRET`` (every worker
  of one deployment must share it), so someone who reads the table cannot even test a guess
  without the key. Without a secret (``coach chat``, a quick start) the HMAC key is a fixed
  constant and the 80 bits alone protect the table.

When the code is redeemed, the account that *entered* it joins the account that *made* it:
its identities, band memberships and credits (ticks, answers, assignments) move over, and its
own solo profile is dropped — the code's owner keeps their progress, which is then one and the
same on both platforms. The reply that gives the code says so.

``/unlink`` splits the identity it is sent from off into a new user with a fresh solo profile;
the shared progress stays with the other platform.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, Update, bindparam, delete, func, insert, select, update

from core.accounts.deep_links import DeepLinks, StartKind
from core.accounts.store import create_user
from core.db.executor import Executor
from core.db.tables import (
    band_assignments as assignments,
)
from core.db.tables import (
    band_members as members,
)
from core.db.tables import (
    identities,
    progress,
    samples,
    users,
)
from core.db.tables import (
    link_codes as codes,
)
from core.kernel.audit import AuditNote
from core.kernel.markup import bold, esc
from core.kernel.store import TurnRecord
from core.kernel.types import Inbound, Message, Outbound

CODE_TTL = timedelta(minutes=10)
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: codes are read and typed
CODE_LENGTH = 16  # 80 bits
#: The HMAC key when no ``COACH_LINK_SECRET`` is set: public, so only the code's length
#: protects the stored hashes then (see the module docstring).
_UNKEYED = b"stardom-coach/link-code/no-secret"
#: The answer to a code typed into a shared chat (the same whether or not it was live).
CODE_POSTED_IN_GROUP = (
    "🔒 Everyone here can read that code, so I've cancelled it (if it was live). "
    "Get a fresh one with /link on your other platform and send it to me in a private chat."
)
_PLATFORM_NAMES = {"telegram": "Telegram", "discord": "Discord", "console": "the terminal"}


_DROP_CODES = delete(codes).where(codes.c.user_id == bindparam("uid"))
_ADD_CODE = insert(codes)
_TAKE_CODE = (
    delete(codes)
    .where(codes.c.code_hash == bindparam("code_hash"))
    .returning(codes.c.user_id, codes.c.platform, codes.c.expires_at)
)
_IDENTITY_COUNT = select(func.count()).where(identities.c.user_id == bindparam("uid"))
_MOVE_ONE_IDENTITY = (
    update(identities)
    .where(
        identities.c.platform == bindparam("p_platform"),
        identities.c.external_id == bindparam("p_external_id"),
    )
    .values(user_id=bindparam("new"))
)
_MOVE_MEMBERSHIPS = (
    update(members)
    .where(
        members.c.user_id == bindparam("old"),
        members.c.band_id.not_in(
            select(members.c.band_id).where(members.c.user_id == bindparam("new")).scalar_subquery()
        ),
    )
    .values(user_id=bindparam("new"))
)


def _repoint(column: Column[Any]) -> Update:
    """``UPDATE … SET column = :new WHERE column = :old``: hand a merged account's rows over."""
    return (
        update(column.table)
        .where(column == bindparam("old"))
        .values({column.key: bindparam("new")})
    )


_MOVE_IDENTITIES = _repoint(identities.c.user_id)
#: Credits and assignments that name the merged account (its own rows went with the profile).
_MOVE_CREDITS = tuple(
    _repoint(column)
    for column in (
        progress.c.completed_by,
        samples.c.recorded_by,
        assignments.c.user_id,
        assignments.c.assigned_by,
    )
)
_DELETE_USER = delete(users).where(users.c.id == bindparam("uid"))


def link_key(secret: str | None) -> bytes:
    """The HMAC key for link codes from ``COACH_LINK_SECRET`` (or the public stand-in)."""
    return secret.encode() if secret else _UNKEYED


def code_hash(code: str, key: bytes) -> str:
    """What is stored for ``code``: HMAC-SHA256 under the server's key, hex (64 characters)."""
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()


def normalise(raw: str) -> str:
    """What a person typed, as a code: upper case, without spaces and dashes."""
    return "".join(ch for ch in raw.upper() if ch not in " -_")


def new_code() -> str:
    """A fresh random code (the form shown, ``XXXX-XXXX-XXXX-XXXX``, normalises to it)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))


def shown(code: str) -> str:
    """A code as people read it: groups of four joined by dashes."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


@dataclass(frozen=True, slots=True)
class AccountCall:
    """A command on the account itself (the registry's ``account`` door): the event, the
    person's rows as loaded (not locked as a turn), the time, where audit notes go, the
    process's deep links (the HMAC key of stored codes and the Telegram bot's username), and
    ``attempt``: counts one try of a code by this person and says whether it may go ahead
    (the per-person limit on redeeming; always yes where none is set)."""

    ex: Executor
    inbound: Inbound
    rec: TurnRecord
    now: datetime
    audits: list[AuditNote]
    links: DeepLinks
    attempt: Callable[[], bool] = field(default=lambda: True)

    @property
    def key(self) -> bytes:
        """The HMAC key of stored codes (the deep links carry it: one copy, not two)."""
        return self.links.key


async def handle(call: AccountCall, *, command: str, args: str) -> list[Outbound]:
    """``/link``, ``/link <code>`` or ``/unlink`` from the musician of ``call.rec``."""
    ex, inbound, rec, now, audits, key = (
        call.ex,
        call.inbound,
        call.rec,
        call.now,
        call.audits,
        call.key,
    )
    if inbound.chat_type != "private":
        return await _shared_chat(
            ex, inbound, rec, command=command, args=args, audits=audits, key=key
        )
    if command == "unlink":
        return await _unlink(ex, inbound, rec, now, audits)
    if not args.strip():
        return await _issue(ex, inbound, rec, now, key, links=call.links)
    return await _redeem(ex, inbound, rec, code=normalise(args), now=now, audits=audits, key=key)


async def _shared_chat(
    ex: Executor,
    inbound: Inbound,
    rec: TurnRecord,
    *,
    command: str,
    args: str,
    audits: list[AuditNote],
    key: bytes,
) -> list[Outbound]:
    """Linking outside a private chat: refused before anything happens — except that a code
    typed where everyone reads it is cancelled, so nobody else can redeem it first."""

    if command == "link" and args.strip():
        code = normalise(args)
        burned = bool(await ex.rows(_TAKE_CODE, {"code_hash": code_hash(code, key)}))
        audits.append(
            AuditNote(
                f"{inbound.platform}:{inbound.user_id}",
                "account.link",
                "denied",  # like a bad code: capped to a row a minute if someone repeats it
                None,
                rec.user_id,
                {"reason": "shared chat", "cancelled": burned},
            )
        )
        return [Message(text=CODE_POSTED_IN_GROUP)]
    return [
        Message(text=f"🔒 Linking accounts happens in a private chat: send /{command} to me there.")
    ]


async def _issue(
    ex: Executor,
    inbound: Inbound,
    rec: TurnRecord,
    now: datetime,
    key: bytes,
    *,
    links: DeepLinks | None,
) -> list[Outbound]:
    code = new_code()
    await ex.run(_DROP_CODES, {"uid": rec.user_id})  # one live code per person
    await ex.run(
        _ADD_CODE,
        {
            "code_hash": code_hash(code, key),
            "user_id": rec.user_id,
            "platform": inbound.platform,
            "expires_at": now + CODE_TTL,
            "created_at": now,
        },
    )
    as_shown = shown(code)
    minutes = int(CODE_TTL.total_seconds() // 60)
    return [
        Message(
            text=f"🔗 Your link code: {bold(f'`{as_shown}`')}\n"
            f"Send `/link {as_shown}` to me on your other platform within {minutes} minutes. "
            "It works once — keep it to yourself: whoever sends it gets your account."
            f"{_one_tap(inbound, links, code)}\n\n"
            "The progress you have *here* is kept and shared; the other account's own solo "
            "progress is replaced by it.",
            ephemeral=True,
            private=True,
        )
    ]


def _one_tap(inbound: Inbound, links: DeepLinks | None, code: str) -> str:
    """The Telegram deep link that completes the link in one tap, for a code made elsewhere
    (on Telegram itself the other side is Discord, which has no such link: the command is it)."""
    if inbound.platform == "telegram" or links is None:
        return ""
    url = links.telegram(StartKind.LINK, code)
    return f"\nOn Telegram, one tap does it: {esc(url)}" if url else ""


async def _redeem(
    ex: Executor,
    inbound: Inbound,
    rec: TurnRecord,
    *,
    code: str,
    now: datetime,
    audits: list[AuditNote],
    key: bytes,
) -> list[Outbound]:

    who = f"{inbound.platform}:{inbound.user_id}"
    known = len(code) == CODE_LENGTH
    rows = await ex.rows(_TAKE_CODE, {"code_hash": code_hash(code, key)}) if known else []
    owner: uuid.UUID | None = rows[0][0] if rows else None
    if not rows or rows[0][2] < now or owner is None:
        audits.append(
            AuditNote(who, "account.link", "denied", None, rec.user_id, {"reason": "code"})
        )
        return [
            Message(
                text="That code is unknown or has expired. Send /link on your other platform "
                "for a fresh one.",
                ephemeral=True,
            )
        ]
    if owner == rec.user_id:
        return [Message(text="That's this account's own code — use it on your other platform.")]
    platform = str(rows[0][1])
    params = {"old": rec.user_id, "new": owner}
    await ex.run(_MOVE_IDENTITIES, params)
    await ex.run(_MOVE_MEMBERSHIPS, params)
    for stmt in _MOVE_CREDITS:
        await ex.run(stmt, params)
    await ex.run(_DELETE_USER, {"uid": rec.user_id})  # its solo profile, state and rest go too
    audits.append(AuditNote(who, "account.link", "ok", f"user:{owner}", owner, {"with": platform}))
    other = _PLATFORM_NAMES.get(platform, platform)
    return [
        Message(
            text=f"🔗 Linked! This account and your {other} account are one now: same roadmap, "
            "same progress. /today shows your next step. (/unlink undoes it.)"
        )
    ]


async def _unlink(
    ex: Executor, inbound: Inbound, rec: TurnRecord, now: datetime, audits: list[AuditNote]
) -> list[Outbound]:

    linked = (await ex.rows(_IDENTITY_COUNT, {"uid": rec.user_id}))[0][0]
    if linked < 2:
        return [Message(text="This account isn't linked to another one. /link links it.")]
    fresh = await _fresh_user(ex, inbound, now)
    await ex.run(
        _MOVE_ONE_IDENTITY,
        {"p_platform": inbound.platform, "p_external_id": inbound.user_id, "new": fresh},
    )
    audits.append(
        AuditNote(
            f"{inbound.platform}:{inbound.user_id}",
            "account.unlink",
            "ok",
            f"user:{rec.user_id}",
            rec.user_id,
            {"new_user": str(fresh)},
        )
    )
    return [
        Message(
            text="Unlinked. This account starts afresh on its own (send /start); your progress "
            "stays with your other account."
        )
    ]


async def _fresh_user(ex: Executor, inbound: Inbound, now: datetime) -> uuid.UUID:
    """A new user with an empty solo profile and state (the identity is moved onto it)."""
    user_id, _ = await create_user(
        ex, display_name=inbound.display_name, locale=inbound.locale, now=now
    )
    return user_id
