"""Syncing roadmaps into the database: idempotent, by slug, archiving instead of deleting.

Version 1 of the content is built here (``V1_ALPHA``, ``V1_BETA``); version 2 of "alpha" is
``tests/support/fixtures/roadmaps_v2/alpha.yaml`` (its header lists the changes). Runs on both
backends through the ``database`` fixture of ``tests/conftest.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from core.db.engine import Database
from core.db.models import Profile, RoadmapStage, Task, User, UserTaskProgress
from core.db.models import Roadmap as RoadmapRow
from core.errors import RoadmapContentError
from core.roadmaps.catalog import Catalog, TaskInfo, catalog_from, load_catalog
from core.roadmaps.loader import load_roadmaps
from core.roadmaps.schema import Roadmap
from core.roadmaps.sync import SyncReport, content_hash, sync_roadmaps

V2_DIR = Path(__file__).resolve().parents[1] / "support" / "fixtures" / "roadmaps_v2"

V1_ALPHA = """\
slug: alpha
name: Alpha
pitch: The first roadmap of the sync tests.
description: Two stages of small tasks.
audience: solo
position: 0
stages:
  - slug: basics
    title: Basics
    intro: Start here.
    tasks:
      - slug: alpha-bio
        title: Write a bio
        description: Two sentences about you.
        type: checklist
        items:
          - key: draft
            text: Draft it
          - key: publish
            text: Publish it
      - slug: alpha-photos
        title: Take photos
        description: Three photos in daylight.
        type: checklist
        optional: true
        items:
          - key: shoot
            text: Shoot them
      - slug: alpha-old
        title: Print flyers
        description: Nobody reads them any more.
        type: checklist
        items:
          - key: print
            text: Print them
  - slug: launch
    title: Launch
    intro: Now show the world.
    tasks:
      - slug: alpha-listeners
        title: Count your listeners
        description: Your monthly listeners.
        type: data_input
        input:
          type: integer
          question: How many monthly listeners do you have?
          unit: listeners
          min: 0
          metric: monthly_listeners
      - slug: alpha-release
        title: Release a single
        description: One song, out everywhere.
        type: checklist
        items:
          - key: master
            text: Master the song
          - key: upload
            text: Upload it
"""

V1_BETA = """\
slug: beta
name: Beta
pitch: The second roadmap of the sync tests.
description: One stage.
audience: band
position: 1
stages:
  - slug: start
    title: Start
    intro: Begin.
    tasks:
      - slug: beta-bio
        title: Write the band bio
        description: Who plays what.
        type: checklist
        items:
          - key: draft
            text: Draft it
      - slug: beta-budget
        title: Set a budget
        description: What the first tour may cost.
        type: data_input
        input:
          type: money
          question: How much can you spend?
          unit: EUR
          min: 0
          max: 1000.50
