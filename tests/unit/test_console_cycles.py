"""The next-release offer in the terminal (``bot/console/chat.py``), the front end's real
rendering and button handling on the in-memory coach (issue #15 §2): the offer is printed with
its numbered button, and typing the button's number starts release 2 with last release's
figure as the baseline."""

from __future__ import annotations

import io
from typing import cast

from cycleroadmap import HOME, cycle_roadmap
from support.memory import MemoryCoach

from bot.console.chat import ConsoleChat
from core.app.engine import Coach


async def test_the_terminal_offers_the_next_release_and_starts_it() -> None:
    coach = MemoryCoach(roadmaps=[cycle_roadmap()])
    out = io.StringIO()
    chat = ConsoleChat(cast(Coach, coach), "maya", out)
    await chat.send("/start")
    await chat.send("Maya")
    await chat.send("1")  # the only roadmap
    await chat.send(HOME)
    for _ in range(3):  # own mix, the song, the release plan
        await chat.send("1")
        await chat.send("2")
    mark = len(out.getvalue())
    await chat.send("8%")
    shown = out.getvalue()[mark:]
    assert "Release 1 is done." in shown
    assert "  [1] Start release 2" in shown, "the offer comes last, its button numbered"

    mark = len(out.getvalue())
    await chat.send("1")
    shown = out.getvalue()[mark:]
    assert "Release 2 starts now." in shown
    assert "Plan the release" in shown
    await chat.send("1")
    mark = len(out.getvalue())
    await chat.send("2")
    assert "Last release: 8%. Aim for 10% this time." in out.getvalue()[mark:]
