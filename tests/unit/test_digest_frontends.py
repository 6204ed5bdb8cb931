"""The band digest outside Discord (issue #14 §2, done-when: Telegram, Discord and the terminal).

The terminal has no band mode (one person, one direct chat) and Telegram groups are not bands
yet (issue #17): ``/band digest`` there says clearly where bands live, and ``/help`` says where
the band commands are. The digest itself is platform-agnostic: the same card prints in the
terminal and renders as Telegram HTML, naming people in words (no Discord mention markup)
with its focus buttons — so a Telegram band only has to route its rows to it.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import cast

from reminderkit import FakeClock
from support.memory import MemoryCoach
from support.plankit import plan_roadmap

from bot.console.chat import ConsoleChat
from bot.console.notify import ConsoleNotifier
from bot.telegram.render import keyboard, to_html
from core.app.engine import Coach
from core.coaching.digest.compose import BandInputs, Person, compose, render
from core.coaching.review.compose import Inputs
from core.progress.service import ProgressRecord
from core.roadmaps.catalog import catalog_from

CATALOG = catalog_from([plan_roadmap()])
TASKS = CATALOG.tasks_by_slug
NOW = datetime.combine(datetime.now(UTC).date(), time(12), tzinfo=UTC)
BEN = Person(uuid.UUID(int=2), "Ben <b>", "1002")


def _card() -> object:
    done = ProgressRecord(
        task_id=TASKS["pl-master"].id,
        status="completed",
        completed_by=BEN.user_id,
        completed_at=NOW - timedelta(hours=1),
        stored=True,
    )
    inputs = Inputs(
        roadmap=CATALOG.roadmaps[0],
        rows={done.task_id: done},
        anchors={},
        current_stats={},
        current_stage_id=None,
        metrics=CATALOG.metrics,
        samples=[],
        now=NOW + timedelta(days=1),
        tz=UTC,
    )
    band = BandInputs(
        name="Night Owls",
        review=inputs,
        members=(BEN,),
        assigned={TASKS["pl-fans"].id: BEN.user_id},
    )
    return render(compose(band))


async def test_the_terminal_says_where_bands_live() -> None:
    coach = MemoryCoach(roadmaps=[plan_roadmap()], clock=FakeClock(NOW))
    out = io.StringIO()
    chat = ConsoleChat(cast(Coach, coach), "maya", out)
    for line in ("/band digest", "/band digest on", "/assign Master @ben"):
        mark = len(out.getvalue())
        await chat.send(line)
        said = out.getvalue()[mark:]
        assert "bands live in a Discord server" in said, line
        assert "I don't know the command" not in said
    mark = len(out.getvalue())
    await chat.send("/help")
    assert "/band digest sums up the band's week" in out.getvalue()[mark:]


async def test_the_digest_prints_in_the_terminal_with_names_and_numbered_buttons() -> None:
    coach = MemoryCoach(roadmaps=[plan_roadmap()], clock=FakeClock(NOW))
    out = io.StringIO()
    notifier = ConsoleNotifier(ConsoleChat(cast(Coach, coach), "maya", out))
    card = _card()
    result = await notifier.notify("maya", [card])  # type: ignore[list-item]
    assert result.sent
    printed = out.getvalue()
    assert "Night Owls" in printed
    assert "Ben <b>: ✅ Master the song" in printed
    assert "Talk to your fans — assigned → Ben <b>" in printed
    assert "<@" not in printed
    assert "[1]" in printed  # the focus buttons, numbered


def test_the_digest_renders_as_telegram_html_naming_people_in_words() -> None:
    card = _card()
    html = to_html(card.text)  # type: ignore[attr-defined]
    assert "<b>Ben &lt;b&gt;</b>: ✅ Master the song" in html  # a name is text, escaped
    assert "→ Ben &lt;b&gt;" in html
    assert "<@" not in html  # no Discord mention markup leaks to Telegram
    markup = keyboard(card.buttons)  # type: ignore[attr-defined]
    assert markup is not None
    assert markup.inline_keyboard[0][0].text.startswith("1. ")
