"""The command registry: names, arguments and one-line help, shared by every front end.

Front ends read :data:`COMMANDS` to register their menus (Telegram ``setMyCommands``, Discord slash
commands) and to show ``/help``; the engine routes by the same names.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CommandInfo:
    """One command as people see it."""

    name: str
    help: str
    args: str = ""


COMMANDS: tuple[CommandInfo, ...] = (
    CommandInfo("start", "Start (or restart) with the coach"),
    CommandInfo("today", "Your next task, with its buttons"),
    CommandInfo("progress", "Your progress, stage by stage"),
    CommandInfo("roadmap", "See your roadmap or switch to another"),
    CommandInfo("stats", "Your numbers and how they moved"),
    CommandInfo("skip", "Skip the current task (it counts as dealt with)"),
    CommandInfo("undo", "Undo your last tick, answer or skip"),
    CommandInfo("name", "Change your artist name", "<new name>"),
    CommandInfo("cancel", "Stop answering the current question"),
    CommandInfo("help", "Every command, one line each"),
    CommandInfo("export", "Get everything I store about you, as a file"),
    CommandInfo("forget", "Delete everything I store about you (asks first)"),
    CommandInfo("broadcasts", "Turn announcements to everyone off or on", "off|on"),
    CommandInfo("admin", "Admin tools (bot admins only; /admin help)", "<command>"),
    CommandInfo("remind", "Reminders: daily/weekly nudges, or off", "[daily 18:00 | off]"),
    CommandInfo("timezone", "Set your timezone for reminders", "[Europe/Berlin | UTC+2]"),
    CommandInfo("quiet", "Quiet hours: no nudges in this window", "[22:00-08:00 | off]"),
    CommandInfo("link", "Join this account with your other platform (code)", "[code]"),
    CommandInfo("unlink", "Split this platform's account off again"),
)

COMMAND_NAMES = frozenset(c.name for c in COMMANDS)


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
