"""The band's reminder, set from the band's server: ``/remind``, ``/timezone``, ``/quiet`` and
their buttons in a band turn.

In a server channel these commands act on the BAND's one reminder, not the member's own: its
nudge goes to the band's updates channel (``/band channel``), else to the channel it was set in,
and any member can act on it (the nudge buttons go through :mod:`core.reminders.chat`, whose
ownership check lets band members in). Changing it is a manager's job, like the band's other
settings; a member who tries gets a friendly refusal and the attempt is audited — the caller
(:mod:`core.bands.guild`) decides who is a manager and writes the audit row after the turn.
Anyone in the band may look (``/remind`` with nothing after it).

A band has no user row, so its timezone and quiet hours live on its reminder row: the first
``/remind`` takes the acting manager's own timezone, and ``/timezone`` / ``/quiet`` need a
reminder to change.
"""

from __future__ import annotations

from collections.abc import Callable

from core.bands.store import BandRow
from core.clock import zone
from core.coaching.digest import settings as digest_settings
from core.kernel.markup import bold, esc, italic
from core.kernel.payloads import RUN_COMMAND, Payload
from core.kernel.turn import Turn
from core.kernel.types import Button, Message, Outbound, Toast, toast_or_message
from core.reminders import chat, service
from core.reminders.buttons import SETTING
from core.reminders.schedule import (
    COMMON_ZONES,
    QuietHours,
    Schedule,
    is_fixed_offset,
    parse_time,
    parse_timezone,
)

#: A denial is recorded through this (``BandCall.deny``): action, target, details.
Deny = Callable[..., None]

_FIRST = (
    "The band has no reminder yet. A manager sets one with "
    + chat.code("/remind daily 18:00")
    + "."
)


def _refusal(turn: Turn) -> Outbound:
    text = (
        "Only the band's managers can change its reminder — /remind shows it. "
        "For your own reminder, DM me /remind."
    )
    return toast_or_message(turn.inbound, text, ephemeral=True)


async def handle(
    turn: Turn,
    band: BandRow,
    command_name: str | None,
    args: str,
    payload: Payload | None,
    *,
    is_manager: bool,
    deny: Deny,
) -> list[Outbound]:
    """One reminder command or settings button in a band turn."""
    if payload is not None:
        return await _button(turn, band, payload, is_manager=is_manager, deny=deny)
    name = command_name or "remind"
    if not args.strip():  # looking is for everyone in the band
        if name == "timezone":
            return [await _timezone_card(turn, band)]
        if name == "quiet":
            return [await _quiet_card(turn, band)]
        return [await settings_card(turn, band)]
    if not is_manager:
        deny("band.reminder", f"band:{band.id}", command=name, reason="manager")
        return [_refusal(turn)]
    if name == "timezone":
        return [await _timezone(turn, band, args)]
    if name == "quiet":
        return [await _quiet(turn, band, args)]
    return [await _remind(turn, band, args)]


async def _remind(turn: Turn, band: BandRow, args: str) -> Outbound:
    words = args.split()
    head = words[0].casefold()
    if head in {"off", "stop", "none"}:
        if not await service.set_band_paused(turn.ex, band.id, paused=True, now=turn.now):
            return Message(text="The band's reminder is already off (or not set).")
        return Message(text="🔕 The band's reminder is off. /remind on brings it back.")
    if head in {"on", "resume"}:
        if await service.of_band(turn.ex, band.id) is None:
            return Message(text=_FIRST)
        await service.set_band_paused(turn.ex, band.id, paused=False, now=turn.now)
        return await settings_card(turn, band, intro="🔔 The band's reminder is back on.")
    schedule = chat.parse_schedule(words)
    if schedule is None:
        return Message(text="I couldn't read that schedule. " + chat.REMIND_HELP)
    return await _set(turn, band, schedule)


