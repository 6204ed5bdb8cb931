"""The reminder conversation: ``/remind``, ``/timezone``, ``/quiet``, their buttons, and the
Done / Snooze 1 h / Tomorrow buttons under a nudge.

The engine routes here with a few lines; everything runs inside the event's turn (one
transaction, the musician's profile locked). Settings are per person: they apply to the
musician's own reminders, delivered to the chat they were set from. Nudge buttons are checked
against the reminder's owner — nobody can snooze someone else's reminder with a crafted payload.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from core.clock import zone
from core.coaching.review import settings as review_settings
from core.kernel.markup import bold, esc, italic
from core.kernel.payloads import RUN_COMMAND, Payload
from core.kernel.turn import Turn
from core.kernel.types import Button, Message, Outbound, Toast
from core.reminders import service
from core.reminders.buttons import SETTING
from core.reminders.schedule import (
    ALL_DAYS,
    COMMON_ZONES,
    QuietHours,
    Schedule,
    hhmm,
    is_fixed_offset,
    outside_quiet,
    parse_days,
    parse_time,
    parse_timezone,
    tomorrow_same_time,
)

SNOOZE = timedelta(hours=1)


def code(text: str) -> str:
    """Already-escaped text as a code span (commands to copy)."""
    return f"`{text}`"


#: Set from a group, a musician's own nudges go to their private chat with the bot, which must
#: exist first: a Telegram bot may not start a conversation (it gets "can't initiate").
PRIVATE_CHAT_NOTE = (
    "📬 Your nudges come in our private chat, not in this group. If you haven't yet, open a "
    "private chat with me and press Start — I can't write to you first."
)
#: The same, after a nudge failed for exactly that reason.
UNREACHED_NOTE = (
    "⚠️ My last nudge couldn't reach you: you haven't opened a private chat with me yet. "
    "Open one and press Start, and your nudges will arrive there."
)

QUIET_PRESETS = (("2200", "0800"), ("2300", "0700"), ("0000", "0900"))
TIME_PRESETS = ("0900", "1800", "2000")

REMIND_HELP = (
    "Try "
    + code("/remind daily 18:00")
    + ", "
    + code("/remind weekly mon,thu 09:30")
    + ", "
    + code("/remind off")
    + " or "
    + code("/remind on")
    + "."
)


def fmt_local(instant: datetime, tz: str) -> str:
    """A due time as the musician reads it: their local weekday, date and time."""
    local = instant.astimezone(zone(tz))
    return f"{local:%a %d %b}, {local:%H:%M}"


def _tz_name(turn: Turn) -> str:
    return turn.rec.timezone or "UTC"


def _target(turn: Turn) -> str:
    """Where a musician's own nudges go: this chat when private, else their direct chat."""
    inbound = turn.inbound
    return inbound.chat_id if inbound.chat_type == "private" else inbound.user_id


def dhm(value: str) -> str:
    """``"1800"`` (a button's compact time) as ``"18:00"``."""
    return f"{value[:2]}:{value[2:]}"


# ------------------------------------------------------------------------------ commands


async def remind_command(turn: Turn, args: str) -> list[Outbound]:
    """``/remind [daily HH:MM | weekly DAYS HH:MM | HH:MM | off | on]``."""
    words = args.split()
    if not words:
        return [await settings_card(turn)]
    head = words[0].casefold()
    if head in {"off", "stop", "none"}:
        changed = await service.set_paused(turn.ex, turn.rec.user_id, paused=True, now=turn.now)
        if not changed:
            return [Message(text="Reminders are already off. /remind daily 18:00 turns them on.")]
        return [Message(text="🔕 Reminders are off. /remind on brings them back.")]
    if head in {"on", "resume"}:
        current = await service.of_user(turn.ex, turn.rec.user_id)
        if current.schedule is None and current.plan is None:
            return [Message(text="You have no reminder yet. " + REMIND_HELP)]
        await service.set_paused(turn.ex, turn.rec.user_id, paused=False, now=turn.now)
        return [await settings_card(turn, intro="🔔 Reminders are back on.")]
    schedule = parse_schedule(words)
    if schedule is None:
        return [Message(text="I couldn't read that schedule. " + REMIND_HELP)]
    return [await _set(turn, schedule)]


