"""``/today``'s reason and ``/progress``'s honest skips in the terminal (``bot/console/chat.py``),
on the in-memory coach with an injected clock (issue #13 §4).

Telegram had its end-to-end test of the reason line (``tests/e2e/test_telegram_today.py``); the
terminal, the third front end the issue names, printed neither the "👉" line nor the
"done, 1 skipped" stage with its button to open the skipped key task again in any test.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import cast

from keyroadmap import key_roadmap
from reminderkit import FakeClock
from support.memory import MemoryCoach

from bot.console.chat import ConsoleChat
from core.app.engine import Coach


async def test_today_says_why_and_progress_shows_the_skip_in_the_terminal() -> None:
    clock = FakeClock(datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0))
    coach = MemoryCoach(roadmaps=[key_roadmap()], clock=clock)
    out = io.StringIO()
    chat = ConsoleChat(cast(Coach, coach), "maya", out)

    def since(mark: int) -> str:
        return out.getvalue()[mark:]

    await chat.send("/start")
    await chat.send("Maya")
    await chat.send("1")  # the only roadmap
    assert "Register your rights" in out.getvalue()
    mark = len(out.getvalue())
    await chat.send("skip")  # the checklist's Skip, typed by name
    assert "but it's a key task" in since(mark)
    assert "I'll bring it back once you've moved on to the next stage." in since(mark)
    await chat.send("1")  # the photo checklist's items, by number
    await chat.send("2")
    assert "Stage 1 complete" in out.getvalue()

    mark = len(out.getvalue())
    await chat.send("/progress")
    shown = since(mark)
    assert "☑️ 1. Basics — done, 1 skipped" in shown
    assert "⚠️ Skipped key task: Register your rights" in shown
    assert "  [1] ↩ Register your rights" in shown

    clock.advance(days=3)
    mark = len(out.getvalue())
    await chat.send("/today")
    assert since(mark).splitlines()[0] == (
        "👉 You skipped “Register your rights” in stage 1, and you're on stage 2 now: "
        "it's a key task the next steps build on."
    )

    await chat.send("/progress")
    mark = len(out.getvalue())
    await chat.send("1")  # the ↩ button opens the skipped key task again
    assert "Stage 1 · Basics — task 1 of 2" in since(mark)
    await chat.send("1")
    await chat.send("2")
    assert "Register your rights — done!" in out.getvalue()
    row = coach.progress_row(coach.catalog.tasks_by_slug["kr-rights"].id)
    assert row is not None
    assert row.status == "completed"
