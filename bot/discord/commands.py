"""The slash commands: the core's registry as Discord app commands, nothing written by hand.

Each listed command name becomes one app command (:func:`offers` decides where and for whom),
its parameters the registry's typed options:

* ``text`` → a string option; ``integer`` → an integer option; ``choice`` → a string option
  with Discord's choices; ``member`` → a user option (Discord's member picker); ``role`` → a
  role option;
* an option with ``suggest`` → a string option with ``autocomplete``: Discord asks while the
  person types and :meth:`core.app.engine.Coach.suggest` answers (timezones, the band's tasks and
  members — nothing of a band to someone outside it), at most 25, the label shown and the value
  sent;
* a command with sub-commands (``/band``) → a command group with one sub-command each, with their
  own options (Discord shows ``/band create name: role:``);
* a command that declares a usage but no options (the journey's ``/name``) → one optional text
  option, so its argument can still be given.

A command runs as the line the core parses (``/band create <@&5> Owls``): the option values in
the registry's order, members and roles as mentions (:func:`bot.discord.translate.option_text`)
— the core's parser stays the one reader of every argument.

Where and for whom (``contexts`` and ``default_member_permissions``):

* a command offered in a band's place is usable in servers, one offered in a private chat in
  DMs with the bot (Discord has no group chats of the Telegram kind);
* admin commands (``/admin``) are offered in servers only, to members with *Administrator* by
  default: Discord can't show a command to some people in DMs and not to others, so in a DM a
  bot admin types ``/admin …`` as a message (DMs are read as text);
* a manager command offered in servers only (the band's ``/name``) needs *Manage Server* by
  default. Discord applies such a default to a whole command in every server, never to one
  sub-command, so ``/band``'s manager sub-commands stay visible to all, and a command that is
  everyone's in DMs (``/name`` renames a musician there) gets no default either.

A server's admins may change who sees what (Server Settings → Integrations); the core checks
every call whatever the menus show.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, Protocol

import discord
from discord import app_commands

from bot.discord import translate
from core.app.engine import Coach
from core.kernel.registry import Audience, Command, Option, Registry, Subcommand, Suggest

logger = logging.getLogger(__name__)

#: Discord's limits: descriptions, choice names and values; choices and options per command;
#: global commands per application.
MAX_TEXT: Final = 100
MAX_CHOICES: Final = 25
MAX_COMMANDS: Final = 100
#: The default permission a member needs to see a command of this audience in a server.
PERMISSIONS: Final[dict[Audience, discord.Permissions]] = {
    "managers": discord.Permissions(manage_guild=True),
    "admins": discord.Permissions(administrator=True),
}
_POSITIONAL: Final = inspect.Parameter.POSITIONAL_OR_KEYWORD
_TYPES: Final[dict[str, type]] = {
    "text": str,
    "integer": int,
    "choice": str,
    "member": discord.User,
    "role": discord.Role,
}


class Front(Protocol):
    """What a command needs of the front end: the coach, and the door for command text."""

    coach: Coach

    async def on_command(self, interaction: discord.Interaction[Any], text: str) -> None:
        """Run ``text`` (``/band create Owls``) as the interaction's command."""


@dataclass(frozen=True, slots=True)
class Offer:
    """One command name as Discord offers it."""

    name: str
    help: str
    options: tuple[Option, ...]
    subcommands: tuple[Subcommand, ...]
    #: Usable in servers (a band's place) / in DMs with the bot (a private chat).
    in_servers: bool
    in_dms: bool
    #: Who sees it in a server by default (``None``: everyone).
    permissions: discord.Permissions | None


def offers(registry: Registry) -> list[Offer]:
    """Every command name Discord offers, in the registry's order (see the module docstring
    for the rules)."""
    out: list[Offer] = []
    for first in registry.menu():
        server = _listed(registry.command(first.name, "band"))
        dm = _listed(registry.command(first.name, "private"))
        if dm is not None and dm.audience == "admins":
            dm = None  # no per-person menus in DMs: typed as a message there
        if server is None and dm is None:
            continue  # a Telegram group's command only
        typed = next((c for c in (server, dm) if c and (c.options or c.subcommands)), None)
        options = typed.options if typed else _usage_option(first)
        permissions = PERMISSIONS.get(server.audience) if server and dm is None else None
        out.append(
            Offer(
                name=first.name,
                help=first.help,
                options=options,
                subcommands=typed.subcommands if typed else (),
                in_servers=server is not None,
                in_dms=dm is not None,
                permissions=permissions,
            )
        )
    return out


