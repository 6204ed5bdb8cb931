"""Plan reminders (kind ``plan``): a nudge on the days a dated task opens and is due.

One row per profile — the musician's (``user_id``) or the band's (``band_id``) — kept by the
existing durable tick like the other kinds: claimed by the indexed ``next_due_at``, sent once
per due time under its idempotency key, advanced to the next date. Why a row per profile and
not per task: the tick's claim then stays one indexed range scan whatever the plans hold, and
a changed release date moves one row, not dozens.

* :func:`sync` — whenever an event changed the profile's anchors (the engine calls it before the
  turn's flush, in the event's transaction): the row is created or moved to the next date, or
  paused when nothing is left to remind of.
* :func:`decide` — in the tick, for a claimed row: which tasks are due at its time (a task done
  since is not reminded of), the nudge that names them and why now, and the next date.

A date's reminder is at :data:`AT` in the row's timezone (the owner's, when the row was set).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final, Literal

from sqlalchemy import bindparam, insert, or_, select, update

from core.clock import zone
from core.coaching.plan.dates import Entry, entries, t_label
from core.db.tables import bands, profiles, reminders
from core.journey.cards import open_button
from core.kernel.markup import bold, esc, italic
from core.kernel.payloads import RUN_COMMAND
from core.kernel.turn import Turn
from core.kernel.types import Button, Message, Outbound
from core.progress.service import ProgressRecord, first_open_stage
from core.progress.timeline import anchor_date, show_date
from core.reminders.dispatch import Plan, delivery_key
from core.reminders.store import ClaimedRow, Owner
from core.roadmaps.catalog import Catalog, RoadmapInfo

KIND: Final = "plan"
#: The local time of a plan reminder.
AT: Final = time(10, 0)
#: A plan reminder later than this (the tick was down) is skipped: the next one comes instead.
GRACE: Final = timedelta(hours=12)

What = Literal["opens", "due"]


@dataclass(frozen=True, slots=True)
class Moment:
    """One reminder of the plan: a task that opens or is due at ``at`` (UTC)."""

    at: datetime
    entry: Entry
    what: What


def moments(
    roadmap: RoadmapInfo,
    anchors: dict[str, Any],
    rows: dict[uuid.UUID, ProgressRecord],
    tz_name: str,
    today: date,
) -> list[Moment]:
    """Every reminder the plan holds for tasks not dealt with yet, earliest first."""
    tz = zone(tz_name)
    out: list[Moment] = []
    for entry in entries(roadmap, anchors, rows, today):
        if entry.standing in {"done", "skipped"}:
            continue
        days: list[tuple[date, What]] = [(entry.due, "due")]
        if entry.opens is not None and entry.opens != entry.due:
            days.insert(0, (entry.opens, "opens"))
        for day, what in days:
            at = datetime.combine(day, AT, tzinfo=tz).astimezone(UTC)
            out.append(Moment(at, entry, what))
    out.sort(key=lambda m: m.at)
    return out


def next_after(plan: Iterable[Moment], instant: datetime) -> datetime | None:
    """The first reminder time strictly after ``instant``."""
    return next((m.at for m in plan if m.at > instant), None)


# ------------------------------------------------------------------------------ the row

# The owner, and a band's updates channel (``/band channel``): where the band's nudges go.
_OWNER_OF = (
    select(profiles.c.user_id, profiles.c.band_id, bands.c.channel_id)
    .select_from(profiles.outerjoin(bands, bands.c.id == profiles.c.band_id))
    .where(profiles.c.id == bindparam("pid"))
)
_ROW = select(reminders.c.id).where(
    reminders.c.kind == bindparam("kind"),
    # NULL never equals NULL: a solo profile matches by user, a band's by band.
    or_(reminders.c.user_id == bindparam("uid"), reminders.c.band_id == bindparam("bid")),
)
_INSERT = insert(reminders)
_MOVE = update(reminders).where(reminders.c.id == bindparam("rid"))


def _target(turn: Turn) -> str:
    """Where the plan's nudges go: this chat when private or a band's, else the direct chat."""
    inbound = turn.inbound
    if inbound.chat_type in {"private", "guild"}:
        return inbound.chat_id
    return inbound.user_id


async def sync(turn: Turn) -> None:
    """Create or move the profile's plan reminder after its anchors changed (or pause it)."""
    roadmap = turn.roadmap
    ex = turn.ex
    owner = await ex.rows(_OWNER_OF, {"pid": turn.rec.profile_id})
    if not owner:
        return
    user_id, band_id, channel = owner[0]
    following: datetime | None = None
    if roadmap is not None and turn.rec.anchors:
        rows = await turn.roadmap_progress(roadmap)
        plan = moments(roadmap, turn.rec.anchors, rows, turn.rec.timezone, turn.today)
        following = next_after(plan, turn.now)
    found = await ex.rows(_ROW, {"kind": KIND, "uid": user_id, "bid": band_id})
    values: dict[str, Any] = {
        "next_due_at": following,
        "paused": following is None,
        "timezone": turn.rec.timezone,
        "platform": turn.inbound.platform,
        "target_chat": channel or _target(turn),  # a band's updates channel, like its nudges
        "claimed_until": None,
        "claimed_by": None,
        "attempts": 0,
    }
    if found:
        await ex.run(_MOVE, {"rid": found[0][0], **values})
        return
    if following is None:
        return  # nothing to remind of, and no row to pause
    await ex.run(
        _INSERT,
        {
            "id": uuid.uuid4(),
            "user_id": user_id,
            "band_id": band_id if user_id is None else None,
            "kind": KIND,
            "schedule": {},
            "quiet_start": None,
            "quiet_end": None,
            "stage": 0,
            "last_sent_at": None,
            "created_at": turn.now,
            **values,
        },
    )


