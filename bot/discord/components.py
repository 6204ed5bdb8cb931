"""The coach's interactive components, and how a press on one reaches the front end.

Every component is a discord.py ``DynamicItem``: its ``template`` matches the ``custom_id`` it
carries, so a press is recognised on any message, also one sent before a restart, and nothing
is stored per message. The items are registered once per client (``CoachClient.setup_hook``);
a press is handed to the front end serving *that* client, found through the interaction's
client (``Interaction.client``, public) — never through state on the item classes, which
every client in the process would share.

* :class:`PayloadButton` — a button whose ``custom_id`` is a core payload (``v1:…``).
* :class:`AnswerButton` — "✍️ Answer": opens a modal for a data-input question (or a prompt
  for a typed value) in a server.
* :class:`TicksSelect` — a checklist's items as one multi-select menu: the options are the
  items, their values the payloads of the items' buttons, the ticked ones pre-selected. A
  submission sends the payload of every option whose selection the person changed — an
  unticked item now selected ticks, a ticked one deselected unticks — exactly as pressing
  those buttons one after the other would.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Protocol

import discord

logger = logging.getLogger(__name__)

MAX_LABEL = 80
#: Discord's limits for a select menu: options, and an option's label and value.
MAX_OPTIONS = 25
MAX_OPTION_LABEL = 100
#: The custom_id of the "Answer" button that opens a modal for a data-input question.
ANSWER_PREFIX = "answer:"
#: What the "Answer" button of a prompt card (a typed value that is no task's question) names
#: instead of a task: the modal's submit is read as the typed answer whatever the name.
PROMPT_ANSWER = "value"
#: The custom_id of a checklist's multi-select is this prefix and the task's slug. Never a
#: ``v1:`` payload: dynamic items are matched by custom_id alone, whatever the component.
TICKS_PREFIX = "ticks:"
_SLUG = r"[a-z0-9][a-z0-9-]{0,39}"


class Handler(Protocol):
    """What the front end does with a press (``DiscordFrontEnd`` is one)."""

    async def on_button(self, interaction: discord.Interaction[Any], payload: str) -> None:
        """A payload button was pressed."""

    async def on_answer_button(self, interaction: discord.Interaction[Any], custom_id: str) -> None:
        """An "Answer" button was pressed."""

    async def on_ticks(self, interaction: discord.Interaction[Any], payloads: list[str]) -> None:
        """A checklist's menu was submitted: the payloads of the items it changed, in order."""


class CoachClient(discord.Client):
    """A discord.py client that knows the front end handling its components."""

    def __init__(self, handler: Handler, **options: Any) -> None:
        super().__init__(**options)
        self.handler = handler

    async def setup_hook(self) -> None:
        # persistent components: any message's payload buttons, answer buttons and checklist
        # menus, also from before this process started
        self.add_dynamic_items(PayloadButton, AnswerButton, TicksSelect)


def _handler(interaction: discord.Interaction[Any]) -> Handler | None:
    client = interaction.client
    if isinstance(client, CoachClient):
        return client.handler
    logger.warning("discord: a coach component pressed on a client without a front end")
    return None


def label(text: str, limit: int = MAX_LABEL) -> str:
    """``text`` cut to Discord's limit for a label, marked with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class PayloadButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"v1:[a-z]{1,3}.*"):
    """Any button whose custom_id is a core payload."""

    def __init__(
        self, text: str, payload: str, style: discord.ButtonStyle = discord.ButtonStyle.secondary
    ) -> None:
        super().__init__(discord.ui.Button(label=label(text), custom_id=payload, style=style))

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> PayloadButton:
        text = item.label if isinstance(item, discord.ui.Button) else None
        return cls(text or "", match.group(0))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        handler = _handler(interaction)
        if handler is not None:
            await handler.on_button(interaction, self.custom_id)


class AnswerButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=ANSWER_PREFIX + _SLUG):
    """ "✍️ Answer": opens a modal for a data-input question (stable custom_id, works after a
    restart too)."""

    def __init__(self, task_slug: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="✍️ Answer",
                custom_id=f"{ANSWER_PREFIX}{task_slug}",
                style=discord.ButtonStyle.primary,
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> AnswerButton:
        return cls(match.group(0).removeprefix(ANSWER_PREFIX))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        handler = _handler(interaction)
        if handler is not None:
            await handler.on_answer_button(interaction, self.custom_id)


class TicksSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=TICKS_PREFIX + _SLUG):
    """A checklist's items as a multi-select menu (see the module's docstring)."""

    def __init__(self, task_slug: str, options: list[discord.SelectOption]) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=f"{TICKS_PREFIX}{task_slug}",
                placeholder="Tick several items at once…",
                min_values=0,
                max_values=len(options),
                options=options,
            )
        )

    @staticmethod
    def option(text: str, payload: str, *, ticked: bool) -> discord.SelectOption:
        """One item: what its button says, the payload its button carries, and whether it is
        ticked now (pre-selected)."""
        return discord.SelectOption(
            label=label(text, MAX_OPTION_LABEL), value=payload, default=ticked
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> TicksSelect:
        options = list(item.options) if isinstance(item, discord.ui.Select) else []
        return cls(match.group(0).removeprefix(TICKS_PREFIX), options)

    def changed(self) -> list[str]:
        """The payloads of the options whose selection the person changed: unticks first,
        so that ticking the rest never completes a checklist an untick then reopens."""
        chosen = set(self.item.values)
        flipped = [o for o in self.item.options if o.default != (o.value in chosen)]
        return [o.value for o in flipped if o.default] + [o.value for o in flipped if not o.default]

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        handler = _handler(interaction)
        if handler is not None:
            await handler.on_ticks(interaction, self.changed())
