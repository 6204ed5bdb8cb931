"""Core replies → Discord: Markdown text, embeds for progress, persistent button views, splits.

Discord's limits are enforced here, before anything is sent: content ≤ 2000 characters (longer
text is split on paragraph, then line, boundaries), embeds ≤ 4096, at most 5 action rows of 5
buttons, labels ≤ 80 characters and ``custom_id`` ≤ 100. The ``custom_id`` of every button is
the core's payload (≤ 64 bytes), so a button means the same thing after a restart: the
dynamic items of :mod:`bot.discord.components`, registered at start, recognise it on any
message. A checklist card is one message: numbered item buttons five a row and a multi-select
menu of its items (:func:`_checklist_rows`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.discord.components import (
    ANSWER_PREFIX,
    MAX_OPTIONS,
    AnswerButton,
    PayloadButton,
    TicksSelect,
    label,
)
from core.kernel.markup import parse
from core.kernel.payloads import decode
from core.kernel.types import Button, Outbound

MAX_CONTENT = 2000
MAX_EMBED = 4096
MAX_ROWS = 5
MAX_PER_ROW = 5
MAX_CUSTOM_ID = 100
#: Replies with these bar characters are progress cards: shown as embeds.
_BAR = re.compile("[█░]")
_MD_SPECIAL = re.compile(r"([\\*_~|`\[\]])")
#: Characters that start a heading, a quote or a list only at the start of a line.
_LINE_START = re.compile(r"(?m)^(\s*)([#>-])")

#: Who gets pinged by the bot's messages: nobody (names are shown, never pinged).
NO_PINGS = discord.AllowedMentions.none()


def md_escape(text: str) -> str:
    """Escape Discord Markdown in literal text (mentions like ``<@123>`` stay mentions)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def to_markdown(text: str) -> str:
    """The core's markup as Discord Markdown; literal text is escaped."""
    out: list[str] = []
    for span in parse(text):
        if span.code:
            out.append(f"`{span.text.replace('`', 'ˋ')}`")
            continue
        chunk = md_escape(span.text)
        if span.italic and chunk.strip():
            chunk = f"*{chunk}*"
        if span.bold and chunk.strip():
            chunk = f"**{chunk}**"
        out.append(chunk)
    return _LINE_START.sub(r"\1\\\2", "".join(out))


def split_text(text: str, limit: int = MAX_CONTENT) -> list[str]:
    """Split Markdown into pieces of at most ``limit`` characters, on paragraph boundaries,
    then lines, then hard cuts for a single overlong line."""
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for whole in text.split("\n"):
        line = whole
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
        else:
            pieces.append(current)
            current = line
    if current:
        pieces.append(current)
    return [p for p in pieces if p.strip()] or [text[:limit]]


def button_rows(buttons: Sequence[Sequence[Button]]) -> list[list[Button]]:
    """The core's rows re-packed to Discord's ≤ 5 buttons a row (a long row wraps)."""
    rows: list[list[Button]] = []
    for row in buttons:
        for start in range(0, len(row), MAX_PER_ROW):
            rows.append(list(row[start : start + MAX_PER_ROW]))
    return rows


def needs_answer_button(reply: Outbound) -> str | None:
    """The task slug when a reply asks a data-input question (a Skip button and no ticks):
    in a server the bot can't read typed answers, so a modal takes them."""
    slugs = []
    for button in reply.all_buttons():
        payload = decode(button.payload)
        if payload is None:
            continue
        if payload.action in {"tick", "untick", "confirm"}:
            return None
        if payload.action == "skip":
            slugs.append(payload.args[0])
    return slugs[0] if len(slugs) == 1 else None


def answer_modal(task_slug: str, question: str) -> discord.ui.Modal:
    """The modal for a data-input answer; its submit is handled by the front end's listener
    (by custom_id), so it works whichever process receives it."""
    modal = discord.ui.Modal(title="Your answer", custom_id=f"{ANSWER_PREFIX}{task_slug}")
    modal.add_item(
        discord.ui.TextInput(
            label=label(question or "Answer", 45),
            custom_id="answer",
            style=discord.TextStyle.short,
            max_length=400,
        )
    )
    return modal


@dataclass
class Rendered:
    """One Discord message: content, embeds, a view, a file; ``ephemeral`` for notes."""

    content: str = ""
    embeds: list[discord.Embed] = field(default_factory=list)
    view: discord.ui.View | None = None
    file: discord.File | None = None
    ephemeral: bool = False

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``send``/``followup.send``."""
        out: dict[str, Any] = {"allowed_mentions": NO_PINGS}
        if self.content:
            out["content"] = self.content
        if self.embeds:
            out["embeds"] = self.embeds
        if self.view is not None:
            out["view"] = self.view
        if self.file is not None:
            out["file"] = self.file
        return out

    def edit_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for an edit: everything replaced (no view means no buttons)."""
        return {
            "content": self.content or None,
            "embeds": self.embeds,
            "view": self.view,
            "allowed_mentions": NO_PINGS,
        }