# ------------------------------------------------------------------------------ the tick


def waiting(row: ClaimedRow) -> Plan:
    """A plan row's decision before its owner's progress is read (the tick decides later)."""
    return Plan(None, "", row.next_due_at, row.next_due_at, row.stage)


def decide(
    row: ClaimedRow,
    owner: Owner | None,
    catalog: Catalog,
    progress: Iterable[tuple[uuid.UUID, str, dict[str, Any]]],
    now: datetime,
) -> tuple[Plan, Outbound | None]:
    """What the tick does with a claimed plan row at ``now``, and the nudge if one is sent."""
    roadmap = catalog.roadmap(owner.roadmap_id, owner.country) if owner is not None else None
    if owner is None or roadmap is None or not owner.anchors:
        return Plan(None, "", row.next_due_at, None, 0, skipped="no plan"), None
    rows = {
        task_id: ProgressRecord(task_id=task_id, status=status, task_data=data, stored=True)
        for task_id, status, data in progress
    }
    today = now.astimezone(zone(row.timezone)).date()
    plan = moments(roadmap, owner.anchors, rows, row.timezone, today)
    following = next_after(plan, now)
    due = [m for m in plan if row.next_due_at <= m.at <= now]
    if not due:  # done since, or the plan moved: nothing to say now
        return Plan(None, "", row.next_due_at, following, 0), None
    latest = due[-1].at
    key = delivery_key(row, latest)
    if now - latest > GRACE:
        return Plan(None, key, latest, following, 0, skipped="past its grace window"), None
    now_due = [m for m in due if m.at == latest]
    anchor = now_due[0].entry.task.when.anchor if now_due[0].entry.task.when else "release"
    stage = first_open_stage(roadmap, rows)
    reachable = stage is None or (roadmap.stage_index(now_due[0].entry.task.stage_id) or 0) <= (
        roadmap.stage_index(stage.id) or 0
    )
    message = nudge(now_due, anchor, anchor_date(owner.anchors, anchor), openable=reachable)
    return Plan("plan", key, latest, following, 0), message


def _why(moment: Moment, anchor: str, day: date | None) -> str:
    offset = moment.entry.offset if moment.what == "due" else None
    when = moment.entry.task.when
    if moment.what == "opens" and when is not None and when.opens is not None:
        offset = when.opens
    assert offset is not None  # noqa: S101 - set above for both kinds
    name = anchor.replace("_", " ")
    on = f" on {show_date(day)}" if day is not None else ""
    if offset == 0:
        return f"it's your {name} day"
    side = "before" if offset < 0 else "after"
    n = abs(offset)
    return f"{n} day{'s' if n != 1 else ''} {side} your {name}{on} ({t_label(offset)})"


def nudge(due: list[Moment], anchor: str, day: date | None, *, openable: bool) -> Outbound:
    """The nudge naming each task due (or opening) today and why today. ``openable``: its
    first task can be opened directly (its stage is reached); else the button is ``/today``."""
    lines = []
    for moment in due:
        title = bold(esc(moment.entry.task.title))
        verb = "is due today" if moment.what == "due" else "opens today"
        lines.append(f"📌 {title} {verb}: {esc(_why(moment, anchor, day))}.")
    lines.append(italic("Open it now, or see the whole plan."))
    first = due[0].entry.task
    return Message(
        text="\n".join(lines),
        buttons=(
            (
                open_button(first, "▶ Open")
                if openable
                else Button(label="▶ Open", payload=RUN_COMMAND.encode("today")),
                Button(label="🗓️ Plan", payload=RUN_COMMAND.encode("plan")),
            ),
        ),
    )
