"""``/help``: the commands offered where it was asked, one line each, from the registry."""

from __future__ import annotations

from collections.abc import Iterable

from core.kernel.markup import bold, esc, italic
from core.kernel.registry import Command
from core.kernel.types import Message, Outbound

#: Where there is no band (a direct chat, a group, the terminal): the band commands exist, in a
#: band's Discord server.
BANDS_ELSEWHERE = (
    "Bands: in your band's Discord server, /band digest sums up the band's week (who did "
    "what, what's due, next week's focus) and /band help lists the rest."
)


def help_card(commands: Iterable[Command], in_band: bool = True) -> Outbound:
    """Every command offered here, with its usage and one line of help; outside a band's chat
    (``in_band`` false) a line says where the band commands are."""
    lines = [bold("Here's everything I can do:"), ""]
    for cmd in commands:
        usage = f" {cmd.usage}" if cmd.usage else ""
        lines.append(f"/{cmd.name}{esc(usage)} — {cmd.help}")
    if not in_band:
        lines += ["", italic(BANDS_ELSEWHERE)]
    lines += [
        "",
        italic(
            "Tip: when I ask a question, just type the answer. Numbers like 12.5k, €300 or "
            "15% are fine."
        ),
    ]
    return Message(text="\n".join(lines))
