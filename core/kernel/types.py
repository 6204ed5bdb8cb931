"""The border between front ends and the core: ``Inbound`` in, ``list[Outbound]`` out.

Both are frozen pydantic models owned by the core. Front ends translate their platform's update
into an ``Inbound`` and render each ``Outbound``; they never reach into the core otherwise.

``Outbound`` is a union of typed variants — :class:`Message`, :class:`Toast`, :class:`Picture`,
:class:`Document` and :class:`Card` — sharing one base (:class:`Reply`). A front end renders
each by its type (``match``/``isinstance``), never by looking at its text or decoding its
buttons' payloads: what a reply *is* (a checklist, a data-input question, a progress board)
is said by the core, which knows it (opsdroid's typed events; ``shared/STYLE.md``). Each
variant carries a ``kind`` discriminator, so a reply serialises and reads back as itself
(:data:`OUTBOUND_ADAPTER`).
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum
from typing import Annotated, Literal, TypeAlias

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)

from core.kernel.names import fit_name

Platform = Literal["telegram", "discord", "console"]
ChatType = Literal["private", "group", "guild"]
InboundKind = Literal["command", "text", "button"]

#: Longest free text the core will look at; longer messages get a polite "too long" answer.
MAX_INBOUND_TEXT = 4000
#: Column sizes of ``users.display_name`` and ``users.locale``.
DISPLAY_NAME_MAX = 120
LOCALE_MAX = 16


def clean_text(text: str) -> str:
    """Drop control characters (NUL and friends) but keep emoji, accents and RTL text."""
    if text.isprintable():
        return text.strip()
    return "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in {"Cc", "Cs"}
    ).strip()


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Inbound(_Frozen):
    """One event from a person: a command, a free-text message or a button press.

    ``update_id`` is the platform's unique id of the update (Telegram ``update_id``, Discord
    interaction id); when set, a replay of the same update is ignored. ``message_id`` is the
    message a pressed button sat on, so the reply can edit it in place.

    ``server_id`` is the community the chat belongs to (a Discord guild id; a Telegram group's
    own chat id, in a group); bands are bound to it. A Discord server's chat is always a band
    chat (``chat_type="guild"``); a group with a ``server_id`` is one only while a band is bound
    to it (the core decides: :meth:`core.app.engine.Coach._band_event`). ``manages_server`` is
    the platform's word that the sender may administer that server (Discord's Manage Server
    permission in the guild; Telegram's ``creator``/``administrator`` status in the group, as
    ``getChatMember`` reports it); the core decides what that allows.
    ``role_ids`` are the sender's roles in that server: holding a band's bound role makes
    someone a member of the band (the core checks it, the front end only reports the roles).

    ``can_whisper`` is the front end's word that it can answer this very event so that only
    the sender sees the answer, in the chat it came from (a Discord interaction's ephemeral
    response). A private reply to such an event may stay in a shared chat; to any other event
    in a shared chat it goes to the person's direct chat (:mod:`core.app.private_replies`).
    """

    platform: Platform
    user_id: str = Field(min_length=1, max_length=64)
    chat_id: str = Field(min_length=1, max_length=64)
    chat_type: ChatType = "private"
    kind: InboundKind
    text: str = ""
    payload: str | None = None
    message_id: str | None = None
    update_id: str | None = None
    display_name: str | None = None
    locale: str | None = None
    server_id: str | None = Field(default=None, max_length=64)
    manages_server: bool = False
    role_ids: tuple[str, ...] = Field(default=(), max_length=250)
    can_whisper: bool = False
    #: Typed text from an answer form (Discord's modal) names what the form was opened for —
    #: the ``task`` of the question or prompt card it sat on. The core takes it only as the
    #: answer to that very question: a band's members share one conversation, and a form
    #: opened before someone else asked something else must not answer the other question.
    answers: str | None = Field(default=None, max_length=64)

    @field_validator("display_name", "locale")
    @classmethod
    def _fit_column(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Platform-given names go into columns: control characters (PostgreSQL refuses NUL
        in text) are dropped and the rest cut to the column's size, on every path that
        creates a person (first message, a band member's first press, /link). A display name
        is cleaned like every name (core/kernel/names.py: no zero-width or bidi
        characters); one with nothing visible left is no name (``None``)."""
        if not value:
            return None
        if info.field_name == "display_name":
            return fit_name(value, DISPLAY_NAME_MAX) or None
        return clean_text(value)[:LOCALE_MAX] or None


class Button(_Frozen):
    """A button: what it says and the payload that comes back when it is pressed.

    ``ticked`` is set on the item buttons of a checklist :class:`Card` only: whether the item
    is ticked now (so pressing the button unticks it). A front end may draw a checklist's items
    its own way (Discord: numbered boxes and a multi-select menu) and needs to know which
    buttons are items and their state — it reads this, never the payload. ``None`` on every
    other button.
    """

    label: str
    payload: str = Field(max_length=64)
    ticked: bool | None = None


class NoticeKind(StrEnum):
    """What a notice (a message the coach starts itself) is, for a front end that shares a
    platform's send cap between replies and notices: broadcasts yield to everything else,
    the other kinds only to replies. A reply to an event carries none."""

    REMINDER = "reminder"
    PLAN = "plan"
    REVIEW = "review"
    CHECKIN = "checkin"
    MILESTONE = "milestone"
    #: A band's weekly digest in its updates channel (core/coaching/digest): paced as a nudge.
    DIGEST = "digest"
    BROADCAST = "broadcast"


