"""``/help``: the commands offered where it was asked, one line each, from the registry."""

from __future__ import annotations

from collections.abc import Iterable

from core.kernel.markup import bold, esc, italic
from core.kernel.registry import Command
from core.kernel.types import Message, Outbound


def help_card(commands: Iterable[Command]) -> Outbound:
    """Every command offered here, with its usage and one line of help."""
    lines = [bold("Here's everything I can do:"), ""]
    for cmd in commands:
        usage = f" {cmd.usage}" if cmd.usage else ""
        lines.append(f"/{cmd.name}{esc(usage)} — {cmd.help}")
    lines += [
        "",
        italic(
            "Tip: when I ask a question, just type the answer. Numbers like 12.5k, €300 or "
            "15% are fine."
        ),
        italic(
            "Ask me anything about your music career, e.g. “how do I get on playlists?” or "
            "“what's a split sheet?” — I answer from my roadmaps. On an open checklist, "
            "“done all” ticks every item (I ask first)."
        ),
    ]
    return Message(text="\n".join(lines))
