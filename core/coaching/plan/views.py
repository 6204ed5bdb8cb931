"""``/plan`` and ``/plan ics``: the release plan as a timeline, and as a calendar file.

Both read one profile: its anchors come with the turn (``turn.rec.anchors``), its progress rows
in one indexed query (``user_task_progress`` by profile), the roadmap from the catalog snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.coaching.plan import ics
from core.coaching.plan.buttons import CALENDAR, SET_DATE
from core.coaching.plan.dates import Entry, anchor_task, entries, plan_anchor, t_label
from core.kernel.markup import bold, esc, italic
from core.kernel.turn import Turn
from core.kernel.types import Button, Document, Message, Outbound
from core.progress.timeline import anchor_date, show_date
from core.roadmaps.catalog import RoadmapInfo, TaskInfo

_MARKS = {"done": "✅", "skipped": "⏭️", "overdue": "⚠️", "next": "▶", "later": "◻"}
NO_PLAN = "Your roadmap has no dated plan. /today shows your next step."


def _when(day: date, today: date) -> str:
    days = (day - today).days
    if days == 0:
        return "today"
    if days > 0:
        return f"in {days} day{'s' if days != 1 else ''}"
    return f"{-days} day{'s' if days != -1 else ''} ago"


def _line(entry: Entry, today: date) -> str:
    mark = _MARKS[entry.standing]
    line = f"{mark} {show_date(entry.due)} · {t_label(entry.offset)} · {esc(entry.task.title)}"
    if entry.standing == "overdue":
        line += italic(f" — overdue by {_when(entry.due, today).removesuffix(' ago')}")
    elif entry.opens is not None and entry.opens > today and entry.standing == "later":
        line += italic(f" — opens {show_date(entry.opens)}")
    return line


def _anchor_name(anchor: str) -> str:
    return anchor.replace("_", " ")


def _set_button(task: TaskInfo | None, label: str) -> tuple[Button, ...]:
    return () if task is None else (Button(label=label, payload=SET_DATE.encode(task.slug)),)


def _unset(roadmap: RoadmapInfo, anchor: str, asks: TaskInfo | None) -> list[Outbound]:
    timed = sum(1 for stage in roadmap.stages for task in stage.tasks if task.when is not None)
    how = (
        "Tap below to set it."
        if asks is not None
        else "It is asked on your roadmap; /today brings you there."
    )
    button = _set_button(asks, f"📅 Set your {_anchor_name(anchor)} date")
    return [
        Message(
            text=f"🗓️ {bold('Your plan')}\nYour {timed} dated tasks are counted from your "
            f"{_anchor_name(anchor)} date, which isn't set yet. {how}",
            buttons=(button,) if button else (),
        )
    ]


@dataclass(frozen=True, slots=True)
class _Dated:
    """A roadmap whose plan has its anchor date set, with the plan's entries."""

    roadmap: RoadmapInfo
    anchor: str
    day: date
    plan: list[Entry]


async def _dated(turn: Turn) -> _Dated | list[Outbound]:
    """The musician's dated plan, or the reply that says why there is none yet (no roadmap,
    a roadmap without dates, or its anchor date not set)."""
    roadmap = turn.roadmap
    if roadmap is None:
        return [Message(text="Pick a roadmap first — /roadmap — and I'll plan it with you.")]
    anchor = plan_anchor(roadmap)
    if anchor is None:
        return [Message(text=NO_PLAN)]
    day = anchor_date(turn.rec.anchors, anchor)
    if day is None:
        return _unset(roadmap, anchor, anchor_task(roadmap, anchor))
    rows = await turn.roadmap_progress(roadmap)
    return _Dated(roadmap, anchor, day, entries(roadmap, turn.rec.anchors, rows, turn.today))


async def plan_card(turn: Turn) -> list[Outbound]:
    """The timeline: the anchor date on top, each timed task with its date and standing."""
    dated = await _dated(turn)
    if not isinstance(dated, _Dated):
        return dated
    anchor, day, plan, today = dated.anchor, dated.day, dated.plan, turn.today
    title = f"{_anchor_name(anchor).capitalize()}: {show_date(day)}"
    lines = [f"🚀 {bold(title)} — {_when(day, today)}", ""]
    lines += [_line(entry, today) for entry in plan] or [italic("No dated tasks.")]
    overdue = sum(1 for entry in plan if entry.standing == "overdue")
    if overdue:
        lines += ["", f"⚠️ {overdue} overdue — /today starts with what matters most."]
    lines += ["", italic("/plan ics sends it to your calendar.")]
    buttons = (
        *_set_button(
            anchor_task(dated.roadmap, anchor), f"📅 Change the {_anchor_name(anchor)} date"
        ),
        Button(label="🗓️ Calendar file", payload=CALENDAR.encode()),
    )
    return [Message(text="\n".join(lines), buttons=(buttons,))]


async def calendar(turn: Turn) -> list[Outbound]:
    """``/plan ics``: the plan as a calendar file, or how to date it first."""
    dated = await _dated(turn)
    if not isinstance(dated, _Dated):
        return dated
    anchor, plan = dated.anchor, dated.plan
    data = ics.calendar_file(
        turn.rec.profile_id,
        anchor,
        dated.day,
        plan,
        turn.now,
        name=f"{dated.roadmap.name} — {_anchor_name(anchor)} plan",
    )
    return [
        Document(
            text=f"🗓️ Your {_anchor_name(anchor)} plan: {len(plan)} dates and the "
            f"{_anchor_name(anchor)} day. Open the file to add them to your calendar.",
            file=data,
            name=f"{anchor.replace('_', '-')}-plan.ics",
        )
    ]
