"""Discord interactions and DM messages → the core's ``Inbound``.

Chat ids: a direct message is the person's own user id (as on Telegram, so a notice to a
musician needs only their id — the front end opens the DM channel), a server channel is
``c:<channel id>``. ``update_id`` is the interaction (or message) id, so a redelivered
interaction is recognised by the core and has no second effect.
"""

from __future__ import annotations

from typing import Any

import discord

from core.kernel.types import Inbound, InboundKind

#: Prefix of a server channel's chat id.
CHANNEL_PREFIX = "c:"


def channel_chat_id(channel_id: int) -> str:
    """The chat id of a server channel."""
    return f"{CHANNEL_PREFIX}{channel_id}"


def _role_ids(user: discord.abc.User) -> tuple[str, ...]:
    """The member's roles as the core compares them with a band's bound role.

    ``Member.roles`` resolves the interaction's role ids against the server's cached roles,
    which the ``guilds`` intent keeps complete (GUILD_CREATE brings every role, role events
    keep them current). A server not in the cache (an outage, the seconds before its
    GUILD_CREATE) resolves none: the person is then recognised by their ``band_members`` row
    only, which the first interaction through the role creates. ``@everyone`` is left out, as
    Discord leaves it out of a member's role ids.
    """
    if isinstance(user, discord.Member):
        return tuple(str(r.id) for r in user.roles if not r.is_default())
    return ()


def from_interaction(
    interaction: discord.Interaction[Any],
    *,
    kind: InboundKind,
    text: str = "",
    payload: str | None = None,
    part: int | None = None,
    answers: str | None = None,
) -> Inbound:
    """An interaction (slash command, button press or modal submit) as an ``Inbound``.

    ``part`` numbers the events of an interaction that carries several (a checklist menu's
    items): each gets an update id of its own, the same again if Discord redelivers it.
    ``answers``: a modal's submit names the question it was opened for (``Inbound.answers``).
    """
    user = interaction.user
    in_server = interaction.guild_id is not None
    message = interaction.message
    return Inbound(
        platform="discord",
        user_id=str(user.id),
        chat_id=channel_chat_id(interaction.channel_id or 0) if in_server else str(user.id),
        chat_type="guild" if in_server else "private",
        kind=kind,
        text=text,
        payload=payload,
        message_id=str(message.id) if message is not None else None,
        update_id=str(interaction.id) if part is None else f"{interaction.id}:{part}",
        display_name=(user.display_name or user.name)[:120],
        locale=str(interaction.locale)[:16] if interaction.locale else None,
        server_id=str(interaction.guild_id) if in_server else None,
        manages_server=in_server and interaction.permissions.manage_guild,
        role_ids=_role_ids(user) if in_server else (),
        can_whisper=True,  # an interaction's answer can be ephemeral: only the sender sees it
        answers=answers,
    )


def from_dm(message: discord.Message) -> Inbound:
    """A direct message to the bot (typed answers, ``/commands`` typed as text)."""
    text = message.content
    return Inbound(
        platform="discord",
        user_id=str(message.author.id),
        chat_id=str(message.author.id),
        chat_type="private",
        kind="command" if text.startswith("/") else "text",
        text=text,
        update_id=str(message.id),
        display_name=(message.author.display_name or message.author.name)[:120],
    )


def option_text(value: object) -> str:
    """A slash-command option as the core reads it: members and roles become mentions."""
    if isinstance(value, discord.Role):
        return f"<@&{value.id}>"
    if isinstance(value, discord.abc.User):
        return f"<@{value.id}>"
    return str(value)


def modal_answer(interaction: discord.Interaction[Any]) -> str:
    """The text typed into a submitted modal (its first text input)."""
    data: Any = interaction.data or {}
    for row in data.get("components", []):
        for component in row.get("components", []):
            if component.get("type") == 4:
                return str(component.get("value") or "")
    return ""
