"""Typed replies at the border (issue #12 §3): each variant says what it is, and each front end
renders it its own way from the type alone — no front end reads a reply's text or decodes its
buttons' payloads to decide how to show it.

The first part holds the types and the renderers to that without any I/O; the second drives the
core (what the journey produces is the right variant); the third runs the real Telegram and
Discord front ends against their wire fakes with a scripted coach, so each variant is seen as
the platform receives it.
"""

from __future__ import annotations

import struct
import uuid
import zlib
from collections.abc import AsyncIterator, Sequence

import pytest
from coachkit import Driver, catalog_of, synced_coach
from discordkit import ANA, running
from fakes.telegram_api import FakeTelegram
from pydantic import ValidationError

from bot.discord.components import AnswerButton, PayloadButton, TicksSelect
from bot.discord.render import render
from bot.telegram.app import TelegramFrontEnd, merge_replies
from core.app.engine import Coach
from core.db.engine import Database
from core.journey.buttons import SKIP, TICK, UNTICK
from core.kernel.payloads import RUN_COMMAND
from core.kernel.types import (
    OUTBOUND_ADAPTER,
    Button,
    Card,
    Document,
    Inbound,
    Message,
    Outbound,
    Picture,
    Toast,
    as_message,
    toast_or_message,
)
from core.reminders import nudges
from core.reminders.store import Owner

#: What ``/progress`` looks like, bars and all — the characters Discord's renderer once searched
#: the text for to decide on an embed.
BARS = (
    "*Indie* — 40% overall\n\n✅ 1. Basics\n    ██████████ 100% (5/5)\n▶️ 2. Release\n    ░░░░░ 0%"
)
SLUG = "a-task"


