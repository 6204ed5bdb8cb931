"""The border between front ends and the core: ``Inbound`` in, ``list[Outbound]`` out.

Both are frozen pydantic models owned by the core. Front ends translate their platform's update
into an ``Inbound`` and render each ``Outbound``; they never reach into the core otherwise.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

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

    ``server_id`` is the community the chat belongs to (a Discord guild id); bands are bound to
    it. ``manages_server`` is the platform's word that the sender may administer that server
    (Discord's Manage Server permission in the guild); the core decides what that allows.
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
    """A button: what it says and the payload that comes back when it is pressed."""

    label: str
    payload: str = Field(max_length=64)


class Outbound(_Frozen):
    """One reply.

    ``text`` uses the core's small markup (``*bold*``, ``_italic_``, `` `code` ``; see
    :mod:`core.kernel.markup`). ``edit`` asks the front end to replace the message the
    pressed button was on instead of sending a new one. ``toast`` marks a short notice meant for
    the button press itself (Telegram's answerCallbackQuery text, a Discord ephemeral note).
    ``file`` is an attachment other than a picture (``file_name`` says what to call it).

    ``private`` marks a reply for its person's eyes only — a secret (a ``/link`` code) or
    personal data (``/export``'s file, an admin's look at someone). It never reaches a shared
    chat: :func:`core.app.private_replies.route`, which every reply of
    ``Coach.handle`` passes, sends it to the person's direct chat (or keeps it in place where
    the front end can whisper), and the front ends refuse to put one into a group or channel.
    ``ephemeral`` is weaker and only about noise: a note only the sender needs (a refusal, a
    usage hint), shown only to them where the platform can (Discord), in the chat elsewhere.
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    image: bytes | None = None
    image_name: str | None = None
    #: A file to hand over (``/export``'s JSON); front ends send it as a document.
    file: bytes | None = None
    file_name: str | None = None
    edit: bool = False
    toast: bool = False
    ephemeral: bool = False
    private: bool = False
    chat_id: str | None = None

    def all_buttons(self) -> list[Button]:
        """Every button, row by row, in reading order (the console numbers them this way)."""
        return [b for row in self.buttons for b in row]