def parse_schedule(words: list[str]) -> Schedule | None:
    """``daily 18:00``, ``weekly mon,thu 09:30`` or a bare ``18:00``; ``None`` when unreadable.
    Public: the band's reminder (core/bands/reminders.py) reads the same words."""
    head = words[0].casefold()
    if head == "daily" and len(words) == 2:
        at = parse_time(words[1])
        return Schedule("daily", at) if at else None
    if head == "weekly" and len(words) >= 3:
        at = parse_time(words[-1])
        days = parse_days(" ".join(words[1:-1]))
        if at is None or days is None:
            return None
        return Schedule("daily" if days == ALL_DAYS else "weekly", at, days)
    if len(words) == 1:
        at = parse_time(words[0])
        return Schedule("daily", at) if at else None
    at = parse_time(words[-1])  # "/remind mon thu 18:00" or "/remind weekdays 9am"
    days = parse_days(" ".join(words[:-1]))
    if at is None or days is None:
        return None
    return Schedule("daily" if days == ALL_DAYS else "weekly", at, days)


async def _set(turn: Turn, schedule: Schedule) -> Outbound:
    tz = _tz_name(turn)
    due = await service.set_schedule(
        turn.ex,
        turn.rec.user_id,
        schedule,
        timezone=tz,
        platform=turn.inbound.platform,
        target_chat=_target(turn),
        now=turn.now,
    )
    text = (
        f"🔔 Done — I'll nudge you {bold(schedule.describe())} ({esc(tz)}).\n"
        f"Next: {fmt_local(due, tz)}."
    )
    if tz == "UTC":
        text += "\n" + italic("Not in UTC? Set your timezone with /timezone.")
    if turn.inbound.chat_type != "private":
        text += "\n\n" + PRIVATE_CHAT_NOTE
    return Message(text=text)


async def settings_card(turn: Turn, *, intro: str = "") -> Outbound:
    """The ``/remind`` card: what is set, with buttons to change it."""
    current = await service.of_user(turn.ex, turn.rec.user_id)
    tz = _tz_name(turn)
    lines = [intro, ""] if intro else []
    lines.append(bold("Your reminders"))
    sched = current.schedule
    parsed = Schedule.from_json(sched.schedule) if sched else None
    if sched is None or parsed is None:
        lines.append("🔕 No reminder set yet.")
    elif sched.paused:
        lines.append(f"🔕 Off (was {esc(parsed.describe())}). /remind on brings it back.")
    else:
        lines.append(f"🔔 {esc(parsed.describe())}")
        if sched.next_due_at is not None:
            lines.append(f"Next: {fmt_local(sched.next_due_at, tz)}")
    lines.append(f"🌍 Timezone: {esc(tz)}")
    quiet = sched.quiet if sched else None
    lines.append(f"🌙 Quiet hours: {quiet.describe() if quiet else 'none'}")
    idle = current.inactivity
    if idle is not None and sched is not None and not sched.paused:
        state = "off" if idle.paused else "on"
        lines.append(f"👋 Check-ins when you go quiet for a while: {state}")
    review = await review_settings.of_user(turn.ex, turn.rec.user_id)
    if review is not None and review.on:
        lines.append(f"📅 Weekly review: {esc(review.slot.describe())} (/review to change)")
    else:
        lines.append("📅 Weekly review: off (/review on)")
    if sched is not None and not sched.paused and turn.inbound.chat_type != "private":
        unreached = await service.unreached(turn.ex, sched.id)
        lines += ["", UNREACHED_NOTE if unreached else PRIVATE_CHAT_NOTE]
    lines += ["", italic(REMIND_HELP)]
    rows: list[tuple[Button, ...]] = [
        tuple(
            Button(label=f"Daily {dhm(t)}", payload=SETTING.encode("daily", t))
            for t in TIME_PRESETS
        ),
        (
            Button(label="🌍 Timezone", payload=RUN_COMMAND.encode("timezone")),
            Button(label="🌙 Quiet hours", payload=RUN_COMMAND.encode("quiet")),
        ),
    ]
    if idle is not None and sched is not None and not sched.paused:
        toggle = "off" if not idle.paused else "on"
        rows.append((Button(label=f"Check-ins {toggle}", payload=SETTING.encode("idle", toggle)),))
    if sched is not None and not sched.paused:
        rows.append((Button(label="🔕 Turn off", payload=SETTING.encode("off", "all")),))
    return Message(text="\n".join(lines), buttons=tuple(rows))