async def _set(turn: Turn, band: BandRow, schedule: Schedule) -> Outbound:
    current = await service.of_band(turn.ex, band.id)
    tz = current.timezone if current is not None else (turn.rec.timezone or "UTC")
    due = await service.set_band_schedule(
        turn.ex,
        band.id,
        schedule,
        timezone=tz,
        platform=turn.inbound.platform,
        channel_id=band.channel_id or turn.inbound.chat_id,
        now=turn.now,
    )
    where = "the band's updates channel" if band.channel_id else "this channel"
    text = (
        f"🔔 Done — I'll nudge {bold(esc(band.name))} {bold(schedule.describe())} "
        f"({esc(tz)}) in {where}, with the band's next task.\n"
        f"Next: {chat.fmt_local(due, tz)}."
    )
    if tz == "UTC":
        text += "\n" + italic("Not in UTC? Set the band's timezone with /timezone.")
    return Message(text=text)


async def settings_card(turn: Turn, band: BandRow, *, intro: str = "") -> Outbound:
    """The band's ``/remind`` card."""
    row = await service.of_band(turn.ex, band.id)
    lines = [intro, ""] if intro else []
    lines.append(bold(f"🎸 {esc(band.name)} — band reminder"))
    parsed = Schedule.from_json(row.schedule) if row else None
    if row is None or parsed is None:
        lines.append("🔕 No band reminder set yet.")
    elif row.paused:
        lines.append(f"🔕 Off (was {esc(parsed.describe())}). /remind on brings it back.")
    else:
        lines.append(f"🔔 {esc(parsed.describe())}")
        if row.next_due_at is not None:
            lines.append(f"Next: {chat.fmt_local(row.next_due_at, row.timezone)}")
    if row is not None:
        lines.append(f"🌍 Timezone: {esc(row.timezone)}")
        quiet = row.quiet
        lines.append(f"🌙 Quiet hours: {quiet.describe() if quiet else 'none'}")
        here = row.target_chat == turn.inbound.chat_id
        lines.append("📣 Nudges go to " + ("this channel." if here else "the band's channel."))
    lines += [
        "",
        italic("Managers: " + chat.REMIND_HELP + " Your own reminder: DM me /remind."),
    ]
    rows: list[tuple[Button, ...]] = [
        tuple(
            Button(label=f"Daily {chat.dhm(t)}", payload=SETTING.encode("daily", t))
            for t in chat.TIME_PRESETS
        ),
        (
            Button(label="🌍 Timezone", payload=RUN_COMMAND.encode("timezone")),
            Button(label="🌙 Quiet hours", payload=RUN_COMMAND.encode("quiet")),
        ),
    ]
    if row is not None and not row.paused:
        rows.append((Button(label="🔕 Turn off", payload=SETTING.encode("off", "all")),))
    return Message(text="\n".join(lines), buttons=tuple(rows))


def _zone_buttons() -> tuple[tuple[Button, ...], ...]:
    return tuple(
        tuple(
            Button(
                label=name.rsplit("/", 1)[-1].replace("_", " "),
                payload=SETTING.encode("tz", str(i + j)),
            )
            for j, name in enumerate(COMMON_ZONES[i : i + 3])
        )
        for i in range(0, len(COMMON_ZONES), 3)
    )


async def _timezone_card(turn: Turn, band: BandRow) -> Outbound:
    row = await service.of_band(turn.ex, band.id)
    if row is not None:
        tz, what = row.timezone, "reminder"
    elif (digest := await digest_settings.of_band(turn.ex, band.id)) is not None:
        tz, what = digest.timezone, "weekly digest"  # a band with a digest and no reminder
    else:
        return Message(text=_FIRST + " Its timezone comes with it.")
    local = turn.now.astimezone(zone(tz))
    return Message(
        text=f"🌍 The band's {what} runs on {bold(esc(tz))} "
        f"(it's {local:%H:%M} there). Managers pick one below or type e.g. "
        f"{chat.code('/timezone Europe/Berlin')}.",
        buttons=_zone_buttons(),
    )