Row = list[discord.ui.Item[Any]]


def _item_buttons(
    buttons: Sequence[Sequence[Button]],
) -> tuple[str, list[tuple[Button, bool]], list[list[Button]]] | None:
    """A checklist card's item buttons — tick/untick payloads, all of one task, in item order,
    each with whether its item is ticked (its button unticks) — apart from the card's other
    buttons (the rows they leave, emptied ones dropped); ``None`` for any other reply."""
    slugs: set[str] = set()
    items: list[tuple[Button, bool]] = []
    others: list[list[Button]] = []
    for row in buttons:
        rest = []
        for button in row:
            payload = decode(button.payload)
            if payload is not None and payload.action in {"tick", "untick"}:
                slugs.add(payload.args[0])
                items.append((button, payload.action == "untick"))
            else:
                rest.append(button)
        if rest:
            others.append(rest)
    if len(slugs) != 1:
        return None
    return slugs.pop(), items, others


def _checklist_rows(slug: str, items: list[tuple[Button, bool]], rows_left: int) -> list[Row]:
    """A checklist's items the native way: compact numbered buttons, five a row, and a
    multi-select menu for ticking several at once — both where they fit in ``rows_left``
    rows, else the buttons, else the menu alone; every item stays tickable either way.

    The numbers are the items' places in the card, which are the numbers its text shows: the
    core lists a checklist's buttons in item order. The menu's options keep the full labels.
    """
    buttons = [
        PayloadButton(
            f"{'☑' if ticked else '☐'} {n}",
            button.payload,
            style=discord.ButtonStyle.success if ticked else discord.ButtonStyle.secondary,
        )
        for n, (button, ticked) in enumerate(items, start=1)
    ]
    numbered: list[Row] = [
        list(buttons[start : start + MAX_PER_ROW]) for start in range(0, len(buttons), MAX_PER_ROW)
    ]
    if len(items) > MAX_OPTIONS:
        return numbered
    options = [TicksSelect.option(b.label, b.payload, ticked=ticked) for b, ticked in items]
    menu: Row = [TicksSelect(slug, options)]
    if len(numbered) + 1 <= rows_left:
        return [*numbered, menu]
    if len(numbered) <= rows_left:
        return numbered
    return [menu]


def _rows(reply: Outbound, *, in_server: bool) -> list[Row]:
    """Every component row of a reply, in order; :func:`render` spreads them over messages
    of at most five rows."""
    rows: list[Row] = []
    answer_task = needs_answer_button(reply) if in_server else None
    if answer_task is not None:
        rows.append([AnswerButton(answer_task)])
    others: Sequence[Sequence[Button]] = reply.buttons
    checklist = _item_buttons(reply.buttons)
    if checklist is not None:
        slug, items, others = checklist
        rows += _checklist_rows(slug, items, MAX_ROWS - len(rows) - len(button_rows(others)))
    rows += [[PayloadButton(b.label, b.payload) for b in row] for row in button_rows(others)]
    return rows


def _view(rows: list[Row]) -> discord.ui.View | None:
    if not rows:
        return None
    view = discord.ui.View(timeout=None)
    for row_no, row in enumerate(rows):
        for item in row:
            # A menu (a Select inside a DynamicItem) reports no row to the view whatever it is
            # given (discord.py 2.7 reads the Select's unused ``_row``), so the view places it
            # itself: in the first empty row, as it is five wide — which is this one, as the
            # rows before it all hold something and the ones after are added later.
            item.row = row_no
            view.add_item(item)
    return view


def render(reply: Outbound, *, in_server: bool) -> list[Rendered]:
    """One core reply as one or more Discord messages (the components go on the last one).

    A checklist card is one message (see :func:`_checklist_rows`). Any other reply with more
    than 5 rows of buttons continues on further messages, so no button is lost.
    """
    text = to_markdown(reply.text)
    rows = _rows(reply, in_server=in_server)
    out: list[Rendered] = []
    if reply.image is not None:
        name = reply.image_name or "chart.png"
        embed = discord.Embed(description=text[:MAX_EMBED])
        embed.set_image(url=f"attachment://{name}")
        out.append(Rendered(embeds=[embed], file=discord.File(io.BytesIO(reply.image), name)))
    elif _BAR.search(reply.text) and len(text) <= MAX_EMBED:
        out.append(Rendered(embeds=[discord.Embed(description=text, colour=0x8E44AD)]))
    else:
        out.extend(Rendered(content=piece) for piece in split_text(text))
    out[-1].view = _view(rows[:MAX_ROWS])
    rest = rows[MAX_ROWS:]
    while rest:
        out.append(Rendered(content="…", view=_view(rest[:MAX_ROWS])))
        rest = rest[MAX_ROWS:]
    # a private reply in a server is an ephemeral answer to its interaction, which only the
    # person sees (in a DM every message is private already)
    hidden = reply.ephemeral or reply.toast or (reply.private and in_server)
    for message in out:
        message.ephemeral = hidden
    return out
