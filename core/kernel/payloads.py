"""Button payloads: short, versioned, self-describing, and at most 64 bytes (Telegram's limit).

Format: ``v1:<code>:<arg>[:<arg>]``. Arguments are slugs (``[a-z0-9-]``), so ``:`` never appears
inside one. A payload names *what the button means* (tick item 2 of task X), never a toggle, so a
double-tapped button does the same thing twice and the second press changes nothing. Every press is
checked against the current state by the feature that answers it; decoding only checks the shape.

The vocabulary is declared by the features, each in its own package (``core/<feature>/buttons.py``):
a :class:`ButtonAction` names the action, its wire code and how many arguments it takes. The wire
form outlives the process that drew the button — a press on a message sent a month ago must still
decode — so the vocabulary is one process-wide table: declaring a second action with a name or a
code already taken is an error at import time, not a silent misroute. Which handler answers an
action is the registry's business (:mod:`core.kernel.registry`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Final

VERSION = "v1"
MAX_BYTES = 64

_ARG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_CODE = re.compile(r"^[a-z]{1,3}$")


class PayloadError(ValueError):
    """A payload that can't be built (too long, bad argument), or a clashing declaration."""


_BY_NAME: dict[str, ButtonAction] = {}
_BY_CODE: dict[str, ButtonAction] = {}


@dataclass(frozen=True, slots=True)
class ButtonAction:
    """One kind of button: ``name`` in code, ``code`` on the wire, ``arity`` arguments.

    Declaring one adds it to the wire vocabulary (see the module docstring); the same declaration
    twice (a module imported again) is harmless, a clash is a :class:`PayloadError`.
    """

    name: str
    code: str
    arity: int

    def __post_init__(self) -> None:
        if not _CODE.match(self.code):
            raise PayloadError(f"button code {self.code!r} must be 1-3 lowercase letters")
        for table, key in ((_BY_NAME, self.name), (_BY_CODE, self.code)):
            known = table.get(key)
            if known is not None and known != self:
                raise PayloadError(f"button {self} clashes with {known}")
        _BY_NAME[self.name] = self
        _BY_CODE[self.code] = self

    def encode(self, *args: str) -> str:
        """The wire form; raises :class:`PayloadError` if it would not fit or an arg is bad."""
        return _encode(self, args)

    def of(self, *args: str) -> Payload:
        """The decoded form (what a press of this button hands its handler)."""
        return Payload(self.name, args)


@dataclass(frozen=True, slots=True)
class Payload:
    """A decoded button payload: the action's name and its arguments."""

    action: str
    args: tuple[str, ...] = ()

    def encode(self) -> str:
        """The wire form; raises :class:`PayloadError` for an unknown action or bad arguments."""
        return action_named(self.action).encode(*self.args)


@functools.lru_cache(maxsize=8192)
def _encode(action: ButtonAction, args: tuple[str, ...]) -> str:
    """Memoised: the same buttons are drawn over and over."""
    if len(args) != action.arity:
        raise PayloadError(f"{action.name} takes {action.arity} argument(s)")
    for arg in args:
        if not _ARG.match(arg):
            raise PayloadError(f"bad payload argument {arg!r}")
    wire = ":".join((VERSION, action.code, *args))
    if len(wire.encode()) > MAX_BYTES:
        raise PayloadError(f"payload {wire!r} is longer than {MAX_BYTES} bytes")
    return wire


def action_named(name: str) -> ButtonAction:
    """The declared action called ``name`` (:class:`PayloadError` if none is)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise PayloadError(f"no button action {name!r} is declared") from None


def encode(name: str, *args: str) -> str:
    """Build a payload by the action's name (features use their :class:`ButtonAction`)."""
    return action_named(name).encode(*args)


def declared() -> tuple[ButtonAction, ...]:
    """Every action declared so far (for the codec's own tests and the registry's checks)."""
    return tuple(_BY_NAME.values())


def decode(wire: str | None) -> Payload | None:
    """Parse a payload, or ``None`` when it is malformed, from an unknown version or action,
    or too long."""
    if not wire or len(wire.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        return None
    parts = wire.split(":")
    if len(parts) < 2 or parts[0] != VERSION:
        return None
    action = _BY_CODE.get(parts[1])
    if action is None:
        return None
    args = tuple(parts[2:])
    if len(args) != action.arity or not all(_ARG.match(a) for a in args):
        return None
    return Payload(action.name, args)


#: Run a command, as if typed (``c:<command>``): "Progress", "Next task", "🌍 Timezone".
RUN_COMMAND: Final = ButtonAction("cmd", "c", 1)
#: Cancel whatever is pending (``no``): the feature that asked answers it.
CANCEL: Final = ButtonAction("cancel", "no", 0)
