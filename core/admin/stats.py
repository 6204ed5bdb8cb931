"""``/admin stats``: how many musicians, how active, where they stand — as text and a chart.

The funnel counts solo and band profiles by their current stage of each live roadmap (a
profile that finished its roadmap has no current stage and is counted as "done"). The chart is
drawn with matplotlib's object-oriented API like ``/stats``' (a ``Figure`` with its own Agg
canvas, never ``pyplot`` and its global figure list), in a worker thread so the event loop never
waits on it.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import bindparam, func, select, text, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter

from core.db.models import COMPLETIONS, NUDGE_ROWS
from core.db.tables import (
    bands as _bands,
)
from core.db.tables import (
    deliveries as _deliveries,
)
from core.db.tables import (
    events as _events,
)
from core.db.tables import (
    profiles as _profiles,
)
from core.db.tables import (
    roadmaps as _roadmaps,
)
from core.db.tables import (
    stages as _stages,
)
from core.db.tables import (
    users as _users,
)


@dataclass(frozen=True, slots=True)
class FunnelRow:
    """Profiles at one stage of one roadmap (``stage`` is ``None`` for "finished")."""

    roadmap: str
    stage: str | None
    position: int
    profiles: int


@dataclass(frozen=True, slots=True)
class Stats:
    """The figures of ``/admin stats``."""

    musicians: int
    bands: int
    active_7d: int
    active_30d: int
    tasks_completed_7d: int
    stages_completed_7d: int
    reminders_sent_7d: int
    reminders_failed_7d: int
    funnel: tuple[FunnelRow, ...]
    #: People per tracking tag (``/start src-<tag>``), most first, at most :data:`TOP_TAGS`.
    tags: tuple[tuple[str, int], ...] = ()


_WEEK: BindParameter[datetime] = bindparam("week")
_MONTH: BindParameter[datetime] = bindparam("month")

#: Every user, counted once with the active ones (``ix_users_last_active_at`` holds the column:
#: the count reads that index alone where the table's pages are all visible).
_PEOPLE = (
    select(
        func.count().label("musicians"),
        func.count().filter(_users.c.last_active_at >= _WEEK).label("active_7d"),
        func.count().filter(_users.c.last_active_at >= _MONTH).label("active_30d"),
    )
    .select_from(_users)
    .subquery("people")
)
_BANDS = select(func.count().label("bands")).select_from(_bands).subquery("band_count")
#: The week's completions by ``ix_events_completions`` (its predicate, a literal, and its type).
_DONE = (
    select(
        func.count().filter(_events.c.type == "task.completed").label("tasks"),
        func.count().filter(_events.c.type == "stage.completed").label("stages"),
    )
    .select_from(_events)
    .where(text(COMPLETIONS), _events.c.created_at >= _WEEK)
    .subquery("done")
)
#: The week's nudges of every kind (no broadcasts) by ``ix_deliveries_nudges_created_at``.
_NUDGES = (
    select(
        func.count().filter(_deliveries.c.status == "sent").label("sent"),
        func.count().filter(_deliveries.c.status == "failed").label("failed"),
    )
    .select_from(_deliveries)
    .where(text(NUDGE_ROWS), _deliveries.c.created_at >= _WEEK)
    .subquery("nudges")
)
#: The figures in one statement: four one-row aggregates side by side.
FIGURES: Final = (
    select(
        _PEOPLE.c.musicians,
        _BANDS.c.bands,
        _PEOPLE.c.active_7d,
        _PEOPLE.c.active_30d,
        _DONE.c.tasks,
        _DONE.c.stages,
        _NUDGES.c.sent,
        _NUDGES.c.failed,
    )
    .select_from(_PEOPLE)
    .join(_BANDS, true())
    .join(_DONE, true())
    .join(_NUDGES, true())
)
#: Profiles per roadmap and current stage, counted on ``ix_profiles_roadmap_stage`` (roadmap,
#: stage) alone before the names are joined to the few groups: joining every profile to its
#: roadmap and stage first, then grouping, was most of the figures' time at 100 000 musicians.
_PER_STAGE = (
    select(
        _profiles.c.roadmap_id,
        _profiles.c.current_stage_id,
        func.count().label("profiles"),
    )
    .where(_profiles.c.roadmap_id.is_not(None))
    .group_by(_profiles.c.roadmap_id, _profiles.c.current_stage_id)
    .subquery("per_stage")
)
#: The funnel: live roadmaps only.
FUNNEL: Final = (
    select(
        _roadmaps.c.name,
        _roadmaps.c.position.label("rpos"),
        _stages.c.title,
        _stages.c.position,
        _PER_STAGE.c.profiles,
    )
    .select_from(_PER_STAGE)
    .join(_roadmaps, _roadmaps.c.id == _PER_STAGE.c.roadmap_id)
    .outerjoin(_stages, _stages.c.id == _PER_STAGE.c.current_stage_id)
    .where(_roadmaps.c.archived.is_(False))
)


#: How many tracking tags ``/admin stats`` lists.
TOP_TAGS: Final = 10
#: People per tracking tag, on the partial ``ix_users_start_tag`` alone (only the tagged users
#: are in it, so the count reads no more than they are).
TAGS: Final = (
    select(_users.c.start_tag, func.count().label("people"))
    .where(_users.c.start_tag.is_not(None))
    .group_by(_users.c.start_tag)
    .order_by(func.count().desc(), _users.c.start_tag)
    .limit(TOP_TAGS)
)


async def collect(session: AsyncSession, now: datetime) -> Stats:
    """Read every figure: :data:`FIGURES`, :data:`FUNNEL` and :data:`TAGS`, three statements."""
    week, month = now - timedelta(days=7), now - timedelta(days=30)
    figures = (await session.execute(FIGURES, {"week": week, "month": month})).one()
    counts: dict[tuple[str, str | None, int], int] = {}
    for r in (await session.execute(FUNNEL)).all():
        key = (r.name, r.title, r.position if r.position is not None else 10_000)
        counts[key] = counts.get(key, 0) + int(r.profiles)  # stages alike by name count as one
    funnel = sorted(
        (FunnelRow(name, title, position, n) for (name, title, position), n in counts.items()),
        key=lambda f: (f.roadmap, f.position),
    )
    return Stats(
        musicians=int(figures.musicians),
        bands=int(figures.bands),
        active_7d=int(figures.active_7d),
        active_30d=int(figures.active_30d),
        tasks_completed_7d=int(figures.tasks),
        stages_completed_7d=int(figures.stages),
        reminders_sent_7d=int(figures.sent),
        reminders_failed_7d=int(figures.failed),
        funnel=tuple(funnel),
        tags=tuple((str(tag), int(n)) for tag, n in (await session.execute(TAGS)).all()),
    )


def render_funnel_chart(funnel: tuple[FunnelRow, ...]) -> bytes | None:
    """A horizontal bar chart of the funnel as PNG bytes, or ``None`` when nobody has a roadmap.

    Blocking (matplotlib): call it through :func:`funnel_chart`.
    """
    if not funnel:
        return None
    # lazy: only /admin stats pays the import
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    labels = [f"{f.roadmap} · {f.stage or 'finished'}"[:48] for f in funnel]
    values = [f.profiles for f in funnel]
    fig = Figure(figsize=(7, 0.45 * len(funnel) + 1.2))
    FigureCanvasAgg(fig)  # the figure's own canvas: no pyplot, no global registry
    ax = fig.subplots()
    try:
        bars = ax.barh(range(len(values)), values, color="#6d28d9")
        ax.set_yticks(range(len(values)), labels, fontsize=8)
        ax.invert_yaxis()  # first stage on top, like a funnel
        ax.bar_label(bars, fontsize=8, padding=2)
        ax.set_title("Musicians by stage", loc="left", fontsize=11)
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()
    finally:
        fig.clear()


async def funnel_chart(funnel: tuple[FunnelRow, ...]) -> bytes | None:
    """:func:`render_funnel_chart` in a worker thread."""
    return await asyncio.to_thread(render_funnel_chart, funnel)