class Reply(_Frozen):
    """What every reply has; the variants below add what they are. Not a reply by itself.

    ``text`` uses the core's small markup (``*bold*``, ``_italic_``, `` `code` ``; see
    :mod:`core.kernel.markup`); on a :class:`Picture` or :class:`Document` it is the caption.
    ``edit`` asks the front end to replace the message the pressed button was on instead of
    sending a new one. ``chat_id`` addresses the reply to a chat other than the event's (band
    news for the band's updates channel; a private reply moved to the person's direct chat).

    ``private`` is about *routing*, and any variant may carry it: the reply is for its person's
    eyes only — a secret (a ``/link`` code) or personal data (``/export``'s file, an admin's
    look at someone). It never reaches a shared chat: :func:`core.app.private_replies.route`,
    which every reply of ``Coach.handle`` passes, sends it to the person's direct chat (or
    keeps it in place where the front end can whisper), and the front ends refuse to put one
    into a group or channel. ``ephemeral`` is weaker and only about noise: a note only the
    sender needs (a refusal, a usage hint), shown only to them where the platform can
    (Discord), in the chat elsewhere.
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", ser_json_bytes="base64", val_json_bytes="base64"
    )

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    edit: bool = False
    ephemeral: bool = False
    private: bool = False
    chat_id: str | None = None
    #: Set on a notice by whoever starts it (a broadcast says so); a notice without it is
    #: ranked as a reminder.
    notice: NoticeKind | None = None
    #: Platform user ids this reply may ping — and nobody else (a band digest's assignees).
    #: The text names them in words on every platform; a front end that can ping (Discord)
    #: pings exactly these, one that can't ignores it. Empty: nobody is pinged.
    mentions: tuple[str, ...] = ()

    def all_buttons(self) -> list[Button]:
        """Every button, row by row, in reading order (the console numbers them this way)."""
        return [b for row in self.buttons for b in row]


class Message(Reply):
    """A plain message: text and buttons."""

    kind: Literal["message"] = "message"


class Toast(Reply):
    """The short answer to a button press ("Already ticked ✓", "That button is from an older
    version of me"): Telegram's answerCallbackQuery text, a Discord ephemeral note, a line in
    brackets in the terminal. Answering anything but a press, it is shown as a message
    (:func:`toast_or_message` picks for a reply that may answer either)."""

    kind: Literal["toast"] = "toast"


#: What a :class:`Card` is — what a front end may draw differently:
#: ``checklist`` (items with ticks; its item buttons carry ``Button.ticked``),
#: ``question`` (a data-input task: the answer comes back as free text — in a Discord server,
#: where the bot cannot read typed messages, through a modal), ``prompt`` (a typed value the
#: coach waits for that is no task's question — ``/update``'s number, a goal's target or date:
#: answered like a question, so a Discord server offers the same modal; without it a band's
#: member could only type the value in their DM, where it is their *solo* profile's answer),
#: ``progress`` (``/progress``'s stages and bars), ``stats`` (``/stats``'s numbers), ``digest``
#: (a band's weekly digest: core/coaching/digest).
CardForm = Literal["checklist", "question", "prompt", "progress", "stats", "digest"]
#: The forms that are about one task, and so name it (``Card.task``).
TASK_FORMS: frozenset[str] = frozenset({"checklist", "question"})


class Card(Reply):
    """A card that says what it is: its ``form`` and, for a task's card, the ``task`` slug.

    A checklist card is edited in place as items are ticked (``edit``); a question card's
    ``task`` is what a front end's own answer form (Discord's modal) answers. A prompt's
    ``task``, when set, names what it waits for the same way (``Turn.form``: not a task's
    slug), so its form's answer is taken for that prompt only (``Inbound.answers``).
    """

    kind: Literal["card"] = "card"
    form: CardForm
    task: str | None = Field(default=None, max_length=40)

    @model_validator(mode="after")
    def _task_named(self) -> Card:
        """A task's card names its task: the front ends build components from the slug."""
        if self.form in TASK_FORMS and not self.task:
            raise ValueError(f"a {self.form} card names its task")
        return self


class Picture(Reply):
    """An image (PNG) with ``text`` as its caption: a chart.

    ``form`` says which card it is when the picture *is* a card drawn with its chart (``/stats``:
    the figures as the caption, the chart as the image); every front end shows a picture the
    same way whatever its form, so the form is for readers, not for rendering.
    """

    kind: Literal["picture"] = "picture"
    image: bytes
    name: str = Field(min_length=1, max_length=128)
    form: CardForm | None = None


class Document(Reply):
    """A file to hand over (``/export``'s JSON) with ``text`` as its caption: Telegram sends a
    document, Discord an attachment, the terminal saves it."""

    kind: Literal["document"] = "document"
    file: bytes
    name: str = Field(min_length=1, max_length=128)


#: One reply of the core: what ``Coach.handle`` returns a list of and a ``Notifier`` sends.
Outbound: TypeAlias = Message | Toast | Picture | Document | Card
#: Reads a serialised reply back as its variant, by ``kind``
#: (``OUTBOUND_ADAPTER.validate_json(OUTBOUND_ADAPTER.dump_json(reply))``).
OUTBOUND_ADAPTER: TypeAdapter[Outbound] = TypeAdapter(
    Annotated[Outbound, Field(discriminator="kind")]
)


def toast_or_message(inbound: Inbound, text: str, *, ephemeral: bool = False) -> Outbound:
    """A short answer to ``inbound``: a :class:`Toast` when a button was pressed (the press's
    own answer), else a :class:`Message` — a typed command has no press to answer."""
    if inbound.kind == "button":
        return Toast(text=text, ephemeral=ephemeral)
    return Message(text=text, ephemeral=ephemeral)


def as_message(reply: Outbound) -> Outbound:
    """A toast as a plain message with the same words (one that must stay in the chat: it
    answers typed text, or was moved to another chat); any other reply as it is."""
    if not isinstance(reply, Toast):
        return reply
    return Message.model_validate(reply.model_dump(exclude={"kind"}))
