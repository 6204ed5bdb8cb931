"""Loading and checking roadmap YAML: the bundled files are valid, and every problem is reported.

No database here. The bad fixtures under ``tests/support/fixtures/roadmaps_bad/`` hold one kind of
problem per file; one call must report all of them, each with its file name and line.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import roadmaps as roadmaps_package
from core.errors import RoadmapContentError
from core.roadmaps.loader import (
    bundled_roadmaps_dir,
    check_roadmaps,
    format_summary,
    load_roadmaps,
)
from core.roadmaps.schema import Roadmap

FIXTURES = Path(__file__).resolve().parents[1] / "support" / "fixtures"
BAD = FIXTURES / "roadmaps_bad"

#: A small valid roadmap; tests write variants of it to a temporary directory.
VALID = """\
slug: {slug}
name: Test roadmap
pitch: A small roadmap for the loader tests.
description: Two stages, three tasks.
position: {position}
stages:
  - slug: basics
    title: Basics
    intro: Start here.
    tasks:
      - slug: {prefix}-bio
        title: Write a bio
        description: Two sentences about you.
        type: checklist
        items:
          - key: draft
            text: Draft it
          - key: publish
            text: Publish it
  - slug: growth
    title: Growth
    intro: Then grow.
    tasks:
      - slug: {prefix}-listeners
        title: Count your listeners
        description: Your monthly listeners.
        type: data_input
        input:
          type: integer
          question: How many monthly listeners do you have?
          min: 0
          metric: monthly_listeners
      - slug: {prefix}-photos
        title: Take photos
        description: Three photos in daylight.
        type: checklist
        optional: true
        items:
          - key: shoot
            text: Shoot them
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def valid(slug: str = "test-roadmap", prefix: str = "tr", position: int = 0) -> str:
    return VALID.format(slug=slug, prefix=prefix, position=position)


# --- the bundled roadmaps ------------------------------------------------------------------


def test_bundled_dir_is_the_installed_roadmaps_package() -> None:
    assert bundled_roadmaps_dir() == Path(roadmaps_package.__file__).parent
    assert (bundled_roadmaps_dir() / "__init__.py").is_file()


def test_bundled_roadmaps_load_without_problems() -> None:
    found, problems = check_roadmaps()
    assert problems == [], "\n".join(problems)
    assert found, "no bundled roadmaps"
    assert found == load_roadmaps()
    assert found == sorted(found, key=lambda r: (r.position, r.slug))
    files = [
        p
        for p in bundled_roadmaps_dir().iterdir()
        if p.suffix in {".yaml", ".yml"} and not p.name.startswith(".")
    ]
    assert len(found) == len(files)
    summary = format_summary(found)
    for roadmap in found:
        assert roadmap.slug in summary


# --- every problem, at once ------------------------------------------------------------------


#: (file, line, the text the problem must contain) for every fixture in roadmaps_bad/.
EXPECTED_BAD = [
    (
        "bad-input-type.yaml",
        16,
        "'number' is not a valid input type; allowed: integer, decimal, money, percent, date, "
        "duration, url, choice, text (stages[0].tasks[0].input.type)",
    ),
    (
        "checklist-without-items.yaml",
        18,
        "checklist task 'cl-empty' has no items (stages[0].tasks[1])",
    ),
    (
        "duplicate-slug-b.yaml",
        18,
        "task slug 'shared-bio' is used by duplicate-slug-a.yaml:11 and duplicate-slug-b.yaml:18 "
        "(stages[0].tasks[1].slug)",
    ),
    (
        "min-greater-than-max.yaml",
        15,
        "min (5) is greater than max (2) (stages[0].tasks[0].input)",
    ),
    (
        "unknown-field.yaml",
        15,
        "unknown field 'optinal'; did you mean 'optional'? (stages[0].tasks[0])",
    ),
    ("wrong-value-type.yaml", 6, "'abc' is not a valid integer (position)"),
    ("yaml-syntax-error.yaml", 9, "YAML syntax error: mapping values are not allowed here"),
]


def test_one_call_reports_every_problem_in_every_file() -> None:
    with pytest.raises(RoadmapContentError) as caught:
        load_roadmaps(BAD)
    problems = caught.value.problems
    assert problems == [f"{file}:{line}: {what}" for file, line, what in EXPECTED_BAD]
    # Every fixture file is accounted for (the two duplicate files share one problem).
    named = {file for file, _line, _what in EXPECTED_BAD} | {"duplicate-slug-a.yaml"}
    assert named == {p.name for p in BAD.glob("*.yaml")}


def test_check_roadmaps_returns_the_same_problems_and_the_valid_files() -> None:
    found, problems = check_roadmaps(BAD)
    assert len(problems) == len(EXPECTED_BAD)
    # Each duplicate-slug file is valid on its own; only together do they clash.
    assert [r.slug for r in found] == ["bad-duplicate-a", "bad-duplicate-b"]


