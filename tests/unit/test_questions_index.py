"""The question search reads a task's words twice: :mod:`core.roadmaps.sync` indexes them from
the stored ``tasks.config`` (:func:`~core.roadmaps.sync.search_parts`), and
:mod:`core.journey.questions` counts how much of a question a hit covers from the catalog's
task (:func:`~core.journey.questions.task_body`). The two must be the same words, or a task the
index ranks first is then judged on other text; this pins them together for the shipped content.
"""

from __future__ import annotations

from support.memory import bundled_catalog, bundled_roadmaps

from core.journey.questions import task_body
from core.knowledge.index import body_of
from core.roadmaps.sync import search_parts, task_config


def test_the_index_and_the_coverage_check_read_the_same_words_of_every_task() -> None:
    catalog = bundled_catalog()
    checked = 0
    for roadmap in bundled_roadmaps():
        for stage in roadmap.stages:
            for task in stage.tasks:
                indexed = body_of(task.description, search_parts(task_config(task, stage.repeats)))
                assert task_body(catalog.tasks_by_slug[task.slug]) == indexed, task.slug
                checked += 1
    assert checked == len(catalog.tasks_by_slug)
