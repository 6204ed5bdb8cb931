"""What a band can do once its profile is locked: progress with credits, assignments, members,
and the manager's actions (rename, remove a member, bound role, updates channel, reset).

Every function takes the band's :class:`~core.kernel.turn.Turn` (the band's profile and
state, locked, with the acting member as ``turn.rec.user_id``) and the :class:`BandRow`.
Authorisation is decided by the caller (:mod:`core.bands.guild`) before any of these run.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime

from core.bands import store
from core.bands.buttons import BAND_RESET
from core.bands.states import BandAwaiting
from core.bands.store import BandRow
from core.coaching.digest import settings as digest_settings
from core.db.executor import Executor
from core.journey import cards
from core.journey.navigation import current_stage, offer_roadmaps
from core.journey.onboarding import ARTIST_NAME_MAX
from core.kernel.markup import bold, esc, italic
from core.kernel.names import clean_name
from core.kernel.payloads import CANCEL
from core.kernel.turn import Turn
from core.kernel.types import Button, Card, Inbound, Message, Outbound, Toast, clean_text
from core.reminders import service as reminder_service
from core.roadmaps.catalog import TaskInfo

#: A member as the front end writes them: a Discord mention ``<@123>`` / ``<@!123>``.
MENTION = re.compile(r"<@!?(\d{1,20})>")


def mention(external_id: str) -> str:
    """A member as :data:`MENTION` reads them back (what a suggested member puts in the text)."""
    return f"<@{external_id}>"


BAND_HELP = (
    f"{bold('Band commands')}\n"
    "/band create <name> — start this server's band (Manage Server)\n"
    "/band join — join the band · /band leave — leave it\n"
    "/band progress — stages and who did what\n"
    "/band members — who's in\n"
    "/band digest — the band's week: who did what, what's due, next week's focus\n"
    "/assign <task> @member — make a task someone's job\n"
    f"{italic('Managers:')} /band rename <name> · /band remove @member · "
    "/band role @role · /band channel · /band milestones on|off · "
    "/band digest on|off|monday 9:00 · /band invite [uses|revoke] · /band reset\n"
    "Invited? Send /join <code> to me in a private chat."
)
#: The same on Telegram: a group has no roles and is its own channel, its managers are its
#: admins, and a member is named by replying to their message (a Telegram @username carries
#: no id the bot could check).
BAND_HELP_TELEGRAM = (
    f"{bold('Band commands')}\n"
    "/band create <name> — make this group a band (group admins)\n"
    "/band join — join the band · /band leave — leave it\n"
    "/band progress — stages and who did what\n"
    "/band members — who's in\n"
    "/band digest — the band's week: who did what, what's due, next week's focus\n"
    "/assign <task> — reply to a member's message with it to make the task their job\n"
    f"{italic('Managers (group admins and promoted members):')} /band rename <name> · "
    "/band remove (as a reply) · /band milestones on|off · "
    "/band digest on|off|monday 9:00 · /band reset\n"
    f"{italic('Answers:')} reply to my question to answer it."
)


def band_help(platform: str) -> str:
    """The band commands as this platform offers them."""
    return BAND_HELP_TELEGRAM if platform == "telegram" else BAND_HELP


def band_name(raw: str) -> str | Outbound:
    """A cleaned band name (no invisible characters), or the reply explaining what is wrong."""
    name = clean_name(raw)
    if not name and clean_text(raw):
        return Message(
            text="That name is only invisible characters, so nobody would see it. "
            "Give the band a name people can read.",
            ephemeral=True,
        )
    if not name:
        return Message(text="Give the band a name: `/band create <name>`.", ephemeral=True)
    if len(name) > ARTIST_NAME_MAX:
        return Message(
            text=f"That name is {len(name)} characters; please keep it to {ARTIST_NAME_MAX}.",
            ephemeral=True,
        )
    return name


async def progress(turn: Turn, band: BandRow) -> list[Outbound]:
    """``/band progress``: the stages, then each member's contributions and open assignments."""
    roadmap = turn.roadmap
    if roadmap is None:
        note = Message(text=f"{bold(esc(band.name))} hasn't picked its roadmap yet.")
        return [note, *offer_roadmaps(turn, first_time=False)]
    stage, _ = await current_stage(turn, roadmap)
    rows = await turn.roadmap_progress(roadmap)
    card = cards.progress_card(roadmap, rows, stage.id if stage else None)
    members = await store.band_members(turn.ex, band.id, turn.inbound.platform)
    names = store.names(members)
    ticks: Counter[str] = Counter()
    finished: Counter[str] = Counter()
    for row in rows.values():
        for user in (row.task_data.get("ticked_by") or {}).values():
            ticks[str(user)] += 1
        if row.status == "completed" and row.completed_by is not None:
            finished[str(row.completed_by)] += 1
    numbers = await store.samples_by_member(turn.ex, turn.rec.profile_id)
    lines = ["", bold("🎸 Who did what")]
    for member in members:
        key = str(member.user_id)
        lines.append(
            f"• {esc(names[member.user_id])}: {ticks[key]} item(s) ticked, "
            f"{finished[key]} task(s) finished, {numbers.get(member.user_id, 0)} number(s)"
        )
    assigned = await store.assignments_of(turn.ex, band.id)
    open_jobs = [
        (task, user)
        for stage_ in roadmap.stages
        for task in stage_.tasks
        if (user := assigned.get(task.id)) is not None
        and (rows.get(task.id) is None or rows[task.id].status not in {"completed", "skipped"})
    ]
    if open_jobs:
        lines += ["", bold("📌 Assigned")]
        for task, user in open_jobs:
            who = names.get(user, "a former member")
            lines.append(f"• {esc(task.title)} → {esc(who)}")
    title = f"{bold(esc(band.name))} (band)\n"
    return [card.model_copy(update={"text": title + card.text + "\n".join(lines)})]


