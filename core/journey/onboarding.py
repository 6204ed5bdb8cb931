"""Getting started and changing course: /start, the artist name, choosing and switching roadmaps."""

from __future__ import annotations

from core.journey.buttons import ASK_SWITCH, SWITCH
from core.journey.navigation import current_stage, offer_roadmaps, today
from core.journey.states import Awaiting
from core.kernel.markup import bold, esc
from core.kernel.names import clean_name
from core.kernel.payloads import CANCEL
from core.kernel.turn import Turn
from core.kernel.types import Button, Message, Outbound, Toast, clean_text
from core.roadmaps.catalog import RoadmapInfo

ARTIST_NAME_MAX = 60
#: The answer to a name that was nothing but invisible characters.
INVISIBLE_NAME = (
    "That name is only invisible characters, so nobody would see it. What should I call you?"
)

GREETING = (
    "👋 Hi! I'm your Stardom Coach. I'll walk you along a roadmap to your next level, one step "
    "at a time: checklists you tick off, and a few numbers you tell me so we can watch them "
    "grow.\n\n"
)


async def start(turn: Turn) -> list[Outbound]:
    """``/start``: greet a newcomer; welcome back a returning musician where they left off."""
    name = turn.rec.artist_name
    if name is None:
        turn.set_state(Awaiting.ARTIST_NAME)
        return [Message(text=f"{GREETING}First things first: what's your {bold('artist name')}?")]
    roadmap = turn.roadmap
    if roadmap is None:
        welcome = Message(text=f"Welcome back, {bold(esc(name))}!")
        return [welcome, *offer_roadmaps(turn, first_time=True)]
    welcome = Message(text=f"Welcome back, {bold(esc(name))}! You're on {bold(esc(roadmap.name))}.")
    return await today(turn, intro=[welcome])


async def set_name(turn: Turn, raw: str) -> list[Outbound]:
    """Store the artist name (cleaned of invisible characters, length-checked) and move on to
    the roadmaps."""
    name = clean_name(raw)
    if not name and clean_text(raw):
        return [Message(text=INVISIBLE_NAME)]
    if not name:
        return [
            Message(text="I need at least one letter for your artist name. What should I call you?")
        ]
    if len(name) > ARTIST_NAME_MAX:
        return [
            Message(
                text=f"That's a long name ({len(name)} characters)! Please keep it to "
                f"{ARTIST_NAME_MAX} characters or fewer."
            )
        ]
    first = turn.rec.artist_name is None
    turn.set_profile(artist_name=name)
    if first or turn.roadmap is None:
        greet = Message(text=f"Nice to meet you, {bold(esc(name))}! 🎶")
        return [greet, *offer_roadmaps(turn, first_time=True)]
    turn.set_state(None)
    return [Message(text=f"Done — you're {bold(esc(name))} from now on.")]


async def choose_roadmap(turn: Turn, roadmap: RoadmapInfo) -> list[Outbound]:
    """Put the musician on a roadmap, resuming at its first stage that is not done."""
    roadmap = turn.catalog.country_view(roadmap, turn.rec.country)
    turn.set_profile(roadmap_id=roadmap.id, current_stage_id=None)
    turn.set_undo(None)
    turn.event("roadmap.chosen", roadmap=roadmap.slug)
    stage, _rows = await current_stage(turn, roadmap)
    text = f"🚀 You're on {bold(esc(roadmap.name))}. {esc(roadmap.description)}"
    if stage is not None:
        number = (roadmap.stage_index(stage.id) or 0) + 1
        heading = f"Stage {number} · {esc(stage.title)}"
        text += f"\n\n{bold(heading)}\n{esc(stage.intro)}"
    return await today(turn, intro=[Message(text=text)])


async def roadmap_by_text(turn: Turn, text: str) -> list[Outbound]:
    """A typed roadmap choice: its number, or an unambiguous start of its name."""
    choices = turn.catalog.roadmaps
    word = text.strip().casefold()
    chosen: RoadmapInfo | None = None
    if word.isdecimal() and 1 <= int(word) <= len(choices):
        chosen = choices[int(word) - 1]
    else:
        matches = [r for r in choices if r.name.casefold().startswith(word) or r.slug == word]
        if len(word) >= 3 and len(matches) == 1:
            chosen = matches[0]
    if chosen is not None:
        return await choose_roadmap(turn, chosen)
    if not choices:
        return offer_roadmaps(turn, first_time=False)
    return [Message(text=f"Tap one of the roadmaps above, or type its number (1–{len(choices)}).")]


def roadmap_card(turn: Turn) -> list[Outbound]:
    """``/roadmap``: the current roadmap and a switch button for each other one."""
    roadmap = turn.roadmap
    if roadmap is None:
        return offer_roadmaps(turn, first_time=False)
    others = [r for r in turn.catalog.roadmaps if r.id != roadmap.id]
    lines = [f"You're on {bold(esc(roadmap.name))}: {esc(roadmap.pitch)}"]
    buttons: list[tuple[Button, ...]] = []
    if others:
        lines += ["", "Other paths (your progress on each one is kept if you switch):"]
        for r in others:
            lines.append(f"• {bold(esc(r.name))} — {esc(r.pitch)}")
            buttons.append(
                (Button(label=f"Switch to {r.name}", payload=ASK_SWITCH.encode(r.slug)),)
            )
    return [Message(text="\n".join(lines), buttons=tuple(buttons))]


def ask_switch(turn: Turn, roadmap: RoadmapInfo) -> list[Outbound]:
    """Ask before switching roadmaps; the answer is a button or yes/no."""
    if roadmap.id == turn.rec.roadmap_id:
        return [Toast(text=f"You're already on {roadmap.name}.")]
    current = turn.roadmap
    kept = (
        f" Your progress on {bold(esc(current.name))} stays saved — switch back any time."
        if current
        else ""
    )
    turn.set_state(Awaiting.CONFIRM_SWITCH, data={"roadmap": roadmap.slug})
    return [
        Message(
            text=f"Switch to {bold(esc(roadmap.name))}?{kept}",
            buttons=(
                (
                    Button(label="Yes, switch", payload=SWITCH.encode(roadmap.slug)),
                    Button(label="No, stay", payload=CANCEL.encode()),
                ),
            ),
        )
    ]


def name_prompt(turn: Turn) -> list[Outbound]:
    """``/name`` without a name: ask for it."""
    turn.set_state(Awaiting.ARTIST_NAME)
    return [Message(text="What should your artist name be?")]
