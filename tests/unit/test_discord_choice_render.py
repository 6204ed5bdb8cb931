"""A choice question's buttons on Discord (``bot/discord/render.py``): shown in a server next to
the "✍️ Answer" modal button and in a DM, five a row, each carrying the core's payload — so a
press answers the question exactly as on Telegram and in the terminal."""

from __future__ import annotations

from answerkit import coaching_catalog

from bot.discord.components import AnswerButton, PayloadButton
from bot.discord.render import render
from core.journey import cards
from core.journey.buttons import CHOOSE, SKIP
from core.kernel.payloads import RUN_COMMAND
from core.kernel.types import Button, Card


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


def test_a_prompt_for_a_typed_value_offers_the_answer_form_in_a_server() -> None:
    """A prompt (``/update``'s number, a goal's date with its quick buttons) is answered by
    typing: in a server, where typed messages can't be read, through the modal — else a band
    member's only place to type it would be their DM, their solo profile."""
    quick = Button(label="In 3 months", payload=RUN_COMMAND.encode("today"))
    prompt = Card(text="By when?", buttons=((quick,),), form="prompt")
    for in_server in (True, False):
        [message] = render(prompt, in_server=in_server)
        assert message.view is not None
        items = list(message.view.children)
        answers = [i for i in items if isinstance(i, AnswerButton)]
        assert len(answers) == (1 if in_server else 0), in_server
        assert [i.custom_id for i in items if isinstance(i, PayloadButton)] == [quick.payload]
    [bare] = render(Card(text="What's your number?", form="prompt"), in_server=True)
    assert bare.view is not None
    assert [type(i) for i in bare.view.children] == [AnswerButton]
    [dm] = render(Card(text="What's your number?", form="prompt"), in_server=False)
    assert dm.view is None
