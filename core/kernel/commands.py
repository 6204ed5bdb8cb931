"""Reading a command off a message: ``/name``, ``/name args``, ``/name@bot args``.

Which commands exist, with their help and options, is the registry's (core/kernel/registry.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    """``/name@bot args`` split into its parts."""

    name: str
    args: str


def parse_command(text: str) -> ParsedCommand | None:
    """Parse ``/cmd``, ``/cmd args`` and ``/cmd@botname args``; ``None`` when not a command."""
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return None
    head, _, rest = stripped[1:].partition(" ")
    name = head.split("@", 1)[0].casefold()
    if not name or len(name) > 32:
        return None
    return ParsedCommand(name=name, args=rest.strip())