async def members_list(turn: Turn, band: BandRow) -> list[Outbound]:
    """``/band members``."""
    members = await store.band_members(turn.ex, band.id, turn.inbound.platform)
    names = store.names(members)
    lines = [bold(f"{esc(band.name)} — {len(members)} member(s)")]
    for member in members:
        badge = " (manager)" if member.role == "manager" else ""
        lines.append(f"• {esc(names[member.user_id])}{badge}")
    if band.role_id:
        lines.append(italic("Everyone with the band's role is a member too."))
    return [Message(text="\n".join(lines))]


def _find_task(turn: Turn, words: str) -> TaskInfo | list[TaskInfo] | None:
    roadmap = turn.roadmap
    if roadmap is None:
        return None
    wanted = words.strip().casefold()
    if not wanted:
        return None
    tasks = [t for stage in roadmap.stages for t in stage.tasks if not t.archived]
    for task in tasks:
        if task.slug == wanted or task.title.casefold() == wanted:
            return task
    if wanted.isdigit() and 1 <= int(wanted) <= len(tasks):
        return tasks[int(wanted) - 1]
    found = [t for t in tasks if wanted in t.title.casefold()]
    if len(found) == 1:
        return found[0]
    return found or None


async def assign(turn: Turn, band: BandRow, args: str) -> list[Outbound]:
    """``/assign <task> @member``: one assignee per task; the assignee must be in the band."""
    if turn.roadmap is None:
        return [Message(text="Pick the band's roadmap first: /roadmap.", ephemeral=True)]
    mention = MENTION.search(args)
    if mention is None:
        return [
            Message(
                text="Who should do it? `/assign <task> @member` (mention a band member).",
                ephemeral=True,
            )
        ]
    found = _find_task(turn, MENTION.sub("", args))
    if found is None:
        return [
            Message(
                text="I couldn't find that task on the band's roadmap. Use its title, or its "
                "number in /band progress order.",
                ephemeral=True,
            )
        ]
    if isinstance(found, list):
        titles = ", ".join(esc(t.title) for t in found[:5])
        return [Message(text=f"That matches several tasks: {titles}. Which one?", ephemeral=True)]
    platform = turn.inbound.platform
    assignee = await store.user_by_external(turn.ex, platform, mention.group(1))
    members = {m.user_id: m for m in await store.band_members(turn.ex, band.id, platform)}
    if assignee is None or assignee not in members:
        return [
            Message(
                text="They aren't in the band yet — they can join with /band join.",
                ephemeral=True,
            )
        ]
    await store.assign(
        turn.ex, band.id, task_id=found.id, user_id=assignee, by=turn.rec.user_id, now=turn.now
    )
    turn.event("task.assigned", task=found.slug, assignee=assignee)
    who = store.names(list(members.values()))[assignee]
    return [Message(text=f"📌 {bold(esc(found.title))} is now {esc(who)}'s job.")]


