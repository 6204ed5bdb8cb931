"""``/band digest``: the band's weekly digest now (anyone in the band), and its weekly delivery's
settings (managers: ``on``, ``off``, ``monday 9:00``).

A member who tries to change it gets the band's usual refusal and the attempt is audited
(``band.digest``), like every other manager action. The digest shown on request pings nobody:
the asker wants to read it; the weekly one pings the assignees of what is due
(:mod:`core.coaching.digest.compose`).
"""

from __future__ import annotations

from collections.abc import Callable

from core.bands import words
from core.bands.store import BandRow
from core.clock import zone
from core.coaching.digest import read, settings
from core.coaching.digest.compose import compose, render
from core.coaching.review.week import Slot, parse_slot
from core.kernel.markup import bold, esc, italic
from core.kernel.turn import Turn
from core.kernel.types import Message, Outbound, toast_or_message

USAGE = "[on | off | monday 9:00]"
_OFF = frozenset({"off", "stop", "pause", "no"})
_ON = frozenset({"on", "start", "resume", "yes"})
#: Longer arguments than this are not a day and a time.
_LONGEST = 40

#: A denial is recorded through this (``BandCall.deny``): action, target, details.
Deny = Callable[..., None]


async def command(
    turn: Turn, band: BandRow, args: str, *, is_manager: bool, deny: Deny
) -> list[Outbound]:
    """``/band digest`` shows it; ``/band digest on|off|<day> <time>`` (managers) sets it."""
    word = args.strip()
    if not word:
        return await show(turn, band)
    if not is_manager:
        deny("band.digest", f"band:{band.id}", args=word[:_LONGEST], reason="manager")
        text = (
            f"Only the band's managers ({words.permission(turn.inbound.platform)}) can change "
            "the weekly digest — /band digest shows it to anyone."
        )
        return [toast_or_message(turn.inbound, text, ephemeral=True)]
    folded = word.casefold()
    if folded in _OFF:
        if await settings.switch_off(turn.ex, band.id):
            return [
                Message(text="🔕 The band's weekly digest is off. /band digest on restarts it.")
            ]
        return [Message(text="The band's weekly digest is already off. /band digest on starts it.")]
    if len(word) > _LONGEST:
        return [
            Message(text=f"That's too long for a day and a time. Try /band digest {esc(USAGE)}")
        ]
    current = await settings.of_band(turn.ex, band.id)
    slot: Slot | None = None
    if folded not in _ON:
        parsed = parse_slot(
            word, current.slot if current is not None else None, command="/band digest"
        )
        if isinstance(parsed, str):
            return [Message(text=f"{esc(parsed)}\n{italic('Usage: /band digest ' + USAGE)}")]
        slot = parsed
    chosen, due, tz = await settings.switch_on(
        turn.ex,
        band_id=band.id,
        profile_id=band.profile_id,
        slot=slot,
        timezone=turn.rec.timezone or "UTC",
        platform=turn.inbound.platform,
        target=band.channel_id or turn.inbound.chat_id,
        now=turn.now,
    )
    local = due.astimezone(zone(tz))
    where = "the band's updates channel" if band.channel_id else "this channel"
    return [
        Message(
            text=(
                f"📣 {bold(esc(band.name))}'s weekly digest: {bold(chosen.describe())} "
                f"({esc(tz)}) in {where}, first on {local:%a} {local.day} {local:%b}.\n"
                + italic(
                    "It comes within the hour after that time, outside the band's quiet "
                    "hours; /timezone sets the band's timezone. /band digest off stops it."
                )
            )
        )
    ]


async def show(turn: Turn, band: BandRow) -> list[Outbound]:
    """This week's digest, composed from the band's rows now (pinging nobody)."""
    if turn.roadmap is None:
        return [
            Message(
                text=f"{bold(esc(band.name))} hasn't picked its roadmap yet — /start does, and "
                "then I'll sum up the band's week here."
            )
        ]
    tz = await settings.band_timezone(turn.ex, band.id, turn.rec.timezone or "UTC")
    target = read.Band(band.id, band.name, band.profile_id, turn.inbound.platform)
    card = render(compose(await read.for_turn(turn, target, zone(tz))))
    current = await settings.of_band(turn.ex, band.id)
    if current is None or not current.on:
        hint = "Managers: /band digest on posts this every week (or /band digest monday 9:00)."
    else:
        hint = f"Posted every {current.slot.describe()} ({esc(current.timezone)})."
    return [card.model_copy(update={"text": f"{card.text}\n\n{italic(hint)}", "mentions": ()})]
