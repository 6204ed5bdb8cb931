"""``catalog_from``: the roadmap catalog straight from the YAML's schema objects, no database
(that it equals the synced catalog but for ids is checked on a database in
``tests/integration/test_roadmap_sync.py``)."""

from __future__ import annotations

import uuid

import pytest

from core.errors import RoadmapContentError
from core.roadmaps.catalog import CATALOG_NAMESPACE, catalog_from
from core.roadmaps.loader import load_roadmaps

BUNDLED = tuple(load_roadmaps())


def test_ids_are_uuid5s_of_the_slugs_and_the_same_every_time() -> None:
    first, second = catalog_from(BUNDLED), catalog_from(BUNDLED)
    assert [r.id for r in first.roadmaps] == [r.id for r in second.roadmaps]
    assert first.tasks_by_id.keys() == second.tasks_by_id.keys()
    roadmap = first.roadmaps[0]
    stage = roadmap.stages[0]
    task = stage.tasks[0]
    assert roadmap.id == uuid.uuid5(CATALOG_NAMESPACE, f"roadmap:{roadmap.slug}")
    assert stage.id == uuid.uuid5(CATALOG_NAMESPACE, f"stage:{roadmap.slug}/{stage.slug}")
    assert task.id == uuid.uuid5(CATALOG_NAMESPACE, f"task:{task.slug}")
    everything = [r.id for r in first.roadmaps] + [s.id for r in first.roadmaps for s in r.stages]
    everything += list(first.tasks_by_id)
    assert len(set(everything)) == len(everything), "no two things share an id"


def test_every_task_is_indexed_and_points_at_its_stage_and_roadmap() -> None:
    roadmaps = BUNDLED
    catalog = catalog_from(roadmaps)
    assert [r.slug for r in catalog.roadmaps] == [
        r.slug for r in sorted(roadmaps, key=lambda r: (r.position, r.slug))
    ]
    assert len(catalog.tasks_by_slug) == sum(len(r.iter_tasks()) for r in roadmaps)
    for roadmap in catalog.roadmaps:
        for position, stage in enumerate(roadmap.stages):
            assert stage.position == position
            for n, task in enumerate(stage.tasks):
                assert (task.position, task.stage_id, task.roadmap_id) == (n, stage.id, roadmap.id)
                assert catalog.tasks_by_slug[task.slug] is catalog.tasks_by_id[task.id] is task
                assert task.is_checklist == bool(task.items)
                assert task.is_checklist == (task.input is None)


def test_a_slug_used_twice_is_refused() -> None:
    roadmap = BUNDLED[0]
    with pytest.raises(RoadmapContentError):
        catalog_from([roadmap, roadmap])
