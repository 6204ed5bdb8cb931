"""What the journey answers: its commands, buttons and awaited answers, declared to the registry.

The flows live in their own modules (``onboarding``, ``checklist``, ``answers``, ``history``,
``views``, ``navigation``); this module only says which event reaches which flow.
"""

from __future__ import annotations

from core.journey import (
    answers,
    checklist,
    country,
    currency,
    cycles,
    date_answers,
    history,
    onboarding,
    questions,
    stage_view,
    views,
)
from core.journey.buttons import (
    ASK_SWITCH,
    CHOOSE,
    CONFIRM,
    COUNTRY,
    GUIDE,
    KEEP_DATE,
    NEXT_CYCLE,
    OPEN,
    PICK,
    PICK_DATE,
    SKIP,
    SWITCH,
    TICK,
    TICK_ALL,
    UNTICK,
)
from core.journey.navigation import ask_name, locate, offer_roadmaps, task_card, today
from core.journey.states import Awaiting
from core.journey.streak import is_band_turn
from core.kernel.markup import bold, esc
from core.kernel.payloads import Payload
from core.kernel.registry import SOLO, Feature, Option
from core.kernel.turn import Turn
from core.kernel.types import Message, Outbound, Toast

journey = Feature("journey")
#: Before anything else a musician (or a band) needs an artist name: every other command and
#: button waits for it, and free text is the name.
journey.setup(Awaiting.ARTIST_NAME, ask_name, needed=lambda turn: turn.rec.artist_name is None)

_YES = frozenset({"yes", "y", "yeah", "yep", "correct", "right", "sure", "ok", "okay", "👍"})
_NO = frozenset({"no", "n", "nope", "wrong", "cancel", "👎"})
_GREETINGS = frozenset({"hi", "hello", "hey", "hallo", "hola", "yo"})


def _word(text: str) -> str:
    return text.casefold().strip(" .!")


# ---------------------------------------------------------------------- commands


@journey.command("start", "Start (or restart) with the coach", before_setup=True)
async def _start(turn: Turn, _args: str) -> list[Outbound]:
    return await onboarding.start(turn)


@journey.command("today", "Your next best step, and why it comes first", bare=True)
async def _today(turn: Turn, _args: str) -> list[Outbound]:
    return await today(turn)


@journey.command("progress", "Your progress, stage by stage", bare=True)
async def _progress(turn: Turn, _args: str) -> list[Outbound]:
    return await views.progress(turn)


@journey.command("stage", "This stage's tasks: open any of them, in any order")
async def _stage(turn: Turn, _args: str) -> list[Outbound]:
    return await stage_view.stage_card(turn)


@journey.command("roadmap", "See your roadmap or switch to another")
async def _roadmap(turn: Turn, _args: str) -> list[Outbound]:
    return onboarding.roadmap_card(turn)


@journey.command("next", "Start your next release once this one is done", bare=True)
async def _next(turn: Turn, _args: str) -> list[Outbound]:
    return await cycles.start_next(turn)


@journey.command("skip", "Skip the current task (it counts as dealt with)", bare=True)
async def _skip(turn: Turn, _args: str) -> list[Outbound]:
    return await history.skip(turn, None)


@journey.command("undo", "Undo your last tick, answer or skip", bare=True)
async def _undo(turn: Turn, _args: str) -> list[Outbound]:
    return await history.undo(turn)


@journey.command(
    "name", "Change your artist name", usage="<new name>", places=SOLO, before_setup=True
)
async def _name(turn: Turn, args: str) -> list[Outbound]:
    if args:
        return await onboarding.set_name(turn, args)
    return onboarding.name_prompt(turn)


@journey.command(
    "currency", "Your currency for fees and costs (e.g. /currency USD)", usage="[code]"
)
async def _currency(turn: Turn, args: str) -> list[Outbound]:
    return await currency.currency_command(turn, args)


@journey.command(
    "ask",
    "Ask the coach a question (e.g. /ask how do I get on playlists?)",
    usage="<your question>",
    options=(Option("question", "e.g. how do I get on playlists?", required=True, rest=True),),
)
async def _ask(turn: Turn, args: str) -> list[Outbound]:
    """A question as a command: where typed text can't reach the coach — a Discord server (its
    messages are not the bot's to read), a Telegram group in privacy mode — and anywhere else
    a musician would rather say it plainly. The same search as a typed question."""
    waiting = turn.state_task if turn.awaiting is Awaiting.ANSWER else None
    replies = await questions.ask(turn, args.strip(), waiting=waiting) if args.strip() else None
    if replies is None:
        return [
            Message(
                text="Ask me in a few words, e.g. /ask how do I get on playlists? or "
                "/ask what's a split sheet?"
            )
        ]
    return replies


#: (help, usage, options) of ``/country``, shared with the band's (core/bands/routes.py).
COUNTRY_HELP = (
    "Your country, for tax and funding advice (e.g. /country UK)",
    "[name | code | other]",
    (Option("country", "a name or code: UK, Deutschland, CA — or other", rest=True),),
)