async def timezone_command(turn: Turn, args: str) -> list[Outbound]:
    """``/timezone [name]``: show the picker, or set a zone."""
    if not args.strip():
        return [_timezone_card(turn)]
    tz = parse_timezone(args)
    if tz is None:
        return [
            Message(
                text=f"I don't know the timezone {code(esc(args.strip()[:64]))}. "
                f"Try a city ({code('Berlin')}), an IANA name ({code('America/New_York')}) "
                f"or an offset ({code('UTC+2')}) — or pick one below.",
                buttons=_timezone_card(turn).buttons,
            )
        ]
    return [await _set_timezone(turn, tz)]


def _timezone_card(turn: Turn) -> Outbound:
    rows: list[tuple[Button, ...]] = []
    for i in range(0, len(COMMON_ZONES), 3):
        rows.append(
            tuple(
                Button(
                    label=name.rsplit("/", 1)[-1].replace("_", " "),
                    payload=SETTING.encode("tz", str(i + j)),
                )
                for j, name in enumerate(COMMON_ZONES[i : i + 3])
            )
        )
    local = turn.now.astimezone(zone(_tz_name(turn)))
    return Message(
        text=f"🌍 Your timezone is {bold(esc(_tz_name(turn)))} (it's {local:%H:%M} there).\n"
        f"Pick one below, or type e.g. {code('/timezone Europe/Berlin')} "
        f"or {code('/timezone UTC+2')}.",
        buttons=tuple(rows),
    )


async def _set_timezone(turn: Turn, tz: str) -> Outbound:
    await service.set_timezone(turn.ex, turn.rec.user_id, tz, turn.now)
    turn.rec.timezone = tz
    local = turn.now.astimezone(zone(tz))
    note = ""
    if is_fixed_offset(tz):
        note = "\n" + italic(
            "A fixed offset doesn't follow daylight saving; a city name (e.g. Europe/Berlin) does."
        )
    return Message(
        text=f"🌍 Timezone set to {bold(esc(tz))} — it's {local:%H:%M} there. "
        f"Your reminders keep their local times.{note}"
    )


async def quiet_command(turn: Turn, args: str) -> list[Outbound]:
    """``/quiet [HH:MM-HH:MM | off]``."""
    text = args.strip()
    if not text:
        return [await _quiet_card(turn)]
    if text.casefold() in {"off", "none", "no"}:
        await service.set_quiet(turn.ex, turn.rec.user_id, None, turn.now)
        return [Message(text="🌙 Quiet hours cleared — nudges may come at any hour you set.")]
    quiet = QuietHours.parse(text)
    if quiet is None:
        return [
            Message(
                text=f"I couldn't read those hours. Try {code('/quiet 22:00-08:00')} or "
                f"{code('/quiet off')}."
            )
        ]
    return [await _set_quiet(turn, quiet)]


_QUIET_OFF = SETTING.encode("quiet", "off")
_STALE = "That button is from an older version of me. /remind shows your settings."


async def _quiet_card(turn: Turn) -> Outbound:
    current = await service.of_user(turn.ex, turn.rec.user_id)
    quiet = current.schedule.quiet if current.schedule else None
    now = f"now {quiet.describe()}" if quiet else "none set"
    buttons = tuple(
        Button(label=f"{dhm(s)}–{dhm(e)}", payload=SETTING.encode("quiet", f"{s}-{e}"))
        for s, e in QUIET_PRESETS
    )
    return Message(
        text=f"🌙 Quiet hours ({now}): no nudges in this window, local time. "
        f"Type e.g. {code('/quiet 22:00-08:00')}, or pick:",
        buttons=(
            buttons,
            (Button(label="No quiet hours", payload=SETTING.encode("quiet", "off")),),
        ),
    )


async def _set_quiet(turn: Turn, quiet: QuietHours) -> Outbound:
    current = await service.of_user(turn.ex, turn.rec.user_id)
    if current.schedule is None:  # quiet hours live on the reminder rows: nothing to keep yet
        return Message(
            text=f"You have no reminder yet, so there's nothing to keep quiet. Set one first "
            f"({code('/remind daily 18:00')}), then {code('/quiet ' + quiet.describe())}."
        )
    await service.set_quiet(turn.ex, turn.rec.user_id, quiet, turn.now)
    return Message(
        text=f"🌙 Quiet hours set: {quiet.describe()} ({esc(_tz_name(turn))}). No nudges then."
    )


# ------------------------------------------------------------------------------ buttons


