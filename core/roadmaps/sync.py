"""Sync validated roadmaps into the ``roadmaps``, ``roadmap_stages`` and ``tasks`` tables.

Rows are matched by stable slugs (roadmap slug; stage slug within its roadmap; task slug, unique
across all roadmaps), never by position, so editing a title, reordering or moving a task to another
stage updates the row in place: its id, and every ``user_task_progress`` row pointing at it, stay.
Content that disappears is archived, never deleted, and is un-archived when it comes back.

Each roadmap row stores a ``content_hash``; a roadmap whose hash is unchanged (and that is not
archived) is skipped without reading its stages or tasks, so a sync at every start-up is cheap.

The service takes a session and never commits: the caller owns the transaction.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import models
from core.db.base import Base, new_id, utcnow
from core.db.executor import SQLAlchemyExecutor
from core.errors import RoadmapContentError
from core.knowledge import index
from core.roadmaps.schema import Roadmap, Task

logger = logging.getLogger(__name__)

#: Bump when the way content maps to rows changes (e.g. the ``config`` format), so the next sync
#: rewrites every roadmap even though the YAML did not change.
SYNC_FORMAT = 1


@dataclass
class KindCounts:
    """What a sync did to the rows of one table."""

    created: int = 0
    updated: int = 0
    archived: int = 0
    unchanged: int = 0

    @property
    def current(self) -> int:
        """How many rows the synced content has (archived rows are not content any more)."""
        return self.created + self.updated + self.unchanged

    def describe(self, noun: str) -> str:
        """``"3 roadmaps: 1 created, 2 unchanged"``; zero counts are left out."""
        parts = [
            f"{count} {label}"
            for label, count in (
                ("created", self.created),
                ("updated", self.updated),
                ("archived", self.archived),
                ("unchanged", self.unchanged),
            )
            if count
        ]
        head = f"{self.current} {noun if self.current == 1 else noun + 's'}"
        return f"{head}: {', '.join(parts)}" if parts else head


@dataclass
class SyncReport:
    """Counts per kind of row; un-archiving a row counts as an update."""

    roadmaps: KindCounts = field(default_factory=KindCounts)
    stages: KindCounts = field(default_factory=KindCounts)
    tasks: KindCounts = field(default_factory=KindCounts)

    @property
    def changed(self) -> bool:
        """True when the sync wrote anything."""
        return any(
            kind.created or kind.updated or kind.archived
            for kind in (self.roadmaps, self.stages, self.tasks)
        )

    def summary(self) -> str:
        """One line for the CLI and the log."""
        return "; ".join(
            (
                self.roadmaps.describe("roadmap"),
                self.stages.describe("stage"),
                self.tasks.describe("task"),
            )
        )


def content_hash(roadmap: Roadmap) -> str:
    """sha256 of the roadmap's canonical JSON (sorted keys, no spaces) and ``SYNC_FORMAT``."""
    payload = {"sync_format": SYNC_FORMAT, "roadmap": roadmap.model_dump(mode="json")}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def task_config(task: Task, cycle: str | None = None) -> dict[str, Any]:
    """The ``tasks.config`` JSON other code reads: checklist items or the input spec, and the
    coaching marks (``key``, ``when``, ``only_if``, ``variant_of``, and ``cycle``: the name of
    the repeating cycle the task's stage belongs to) where the content sets them.

    The cycle is kept on each task rather than on the stage row so that the catalog, which
    reads tasks with their config anyway, learns it without a column or a query more."""
    marks: dict[str, Any] = {}
    if task.key:
        marks["key"] = True
    if task.only_if is not None:
        marks["only_if"] = task.only_if.model_dump(mode="json", exclude_none=True)
    if task.variant_of is not None:
        marks["variant_of"] = task.variant_of
    if task.once:
        marks["once"] = True
    if cycle is not None:
        marks["cycle"] = cycle
    if task.when is not None:
        marks["when"] = task.when.model_dump(mode="json", exclude_defaults=True)
    if task.type == "checklist":
        items = [{"key": item.key, "text": item.text} for item in task.items or ()]
        return {"items": items, **marks}
    if task.input is None:  # the schema forbids it; keep mypy and a hand-built model honest
        raise RoadmapContentError([f"data_input task {task.slug!r} has no input"])
    return {"input": task.input.model_dump(mode="json", exclude_defaults=True), **marks}