async def rename(turn: Turn, band: BandRow, raw: str) -> list[Outbound]:
    """``/band rename <name>`` (managers): the band and its profile change name together."""
    name = band_name(raw)
    if isinstance(name, Outbound):
        return [name]
    await store.update_band(turn.ex, band.id, name=name)
    turn.set_profile(artist_name=name)
    return [Message(text=f"Done — the band is {bold(esc(name))} from now on.")]


async def remove(turn: Turn, band: BandRow, args: str) -> list[Outbound]:
    """``/band remove @member`` (managers). Past credits stay; they name the person."""
    mention = MENTION.search(args)
    if mention is None:
        return [Message(text="Whom? `/band remove @member`.", ephemeral=True)]
    user = await store.user_by_external(turn.ex, turn.inbound.platform, mention.group(1))
    if user is None or await store.member_role(turn.ex, band.id, user) is None:
        return [Message(text="They aren't a member of this band.", ephemeral=True)]
    await store.remove_member(turn.ex, band.id, user)
    note = ""
    if band.role_id:
        note = " They still hold the band's role, so take that away too, or they'll be back."
    return [Message(text=f"Removed from {bold(esc(band.name))}.{note}")]


async def bind_role(turn: Turn, band: BandRow, args: str) -> list[Outbound]:
    """``/band role @role`` binds a role (holders are members); ``/band role none`` unbinds,
    and so does ``/band role`` alone: Discord's ``/band role`` with its role option left empty."""
    match = re.search(r"<@&(\d{1,20})>", args)
    if args.strip().casefold() in {"", "none", "off", "-"}:
        await store.update_band(turn.ex, band.id, role_id=None)
        return [Message(text="The band has no bound role now; members join with /band join.")]
    if match is None:
        return [Message(text="Which role? `/band role @role` (or `none`).", ephemeral=True)]
    await store.update_band(turn.ex, band.id, role_id=match.group(1))
    return [Message(text=f"Everyone with <@&{match.group(1)}> is in the band now.")]


async def channel_here(
    ex: Executor, band: BandRow, inbound: Inbound, timezone: str | None, now: datetime
) -> bool:
    """Make the event's chat the band's updates channel: its reminders go there, and its
    weekly digest, switched on the first time a channel is set (True then)."""
    channel = inbound.chat_id
    await store.update_band(ex, band.id, channel_id=channel)
    await reminder_service.set_band_target(ex, band.id, channel)
    return await digest_settings.on_channel_set(
        ex,
        band_id=band.id,
        profile_id=band.profile_id,
        timezone=timezone or "UTC",
        platform=inbound.platform,
        target=channel,
        now=now,
    )


async def set_channel(turn: Turn, band: BandRow) -> list[Outbound]:
    """``/band channel``: this channel receives the band's updates and reminders — and its
    weekly digest, switched on here the first time a channel is set (docs/coaching.md)."""
    started = await channel_here(turn.ex, band, turn.inbound, turn.rec.timezone, turn.now)
    text = "📣 Band updates and reminders will go to this channel."
    if started:
        text += "\n" + italic(
            "The band's weekly digest too, Mondays at 10:00 — /band digest shows it now; "
            "/band digest off or /band digest friday 18:00 changes it."
        )
    return [Message(text=text)]


