"""Core replies → Discord: Markdown text, embeds for progress, persistent button views, splits.

Each reply is rendered by its variant (:mod:`core.kernel.types`), never by its text or its
buttons' payloads: a :class:`Picture` is an embed with its image, a :class:`Document` a message
with the file attached, a progress or stats :class:`Card` an embed, a checklist card gets its
items drawn natively, a question card in a server an "✍️ Answer" button (the bot can't read
typed messages there, so a modal takes the answer) next to its choice buttons, if it has any,
which answer it in a server and in DMs alike — and so does a prompt card (a typed value the
coach waits for: ``/update``'s number, a goal's target or date); a :class:`Toast` is an
ephemeral note.

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
    PROMPT_ANSWER,
    AnswerButton,
    PayloadButton,
    TicksSelect,
    label,
)
from core.kernel.markup import parse
from core.kernel.types import Button, Card, CardForm, Document, Outbound, Picture, Toast

MAX_CONTENT = 2000
MAX_EMBED = 4096
MAX_ROWS = 5
MAX_PER_ROW = 5
MAX_CUSTOM_ID = 100
#: Cards shown as an embed: the boards of figures (``/progress``'s bars, ``/stats``) and a
#: band's weekly digest.
EMBEDDED: frozenset[CardForm] = frozenset({"progress", "stats", "digest"})
_MD_SPECIAL = re.compile(r"([\\*_~|`\[\]])")
#: A web address in a reply (kept whole: :func:`md_escape`).
_URL = re.compile(r"(https://[^\s<>]+)")
#: Characters that start a heading, a quote or a list only at the start of a line.
_LINE_START = re.compile(r"(?m)^(\s*)([#>-])")

#: Who gets pinged by the bot's messages: nobody (names are shown, never pinged) — unless a
#: reply names the people it may ping (``Reply.mentions``: :func:`only_pinging`).
NO_PINGS = discord.AllowedMentions.none()


def only_pinging(user_ids: Sequence[str]) -> discord.AllowedMentions:
    """Mentions that ping exactly these users: never @everyone/@here, no role, no reply."""
    return discord.AllowedMentions(
        everyone=False,
        roles=False,
        replied_user=False,
        users=[discord.Object(int(u)) for u in user_ids],
    )


def ping_line(user_ids: Sequence[str]) -> str:
    """The content that pings them: Discord pings from a message's content, never from an
    embed, so a digest's assignees are named above its embed."""
    return "📌 " + " ".join(f"<@{u}>" for u in user_ids)


def md_escape(text: str) -> str:
    """Escape Discord Markdown in literal text (mentions like ``<@123>`` stay mentions).

    A web address is left as it is, so the address Discord links is exactly the one the core
    wrote (a ``t.me/<bot_name>?start=…`` invite with a backslash in it would not work)."""
    parts = _URL.split(text)
    return "".join(p if i % 2 else _MD_SPECIAL.sub(r"\\\1", p) for i, p in enumerate(parts))


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
    mentions: discord.AllowedMentions = NO_PINGS

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``send``/``followup.send``."""
        out: dict[str, Any] = {"allowed_mentions": self.mentions}
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
            "allowed_mentions": self.mentions,
        }


Row = list[discord.ui.Item[Any]]


def _item_buttons(
    buttons: Sequence[Sequence[Button]],
) -> tuple[list[tuple[Button, bool]], list[list[Button]]]:
    """A checklist card's item buttons — the ones the core marks ``ticked`` (true or false), in
    item order, each with whether its item is ticked (its button unticks) — apart from the
    card's other buttons (the rows they leave, emptied ones dropped)."""
    items: list[tuple[Button, bool]] = []
    others: list[list[Button]] = []
    for row in buttons:
        rest = []
        for button in row:
            if button.ticked is None:
                rest.append(button)
            else:
                items.append((button, button.ticked))
        if rest:
            others.append(rest)
    return items, others


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
    others: Sequence[Sequence[Button]] = reply.buttons
    match reply:
        case Card(form="question", task=str() as task):
            if in_server:
                # in a server the bot can't read typed answers, so a modal takes them
                rows.append([AnswerButton(task)])
            # a choice question's buttons and Skip, side by side (five a row): with the modal's
            # row, one button a row would spill a four-choice card onto a second message
            others = (tuple(b for row in reply.buttons for b in row),)
        case Card(form="prompt") if in_server:
            # a typed value the coach waits for (a band's /update number, its goal's target
            # or date): the same modal, else the only place left to type it is the member's
            # DM — their solo profile, which would take it as its own
            rows.append([AnswerButton(reply.task or PROMPT_ANSWER)])
        case Card(form="checklist", task=str() as task):
            items, others = _item_buttons(reply.buttons)
            if items:
                room = MAX_ROWS - len(button_rows(others))
                rows += _checklist_rows(task, items, room)
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

    By variant: a picture is an embed showing it; a progress or stats card an embed (when it
    fits one); a document the text with the file attached to its first message; anything else
    Markdown content. A checklist card is one message (see :func:`_checklist_rows`). Any other
    reply with more than 5 rows of buttons continues on further messages, so no button is lost.
    """
    text = to_markdown(reply.text)
    rows = _rows(reply, in_server=in_server)
    out: list[Rendered] = []
    match reply:
        case Picture():
            embed = discord.Embed(description=text[:MAX_EMBED])
            embed.set_image(url=f"attachment://{reply.name}")
            file = discord.File(io.BytesIO(reply.image), reply.name)
            out.append(Rendered(embeds=[embed], file=file))
        case Card(form=form) if form in EMBEDDED and len(text) <= MAX_EMBED:
            out.append(Rendered(embeds=[discord.Embed(description=text, colour=0x8E44AD)]))
        case Document():
            out.extend(Rendered(content=piece) for piece in split_text(text))
            out[0].file = discord.File(io.BytesIO(reply.file), reply.name)
        case _:
            out.extend(Rendered(content=piece) for piece in split_text(text))
    pinged = [u for u in reply.mentions if u.isdecimal()]
    if pinged and in_server:  # only these people, and only where others could see it
        ping = ping_line(pinged)
        first = out[0]
        if len(ping) + 1 + len(first.content) > MAX_CONTENT:
            first = Rendered()
            out.insert(0, first)
        first.content = ping + (f"\n{first.content}" if first.content else "")
        first.mentions = only_pinging(pinged)
    out[-1].view = _view(rows[:MAX_ROWS])
    rest = rows[MAX_ROWS:]
    while rest:
        out.append(Rendered(content="…", view=_view(rest[:MAX_ROWS])))
        rest = rest[MAX_ROWS:]
    # a private reply in a server is an ephemeral answer to its interaction, which only the
    # person sees (in a DM every message is private already)
    hidden = reply.ephemeral or isinstance(reply, Toast) or (reply.private and in_server)
    for message in out:
        message.ephemeral = hidden
    return out