async def _timezone(turn: Turn, band: BandRow, args: str) -> Outbound:
    tz = parse_timezone(args)
    if tz is None:
        return Message(
            text=f"I don't know the timezone {chat.code(esc(args.strip()[:64]))}. "
            f"Try a city ({chat.code('Berlin')}) or an offset ({chat.code('UTC+2')}).",
            buttons=_zone_buttons(),
        )
    return await _set_timezone(turn, band, tz)


async def _set_timezone(turn: Turn, band: BandRow, tz: str) -> Outbound:
    if not await service.set_band_timezone(turn.ex, band.id, tz, turn.now):
        return Message(text=_FIRST + " Then set its timezone.")
    local = turn.now.astimezone(zone(tz))
    note = ""
    if is_fixed_offset(tz):
        note = "\n" + italic("A fixed offset doesn't follow daylight saving; a city name does.")
    return Message(
        text=f"🌍 The band's timezone is {bold(esc(tz))} now — it's {local:%H:%M} there. "
        f"The reminder keeps its local time.{note}"
    )


async def _quiet_card(turn: Turn, band: BandRow) -> Outbound:
    row = await service.of_band(turn.ex, band.id)
    quiet = row.quiet if row else None
    now = f"now {quiet.describe()}" if quiet else "none set"
    presets = tuple(
        Button(
            label=f"{chat.dhm(s)}–{chat.dhm(e)}",
            payload=SETTING.encode("quiet", f"{s}-{e}"),
        )
        for s, e in chat.QUIET_PRESETS
    )
    return Message(
        text=f"🌙 The band's quiet hours ({now}): no band nudges in this window. Managers type "
        f"e.g. {chat.code('/quiet 22:00-08:00')}, or pick:",
        buttons=(
            presets,
            (Button(label="No quiet hours", payload=SETTING.encode("quiet", "off")),),
        ),
    )


async def _quiet(turn: Turn, band: BandRow, args: str) -> Outbound:
    text = args.strip()
    quiet: QuietHours | None = None
    if text.casefold() not in {"off", "none", "no"}:
        quiet = QuietHours.parse(text)
        if quiet is None:
            return Message(
                text=f"I couldn't read those hours. Try {chat.code('/quiet 22:00-08:00')} "
                f"or {chat.code('/quiet off')}."
            )
    if not await service.set_band_quiet(turn.ex, band.id, quiet, turn.now):
        return Message(text=_FIRST + " Then its quiet hours.")
    if quiet is None:
        return Message(text="🌙 The band's quiet hours are cleared.")
    return Message(text=f"🌙 The band's quiet hours: {quiet.describe()}. No band nudges then.")


async def _button(
    turn: Turn, band: BandRow, payload: Payload, *, is_manager: bool, deny: Deny
) -> list[Outbound]:
    setting, value = payload.args
    if not is_manager:
        deny("band.reminder", f"band:{band.id}", button=setting, reason="manager")
        return [_refusal(turn)]
    reply: Outbound | None = None
    if setting == "daily" and len(value) == 4 and value.isdecimal():
        at = parse_time(chat.dhm(value))
        if at is not None:
            reply = await _set(turn, band, Schedule("daily", at))
    elif setting == "off":
        reply = await _remind(turn, band, "off")
    elif setting == "tz" and value.isdecimal() and int(value) < len(COMMON_ZONES):
        reply = await _set_timezone(turn, band, COMMON_ZONES[int(value)])
    elif setting == "quiet":
        start, _, end = value.partition("-")
        if value == "off":
            reply = await _quiet(turn, band, "off")
        elif len(start) == len(end) == 4:
            reply = await _quiet(turn, band, f"{chat.dhm(start)}-{chat.dhm(end)}")
    if reply is None:  # includes "idle": a band has no inactivity check-ins
        text = "That button doesn't apply to the band. /remind shows its settings."
        return [Toast(text=text)]
    return [reply]