@journey.command(
    "country", COUNTRY_HELP[0], usage=COUNTRY_HELP[1], options=COUNTRY_HELP[2], places=SOLO
)
async def _country(turn: Turn, args: str) -> list[Outbound]:
    if not args.strip():
        return [country.show(turn)]
    return await change_country(turn, args)


async def change_country(turn: Turn, args: str) -> list[Outbound]:
    """``/country <name>``: changed, and — when it answers the open country question — the
    task that question was asked before (a musician's or, from the band's door, a band's)."""
    reply = country.change(turn, args)
    if turn.awaiting is Awaiting.COUNTRY and turn.rec.country is not None:
        return [reply, *await back_to_asked(turn)]
    return [reply]


@journey.command("cancel", "Stop answering the current question", before_setup=True, bare=True)
async def _cancel(turn: Turn, _args: str) -> list[Outbound]:
    if turn.awaiting in {None, Awaiting.CHECKLIST}:
        return [Message(text="Nothing to cancel. /today shows your next step.")]
    turn.set_state(None)
    return [Message(text="OK, dropped. /today brings your next task back.")]


# ---------------------------------------------------------------------- buttons


@journey.button(PICK)
@journey.button(ASK_SWITCH)
async def _pick(turn: Turn, payload: Payload) -> list[Outbound]:
    roadmap = turn.catalog.roadmap_by_slug(payload.args[0])
    if roadmap is None:
        note = Toast(text="That roadmap isn't available anymore.")
        return [note, *offer_roadmaps(turn, first_time=False)]
    if payload.action == PICK.name and turn.rec.roadmap_id is None:
        return await onboarding.choose_roadmap(turn, roadmap)
    return onboarding.ask_switch(turn, roadmap)


@journey.button(OPEN)
async def _open(turn: Turn, payload: Payload) -> list[Outbound]:
    return await stage_view.open_task(turn, payload.args[0])


@journey.button(SWITCH)
async def _switch(turn: Turn, payload: Payload) -> list[Outbound]:
    slug = payload.args[0]
    roadmap = turn.catalog.roadmap_by_slug(slug)
    if (
        turn.awaiting is not Awaiting.CONFIRM_SWITCH
        or turn.rec.state_data.get("roadmap") != slug
        or roadmap is None
    ):
        return [
            Toast(
                text="That question has expired — nothing changed. Use /roadmap to switch.",
            )
        ]
    return await onboarding.choose_roadmap(turn, roadmap)


@journey.button(TICK)
@journey.button(UNTICK)
async def _tick(turn: Turn, payload: Payload) -> list[Outbound]:
    want = payload.action == TICK.name
    return await checklist.tick(turn, payload.args[0], payload.args[1], want, from_button=True)


@journey.button(TICK_ALL)
async def _tick_all(turn: Turn, payload: Payload) -> list[Outbound]:
    return await checklist.tick_all(turn, payload.args[0])


@journey.button(GUIDE)
async def _guide(turn: Turn, payload: Payload) -> list[Outbound]:
    return await questions.guide(turn, payload.args[0])


@journey.button(SKIP)
async def _skip_task(turn: Turn, payload: Payload) -> list[Outbound]:
    return await history.skip(turn, payload.args[0])


@journey.button(CONFIRM)
async def _confirm(turn: Turn, payload: Payload) -> list[Outbound]:
    return await answers.confirm(turn, payload.args[0], payload.args[1] == "y")


@journey.button(PICK_DATE)
@journey.button(KEEP_DATE)
async def _date(turn: Turn, payload: Payload) -> list[Outbound]:
    insist = payload.action == KEEP_DATE.name
    return await date_answers.pick(turn, payload.args[0], payload.args[1], insist=insist)


@journey.button(NEXT_CYCLE)
async def _next_cycle(turn: Turn, payload: Payload) -> list[Outbound]:
    number = payload.args[0]
    if not number.isdecimal():
        return [Toast(text="That button is out of date. /progress shows where you are.")]
    return await cycles.start_next(turn, int(number))


@journey.button(CHOOSE)
async def _choose(turn: Turn, payload: Payload) -> list[Outbound]:
    return await answers.choose(turn, payload.args[0], payload.args[1])


@journey.button(COUNTRY, places=SOLO)
async def _country_button(turn: Turn, payload: Payload) -> list[Outbound]:
    return await country_picked(turn, payload.args[0])


async def back_to_asked(turn: Turn) -> list[Outbound]:
    """Once the country question is answered: the task it was asked before, now in the
    country's version (the question promised to come back to it); ``/today`` if that task is
    no longer open."""
    asked = turn.state_task
    turn.set_state(None)
    found = await locate(turn, asked.slug) if asked is not None else None
    if found is None or isinstance(found, Outbound):
        return await today(turn)
    roadmap, stage, task, rows = found
    return [task_card(turn, roadmap, stage, task, rows.get(task.id))]


async def answered(turn: Turn, code: str) -> list[Outbound]:
    """The country question answered with ``code``: kept, confirmed, and the task it was asked
    before shown again (:func:`back_to_asked`)."""
    return [country.chosen(turn, code), *await back_to_asked(turn)]


