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

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

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


async def _count(session: AsyncSession, stmt: object) -> int:
    return int((await session.execute(stmt)).scalar_one())  # type: ignore[call-overload]


async def collect(session: AsyncSession, now: datetime) -> Stats:
    """Read every figure (a handful of aggregate queries)."""
    week, month = now - timedelta(days=7), now - timedelta(days=30)

    def active(since: datetime) -> object:
        return select(func.count()).select_from(_users).where(_users.c.last_active_at >= since)

    def events(kind: str) -> object:
        return (
            select(func.count())
            .select_from(_events)
            .where(_events.c.type == kind, _events.c.created_at >= week)
        )

    def reminders(status: str) -> object:
        return (
            select(func.count())
            .select_from(_deliveries)
            .where(
                _deliveries.c.reminder_id.is_not(None),  # nudges of every kind, no broadcasts
                _deliveries.c.status == status,
                _deliveries.c.created_at >= week,
            )
        )

    rows = (
        await session.execute(
            select(
                _roadmaps.c.name,
                _roadmaps.c.position.label("rpos"),
                _stages.c.title,
                _stages.c.position,
                func.count(_profiles.c.id),
            )
            .select_from(_profiles)
            .join(_roadmaps, _roadmaps.c.id == _profiles.c.roadmap_id)
            .outerjoin(_stages, _stages.c.id == _profiles.c.current_stage_id)
            .where(_roadmaps.c.archived.is_(False))
            .group_by(_roadmaps.c.name, _roadmaps.c.position, _stages.c.title, _stages.c.position)
        )
    ).all()
    funnel = sorted(
        (
            FunnelRow(r.name, r.title, r.position if r.position is not None else 10_000, r[4])
            for r in rows
        ),
        key=lambda f: (f.roadmap, f.position),
    )
    return Stats(
        musicians=await _count(session, select(func.count()).select_from(_users)),
        bands=await _count(session, select(func.count()).select_from(_bands)),
        active_7d=await _count(session, active(week)),
        active_30d=await _count(session, active(month)),
        tasks_completed_7d=await _count(session, events("task.completed")),
        stages_completed_7d=await _count(session, events("stage.completed")),
        reminders_sent_7d=await _count(session, reminders("sent")),
        reminders_failed_7d=await _count(session, reminders("failed")),
        funnel=tuple(funnel),
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