def build(tree: app_commands.CommandTree[Any], front: Front) -> None:
    """Add every offered command to ``tree``."""
    made = 0
    for offer in offers(front.coach.registry):
        if made == MAX_COMMANDS:
            logger.warning("discord: more than %d commands; /%s and on left out", made, offer.name)
            return
        try:
            tree.add_command(_app_command(front, offer))
        except (TypeError, ValueError):  # a name or option Discord would refuse
            logger.exception("discord: /%s can't be a slash command", offer.name)
            continue
        made += 1


# ---------------------------------------------------------------------------------- internals


def _listed(command: Command | None) -> Command | None:
    return command if command is not None and command.listed else None


def _usage_option(command: Command) -> tuple[Option, ...]:
    """One free-text option for a command that takes words but declares no options."""
    if not command.usage:
        return ()
    return (Option("text", command.usage.strip("<>[]") or command.help, rest=True),)


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _app_command(
    front: Front, offer: Offer
) -> app_commands.Command[Any, ..., None] | app_commands.Group:
    contexts = app_commands.AppCommandContext(
        guild=offer.in_servers, dm_channel=offer.in_dms, private_channel=False
    )
    if offer.subcommands:
        group = app_commands.Group(
            name=offer.name,
            description=_cut(offer.help),
            guild_only=not offer.in_dms,
            allowed_contexts=contexts,
            default_permissions=offer.permissions,
        )
        for sub in offer.subcommands:
            words = f"{offer.name} {sub.name}"
            group.add_command(_slash(front, sub.name, sub.help, sub.options, words=words))
        return group
    command = _slash(
        front, offer.name, offer.help, offer.options, words=offer.name, contexts=contexts
    )
    command.guild_only = not offer.in_dms
    command.default_permissions = offer.permissions
    return command


def _slash(
    front: Front,
    name: str,
    help_: str,
    options: tuple[Option, ...],
    *,
    words: str,
    contexts: app_commands.AppCommandContext | None = None,
) -> app_commands.Command[Any, ..., None]:
    """One slash command (or sub-command) whose parameters are ``options``.

    discord.py reads a command's parameters from its callback's signature, so the callback
    takes the options as keyword arguments and carries the signature they make (Python's
    ``__signature__``, which :func:`inspect.signature` honours); its descriptions, choices and
    autocompletes are discord.py's public decorators, applied by option name.
    """

    async def run(interaction: discord.Interaction[Any], **values: object) -> None:
        given = [values.get(option.name) for option in options]
        parts = [translate.option_text(value) for value in given if value is not None]
        await front.on_command(interaction, " ".join([f"/{words}", *parts]).strip())

    run.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                "interaction",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=discord.Interaction,
            ),
            *(_parameter(option) for option in options),
        ]
    )
    if options:
        app_commands.describe(**{o.name: _cut(o.help) for o in options})(run)
    choices = {o.name: _choices(o.choices) for o in options if o.kind == "choice" and o.choices}
    if choices:
        app_commands.choices(**choices)(run)
    suggested = {o.name: _completer(front, o.suggest) for o in options if _suggested(o)}
    if suggested:
        app_commands.autocomplete(**suggested)(run)
    return app_commands.Command(
        name=name, description=_cut(help_), callback=run, allowed_contexts=contexts
    )


def _parameter(option: Option) -> inspect.Parameter:
    return inspect.Parameter(
        option.name,
        inspect.Parameter.KEYWORD_ONLY,
        annotation=_TYPES[option.kind],
        default=inspect.Parameter.empty if option.required else None,
    )


def _choices(values: Iterable[str]) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=_cut(v), value=v) for v in values][:MAX_CHOICES]


def _suggested(option: Option) -> bool:
    """Discord autocompletes a string (or number) option without choices."""
    return option.suggest is not None and option.kind == "text"


def _completer(front: Front, source: Suggest | None) -> Any:
    """The autocomplete callback of an option whose values ``source`` suggests."""
    assert source is not None  # noqa: S101 - only suggested options get one

    async def complete(
        interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        inbound = translate.from_interaction(interaction, kind="command")
        found = await front.coach.suggest(source, current, inbound)
        return [
            app_commands.Choice(name=_cut(s.label) or s.value, value=s.value)
            for s in found
            if 0 < len(s.value) <= MAX_TEXT
        ][:MAX_CHOICES]

    return complete