async def announce_milestones(turn: Turn, band: BandRow, args: str) -> list[Outbound]:
    """``/band milestones on|off``: the band's milestones (1 000 listeners, a stage done …) are
    posted in its updates channel (:mod:`core.coaching.milestones`), or not."""
    switch = args.strip().casefold()
    if switch not in {"on", "off"}:
        return [Message(text="`/band milestones on` or `/band milestones off`?", ephemeral=True)]
    await store.update_band(turn.ex, band.id, announce_milestones=switch == "on")
    if switch == "off":
        return [Message(text="The band's milestones won't be announced in the channel.")]
    where = "the updates channel" if band.channel_id else "the updates channel once it is set"
    tip = "" if band.channel_id else " (/band channel there)"
    return [Message(text=f"🎉 The band's milestones will be announced in {where}{tip}.")]


def ask_reset(turn: Turn, band: BandRow) -> list[Outbound]:
    """``/band reset`` asks first: it wipes the band's whole progress."""
    turn.set_state(BandAwaiting.RESET)
    return [
        Message(
            text=f"⚠️ Reset {bold(esc(band.name))}? This wipes the band's roadmap, every tick, "
            "answer, number and assignment. Members stay.",
            buttons=(
                (
                    Button(label="Yes, reset everything", payload=BAND_RESET.encode()),
                    Button(label="Keep it", payload=CANCEL.encode()),
                ),
            ),
        )
    ]


async def reset(turn: Turn, band: BandRow) -> list[Outbound]:
    """The confirmed reset: progress, numbers, goals, the plan's dates and assignments go; name
    and members stay."""
    if turn.awaiting is not BandAwaiting.RESET:
        return [Toast(text="That question has expired — nothing changed.")]
    await store.wipe_progress(turn.ex, turn.rec.profile_id)
    await store.clear_assignments(turn.ex, band.id)
    # the plan's dates go with the answers they came from (the plan reminder, finding no
    # dates, is paused by the tick); a reset band's /plan starts undated
    turn.set_profile(roadmap_id=None, current_stage_id=None, current_stats={}, anchors={})
    turn.set_undo(None)
    turn.set_state(None)
    turn.event("band.reset", band=band.id)
    done = Message(text=f"🧹 {bold(esc(band.name))} starts afresh.", edit=True)
    return [done, *offer_roadmaps(turn, first_time=True)]


async def mark_assignees(turn: Turn, band: BandRow, replies: list[Outbound]) -> list[Outbound]:
    """Task cards of assigned tasks say whose job they are ("📌 Ben's job")."""
    slugs = [_task_of(reply) for reply in replies]
    if not any(slugs):
        return replies
    assigned = await store.assignments_of(turn.ex, band.id)
    if not assigned:
        return replies
    names = store.names(await store.band_members(turn.ex, band.id, turn.inbound.platform))
    marked = []
    for reply, slug in zip(replies, slugs, strict=True):
        task = turn.catalog.tasks_by_slug.get(slug) if slug else None
        user = assigned.get(task.id) if task is not None else None
        if user is None:
            marked.append(reply)
            continue
        who = esc(names.get(user, "a former member"))
        marked.append(reply.model_copy(update={"text": f"{reply.text}\n📌 {who}'s job"}))
    return marked


def _task_of(reply: Outbound) -> str | None:
    """The task an open task's card is about (a finished checklist, its buttons gone, is not
    marked)."""
    if isinstance(reply, Card) and reply.buttons:
        return reply.task
    return None


def channel_updates(turn: Turn, band: BandRow) -> list[Outbound]:
    """News for the band's updates channel (``/band channel``) when the work happened elsewhere:
    a finished task or stage, credited to whoever did it. Read from the turn's outbox events
    before they are written."""
    if band.channel_id is None or band.channel_id == turn.inbound.chat_id:
        return []
    who = bold(esc(turn.inbound.display_name or "A member"))
    lines = []
    for event in turn.pending_events():
        payload = event["payload"]
        if event["type"] == "task.completed":
            task = turn.catalog.tasks_by_slug.get(str(payload.get("task")))
            if task is not None:
                lines.append(f"✅ {who} finished {bold(esc(task.title))}.")
        elif event["type"] == "stage.completed":
            lines.append(f"🔓 {esc(band.name)} finished a stage — the next one is open!")
        elif event["type"] == "roadmap.completed":
            lines.append(f"🏆 {esc(band.name)} finished the whole roadmap!")
    if not lines:
        return []
    return [Message(text="\n".join(lines), chat_id=band.channel_id)]