async def country_picked(turn: Turn, code: str) -> list[Outbound]:
    """A press of the country question's button (the band's door calls it for a manager)."""
    picked = country.parse(code)
    if picked is None or picked != code.upper():
        return [Toast(text="That button is out of date. /country sets your country.")]
    if turn.awaiting is not Awaiting.COUNTRY:
        if turn.rec.country == picked:
            return [Toast(text="Already set ✅ — /country changes it.")]
        return [country.chosen(turn, picked)]
    return await answered(turn, picked)


@journey.on_cancel(Awaiting.CONFIRM_VALUE)
async def _not_saved(turn: Turn) -> list[Outbound]:
    turn.set_state(None)
    return [Message(text="OK, not saved.", edit=True), *await today(turn)]


@journey.on_cancel(Awaiting.CHECKLIST)
async def _keep_ticks(turn: Turn) -> list[Outbound]:
    # "done all" asked and cancelled: the checklist stays open as it was
    return [Message(text="OK, nothing ticked.", edit=True)]


@journey.on_cancel(Awaiting.CONFIRM_SWITCH)
async def _stay(turn: Turn) -> list[Outbound]:
    turn.set_state(None)
    return [Message(text="OK, staying where you are.", edit=True)]


# ---------------------------------------------------------------------- free text


@journey.on_text(Awaiting.ARTIST_NAME, first=True, empty=True)
async def _name_text(turn: Turn, text: str) -> list[Outbound]:
    if not text:
        return [Message(text="What's your artist name? Just type it.")]
    return await onboarding.set_name(turn, text)


@journey.on_text(Awaiting.CONFIRM_VALUE, first=True)
async def _confirm_text(turn: Turn, text: str) -> list[Outbound]:
    task = turn.state_task
    word = _word(text)
    if task is not None and (word in _YES or word in _NO):
        if turn.rec.state_data.get("suspect"):  # "did you mean -14?" — "yes" is ambiguous
            return [Message(text="Tap one of the buttons above, or type the right figure.")]
        return await answers.confirm(turn, task.slug, word in _YES)
    turn.set_state(Awaiting.ANSWER, task)
    return await answers.answer(turn, text)


@journey.on_text(Awaiting.CONFIRM_SWITCH, first=True)
async def _switch_text(turn: Turn, text: str) -> list[Outbound]:
    roadmap = turn.catalog.roadmap_by_slug(str(turn.rec.state_data.get("roadmap", "")))
    word = _word(text)
    if word in _YES and roadmap is not None:
        return await onboarding.choose_roadmap(turn, roadmap)
    if word in _NO:
        turn.set_state(None)
        return [Message(text="OK, staying where you are.")]
    return [Message(text="Please answer yes or no — or use the buttons above.")]


@journey.on_text(Awaiting.ROADMAP)
async def _roadmap_text(turn: Turn, text: str) -> list[Outbound]:
    return await onboarding.roadmap_by_text(turn, text)


@journey.on_text(Awaiting.ANSWER)
async def _answer_text(turn: Turn, text: str) -> list[Outbound]:
    if turn.rec.roadmap_id is None:
        return await onboarding.roadmap_by_text(turn, text)
    if questions.is_question_while_asked(turn.state_task, text):
        # "what's a good save rate?" while the save rate is asked: answered, question kept
        replies = await questions.ask(turn, text, waiting=turn.state_task)
        if replies is not None:
            return replies
    return await answers.answer(turn, text)


@journey.on_text(Awaiting.COUNTRY)
async def _country_text(turn: Turn, text: str) -> list[Outbound]:
    if is_band_turn(turn):
        return [
            Message(text="A manager sets the band's country: a button above, or /country <name>.")
        ]
    code = country.parse(text)
    if code is None:
        if questions.is_question(text):
            replies = await questions.ask(turn, text)
            if replies is not None:
                return replies
        return [country.unknown(text)]
    return await answered(turn, code)


@journey.on_text(Awaiting.NEW_DATE)
async def _new_date_text(turn: Turn, text: str) -> list[Outbound]:
    return await date_answers.new_date_text(turn, text)


@journey.on_text(Awaiting.CHECKLIST)
async def _checklist_text(turn: Turn, text: str) -> list[Outbound] | None:
    if turn.rec.roadmap_id is None:
        return await onboarding.roadmap_by_text(turn, text)
    return await checklist.tick_by_text(turn, text)  # None: not item numbers, read it as idle


@journey.when_idle
async def _idle_text(turn: Turn, text: str) -> list[Outbound]:
    if turn.rec.roadmap_id is None:
        return await onboarding.roadmap_by_text(turn, text)
    if _word(text) in _GREETINGS:
        name = bold(esc(turn.rec.artist_name or ""))
        return [Message(text=f"Hey {name}! 👋 /today shows your next step.")]
    if questions.is_question(text):
        replies = await questions.ask(turn, text)
        if replies is not None:
            return replies
    return [
        Message(
            text="I'm not waiting for an answer right now, so I'm not sure what to do with "
            "that. /today shows your next step, /help lists everything I can do."
        )
    ]