def _png() -> bytes:
    """A valid 1×1 PNG, made here (no image library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PNG = _png()


def _checklist(*, ticked: Sequence[bool] = (False, True), edit: bool = False) -> Card:
    """A checklist card as the core draws one: an item button per row, then Skip / Progress;
    ``edit`` as the answer to a press on it."""
    items = tuple(
        (
            Button(
                label=f"{'☑' if done else '☐'} {n}. item {n}",
                payload=(UNTICK if done else TICK).encode(SLUG, f"i{n}"),
                ticked=done,
            ),
        )
        for n, done in enumerate(ticked, start=1)
    )
    others = (
        (
            Button(label="Skip", payload=SKIP.encode(SLUG)),
            Button(label="Progress", payload=RUN_COMMAND.encode("progress")),
        ),
    )
    lines = [f"{'☑' if done else '☐'} {n}. item {n}" for n, done in enumerate(ticked, start=1)]
    return Card(
        text="\n".join(["*Write a song*", *lines]),
        buttons=items + others,
        form="checklist",
        task=SLUG,
        edit=edit,
    )


def _question() -> Card:
    return Card(
        text="❓ How many monthly listeners?",
        buttons=((Button(label="Skip", payload=SKIP.encode(SLUG)),),),
        form="question",
        task=SLUG,
    )


# ------------------------------------------------------------------------------ the types


def test_every_variant_reads_back_as_itself() -> None:
    """The ``kind`` discriminator: a serialised reply (bytes included) reads back as the same
    variant with the same fields."""
    replies: list[Outbound] = [
        Message(text="hi", buttons=((Button(label="x", payload="v1:c:today"),),), chat_id="7"),
        Toast(text="Already ticked ✓", ephemeral=True),
        Picture(text="chart", image=PNG, name="stats.png", form="stats"),
        Document(text="export", file=b'{"a": 1}\x00', name="export.json", private=True),
        _checklist(),
        _question(),
        Card(text=BARS, form="progress"),
    ]
    for reply in replies:
        back = OUTBOUND_ADAPTER.validate_json(OUTBOUND_ADAPTER.dump_json(reply))
        assert type(back) is type(reply)
        assert back == reply
    assert OUTBOUND_ADAPTER.validate_python({"kind": "toast", "text": "t"}) == Toast(text="t")
    with pytest.raises(ValidationError):
        OUTBOUND_ADAPTER.validate_python({"kind": "banner", "text": "t"})


def test_a_task_card_names_its_task_and_files_have_names() -> None:
    for form in ("checklist", "question"):
        with pytest.raises(ValidationError, match="names its task"):
            Card(text="card", form=form)
    assert Card(text=BARS, form="progress").task is None
    with pytest.raises(ValidationError):
        Picture(text="chart", image=PNG, name="")
    with pytest.raises(ValidationError):
        Document(text="export", file=b"{}")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Message(text="hi", toast=True)  # type: ignore[call-arg]


def test_toast_or_message_answers_a_press_with_a_toast_only() -> None:
    press = Inbound(platform="console", user_id="u", chat_id="u", kind="button", payload="v1:no")
    typed = Inbound(platform="console", user_id="u", chat_id="u", kind="command", text="/x")
    assert toast_or_message(press, "busy") == Toast(text="busy")
    assert toast_or_message(typed, "busy", ephemeral=True) == Message(text="busy", ephemeral=True)
    moved = as_message(Toast(text="gone", private=True, chat_id="7"))
    assert moved == Message(text="gone", private=True, chat_id="7")
    card = _question()
    assert as_message(card) is card


# -------------------------------------------------------------------- Discord, rendered


def test_discord_a_progress_card_is_an_embed_and_a_message_with_bars_is_not() -> None:
    """Proof that nothing is sniffed: the very same text is an embed as a progress card and
    plain content as a message."""
    [plain] = render(Message(text=BARS), in_server=True)
    assert plain.embeds == []
    assert "██████████" in plain.content
    [card] = render(Card(text=BARS, form="progress"), in_server=True)
    assert card.content == ""
    [embed] = card.embeds
    assert "██████████" in (embed.description or "")
    [board] = render(Card(text="*Your numbers*\nListeners: 1,200", form="stats"), in_server=False)
    assert board.embeds
    [no_bars] = render(Card(text="Stage 1 — 40%", form="progress"), in_server=True)
    assert no_bars.embeds, "an embed because it is a progress card, not because of its text"


def _answer_buttons(reply: Outbound, *, in_server: bool) -> list[str]:
    return [
        item.custom_id
        for message in render(reply, in_server=in_server)
        if message.view is not None
        for item in message.view.children
        if isinstance(item, AnswerButton)
    ]


def test_discord_answer_button_for_a_question_card_in_a_server_only() -> None:
    assert _answer_buttons(_question(), in_server=True) == [f"answer:{SLUG}"]
    assert _answer_buttons(_question(), in_server=False) == []
    # the same words and the same lone Skip button, as a message: no modal
    looks_alike = Message(text=_question().text, buttons=_question().buttons)
    assert _answer_buttons(looks_alike, in_server=True) == []
    assert _answer_buttons(_checklist(), in_server=True) == []


def test_discord_checklist_items_come_from_the_card_not_from_payloads() -> None:
    [message] = render(_checklist(ticked=(False, True)), in_server=True)
    assert message.view is not None
    [menu] = [c for c in message.view.children if isinstance(c, TicksSelect)]
    assert menu.custom_id == f"ticks:{SLUG}"
    assert [(o.value, o.default) for o in menu.item.options] == [
        (TICK.encode(SLUG, "i1"), False),
        (UNTICK.encode(SLUG, "i2"), True),
    ]
    labels = [c.item.label for c in message.view.children if isinstance(c, PayloadButton)]
    assert labels == ["☐ 1", "☑ 2", "Skip", "Progress"]
    # tick payloads on a plain message are just buttons: no menu, labels as the core wrote them
    plain = Message(text="x", buttons=_checklist().buttons)
    [rendered] = render(plain, in_server=True)
    assert rendered.view is not None
    assert not any(isinstance(c, TicksSelect) for c in rendered.view.children)
    assert [c.item.label for c in rendered.view.children if isinstance(c, PayloadButton)][:2] == [
        "☐ 1. item 1",
        "☑ 2. item 2",
    ]


def test_discord_pictures_documents_and_toasts() -> None:
    [picture] = render(Picture(text="*chart*", image=PNG, name="stats.png"), in_server=False)
    assert picture.file is not None
    assert picture.file.filename == "stats.png"
    assert picture.embeds[0].image.url == "attachment://stats.png"
    [document] = render(Document(text="export", file=b"{}", name="e.json"), in_server=False)
    assert document.file is not None
    assert document.file.filename == "e.json"
    assert document.content == "export"
    assert document.embeds == []
    [toast] = render(Toast(text="Already ticked ✓"), in_server=True)
    assert toast.ephemeral
    [message] = render(Message(text="Already ticked ✓"), in_server=True)
    assert not message.ephemeral


# ------------------------------------------------------------------- Telegram, folded


def test_telegram_folds_text_into_a_card_which_stays_a_card() -> None:
    done, card = Message(text="✅ Done!"), _question()
    [merged] = merge_replies([done, card])
    assert isinstance(merged, Card)
    assert (merged.form, merged.task) == ("question", SLUG)
    assert merged.text == f"✅ Done!\n\n{card.text}"
    picture = Picture(text="chart", image=PNG, name="c.png")
    toast = Toast(text="note")
    assert merge_replies([done, picture, toast]) == [done, picture, toast]


# ------------------------------------------------------------------- the core's variants


async def test_the_journey_says_what_each_reply_is(database: Database) -> None:
    coach = await synced_coach(database)
    catalog = await catalog_of(database)
    maya = Driver(coach)
    await maya.onboard()
    roadmap = catalog.roadmap_by_slug("indie-singer-songwriter")
    assert roadmap is not None
    seen: set[str] = set()
    for task in [t for stage in roadmap.stages[:1] for t in stage.tasks]:
        [*_, card] = await maya.say("/today")
        assert isinstance(card, Card)
        assert card.task == task.slug
        if task.is_checklist:
            assert card.form == "checklist"
            items = [b for b in card.all_buttons() if b.ticked is not None]
            assert [b.ticked for b in items] == [False] * len(task.items)
            assert {b.label for b in card.all_buttons() if b.ticked is None} == {"Skip", "Progress"}
            [ticked, *_] = await maya.press_payload(items[0].payload)
            assert isinstance(ticked, Card)
            assert (ticked.form, ticked.task, ticked.edit) == ("checklist", task.slug, True)
            now = [b.ticked for b in ticked.all_buttons() if b.ticked is not None]
            assert now == [True] + [False] * (len(task.items) - 1)
        else:
            assert card.form == "question"
        seen.add(card.form)
        await maya.say("/skip")
    assert seen == {"checklist", "question"}
    [progress] = await maya.say("/progress")
    assert isinstance(progress, Card)
    assert progress.form == "progress"
    [stats] = await maya.say("/stats")
    assert isinstance(stats, Message), "nothing to show yet: a plain message"
    [toast, *_] = await maya.press_payload(TICK.encode(roadmap.stages[0].tasks[0].slug, "x"))
    assert isinstance(toast, Toast)


async def test_nudges_a_checklist_is_its_card_a_question_only_a_message(
    database: Database,
) -> None:
    """A checklist nudge is the checklist card plus Done / Snooze / Tomorrow (front ends draw
    its items natively); a question nudge asks nothing itself — its Answer runs /today — so
    it is no question card (no Discord modal on it)."""
    await synced_coach(database)
    catalog = await catalog_of(database)
    roadmap = catalog.roadmap_by_slug("indie-singer-songwriter")
    assert roadmap is not None
    owner = Owner(uuid.uuid4(), "Maya", roadmap.id, None, unreachable=False)
    tasks = roadmap.stages[0].tasks
    for want in ("checklist", "question"):
        at = next(i for i, t in enumerate(tasks) if t.is_checklist == (want == "checklist"))
        before = [(t.id, "skipped", {}) for t in tasks[:at]]
        nudge = nudges.build("schedule", uuid.uuid4(), owner, catalog, before)
        assert nudge.buttons[-1][0].label == nudges.DONE_LABEL
        if want == "checklist":
            assert isinstance(nudge, Card)
            assert (nudge.form, nudge.task) == ("checklist", tasks[at].slug)
            items = [b for b in nudge.all_buttons() if b.ticked is not None]
            assert len(items) == len(tasks[at].items)
        else:
            assert isinstance(nudge, Message)
            assert "Answer" in nudge.buttons[0][0].label


# ------------------------------------------------------------------- on the wire fakes


class _Scripted(Coach):
    """A coach that answers from a script: a command's text or a press's payload → replies."""

    def __init__(self, database: Database, script: dict[str, list[Outbound]]) -> None:
        super().__init__(database)
        self.script = script

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        key = inbound.payload if inbound.kind == "button" else inbound.text
        return list(self.script.get(key or "", []))


MAYA = 1001


@pytest.fixture
async def telegram(database: Database) -> AsyncIterator[tuple[FakeTelegram, TelegramFrontEnd]]:
    async with FakeTelegram() as fake:
        front = TelegramFrontEnd(_Scripted(database, {}), fake.token, api_base_url=fake.url)
        await front.start(poll_timeout=1)
        try:
            yield fake, front
        finally:
            await front.stop()


async def _settle(fake: FakeTelegram, front: TelegramFrontEnd) -> None:
    await fake.wait_for(lambda: not fake.pending_updates)
    app = front.application
    await fake.wait_for(app.update_queue.empty)
    await fake.wait_for(lambda: app.update_processor.current_concurrent_updates == 0)


async def test_telegram_renders_each_variant_its_way(
    telegram: tuple[FakeTelegram, TelegramFrontEnd],
) -> None:
    fake, front = telegram
    assert isinstance(front.coach, _Scripted)
    toast_payload = RUN_COMMAND.encode("help")
    ticked = _checklist(ticked=(True, True), edit=True)
    front.coach.script = {
        "/today": [_checklist()],
        "/stats": [Picture(text="*Your numbers*", image=PNG, name="stats.png", form="stats")],
        "/export": [Document(text="Your data", file=b'{"you": 1}', name="export.json")],
        TICK.encode(SLUG, "i1"): [ticked],
        toast_payload: [Toast(text="Already ticked ✓")],
    }
    fake.user_message(MAYA, "/today")
    await fake.wait_for(lambda: len(fake.sent) == 1)
    card = fake.last(MAYA)
    assert [d for _, d in card.buttons()][:2] == [
        TICK.encode(SLUG, "i1"),
        UNTICK.encode(SLUG, "i2"),
    ]

    # a checklist card pressed: edited in place, no new message
    fake.press_button(MAYA, card.message_id, TICK.encode(SLUG, "i1"))
    await fake.wait_for(lambda: len(fake.edits) == 1)
    await _settle(fake, front)
    [edit] = fake.edits
    assert (edit.method, edit.message_id) == ("editMessageText", card.message_id)
    assert "☑ 1. item 1" in edit.after.plain_text
    assert len(fake.sent) == 1

    # a toast: the press's answerCallbackQuery, nothing in the chat
    answers = len(fake.callback_answers)
    fake.press_button(MAYA, card.message_id, toast_payload, force=True)
    await fake.wait_for(lambda: len(fake.callback_answers) > answers)
    await _settle(fake, front)
    assert fake.callback_answers[-1].get("text") == "Already ticked ✓"
    assert len(fake.sent) == 1
    assert len(fake.edits) == 1

    # a picture: sendPhoto with the caption; a document: sendDocument with its bytes and name
    fake.user_message(MAYA, "/stats")
    fake.user_message(MAYA, "/export")
    await fake.wait_for(lambda: len(fake.sent) == 3)
    photo, document = fake.sent[1:]
    assert photo.photo
    assert photo.caption == "<b>Your numbers</b>"
    assert (document.document, document.document_name) == (b'{"you": 1}', "export.json")
    assert [m for m, _ in fake.calls if m in {"sendPhoto", "sendDocument"}] == [
        "sendPhoto",
        "sendDocument",
    ]


async def test_discord_renders_cards_by_their_form(database: Database) -> None:
    progress = Card(text="*Indie* — 40% overall\n1. Basics: 100%", form="progress")
    async with running(database) as bench:
        bench.front.coach = _Scripted(
            database,
            {
                "/progress": [progress],
                "/today": [_question()],
                "/stats": [Message(text=BARS)],
                "/export": [Document(text="Your data", file=b'{"you": 1}', name="e.json")],
            },
        )
        shown = await bench.command(ANA, "progress")
        assert shown.original is not None
        [embed] = shown.original.embeds
        assert "40% overall" in str(embed.get("description"))
        assert shown.original.content == ""

        # a data-input question in a server: the Answer button that opens the modal
        asked = await bench.command(ANA, "today")
        assert asked.original is not None
        assert asked.original.button("Answer") == f"answer:{SLUG}"
        assert asked.original.button("Skip") == SKIP.encode(SLUG)

        # progress bars in a plain message: plain content, no embed
        bars = await bench.command(ANA, "stats")
        assert bars.original is not None
        assert bars.original.embeds == []
        assert "██████████" in bars.original.content

        # in a DM, the question has no modal (typed answers arrive there), the document its file
        dm = await bench.answered(bench.fake.user_runs_command_in_dm(ANA, "today"))
        assert dm.original is not None
        assert [label for label, _ in dm.original.buttons()] == ["Skip"]
        export = await bench.answered(bench.fake.user_runs_command_in_dm(ANA, "export"))
        assert export.original is not None
        assert [a["filename"] for a in export.original.attachments] == ["e.json"]