"""


def parse(text: str) -> Roadmap:
    return Roadmap.model_validate(yaml.safe_load(text))


def v1() -> list[Roadmap]:
    return [parse(V1_ALPHA), parse(V1_BETA)]


def v2() -> list[Roadmap]:
    """Alpha version 2 from the fixtures; beta unchanged."""
    return [*load_roadmaps(V2_DIR), parse(V1_BETA)]


async def sync(database: Database, content: Sequence[Roadmap]) -> SyncReport:
    async with database.transaction() as session:
        return await sync_roadmaps(session, content)


def counts(report: SyncReport) -> dict[str, tuple[int, int, int, int]]:
    """Per kind: (created, updated, archived, unchanged)."""
    return {
        kind: (c.created, c.updated, c.archived, c.unchanged)
        for kind, c in (
            ("roadmaps", report.roadmaps),
            ("stages", report.stages),
            ("tasks", report.tasks),
        )
    }


async def row_counts(database: Database) -> dict[str, int]:
    async with database.transaction() as session:
        return {
            model.__tablename__: await session.scalar(select(func.count()).select_from(model)) or 0
            for model in (RoadmapRow, RoadmapStage, Task, UserTaskProgress)
        }


async def tasks_by_slug(database: Database) -> dict[str, Task]:
    async with database.transaction() as session:
        return {t.slug: t for t in (await session.scalars(select(Task))).all()}


async def stages_by_slug(database: Database) -> dict[tuple[str, str], RoadmapStage]:
    """(roadmap slug, stage slug) -> stage row."""
    async with database.transaction() as session:
        rows = await session.execute(
            select(RoadmapRow.slug, RoadmapStage).join(
                RoadmapRow, RoadmapRow.id == RoadmapStage.roadmap_id
            )
        )
        return {(slug, stage.slug): stage for slug, stage in rows.tuples()}


async def roadmaps_by_slug(database: Database) -> dict[str, RoadmapRow]:
    async with database.transaction() as session:
        return {r.slug: r for r in (await session.scalars(select(RoadmapRow))).all()}


async def add_progress(database: Database, task_ids: Sequence[uuid.UUID]) -> uuid.UUID:
    """A user with a solo profile and an in-progress row for each task; returns the profile id."""
    async with database.transaction() as session:
        user = User(display_name="Robin")
        session.add(user)
        await session.flush()
        profile = Profile(user_id=user.id, artist_name="Robin Sings")
        session.add(profile)
        await session.flush()
        for task_id in task_ids:
            session.add(
                UserTaskProgress(
                    profile_id=profile.id,
                    task_id=task_id,
                    status="in_progress",
                    task_data={"ticked": ["draft"]},
                )
            )
        return profile.id


async def progress_rows(database: Database) -> dict[uuid.UUID, UserTaskProgress]:
    """task id -> progress row."""
    async with database.transaction() as session:
        return {p.task_id: p for p in (await session.scalars(select(UserTaskProgress))).all()}


# --- idempotency -----------------------------------------------------------------------------


async def test_sync_twice_is_idempotent(database: Database) -> None:
    first = await sync(database, v1())
    assert counts(first) == {
        "roadmaps": (2, 0, 0, 0),
        "stages": (3, 0, 0, 0),
        "tasks": (7, 0, 0, 0),
    }
    assert first.changed
    before = await row_counts(database)
    assert before == {"roadmaps": 2, "roadmap_stages": 3, "tasks": 7, "user_task_progress": 0}
    ids_before = {slug: t.id for slug, t in (await tasks_by_slug(database)).items()}

    second = await sync(database, v1())
    assert counts(second) == {
        "roadmaps": (0, 0, 0, 2),
        "stages": (0, 0, 0, 3),
        "tasks": (0, 0, 0, 7),
    }
    assert not second.changed
    assert (
        second.summary() == "2 roadmaps: 2 unchanged; 3 stages: 3 unchanged; 7 tasks: 7 unchanged"
    )
    assert await row_counts(database) == before
    assert {slug: t.id for slug, t in (await tasks_by_slug(database)).items()} == ids_before


async def test_bundled_roadmaps_sync_idempotently(database: Database) -> None:
    bundled = load_roadmaps()
    task_total = sum(len(r.iter_tasks()) for r in bundled)
    first = await sync(database, bundled)
    assert first.roadmaps.created == len(bundled)
    assert first.tasks.created == task_total
    before = await row_counts(database)
    assert before["tasks"] == task_total

    second = await sync(database, bundled)
    assert not second.changed
    assert second.tasks.unchanged == task_total
    assert await row_counts(database) == before


async def test_rows_mirror_the_content(database: Database) -> None:
    content = v1()
    await sync(database, content)
    roadmaps = await roadmaps_by_slug(database)
    stages = await stages_by_slug(database)
    tasks = await tasks_by_slug(database)

    alpha = roadmaps["alpha"]
    assert (alpha.name, alpha.audience, alpha.position, alpha.archived) == (
        "Alpha",
        "solo",
        0,
        False,
    )
    assert alpha.content_hash == content_hash(content[0])
    assert len(alpha.content_hash) == 64
    assert [stages["alpha", s].position for s in ("basics", "launch")] == [0, 1]
    assert stages["alpha", "launch"].intro == "Now show the world."

    bio = tasks["alpha-bio"]
    assert bio.task_type == "checklist"
    assert bio.config == {
        "items": [{"key": "draft", "text": "Draft it"}, {"key": "publish", "text": "Publish it"}]
    }
    assert (bio.roadmap_id, bio.stage_id, bio.position) == (
        alpha.id,
        stages["alpha", "basics"].id,
        0,
    )
    assert [tasks[s].position for s in ("alpha-bio", "alpha-photos", "alpha-old")] == [0, 1, 2]
    assert tasks["alpha-photos"].optional is True

    listeners = tasks["alpha-listeners"]
    assert listeners.task_type == "data_input"
    assert (listeners.stage_id, listeners.position) == (stages["alpha", "launch"].id, 0)
    assert listeners.config == {
        "input": {
            "type": "integer",
            "question": "How many monthly listeners do you have?",
            "unit": "listeners",
            "min": "0",
            "metric": "monthly_listeners",
        }
    }
    budget = tasks["beta-budget"]
    assert budget.roadmap_id == roadmaps["beta"].id
    assert budget.config["input"]["min"] == "0"
    assert budget.config["input"]["max"] == "1000.5"  # YAML reads 1000.50 as a float


# --- edits keep ids and progress ---------------------------------------------------------------


async def test_edit_and_move_keep_task_ids_and_progress(database: Database) -> None:
    await sync(database, v1())
    before = await tasks_by_slug(database)
    await add_progress(database, [before["alpha-bio"].id, before["alpha-photos"].id])

    report = await sync(database, v2())

    assert counts(report) == {
        "roadmaps": (0, 1, 0, 1),  # alpha changed, beta skipped by its hash
        "stages": (0, 1, 0, 2),  # launch: intro edited; basics and beta's stage unchanged
        # created: alpha-setlist; updated: alpha-bio (title), alpha-photos (moved),
        # alpha-listeners and alpha-release (shifted down); archived: alpha-old
        "tasks": (1, 4, 1, 2),
    }
    assert report.summary() == (
        "2 roadmaps: 1 updated, 1 unchanged; 3 stages: 1 updated, 2 unchanged; "
        "7 tasks: 1 created, 4 updated, 1 archived, 2 unchanged"
    )
    after = await tasks_by_slug(database)
    stages = await stages_by_slug(database)

    bio = after["alpha-bio"]
    assert bio.id == before["alpha-bio"].id
    assert bio.title == "Write a short bio"

    photos = after["alpha-photos"]
    assert photos.id == before["alpha-photos"].id
    assert photos.stage_id == stages["alpha", "launch"].id != before["alpha-photos"].stage_id
    assert photos.position == 0
    assert [after[s].position for s in ("alpha-listeners", "alpha-release")] == [1, 2]
    assert after["alpha-setlist"].stage_id == stages["alpha", "basics"].id
    assert stages["alpha", "launch"].intro == "Now show the world, one step at a time."

    progress = await progress_rows(database)
    assert set(progress) == {bio.id, photos.id}
    assert all(p.status == "in_progress" for p in progress.values())
    assert progress[photos.id].task_data == {"ticked": ["draft"]}

    again = await sync(database, v2())
    assert not again.changed


async def test_unchanged_roadmap_is_skipped_by_its_hash(database: Database) -> None:
    await sync(database, v1())
    beta_before = (await roadmaps_by_slug(database))["beta"]
    await sync(database, v2())
    beta_after = (await roadmaps_by_slug(database))["beta"]
    assert beta_after.updated_at == beta_before.updated_at
    assert beta_after.content_hash == beta_before.content_hash


# --- removal archives, return un-archives ----------------------------------------------------


async def test_removed_task_is_archived_keeps_progress_and_comes_back(database: Database) -> None:
    await sync(database, v1())
    old_id = (await tasks_by_slug(database))["alpha-old"].id
    profile_id = await add_progress(database, [old_id])

    await sync(database, v2())
    archived = (await tasks_by_slug(database))["alpha-old"]
    assert archived.archived is True
    assert archived.id == old_id
    progress = await progress_rows(database)
    assert progress[old_id].profile_id == profile_id

    report = await sync(database, v1())
    assert report.tasks.archived == 1  # alpha-setlist, which v1 does not have
    back = await tasks_by_slug(database)
    assert back["alpha-old"].id == old_id
    assert back["alpha-old"].archived is False
    assert back["alpha-old"].position == 2
    assert back["alpha-setlist"].archived is True
    assert (await progress_rows(database))[old_id].status == "in_progress"
    assert (await row_counts(database))["tasks"] == 8  # 7 of v1 + the archived setlist


async def test_removed_roadmap_is_archived_with_its_stages_and_tasks(database: Database) -> None:
    alpha, beta = v1()
    await sync(database, [alpha, beta])
    ids_before = {slug: t.id for slug, t in (await tasks_by_slug(database)).items()}

    report = await sync(database, [alpha])
    assert counts(report) == {
        "roadmaps": (0, 0, 1, 1),
        "stages": (0, 0, 1, 2),
        "tasks": (0, 0, 2, 5),
    }
    roadmaps = await roadmaps_by_slug(database)
    assert roadmaps["beta"].archived is True
    assert (await stages_by_slug(database))["beta", "start"].archived is True
    tasks = await tasks_by_slug(database)
    assert tasks["beta-bio"].archived is True
    assert tasks["beta-budget"].archived is True
    assert tasks["alpha-bio"].archived is False

    assert not (await sync(database, [alpha])).changed  # archiving is idempotent too

    report = await sync(database, [alpha, beta])
    assert counts(report)["roadmaps"] == (0, 1, 0, 1)
    assert counts(report)["tasks"] == (0, 2, 0, 5)
    tasks = await tasks_by_slug(database)
    assert {slug: t.id for slug, t in tasks.items()} == ids_before
    assert not any(t.archived for t in tasks.values())
    assert (await roadmaps_by_slug(database))["beta"].archived is False


async def test_task_moved_to_another_roadmap_keeps_its_id(database: Database) -> None:
    alpha, beta = v1()
    await sync(database, [alpha, beta])
    before = await tasks_by_slug(database)
    await add_progress(database, [before["beta-bio"].id])

    beta_bio = beta.stages[0].tasks[0]
    basics = alpha.stages[0]
    new_basics = basics.model_copy(update={"tasks": (*basics.tasks, beta_bio)})
    moved_alpha = alpha.model_copy(update={"stages": (new_basics, *alpha.stages[1:])})
    start = beta.stages[0]
    moved_beta = beta.model_copy(
        update={"stages": (start.model_copy(update={"tasks": start.tasks[1:]}),)}
    )
    report = await sync(database, [moved_alpha, moved_beta])
    assert report.tasks.created == 0
    assert report.tasks.archived == 0

    after = await tasks_by_slug(database)
    roadmaps = await roadmaps_by_slug(database)
    stages = await stages_by_slug(database)
    moved = after["beta-bio"]
    assert moved.id == before["beta-bio"].id
    assert (moved.roadmap_id, moved.stage_id, moved.position) == (
        roadmaps["alpha"].id,
        stages["alpha", "basics"].id,
        3,
    )
    assert moved.archived is False
    assert after["beta-budget"].position == 0
    assert moved.id in await progress_rows(database)


# --- transactions and guards -----------------------------------------------------------------


async def test_sync_does_not_commit(database: Database) -> None:
    async with database.sessionmaker() as session:
        report = await sync_roadmaps(session, v1())
        assert report.tasks.created == 7
        await session.rollback()
    assert await row_counts(database) == {
        "roadmaps": 0,
        "roadmap_stages": 0,
        "tasks": 0,
        "user_task_progress": 0,
    }


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("slug: beta\n", "slug: alpha\n", "roadmap slug 'alpha' is used twice"),
        (
            "slug: beta-bio\n",
            "slug: alpha-bio\n",
            "task slug 'alpha-bio' is used by roadmaps 'alpha' and 'beta'",
        ),
    ],
)
async def test_duplicate_slugs_are_refused(
    database: Database, old: str, new: str, problem: str
) -> None:
    clashing = parse(V1_BETA.replace(old, new, 1))
    with pytest.raises(RoadmapContentError) as caught:
        await sync(database, [parse(V1_ALPHA), clashing])
    assert caught.value.problems == [problem]
    assert (await row_counts(database))["roadmaps"] == 0


# --- the pure catalog ------------------------------------------------------------------------


def _shape(catalog: Catalog) -> object:
    """A catalog with every id replaced by the slug path it stands for."""
    names = {r.id: r.slug for r in catalog.roadmaps}
    names |= {s.id: f"{r.slug}/{s.slug}" for r in catalog.roadmaps for s in r.stages}

    def task(t: TaskInfo) -> tuple[object, ...]:
        return (
            t.slug,
            t.title,
            t.description,
            t.type,
            t.optional,
            t.position,
            names[t.stage_id],
            names[t.roadmap_id],
            t.archived,
            t.items,
            t.input,
        )

    return (
        [
            (
                r.slug,
                r.name,
                r.pitch,
                r.description,
                r.audience,
                [
                    (s.slug, s.title, s.intro, s.position, [task(t) for t in s.tasks])
                    for s in r.stages
                ],
            )
            for r in catalog.roadmaps
        ],
        sorted(catalog.tasks_by_slug),
        sorted(names[t.stage_id] for t in catalog.tasks_by_id.values()),
    )


@pytest.mark.parametrize("content", [load_roadmaps, v1], ids=["bundled", "v1"])
async def test_the_pure_catalog_is_the_synced_one_but_for_ids(
    database: Database, content: Callable[[], list[Roadmap]]
) -> None:
    """What unit tests run on (``catalog_from``) is what the engine reads after a sync."""
    await sync(database, content())
    async with database.transaction() as session:
        synced = await load_catalog(session)
    pure = catalog_from(content())
    assert _shape(pure) == _shape(synced)
    assert pure.tasks_by_slug.keys() == synced.tasks_by_slug.keys()
