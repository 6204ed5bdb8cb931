"""The terminal chat: the same coach, with buttons shown as numbered choices.

Typing a number presses the button with that number from the latest reply that had buttons;
anything else is sent as a message. The numbering is screen state (what the person sees right
now), not conversation state: the coach itself keeps nothing in memory.

A question card and a checklist card are different: there a typed number means something to
the coach — the answer to the question (a follower count of "1"), a choice's number, a
checklist item's number — so it is never taken for a button. On those cards only a
checklist's item buttons are numbered (their numbers are the items' numbers); every other
button (a choice, Skip, a nudge's Snooze) is shown with its name in brackets and pressed by
typing that name ("skip"). Before, a "1" typed as a follower count pressed Skip, and a "5" on
a four-item checklist pressed Skip as well.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from core.app.engine import Coach
from core.kernel.markup import parse
from core.kernel.types import Button, Card, Document, Inbound, Outbound, Picture, Toast

_BOLD, _ITALIC, _RESET = "\033[1m", "\033[3m", "\033[0m"


def render(text: str, *, color: bool) -> str:
    """Markup to terminal text: ANSI bold/italic on a colour terminal, plain otherwise."""
    out = []
    for span in parse(text):
        if color and (span.bold or span.italic):
            style = (_BOLD if span.bold else "") + (_ITALIC if span.italic else "")
            out.append(f"{style}{span.text}{_RESET}")
        else:
            out.append(span.text)
    return "".join(out)


def button_name(label: str) -> str:
    """How a button is typed by name: its words, casefolded (``⏰ Snooze 1 h`` → ``snooze 1 h``)."""
    kept = "".join(ch if ch.isalnum() or ch.isspace() else " " for ch in label)
    return " ".join(kept.casefold().split())


def _answers_typed(reply: Outbound) -> bool:
    """A card whose typed numbers the coach reads itself: a question's, a checklist's."""
    return isinstance(reply, Card) and reply.form in {"question", "checklist"}


class ConsoleChat:
    """One musician chatting in a terminal (or a pipe)."""

    def __init__(
        self,
        coach: Coach,
        user: str,
        out: TextIO,
        *,
        color: bool = False,
        picture_dir: Path | None = None,
    ) -> None:
        self.coach = coach
        self.picture_dir = picture_dir
        self.user = user
        self.out = out
        self.color = color
        self._buttons: list[Button] = []
        #: Buttons pressed by typing their name (on a question or checklist card).
        self._named: dict[str, Button] = {}
        self._button_message = "0"
        self._ids = itertools.count(1)

    def _inbound(self, line: str) -> Inbound:
        stripped = line.strip()
        button = None
        if stripped.isdecimal() and 1 <= int(stripped) <= len(self._buttons):
            button = self._buttons[int(stripped) - 1]
        elif stripped and not stripped.startswith("/"):
            button = self._named.get(button_name(stripped))
        if button is not None:
            return Inbound(
                platform="console",
                user_id=self.user,
                chat_id=self.user,
                kind="button",
                payload=button.payload,
                message_id=self._button_message,
            )
        kind = "command" if stripped.startswith("/") else "text"
        return Inbound(
            platform="console", user_id=self.user, chat_id=self.user, kind=kind, text=line
        )

    async def send(self, line: str) -> list[Outbound]:
        """Send one line as the musician and print the coach's replies."""
        replies = await self.coach.handle(self._inbound(line))
        for reply in replies:
            self.show(reply)
        return replies

    def show(self, reply: Outbound) -> None:
        """Print one reply, by its variant (a toast in brackets, a picture or a document saved
        where the musician can open it); remember its buttons so their numbers can be typed."""
        if isinstance(reply, Toast):
            self.out.write(f"  ({render(reply.text, color=False)})\n")
            return
        self.out.write(render(reply.text, color=self.color) + "\n")
        if isinstance(reply, Picture):
            self.out.write(f"  [picture: {self._save_picture(reply.image, reply.name)}]\n")
        elif isinstance(reply, Document):
            saved = self._save_picture(reply.file, reply.name, kind="files")
            self.out.write(f"  [file: {saved}]\n")
        buttons = reply.all_buttons()
        if buttons:
            typed = _answers_typed(reply)
            self._buttons = [b for b in buttons if not typed or b.ticked is not None]
            self._named = {button_name(b.label): b for b in buttons if typed and b.ticked is None}
            self._button_message = str(next(self._ids))
            for n, button in enumerate(self._buttons, start=1):
                self.out.write(f"  [{n}] {button.label}\n")
            for name, button in self._named.items():
                self.out.write(f"  [{name}] {button.label}\n")
        self.out.write("\n")
        self.out.flush()

    def _save_picture(self, png: bytes, name: str, *, kind: str = "") -> str:
        """Write a picture (or, with ``kind="files"``, a file such as /export's JSON into a
        sibling folder) where the musician can open it; a terminal can't show it inline."""
        if self.picture_dir is None:
            return f"{name}, {len(png) // 1024} KB"
        folder = self.picture_dir.parent / kind if kind else self.picture_dir
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        path = folder / f"{self.user}-{stamp}-{name}"
        path.write_bytes(png)
        return f"saved to {path}"

    async def run_interactive(self) -> None:
        """Prompt, send, print, until EOF or /quit."""
        self.out.write("Stardom Coach — type /help for commands, /quit to leave.\n\n")
        await self.send("/start")  # greets a newcomer, welcomes back a returning musician
        while True:
            try:
                line = await asyncio.to_thread(input, "you> ")
            except (EOFError, KeyboardInterrupt):
                self.out.write("\nBye! Your progress is saved.\n")
                return
            if line.strip() in {"/quit", "/exit"}:
                self.out.write("Bye! Your progress is saved.\n")
                return
            if line.strip():
                await self.send(line)

    async def run_transcript(self, lines: TextIO) -> None:
        """Read one message per line (stdin not a terminal) and print the whole transcript."""
        for raw in lines:
            line = raw.rstrip("\n")
            if not line.strip():
                continue
            self.out.write(f"you> {line}\n")
            await self.send(line)


def is_interactive() -> bool:
    """True when both ends of the chat are a terminal."""
    return sys.stdin.isatty() and sys.stdout.isatty()
