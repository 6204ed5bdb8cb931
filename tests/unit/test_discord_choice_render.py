"""A choice question's buttons on Discord (``bot/discord/render.py``): shown in a server next to
the "✍️ Answer" modal button and in a DM, five a row, each carrying the core's payload — so a
press answers the question exactly as on Telegram and in the terminal."""

from __future__ import annotations

from answerkit import coaching_catalog

from bot.discord.components import AnswerButton, PayloadButton
from bot.discord.render import render
from core.journey import cards
from core.journey.buttons import CHOOSE, SKIP
from core.kernel.types import Card


def _choice_card() -> Card:
    catalog = coaching_catalog()
    roadmap = catalog.roadmaps[0]
    stage = roadmap.stages[0]
    task = catalog.tasks_by_slug["ct-setup"]
    return cards.input_card(roadmap, stage, task, None, "Home studio")


def test_choice_buttons_show_in_a_server_and_in_a_dm() -> None:
    card = _choice_card()
    wanted = [CHOOSE.encode("ct-setup", str(i)) for i in range(3)] + [SKIP.encode("ct-setup")]
    for in_server in (True, False):
        [message] = render(card, in_server=in_server)
        assert message.view is not None
        items = list(message.view.children)
        payloads = [i.custom_id for i in items if isinstance(i, PayloadButton)]
        assert payloads == wanted, in_server
        answers = [i for i in items if isinstance(i, AnswerButton)]
        assert len(answers) == (1 if in_server else 0)
        rows = {i.row for i in items}
        assert len(rows) == (2 if in_server else 1), "choices and Skip share one row"
