"""Button payloads: short, versioned, self-describing, and at most 64 bytes (Telegram's limit).

Format: ``v1:<action>:<arg>[:<arg>]``. Arguments are slugs (``[a-z0-9-]``), so ``:`` never appears
inside one. A payload names *what the button means* (tick item 2 of task X), never a toggle, so a
double-tapped button does the same thing twice and the second press changes nothing. Every press is
checked against the current state by the engine; decoding only checks the shape.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

VERSION = "v1"
MAX_BYTES = 64

Action = Literal[
    "pick",  # choose a roadmap during onboarding:   pk:<roadmap>
    "ask_switch",  # ask to switch roadmap:          rm:<roadmap>
    "switch",  # confirmed switch:                   sw:<roadmap>
    "tick",  # tick a checklist item:                tk:<task>:<item>
    "untick",  # untick a checklist item:            ut:<task>:<item>
    "skip",  # skip a task:                          sk:<task>
    "confirm",  # confirm an unusual value:          cv:<task>:y|n
    "cmd",  # run a command:                         c:<command>
    "cancel",  # cancel whatever is pending:         no
    # admin and privacy (core/admin): every press is re-checked there
    "broadcast_send",  # confirm a broadcast draft:  ab:<broadcast hex>
    "broadcast_drop",  # drop a broadcast draft:     ax:<broadcast hex>
    "reset_user",  # confirm /admin reset:           ar:<user hex>:<minute stamp>
    "admin_pick",  # confirm /admin user|grant|revoke of the account shown: ap:u|g|r:<user>:<minute>
    "forget_me",  # confirm /forget:                 af:<minute stamp>
    "admin_no",  # "no" to an admin/privacy question: an
    "nudge",  # act on a reminder nudge:             nu:d|s|t:<reminder>  (done/snooze/tomorrow)
    "reminders",  # a /remind, /timezone, /quiet choice:  nr:<setting>:<value>
    "band_reset",  # a manager confirms a band reset: br
]

_CODES: dict[Action, str] = {
    "pick": "pk",
    "ask_switch": "rm",
    "switch": "sw",
    "tick": "tk",
    "untick": "ut",
    "skip": "sk",
    "confirm": "cv",
    "cmd": "c",
    "cancel": "no",
    "broadcast_send": "ab",
    "broadcast_drop": "ax",
    "reset_user": "ar",
    "admin_pick": "ap",
    "forget_me": "af",
    "admin_no": "an",
    "nudge": "nu",
    "reminders": "nr",
    "band_reset": "br",
}
_ACTIONS: dict[str, Action] = {code: action for action, code in _CODES.items()}
_ARITY: dict[Action, int] = {
    "pick": 1,
    "ask_switch": 1,
    "switch": 1,
    "tick": 2,
    "untick": 2,
    "skip": 1,
    "confirm": 2,
    "cmd": 1,
    "cancel": 0,
    "broadcast_send": 1,
    "broadcast_drop": 1,
    "reset_user": 2,
    "admin_pick": 3,
    "forget_me": 1,
    "admin_no": 0,
    "nudge": 2,
    "reminders": 2,
    "band_reset": 0,
}
_ARG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class PayloadError(ValueError):
    """A payload that can't be built (too long, bad argument)."""


@dataclass(frozen=True, slots=True)
class Payload:
    """A decoded button payload."""

    action: Action
    args: tuple[str, ...] = ()

    def encode(self) -> str:
        """The wire form; raises ``PayloadError`` if it would not fit or an argument is bad."""
        if len(self.args) != _ARITY[self.action]:
            raise PayloadError(f"{self.action} takes {_ARITY[self.action]} argument(s)")
        for arg in self.args:
            if not _ARG.match(arg):
                raise PayloadError(f"bad payload argument {arg!r}")
        wire = ":".join((VERSION, _CODES[self.action], *self.args))
        if len(wire.encode()) > MAX_BYTES:
            raise PayloadError(f"payload {wire!r} is longer than {MAX_BYTES} bytes")
        return wire


@functools.lru_cache(maxsize=8192)
def encode(action: Action, *args: str) -> str:
    """Build a payload string (memoised: the same buttons are drawn over and over)."""
    return Payload(action, args).encode()


def decode(wire: str | None) -> Payload | None:
    """Parse a payload, or ``None`` when it is malformed, from an unknown version, or too long."""
    if not wire or len(wire.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        return None
    parts = wire.split(":")
    if len(parts) < 2 or parts[0] != VERSION:
        return None
    action = _ACTIONS.get(parts[1])
    if action is None:
        return None
    args = tuple(parts[2:])
    if len(args) != _ARITY[action] or not all(_ARG.match(a) for a in args):
        return None
    return Payload(action, args)
