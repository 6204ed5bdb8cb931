"""``/start <payload>``: what a Telegram deep link (``t.me/<bot>?start=<payload>``) carries.

Telegram sends ``/start <payload>`` when someone opens such a link and presses Start
(core/accounts/deep_links.py has the grammar and the docs it follows). Here, in the app layer,
because a payload may be any feature's: a band invite (``inv-``, core/bands/invites.py), a
``/link`` code (``lnk-``, core/accounts/linking.py) or a tracking tag (``src-``, noted on the
person for ``/admin stats``). Invites and link codes are redeemed on the account — before any
turn, since a link code may merge two accounts — and answer for themselves; a tag, or a payload
nobody knows, is followed by the ordinary ``/start``. An unknown payload is never silently
dropped: the person is told the link wasn't one the bot knows.

Only in a private chat: a start link opens the private chat, and a code must never be taken in
a shared one. The payload is never logged (an invite is a key to a band).
"""

from __future__ import annotations

from core.accounts import linking
from core.accounts.deep_links import StartKind, read_start
from core.accounts.linking import AccountCall
from core.accounts.store import tag_arrival
from core.bands import invites
from core.kernel.registry import Button, Command
from core.kernel.types import Inbound, Message, Outbound

UNKNOWN = (
    "That start link isn't one I know — it may have been cut short or changed. "
    "If someone sent you an invite or a link code, ask them for a fresh one."
)


def carries(inbound: Inbound, route: Command | Button | None, args: str) -> bool:
    """Whether this event is ``/start`` with a payload, in a private chat."""
    return (
        isinstance(route, Command)
        and route.name == "start"
        and inbound.chat_type == "private"
        and bool(args.strip())
    )


async def handle(call: AccountCall, args: str) -> tuple[list[Outbound], bool]:
    """The payload's replies, and whether the ordinary ``/start`` follows them."""
    payload = read_start(args)
    match payload.kind:
        case StartKind.INVITE:
            return await invites.redeem(call, payload.value), False
        case StartKind.LINK:
            return await linking.handle(call, command="link", args=payload.value), False
        case StartKind.TAG:
            await tag_arrival(call.ex, call.rec.user_id, payload.value)
            return [], True
    return [Message(text=UNKNOWN)], True