async def sync_roadmaps(session: AsyncSession, roadmaps: Sequence[Roadmap]) -> SyncReport:
    """Upsert ``roadmaps`` by slug, archive what is gone, and report what changed.

    Idempotent: a second run with the same content writes nothing and reports everything as
    unchanged. Never commits.

    Raises:
        RoadmapContentError: two roadmaps share a slug, or two tasks share a slug (the loader
            reports these too; this guards hand-built lists).
    """
    _check_unique(roadmaps)
    report = SyncReport()
    hashes = {roadmap.slug: content_hash(roadmap) for roadmap in roadmaps}

    existing = {row.slug: row for row in (await session.scalars(select(models.Roadmap))).all()}
    dirty: list[tuple[Roadmap, models.Roadmap]] = []
    for roadmap in roadmaps:
        row = existing.get(roadmap.slug)
        if row is not None and row.content_hash == hashes[roadmap.slug] and not row.archived:
            report.roadmaps.unchanged += 1
            report.stages.unchanged += len(roadmap.stages)
            report.tasks.unchanged += len(roadmap.iter_tasks())
            continue
        values = _roadmap_values(roadmap, hashes[roadmap.slug])
        if row is None:
            row = models.Roadmap(id=new_id(), slug=roadmap.slug, updated_at=utcnow(), **values)
            session.add(row)
            report.roadmaps.created += 1
        else:
            _assign(row, values)
            row.updated_at = utcnow()
            report.roadmaps.updated += 1
        dirty.append((roadmap, row))

    gone = [row for slug, row in existing.items() if slug not in hashes]
    for row in gone:
        if not row.archived:
            row.archived = True
            row.updated_at = utcnow()
            report.roadmaps.archived += 1

    scope = [row.id for _roadmap, row in dirty] + [row.id for row in gone]
    if not scope:
        await refresh_search_index(session, force=False)
        logger.info("roadmap sync: %s", report.summary())
        return report
    await session.flush()

    stage_ids = await _sync_stages(session, dirty, scope, report)
    await session.flush()
    await _sync_tasks(
        session, roadmaps=roadmaps, dirty=dirty, scope=scope, stage_ids=stage_ids, report=report
    )
    await session.flush()
    await refresh_search_index(session, force=report.changed)
    logger.info("roadmap sync: %s", report.summary())
    return report


def _live_tasks() -> Any:
    """The tasks a musician can meet: not archived, in a live stage of a live roadmap."""
    return (
        select(
            models.Task.id,
            models.Task.roadmap_id,
            models.Task.slug,
            models.Task.title,
            models.Task.description,
            models.Task.config,
        )
        .join(models.RoadmapStage, models.RoadmapStage.id == models.Task.stage_id)
        .join(models.Roadmap, models.Roadmap.id == models.Task.roadmap_id)
        .where(
            models.Task.archived.is_(False),
            models.RoadmapStage.archived.is_(False),
            models.Roadmap.archived.is_(False),
        )
    )


def search_parts(config: dict[str, Any]) -> list[str]:
    """The words of a task's ``config`` worth searching: its checklist items, or its
    question, help and choices."""
    items = [str(item.get("text", "")) for item in config.get("items") or ()]
    spec = config.get("input") or {}
    asked = [spec.get("question"), spec.get("help"), *(spec.get("choices") or ())]
    return items + [str(part) for part in asked if part]


async def refresh_search_index(session: AsyncSession, *, force: bool) -> bool:
    """Rebuild the question search's index (:mod:`core.knowledge.index`) from the live tasks
    when the content changed (``force``) or the index doesn't hold one row per live task (a
    database migrated since the last change, an interrupted rebuild). Returns whether it did.

    A whole rebuild, not a per-task update: a hundred or so tasks take milliseconds, and a
    full rebuild can't leave a task of an archived roadmap behind.
    """
    ex = SQLAlchemyExecutor(await session.connection())
    live = _live_tasks().subquery()
    count = int(await session.scalar(select(func.count()).select_from(live)) or 0)
    if not force and await index.size(ex) == count:
        return False
    rows = (await session.execute(_live_tasks().order_by(models.Task.slug))).all()
    documents = [
        index.Document(
            task_id=task_id,
            roadmap_id=roadmap_id,
            slug=slug,
            title=title,
            body=index.body_of(description, search_parts(config or {})),
        )
        for task_id, roadmap_id, slug, title, description, config in rows
    ]
    await index.rebuild(ex, documents)
    logger.info("search index rebuilt: %d tasks", len(documents))
    return True


