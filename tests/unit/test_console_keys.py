"""The terminal's typed numbers (``bot/console/chat.py``) on the in-memory coach.

A typed number on a question or checklist card means something to the coach — the answer, a
choice's number, an item's number — and is never taken for a button: a "1" typed as a follower
count used to press Skip (the card's only button), and a "5" on a four-item checklist pressed
Skip as well. There the card's other buttons are pressed by typing their name.
"""

from __future__ import annotations

import io
from typing import cast

from answerkit import coaching_catalog
from support.memory import MemoryCoach

from bot.console.chat import ConsoleChat, button_name
from core.app.engine import Coach


def _chat() -> tuple[MemoryCoach, ConsoleChat, io.StringIO]:
    coach = MemoryCoach(coaching_catalog())
    out = io.StringIO()
    return coach, ConsoleChat(cast(Coach, coach), "maya", out), out


def _status(coach: MemoryCoach, slug: str) -> str | None:
    row = coach.progress_row(coach.catalog.tasks_by_slug[f"ct-{slug}"].id)
    return None if row is None else row.status


async def _onboard(chat: ConsoleChat) -> None:
    await chat.send("/start")
    await chat.send("Maya")
    await chat.send("1")  # the roadmap menu: numbers press its buttons, as before


async def test_a_typed_number_answers_the_open_question() -> None:
    coach, chat, out = _chat()
    await _onboard(chat)
    assert "[skip] Skip" in out.getvalue(), "the question's Skip is pressed by name"
    await chat.send("1")
    assert "Saved: 1." in out.getvalue()
    assert _status(coach, "followers") == "completed"


async def test_a_choice_by_number_name_or_button() -> None:
    coach, chat, out = _chat()
    await _onboard(chat)
    await chat.send("1200")
    assert "[with a producer] With a producer" in out.getvalue()
    await chat.send("2")  # the choice's number, read by the coach
    assert "Saved: With a producer." in out.getvalue()
    await chat.send("/undo")
    await chat.send("home studio")  # the button's name presses it
    assert "Saved: Home studio." in out.getvalue()
    assert _status(coach, "setup") == "completed"


async def test_a_number_on_a_checklist_never_presses_skip() -> None:
    coach, chat, out = _chat()
    await _onboard(chat)
    for _ in range(3):
        await chat.send("skip")  # by name on question cards, then the bare word
    assert "[1] ☐ 1. First thing" in out.getvalue()
    assert "[skip] Skip" in out.getvalue()
    before = len(out.getvalue())
    await chat.send("5")
    assert "items 1 to 4" in out.getvalue()[before:]
    assert _status(coach, "list") is None, "nothing skipped, nothing ticked"
    await chat.send("1")  # an item's number still ticks it
    assert "☑ 1. First thing" in out.getvalue()
    assert _status(coach, "list") == "in_progress"
    await chat.send("skip")
    assert _status(coach, "list") == "skipped"


async def test_a_number_typed_at_are_you_sure_is_a_new_figure() -> None:
    coach, chat, out = _chat()
    await _onboard(chat)
    await chat.send("skip")
    await chat.send("skip")
    await chat.send("3")  # a positive LUFS: probably a typo
    assert "Did you mean -3.0 LUFS?" in out.getvalue()
    assert "[no let me fix it] No, let me fix it" in out.getvalue()
    before = len(out.getvalue())
    await chat.send("2")  # a new figure, not the second button
    assert "Did you mean -2.0 LUFS?" in out.getvalue()[before:]
    await chat.send("yes save it")
    assert "Saved: 2.0 LUFS." in out.getvalue()
    assert _status(coach, "lufs") == "completed"


def test_button_names() -> None:
    assert button_name("⏰ Snooze 1 h") == "snooze 1 h"
    assert button_name("  Skip ") == "skip"
    assert button_name("Home studio, self-produced") == "home studio self produced"