def test_the_fixture_comments_name_the_reported_line() -> None:
    """Each bad fixture says in its first line which line is wrong; keep them honest."""
    for file, line, _what in EXPECTED_BAD:
        first = (BAD / file).read_text(encoding="utf-8").splitlines()[0]
        assert f"line {line}" in first, (file, first)


# --- single problem kinds --------------------------------------------------------------------


def problems_for(directory: Path, files: dict[str, str]) -> list[str]:
    """Write ``files``, check them, and make sure load_roadmaps raises with the same problems."""
    for name, text in files.items():
        write(directory, name, text)
    _found, problems = check_roadmaps(directory)
    with pytest.raises(RoadmapContentError) as caught:
        load_roadmaps(directory)
    assert caught.value.problems == problems
    return problems


def test_duplicate_roadmap_slug_across_files(tmp_path: Path) -> None:
    problems = problems_for(
        tmp_path,
        {"a.yaml": valid("same", "aa"), "b.yml": valid("same", "bb")},
    )
    assert problems == ["b.yml:1: roadmap slug 'same' is used by a.yaml:1 and b.yml:1 (slug)"]


def test_duplicate_task_slug_within_a_file_is_reported_once_with_both_lines(
    tmp_path: Path,
) -> None:
    text = valid().replace("tr-photos", "tr-bio")
    problems = problems_for(tmp_path, {"one.yaml": text})
    assert problems == [
        "one.yaml:33: task slug 'tr-bio' is used by one.yaml:11 and one.yaml:33 "
        "(stages[1].tasks[1].slug)"
    ]


def test_duplicate_slugs_are_found_even_when_the_file_has_other_errors(tmp_path: Path) -> None:
    text = valid().replace("tr-photos", "tr-bio").replace("position: 0", "position: many")
    problems = problems_for(tmp_path, {"one.yaml": text})
    assert problems == [
        "one.yaml:5: 'many' is not a valid integer (position)",
        "one.yaml:33: task slug 'tr-bio' is used by one.yaml:11 and one.yaml:33 "
        "(stages[1].tasks[1].slug)",
    ]


def test_duplicate_stage_slug(tmp_path: Path) -> None:
    text = valid().replace("slug: growth", "slug: basics")
    problems = problems_for(tmp_path, {"one.yaml": text})
    assert problems == [
        "one.yaml:20: stage slug 'basics' is used by one.yaml:7 and one.yaml:20 (stages[1].slug)"
    ]


def test_missing_field_points_at_the_object(tmp_path: Path) -> None:
    text = valid().replace("        title: Count your listeners\n", "")
    problems = problems_for(tmp_path, {"one.yaml": text})
    assert problems == ["one.yaml:24: missing field 'title' (stages[1].tasks[0])"]


def test_repeated_yaml_key_is_reported(tmp_path: Path) -> None:
    text = valid().replace("name: Test roadmap\n", "name: Test roadmap\nname: Other name\n")
    problems = problems_for(tmp_path, {"one.yaml": text})
    assert problems == ["one.yaml:3: duplicate key 'name' (first at line 2)"]


def test_yaml_conversions_are_explained(tmp_path: Path) -> None:
    text = valid().replace("text: Shoot them", "text: yes")
    problems = problems_for(tmp_path, {"one.yaml": text})
    assert problems == [
        "one.yaml:40: expected text, got yes, which YAML reads as true; put it in quotes "
        "(stages[1].tasks[1].items[0].text)"
    ]


def test_file_that_is_not_a_mapping_and_empty_file(tmp_path: Path) -> None:
    problems = problems_for(
        tmp_path,
        {"list.yaml": "# a comment\n- one\n- two\n", "empty.yaml": "# nothing here\n"},
    )
    assert problems == [
        "empty.yaml:1: the file is empty; a roadmap needs slug, name, pitch, description and "
        "stages",
        "list.yaml:2: the file must be a mapping of roadmap fields (slug: …, name: …, "
        "stages: …), not a list",
    ]


def test_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "latin.yaml").write_bytes(b"slug: x\nname: Caf\xe9\n")
    _found, problems = check_roadmaps(tmp_path)
    assert problems == ["latin.yaml:2: not valid UTF-8 text (byte 0xe9)"]


def test_missing_or_empty_directory(tmp_path: Path) -> None:
    assert check_roadmaps(tmp_path / "nope") == ([], [f"{tmp_path / 'nope'}: no such directory"])
    (tmp_path / "notes.txt").write_text("not a roadmap", encoding="utf-8")
    _found, problems = check_roadmaps(tmp_path)
    assert problems == [f"{tmp_path}: no roadmap files (*.yaml) found"]


# --- valid content ---------------------------------------------------------------------------


def test_valid_files_load_sorted_by_position_then_slug(tmp_path: Path) -> None:
    write(tmp_path, "c.yaml", valid("charlie", "cc", position=0))
    write(tmp_path, "b.yml", valid("bravo", "bb", position=1))
    write(tmp_path, "a.yaml", valid("alpha", "aa", position=1))
    write(tmp_path, "README.md", "ignored")
    found = load_roadmaps(tmp_path)
    assert [r.slug for r in found] == ["charlie", "alpha", "bravo"]
    assert all(isinstance(r, Roadmap) for r in found)
    listeners = found[0].stages[1].tasks[0]
    assert listeners.input is not None
    assert listeners.input.metric == "monthly_listeners"