async def button(turn: Turn, payload: Payload) -> list[Outbound]:
    """A ``nu`` (nudge) or ``nr`` (settings) button."""
    if payload.action == "nudge":
        return await _nudge_button(turn, payload.args[0], payload.args[1])
    setting, value = payload.args
    if setting == "daily" and len(value) == 4 and value.isdecimal():
        at = parse_time(dhm(value))
        if at is not None:
            return [await _set(turn, Schedule("daily", at))]
    elif setting == "off":
        return await remind_command(turn, "off")
    elif setting == "tz" and value.isdecimal() and int(value) < len(COMMON_ZONES):
        return [await _set_timezone(turn, COMMON_ZONES[int(value)])]
    elif setting == "quiet":
        if value == "off":
            return await quiet_command(turn, "off")
        start, _, end = value.partition("-")
        quiet = QuietHours.of(dhm(start), dhm(end)) if len(start) == len(end) == 4 else None
        if quiet is not None:
            return [await _set_quiet(turn, quiet)]
    elif setting == "idle" and value in {"on", "off"}:
        current = await service.of_user(turn.ex, turn.rec.user_id)
        if current.inactivity is None:
            return [Toast(text="Set a reminder first: /remind daily 18:00.")]
        await service.set_inactivity(turn.ex, current.inactivity, on=value == "on", now=turn.now)
        return [await settings_card(turn, intro=f"👋 Check-ins are {value}.")]
    return [
        Toast(
            text="That button is from an older version of me. /remind shows your settings.",
        )
    ]


async def _nudge_button(turn: Turn, verb: str, rid_hex: str) -> list[Outbound]:
    try:
        reminder_id = uuid.UUID(hex=rid_hex)
    except ValueError:
        return [Toast(text="That reminder button is broken. /remind shows yours.")]
    row = await service.get(turn.ex, reminder_id)
    if row is None:
        return [Toast(text="That reminder doesn't exist anymore. /remind sets a new one.")]
    if not await service.may_change(turn.ex, row, turn.rec.user_id):
        # written after the turn's transaction, like every audit note (core/app/engine.py)
        turn.audit(service.FOREIGN_BUTTON, "denied", f"reminder:{row.id}")
        return [Toast(text="That reminder isn't yours, so I left it alone.")]
    if row.band_id is not None:
        return await _band_nudge_button(turn, verb, row, row.band_id)
    if verb == "d":
        return [
            Message(
                text="✅ Nice work — that's how stars are made. See you at the next check-in!",
                edit=True,
            )
        ]
    tz = zone(row.timezone)
    if verb == "s":
        until = outside_quiet(turn.now + SNOOZE, tz, row.quiet)
        await service.postpone(turn.ex, row, until)
        return [
            Message(
                text=f"⏰ Snoozed — I'll nudge you again at {hhmm(until.astimezone(tz).time())}.",
                edit=True,
            )
        ]
    if verb == "t":
        until = tomorrow_same_time(turn.now, tz, row.quiet)
        await service.postpone(turn.ex, row, until)
        return [
            Message(text=f"📅 OK — tomorrow then, {fmt_local(until, row.timezone)}.", edit=True)
        ]
    return [Toast(text="That button is from an older version of me.")]


async def _band_nudge_button(
    turn: Turn, verb: str, row: service.ReminderRow, band_id: uuid.UUID
) -> list[Outbound]:
    """Done / Snooze / Tomorrow under the band's nudge, which sits in the band's channel.

    The answer replaces the nudge there, so the whole band reads it: it names who pressed and
    the band ("Ana snoozed the band's nudge for an hour"), not a "you" meant for one musician.
    """
    who = esc(turn.inbound.display_name or "A band member")
    band = bold(esc(await service.band_name(turn.ex, band_id) or "the band"))
    if verb == "d":
        return [
            Message(
                text=f"✅ {who} marked the band's nudge done — nice work, {band}! "
                "See you at the next check-in.",
                edit=True,
            )
        ]
    tz = zone(row.timezone)
    if verb == "s":
        until = outside_quiet(turn.now + SNOOZE, tz, row.quiet)
        await service.postpone(turn.ex, row, until)
        how_long = " for an hour" if until == turn.now + SNOOZE else ""  # quiet hours may push it
        return [
            Message(
                text=f"⏰ {who} snoozed the band's nudge{how_long} — I'll nudge {band} again "
                f"at {hhmm(until.astimezone(tz).time())}.",
                edit=True,
            )
        ]
    if verb == "t":
        until = tomorrow_same_time(turn.now, tz, row.quiet)
        await service.postpone(turn.ex, row, until)
        return [
            Message(
                text=f"📅 {who} moved the band's nudge to tomorrow — I'll nudge {band} again "
                f"on {fmt_local(until, row.timezone)}.",
                edit=True,
            )
        ]
    return [Toast(text="That button is from an older version of me.")]
