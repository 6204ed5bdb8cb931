"""Links into a private chat with the bot that carry something: an invite, a link code, a tag.

Telegram has them: ``https://t.me/<bot_username>?start=<payload>`` opens the private chat
with a Start button, and pressing it sends ``/start <payload>``. The payload is at most 64
characters of ``A-Za-z0-9_-`` (https://core.telegram.org/bots/features#deep-linking,
"Deep linking", checked 2026-12-07). Ours are ``<kind>-<value>``:

* ``inv-<code>`` — a band invite (core/bands/invites.py), 4 + 16 characters;
* ``lnk-<code>`` — a ``/link`` code (core/accounts/linking.py), 4 + 16 characters;
* ``src-<tag>`` — a tracking tag (``src-instagram``), counted in ``/admin stats``.

Discord has no equivalent: a bot's DM cannot be opened by a link that carries a payload. There
the code itself is the link — ``/join <code>`` or ``/link <code>``, typed in a DM with the bot
(docs/architecture.md, "Invites and deep links").

The core needs the Telegram bot's username to write such a link, also when the reply goes to
Discord (``/link`` on Discord offers the one-tap link for the Telegram side). It comes from
``TELEGRAM_BOT_USERNAME`` or, in a process that runs the Telegram front end, from Telegram
itself at start (:meth:`DeepLinks.know_telegram_bot`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

#: What Telegram accepts as a start payload (the docs above).
START_PAYLOAD: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: A Telegram username: 5–32 of ``A-Za-z0-9_`` (bots' end in "bot").
_USERNAME: Final = re.compile(r"[A-Za-z0-9_]{5,32}")
#: A tracking tag as counted: lower case letters, digits, ``_`` and ``-``, up to 32.
TAG: Final = re.compile(r"[a-z0-9_-]{1,32}")


class StartKind(StrEnum):
    """What a ``/start`` payload carries, by its prefix."""

    INVITE = "inv"
    LINK = "lnk"
    TAG = "src"


@dataclass(frozen=True, slots=True)
class StartPayload:
    """A ``/start`` payload read: its kind and value, or ``kind=None`` when unknown."""

    kind: StartKind | None
    value: str


def read_start(raw: str) -> StartPayload:
    """What ``/start <raw>`` carries. Anything that is not ``<kind>-<value>`` of a known kind
    with a well-formed value reads as unknown (its value is then what was sent, for no one)."""
    text = raw.strip()
    head, sep, value = text.partition("-")
    try:
        well_formed = sep and value and START_PAYLOAD.fullmatch(text)
        kind = StartKind(head.casefold()) if well_formed else None
    except ValueError:
        kind = None
    if kind is StartKind.TAG:
        value = value.casefold()
        if not TAG.fullmatch(value):
            kind = None
    return StartPayload(kind, value)


@dataclass(slots=True)
class DeepLinks:
    """The process's keys to codes and their links: the HMAC key codes are stored under
    (``COACH_LINK_SECRET``), and the Telegram bot's username when known."""

    key: bytes
    telegram_bot: str | None = None

    def know_telegram_bot(self, username: str | None) -> None:
        """The Telegram front end's word, at start, of its bot's username (a configured
        ``TELEGRAM_BOT_USERNAME`` is kept: it says which bot the links should open)."""
        if self.telegram_bot is None and username and _USERNAME.fullmatch(username):
            self.telegram_bot = username

    def telegram(self, kind: StartKind, value: str) -> str | None:
        """The ``t.me`` link that sends ``/start <kind>-<value>`` to the bot, or ``None``
        without a known username (the code alone still works)."""
        payload = f"{kind.value}-{value}"
        if self.telegram_bot is None or not START_PAYLOAD.fullmatch(payload):
            return None
        return f"https://t.me/{self.telegram_bot}?start={payload}"
