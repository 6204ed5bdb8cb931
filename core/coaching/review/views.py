"""``/review``: this week's review on demand, and the weekly delivery's settings."""

from __future__ import annotations

from core.clock import zone
from core.coaching.review import read, settings
from core.coaching.review.compose import compose, render
from core.coaching.review.week import Slot, parse_slot
from core.journey.streak import streak_of
from core.kernel.markup import bold, esc, italic
from core.kernel.turn import Turn
from core.kernel.types import Message, Outbound

USAGE = "[off | on | monday 9:00]"
_OFF = frozenset({"off", "stop", "pause", "no"})
_ON = frozenset({"on", "start", "resume", "yes"})
#: Longer arguments than this are not a day and a time.
_LONGEST = 40


async def review_command(turn: Turn, args: str) -> list[Outbound]:
    """``/review`` shows the review; ``/review off|on|<day> <time>`` sets the weekly one."""
    word = args.strip()
    if not word:
        return await show(turn)
    folded = word.casefold()
    if folded in _OFF:
        if await settings.switch_off(turn):
            return [Message(text="🔕 Weekly review off. /review on brings it back.")]
        return [Message(text="The weekly review is already off. /review on turns it on.")]
    if len(word) > _LONGEST:
        return [Message(text=f"That's too long for a day and a time. Try /review {esc(USAGE)}")]
    current = await settings.of_user(turn.ex, turn.rec.user_id)
    slot: Slot | None = None
    if folded not in _ON:
        parsed = parse_slot(word, current.slot if current is not None else None)
        if isinstance(parsed, str):
            return [Message(text=f"{esc(parsed)}\n{italic('Usage: /review ' + USAGE)}")]
        slot = parsed
    chosen, due = await settings.switch_on(turn, slot)
    local = due.astimezone(zone(turn.rec.timezone))
    return [
        Message(
            text=(
                f"🗓️ Weekly review on: {bold(chosen.describe())} ({esc(turn.rec.timezone)}), "
                f"first on {local:%a} {local.day} {local:%b}.\n"
                + italic(
                    "It comes within the hour after that time, outside your quiet hours. "
                    "/review off stops it."
                )
            )
        )
    ]


async def show(turn: Turn) -> list[Outbound]:
    """This week's review, composed from the musician's rows (three statements)."""
    if turn.rec.artist_name is None or turn.roadmap is None:
        return [
            Message(
                text="Nothing to review yet — pick a roadmap first (/start), "
                "and I'll sum up your week here."
            )
        ]
    tz = zone(turn.rec.timezone)
    review = compose(await read.for_turn(turn, tz, streak=await streak_of(turn)))
    message = render(review)
    current = await settings.of_user(turn.ex, turn.rec.user_id)
    if current is None or not current.on:
        hint = italic("Want this every week? /review on (or /review monday 9:00).")
        return [message.model_copy(update={"text": f"{message.text}\n\n{hint}"})]
    return [message]