def test_format_summary_counts_stages_tasks_checklists_and_inputs(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", valid("alpha", "aa"))
    write(tmp_path, "b.yaml", valid("bravo", "bb", position=1))
    assert format_summary(load_roadmaps(tmp_path)) == (
        "alpha (Test roadmap): 2 stages, 3 tasks (2 checklists, 1 data input)\n"
        "bravo (Test roadmap): 2 stages, 3 tasks (2 checklists, 1 data input)\n"
        "2 roadmaps OK: 4 stages, 6 tasks (4 checklists, 2 data inputs)"
    )


# --- one metric, one kind of number ------------------------------------------------------


def test_tasks_feeding_one_metric_must_agree(tmp_path: Path) -> None:
    """Two roadmaps feed ``monthly_listeners``: the second says its unit, direction and
    cadence differently — each difference is one problem at its metric line, naming the
    first task."""
    write(tmp_path, "a.yaml", valid("roadmap-a", "ra"))
    other = valid("roadmap-b", "rb").replace(
        "          metric: monthly_listeners\n",
        "          metric: monthly_listeners\n"
        "          unit: listeners\n"
        "          better: higher\n"
        "          track: monthly\n",
    )
    write(tmp_path, "b.yaml", other)
    found, problems = check_roadmaps(tmp_path)
    assert len(found) == 2, "each file is valid on its own"
    where = "in task 'ra-listeners' (a.yaml:32)"
    assert problems == [
        f"b.yaml:32: metric 'monthly_listeners' has {field} {mine} here but none {where}; "
        "every task that feeds a metric must agree on its type, unit, better and track "
        "(stages[1].tasks[0].input)"
        for field, mine in (("unit", "'listeners'"), ("better", "'higher'"), ("track", "'monthly'"))
    ]
    with pytest.raises(RoadmapContentError):
        load_roadmaps(tmp_path)


def test_a_metric_fed_alike_or_by_one_task_is_fine(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", valid("roadmap-a", "ra"))
    write(tmp_path, "b.yaml", valid("roadmap-b", "rb"))
    assert check_roadmaps(tmp_path)[1] == []
    integer = valid("roadmap-c", "rc").replace("metric: monthly_listeners", "metric: other")
    write(tmp_path, "c.yaml", integer.replace("type: integer", "type: decimal"))
    assert check_roadmaps(tmp_path)[1] == []
    write(tmp_path, "d.yaml", valid("roadmap-d", "rd").replace("type: integer", "type: decimal"))
    [problem] = check_roadmaps(tmp_path)[1]
    assert problem.startswith("d.yaml:32: metric 'monthly_listeners' has type 'decimal' here")


def test_placeholders_the_coach_cannot_fill_are_problems(tmp_path: Path) -> None:
    marks = (
        "          metric: monthly_listeners\n"
        "          references:\n"
        "            - at_least: 1000\n"
        "              verdict: good\n"
        "              says: '{value} listeners, {ratio} of them'\n"
        "              advice: 'Aim {gap} higher'\n"
        "            - below: 1000\n"
        "              verdict: ok\n"
        "              says: '{value} is a start {valeu}'\n"
        "              advice: 'A stray { brace'\n"
        "          suspect:\n"
        "            - at_least: 100000000\n"
        "              ask: 'Really {value}?'\n"
    )
    write(tmp_path, "a.yaml", valid().replace("          metric: monthly_listeners\n", marks))
    found, problems = check_roadmaps(tmp_path)
    assert len(found) == 1
    where = "stages[1].tasks[0].input.references"
    assert problems == [
        f"a.yaml:36: {{ratio}} needs the reference to be 'of' another metric ({where}[0].says)",
        f"a.yaml:37: {{gap}} needs a target on the input ({where}[0].advice)",
        f"a.yaml:40: unknown placeholder {{valeu}}; use {{value}}, {{gap}} or {{ratio}} "
        f"({where}[1].says)",
        "a.yaml:41: a stray { or } (write {{ or }} for a brace); placeholders are {value}, "
        f"{{gap}}, {{ratio}} ({where}[1].advice)",
    ]


def test_a_condition_on_a_question_that_does_not_exist_points_at_its_line(
    tmp_path: Path,
) -> None:
    """A roadmap-level check about one task (``only_if``, issue #15 §2) is reported at that
    task's condition, not at the top of the file."""
    text = valid().replace(
        "        optional: true\n",
        "        optional: true\n        only_if: {task: tr-nowhere, answer: Maybe}\n",
    )
    problems = problems_for(tmp_path, {"one.yaml": text})
    assert problems == [
        "one.yaml:38: task 'tr-photos' depends on 'tr-nowhere', which is not a task before it "
        "in this roadmap (stages[1].tasks[1].only_if)"
    ]
