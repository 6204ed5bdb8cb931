"""An in-memory, read-only snapshot of the roadmap templates as synced into the database.

Templates change only on ``coach roadmaps sync`` / an admin reload, yet every event needs them, so
the engine reads them from this snapshot instead of querying three tables per event. The snapshot
is rebuilt after a reload in this process and at most ``ttl`` seconds later in every other worker.
Per-musician state is never cached: it lives in the database only.

:func:`catalog_from` builds the same snapshot straight from the YAML's schema objects, with ids
derived from the slugs, for code that has no synced database (unit tests).
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.db import models
from core.db.engine import Database
from core.errors import CoachError, RoadmapContentError
from core.roadmaps.schema import ChecklistItem, Condition, InputSpec, Roadmap, Timing
from core.roadmaps.sync import task_config

#: The namespace of :func:`catalog_from`'s ids (uuid5 of a slug path in it).
CATALOG_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "stardom-coach:roadmaps")


@dataclass(frozen=True, slots=True)
class TaskInfo:
    """A task as the engine needs it."""

    id: uuid.UUID
    slug: str
    title: str
    description: str
    type: str
    optional: bool
    position: int
    stage_id: uuid.UUID
    roadmap_id: uuid.UUID
    archived: bool
    items: tuple[ChecklistItem, ...] = ()
    input: InputSpec | None = None
    #: A key task: skipped, it comes back when it matters (see ``Task.key``).
    key: bool = False
    #: When it is due relative to an anchor date (see ``Task.when``).
    when: Timing | None = None
    #: The earlier answer it depends on (see ``Task.only_if``) and that question's task id.
    only_if: Condition | None = None
    only_if_id: uuid.UUID | None = None
    #: The name of the repeating cycle its stage belongs to (see ``Stage.repeats``).
    cycle: str | None = None
    #: The general task this one is a country's version of (see ``Task.variant_of``).
    variant_of: str | None = None
    #: Done once, not every cycle (see ``Task.once``).
    once: bool = False

    @property
    def countries(self) -> tuple[str, ...] | None:
        """The countries the task is for (``None``: every country)."""
        return self.only_if.country if self.only_if is not None else None

    @property
    def is_checklist(self) -> bool:
        """True for checklist tasks, False for data inputs."""
        return self.type == "checklist"

    @property
    def spec(self) -> InputSpec:
        """The input spec of a data-input task (a checklist has none: that is a caller's bug)."""
        if self.input is None:
            raise CoachError(f"task {self.slug} is a checklist, not a data input")
        return self.input

    def item_index(self, key: str) -> int | None:
        """The 0-based index of a checklist item by key."""
        for i, item in enumerate(self.items):
            if item.key == key:
                return i
        return None


@dataclass(frozen=True, slots=True)
class StageInfo:
    """A stage with its live (non-archived) tasks in order."""

    id: uuid.UUID
    slug: str
    title: str
    intro: str
    position: int
    tasks: tuple[TaskInfo, ...]
    #: Ids of the questions outside this stage that its conditional tasks depend on: their
    #: rows are read with the stage's (:meth:`core.kernel.turn.Turn.stage_progress`).
    depends_on: frozenset[uuid.UUID] = frozenset()

    @property
    def required(self) -> tuple[TaskInfo, ...]:
        """The tasks that must be completed or skipped for the stage to be done."""
        return tuple(t for t in self.tasks if not t.optional)

    @property
    def repeats(self) -> str | None:
        """The name of the repeating cycle this stage belongs to, if any."""
        return self.tasks[0].cycle if self.tasks else None


@dataclass(frozen=True, slots=True)
class RoadmapInfo:
    """A roadmap with its live stages in order."""

    id: uuid.UUID
    slug: str
    name: str
    pitch: str
    description: str
    audience: str
    stages: tuple[StageInfo, ...]

    def stage_index(self, stage_id: uuid.UUID | None) -> int | None:
        """Position of a stage in this roadmap, or ``None`` when it is not one of ours."""
        for i, stage in enumerate(self.stages):
            if stage.id == stage_id:
                return i
        return None

    @property
    def task_count(self) -> int:
        """How many live tasks the roadmap has."""
        return sum(len(s.tasks) for s in self.stages)

    @property
    def cycle(self) -> str | None:
        """The name of the roadmap's repeating cycle ("release"), if it has one."""
        return next((s.repeats for s in self.stages if s.repeats), None)

    @property
    def cycle_stages(self) -> tuple[StageInfo, ...]:
        """The stages of the repeating cycle, in order (empty: the roadmap has none)."""
        return tuple(s for s in self.stages if s.repeats)


@dataclass(frozen=True, slots=True)
class MetricInfo:
    """A metric as the content declares it, over every roadmap that asks for it.

    ``spec`` is the input spec of the first live task (in roadmap order) that feeds the metric:
    its unit, type, references, cadence and direction speak for the metric. ``aliases`` are
    every alias any task gives it, casefolded, plus its own name with spaces.
    """

    name: str
    spec: InputSpec
    task_slugs: tuple[str, ...]
    aliases: frozenset[str]

    @property
    def tracked(self) -> bool:
        """Whether the metric is checked in on a cadence."""
        return self.spec.track is not None


@dataclass(frozen=True)
class Catalog:
    """Every live roadmap, and every task (archived ones too, to explain stale buttons)."""

    roadmaps: tuple[RoadmapInfo, ...]
    tasks_by_slug: dict[str, TaskInfo] = field(default_factory=dict)
    tasks_by_id: dict[uuid.UUID, TaskInfo] = field(default_factory=dict)
    #: Rendered cards keyed by content and state; it lives and dies with this snapshot.
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def roadmap(
        self, roadmap_id: uuid.UUID | None, country: str | None = None
    ) -> RoadmapInfo | None:
        """A live roadmap by id, as a profile of ``country`` sees it (:func:`country_view`:
        ``None``, not known, sees the general tasks only)."""
        for r in self.roadmaps:
            if r.id == roadmap_id:
                return self.country_view(r, country)
        return None

    def country_view(self, roadmap: RoadmapInfo, country: str | None) -> RoadmapInfo:
        """``roadmap`` without the tasks that are not for ``country``: another country's
        tasks, and a general task whose variant for this country replaces it. Built once per
        snapshot for each country the content names (every other country, and ``None``, see
        the same general view).

        Why a view and not a condition read with the progress rows: the country is the
        profile's, not an answer, so every stage walk (``/today``, ``/progress``, stage
        completion, the plan, reminders, reviews) sees the tasks that are for this musician
        without knowing countries exist.
        """
        named = self._countries(roadmap)
        key = ("country view", roadmap.id, country if country in named else None)
        view = self.memo.get(key)
        if view is None:
            view = self.memo[key] = _country_view(roadmap, key[2])
        return view

    def _countries(self, roadmap: RoadmapInfo) -> frozenset[str]:
        key = ("countries", roadmap.id)
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = frozenset(
                code
                for stage in roadmap.stages
                for task in stage.tasks
                for code in task.countries or ()
            )
        return found

    def depends_on_country(self, task: TaskInfo) -> bool:
        """Whether what this task says depends on the musician's country: it is a country's
        task, or a general one with countries' variants (then the country is asked first)."""
        if task.countries is not None:
            return True
        key = ("variants", task.roadmap_id)
        bases = self.memo.get(key)
        if bases is None:
            bases = self.memo[key] = frozenset(
                t.variant_of
                for t in self.tasks_by_id.values()
                if t.variant_of is not None and t.roadmap_id == task.roadmap_id and not t.archived
            )
        return task.slug in bases

    def roadmap_by_slug(self, slug: str) -> RoadmapInfo | None:
        """A live roadmap by slug."""
        for r in self.roadmaps:
            if r.slug == slug:
                return r
        return None

    @property
    def metrics(self) -> dict[str, MetricInfo]:
        """Every metric the live content feeds, by name (built once per snapshot)."""
        cached = self.memo.get(_METRICS)
        if cached is None:
            cached = self.memo[_METRICS] = _metric_index(self.roadmaps)
        return cached

    def metric_named(self, words: str) -> MetricInfo | None:
        """The metric a musician means by ``words`` ("listeners", "monthly_listeners")."""
        wanted = " ".join(words.casefold().replace("_", " ").split())
        for info in self.metrics.values():
            if wanted in info.aliases:
                return info
        return None


_METRICS = ("catalog", "metrics")


def _country_view(roadmap: RoadmapInfo, country: str | None) -> RoadmapInfo:
    """The roadmap as a profile of ``country`` sees it (see :meth:`Catalog.country_view`)."""
    stages: list[StageInfo] = []
    changed = False
    for stage in roadmap.stages:
        mine = [t for t in stage.tasks if t.only_if is None or t.only_if.for_country(country)]
        replaced = {t.variant_of for t in mine if t.variant_of is not None}
        tasks = tuple(t for t in mine if t.slug not in replaced)
        if len(tasks) != len(stage.tasks):
            changed = True
            stages.append(dataclasses.replace(stage, tasks=tasks))
        else:
            stages.append(stage)
    return dataclasses.replace(roadmap, stages=tuple(stages)) if changed else roadmap


def _metric_index(roadmaps: Iterable[RoadmapInfo]) -> dict[str, MetricInfo]:
    specs: dict[str, InputSpec] = {}
    slugs: dict[str, list[str]] = {}
    aliases: dict[str, set[str]] = {}
    for roadmap in roadmaps:
        for stage in roadmap.stages:
            for task in stage.tasks:
                spec = task.input
                if spec is None or spec.metric is None:
                    continue
                name = spec.metric
                specs.setdefault(name, spec)
                slugs.setdefault(name, []).append(task.slug)
                words = aliases.setdefault(name, {name.replace("_", " ")})
                words.update(" ".join(a.casefold().split()) for a in spec.aliases)
    return {
        name: MetricInfo(name, specs[name], tuple(slugs[name]), frozenset(aliases[name]))
        for name in specs
    }


@dataclass(frozen=True, slots=True)
class _Content:
    items: tuple[ChecklistItem, ...]
    spec: InputSpec | None
    key: bool
    when: Timing | None
    only_if: Condition | None
    cycle: str | None
    variant_of: str | None
    once: bool


def _content(config: Mapping[str, Any]) -> _Content:
    """A task's checklist items, input spec and coaching marks from its stored ``config`` JSON."""
    items = tuple(ChecklistItem.model_validate(i) for i in config.get("items", ()))
    spec = InputSpec.model_validate(config["input"]) if "input" in config else None
    when = Timing.model_validate(config["when"]) if "when" in config else None
    only_if = Condition.model_validate(config["only_if"]) if "only_if" in config else None
    cycle = config.get("cycle")
    variant_of = config.get("variant_of")
    return _Content(
        items,
        spec,
        bool(config.get("key", False)),
        when,
        only_if,
        str(cycle) if cycle is not None else None,
        str(variant_of) if variant_of is not None else None,
        bool(config.get("once", False)),
    )


def _resolved(infos: Sequence[TaskInfo]) -> list[TaskInfo]:
    """The tasks with each condition's question named by id (a condition on a task that is
    gone is dropped: the task then simply applies; a country condition stays)."""
    by_slug = {t.slug: t for t in infos if not t.archived}
    out: list[TaskInfo] = []
    for info in infos:
        cond = info.only_if
        source = by_slug.get(cond.task) if cond is not None and cond.task is not None else None
        if cond is None or cond.task is None:
            out.append(info)
        elif source is None:
            kept = cond.model_copy(update={"task": None, "answer": None}) if cond.country else None
            out.append(dataclasses.replace(info, only_if=kept))
        else:
            out.append(dataclasses.replace(info, only_if_id=source.id))
    return out


def _with_depends(stage: StageInfo) -> StageInfo:
    """The stage with the outside questions its conditional tasks depend on."""
    own = {t.id for t in stage.tasks}
    outside = frozenset(
        t.only_if_id for t in stage.tasks if t.only_if_id is not None and t.only_if_id not in own
    )
    return dataclasses.replace(stage, depends_on=outside) if outside else stage


def _task_info(row: Any) -> TaskInfo:
    content = _content(row.config or {})
    return TaskInfo(
        id=row.id,
        slug=row.slug,
        title=row.title,
        description=row.description,
        type=row.task_type,
        optional=row.optional,
        position=row.position,
        stage_id=row.stage_id,
        roadmap_id=row.roadmap_id,
        archived=row.archived,
        items=content.items,
        input=content.spec,
        key=content.key,
        when=content.when,
        only_if=content.only_if,
        cycle=content.cycle,
        variant_of=content.variant_of,
        once=content.once,
    )


async def load_catalog(db: AsyncSession | AsyncConnection) -> Catalog:
    """Read every roadmap, stage and task in three queries and assemble the snapshot."""
    roadmap_t = models.Roadmap.__table__
    stage_t = models.RoadmapStage.__table__
    task_t = models.Task.__table__
    roadmaps = (
        await db.execute(
            select(roadmap_t)
            .where(roadmap_t.c.archived.is_(False))
            .order_by(roadmap_t.c.position, roadmap_t.c.slug)
        )
    ).all()
    stages = (
        await db.execute(
            select(stage_t).where(stage_t.c.archived.is_(False)).order_by(stage_t.c.position)
        )
    ).all()
    tasks = (await db.execute(select(task_t).order_by(task_t.c.position))).all()

    infos = _resolved([_task_info(t) for t in tasks])
    by_stage: dict[uuid.UUID, list[TaskInfo]] = {}
    for info in infos:
        if not info.archived:
            by_stage.setdefault(info.stage_id, []).append(info)
    stages_by_roadmap: dict[uuid.UUID, list[StageInfo]] = {}
    for s in stages:
        stage_tasks = tuple(by_stage.get(s.id, ()))
        if not stage_tasks:
            continue
        stages_by_roadmap.setdefault(s.roadmap_id, []).append(
            _with_depends(StageInfo(s.id, s.slug, s.title, s.intro, s.position, stage_tasks))
        )
    live = tuple(
        RoadmapInfo(
            r.id,
            r.slug,
            r.name,
            r.pitch,
            r.description,
            r.audience,
            tuple(stages_by_roadmap.get(r.id, ())),
        )
        for r in roadmaps
        if stages_by_roadmap.get(r.id)
    )
    return Catalog(
        roadmaps=live,
        tasks_by_slug={t.slug: t for t in infos},
        tasks_by_id={t.id: t for t in infos},
    )


def catalog_from(roadmaps: Iterable[Roadmap]) -> Catalog:
    """The snapshot :func:`load_catalog` would read after syncing ``roadmaps``, without a
    database: pure, and the same on every call.

    Ids are uuid5s of the slugs in :data:`CATALOG_NAMESPACE` (``roadmap:<slug>``,
    ``stage:<roadmap slug>/<stage slug>``, ``task:<slug>`` — task slugs are unique across
    roadmaps), so two builds agree and a test may name a task by its id. They are not the ids
    a database sync assigns. Everything else is as the sync stores it and the loader reads it
    back: positions by order in the file, roadmaps ordered by position then slug, and each
    task's items and input spec through the same ``config`` JSON (:func:`task_config`).
    """

    def ident(kind: str, path: str) -> uuid.UUID:
        return uuid.uuid5(CATALOG_NAMESPACE, f"{kind}:{path}")

    live: list[RoadmapInfo] = []
    infos: list[TaskInfo] = []
    roadmaps = list(roadmaps)  # read twice: the task ids first, for the conditions
    ids = {task.slug: ident("task", task.slug) for r in roadmaps for _s, task in r.iter_tasks()}
    for roadmap in sorted(roadmaps, key=lambda r: (r.position, r.slug)):
        roadmap_id = ident("roadmap", roadmap.slug)
        stages: list[StageInfo] = []
        for stage_position, stage in enumerate(roadmap.stages):
            stage_id = ident("stage", f"{roadmap.slug}/{stage.slug}")
            tasks: list[TaskInfo] = []
            for position, task in enumerate(stage.tasks):
                content = _content(task_config(task, stage.repeats))
                source = content.only_if.task if content.only_if else None
                tasks.append(
                    TaskInfo(
                        id=ident("task", task.slug),
                        slug=task.slug,
                        title=task.title,
                        description=task.description,
                        type=task.type,
                        optional=task.optional,
                        position=position,
                        stage_id=stage_id,
                        roadmap_id=roadmap_id,
                        archived=False,
                        items=content.items,
                        input=content.spec,
                        key=content.key,
                        when=content.when,
                        only_if=content.only_if,
                        only_if_id=ids.get(source) if source else None,
                        cycle=content.cycle,
                        variant_of=content.variant_of,
                        once=content.once,
                    )
                )
            infos.extend(tasks)
            stages.append(
                _with_depends(
                    StageInfo(
                        stage_id,
                        stage.slug,
                        stage.title,
                        stage.intro,
                        stage_position,
                        tuple(tasks),
                    )
                )
            )
        live.append(
            RoadmapInfo(
                roadmap_id,
                roadmap.slug,
                roadmap.name,
                roadmap.pitch,
                roadmap.description,
                roadmap.audience,
                tuple(stages),
            )
        )
    by_slug = {t.slug: t for t in infos}
    slugs = [r.slug for r in live]
    if len(by_slug) < len(infos) or len(set(slugs)) < len(slugs):  # a sync refuses them too
        raise RoadmapContentError(["a roadmap or task slug is used twice"])
    return Catalog(
        roadmaps=tuple(live),
        tasks_by_slug=by_slug,
        tasks_by_id={t.id: t for t in infos},
    )


class CatalogCache:
    """Holds the current snapshot; reloads it when invalidated or older than ``ttl`` seconds."""

    def __init__(self, ttl: float = 30.0) -> None:
        self.ttl = ttl
        self._catalog: Catalog | None = None
        self._loaded_at = 0.0

    def invalidate(self) -> None:
        """Forget the snapshot (after a sync in this process)."""
        self._catalog = None

    async def current(self, database: Database) -> Catalog:
        """The snapshot, reloading it in a short transaction of its own when missing or stale."""
        if self._catalog is not None and time.monotonic() - self._loaded_at <= self.ttl:
            return self._catalog
        async with database.transaction() as session:
            return await self.get(session)

    async def get(self, db: AsyncSession | AsyncConnection) -> Catalog:
        """The snapshot, loading it through ``db`` when missing or stale."""
        now = time.monotonic()
        if self._catalog is None or now - self._loaded_at > self.ttl:
            self._catalog = await load_catalog(db)
            self._loaded_at = now
        return self._catalog