async def _sync_stages(
    session: AsyncSession,
    dirty: Sequence[tuple[Roadmap, models.Roadmap]],
    scope: Sequence[uuid.UUID],
    report: SyncReport,
) -> dict[tuple[uuid.UUID, str], uuid.UUID]:
    """Upsert the stages of changed roadmaps, archive the rest of ``scope``'s stages.

    Returns:
        ``(roadmap id, stage slug) -> stage id`` for every stage of the changed roadmaps.
    """
    rows = (
        await session.scalars(
            select(models.RoadmapStage).where(models.RoadmapStage.roadmap_id.in_(scope))
        )
    ).all()
    by_key = {(row.roadmap_id, row.slug): row for row in rows}
    live: dict[tuple[uuid.UUID, str], uuid.UUID] = {}
    for roadmap, roadmap_row in dirty:
        for position, stage in enumerate(roadmap.stages):
            key = (roadmap_row.id, stage.slug)
            values: dict[str, Any] = {
                "title": stage.title,
                "intro": stage.intro,
                "position": position,
                "archived": False,
            }
            row = by_key.get(key)
            if row is None:
                row = models.RoadmapStage(
                    id=new_id(), roadmap_id=roadmap_row.id, slug=stage.slug, **values
                )
                session.add(row)
                report.stages.created += 1
            elif _assign(row, values):
                report.stages.updated += 1
            else:
                report.stages.unchanged += 1
            live[key] = row.id
    for key, row in by_key.items():
        if key not in live and not row.archived:
            row.archived = True
            report.stages.archived += 1
    return live


async def _sync_tasks(
    session: AsyncSession,
    *,
    roadmaps: Sequence[Roadmap],
    dirty: Sequence[tuple[Roadmap, models.Roadmap]],
    scope: Sequence[uuid.UUID],
    stage_ids: dict[tuple[uuid.UUID, str], uuid.UUID],
    report: SyncReport,
) -> None:
    """Upsert the tasks of changed roadmaps by slug; archive ``scope``'s tasks that are gone.

    Tasks are looked up by slug as well as by roadmap, so a task moved here from another roadmap
    keeps its row.
    """
    wanted = [task.slug for roadmap, _row in dirty for _stage, task in roadmap.iter_tasks()]
    query = select(models.Task).where(
        or_(models.Task.roadmap_id.in_(scope), models.Task.slug.in_(wanted))
    )
    by_slug = {row.slug: row for row in (await session.scalars(query)).all()}

    for roadmap, roadmap_row in dirty:
        for stage in roadmap.stages:
            stage_id = stage_ids[(roadmap_row.id, stage.slug)]
            for position, task in enumerate(stage.tasks):
                values: dict[str, Any] = {
                    "stage_id": stage_id,
                    "roadmap_id": roadmap_row.id,
                    "title": task.title,
                    "description": task.description,
                    "task_type": task.type,
                    "position": position,
                    "optional": task.optional,
                    "config": task_config(task, stage.repeats),
                    "archived": False,
                }
                row = by_slug.get(task.slug)
                if row is None:
                    session.add(models.Task(id=new_id(), slug=task.slug, **values))
                    report.tasks.created += 1
                elif _assign(row, values):
                    report.tasks.updated += 1
                else:
                    report.tasks.unchanged += 1

    # Every task slug in the content, including unchanged roadmaps, is still live.
    live = {task.slug for roadmap in roadmaps for _stage, task in roadmap.iter_tasks()}
    for slug, row in by_slug.items():
        if slug not in live and not row.archived:
            row.archived = True
            report.tasks.archived += 1


def _roadmap_values(roadmap: Roadmap, digest: str) -> dict[str, Any]:
    return {
        "name": roadmap.name,
        "pitch": roadmap.pitch,
        "description": roadmap.description,
        "audience": roadmap.audience,
        "position": roadmap.position,
        "content_hash": digest,
        "archived": False,
    }


def _assign(row: Base, values: dict[str, Any]) -> bool:
    """Set the attributes that differ; True when any did."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _check_unique(roadmaps: Sequence[Roadmap]) -> None:
    problems: list[str] = []
    seen_roadmaps: set[str] = set()
    task_owner: dict[str, str] = {}
    for roadmap in roadmaps:
        if roadmap.slug in seen_roadmaps:
            problems.append(f"roadmap slug {roadmap.slug!r} is used twice")
        seen_roadmaps.add(roadmap.slug)
        for _stage, task in roadmap.iter_tasks():
            owner = task_owner.setdefault(task.slug, roadmap.slug)
            if owner != roadmap.slug:
                problems.append(
                    f"task slug {task.slug!r} is used by roadmaps {owner!r} and {roadmap.slug!r}"
                )
    if problems:
        raise RoadmapContentError(problems)
