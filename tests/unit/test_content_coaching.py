"""The shipped roadmaps' coaching content (issue #13) is complete and consistent.

The schema checks each mark on its own (a band's ends, a timing's anchor); these tests check
what only the content as a whole can get wrong: a numeric question left without a reading, a
reference band an earlier band already swallows, a suspect band the question's range never
lets through, a claim without its source, a release-date rule that leaves less time than the
plan's longest lead, a ratio against a metric the roadmap never asks, and one metric described
two ways by two roadmaps. They read the bundled YAML, so a content edit that breaks one of
these fails here, not in a musician's chat.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from core.roadmaps.catalog import catalog_from
from core.roadmaps.loader import bundled_roadmaps_dir, check_roadmaps, load_roadmaps
from core.roadmaps.schema import (
    NUMERIC_TYPES,
    InputSpec,
    InputType,
    Reference,
    Roadmap,
    Task,
    ValueBand,
)

BUNDLED = tuple(load_roadmaps())
FILES = sorted(p for p in bundled_roadmaps_dir().iterdir() if p.suffix in {".yaml", ".yml"})

#: Every numeric data question of the shipped roadmaps and what it gets: reference bands
#: ("references"), only a direction because no honest benchmark exists ("better"), or nothing
#: of its own because it is only the ``of`` another question is read against ("context").
NUMERIC_QUESTIONS: dict[str, str] = {
    # indie singer-songwriter
    "iss-baseline-listeners": "references",
    "iss-baseline-instagram": "better",
    "iss-master-lufs": "references",
    "iss-list-size": "references",
    "iss-open-rate": "references",
    "iss-followers-tiktok": "better",
    "iss-release-budget": "references",
    "iss-streams-28d": "better",
    "iss-saves-per-listener": "references",
    "iss-top-city-draw": "better",
    "iss-gig-fee": "references",
    # electronic producer
    "ep-baseline-listeners": "references",
    "ep-tracks-finished": "references",
    "ep-studio-time": "references",
    "ep-master-lufs": "references",
    "ep-true-peak": "references",
    "ep-demos-sent": "references",
    "ep-release-budget": "references",
    "ep-playlist-adds": "better",
    "ep-set-length": "references",
    "ep-gig-fee": "references",
    # touring band
    "tb-baseline-listeners": "references",
    "tb-baseline-instagram": "better",
    "tb-set-length": "references",
    "tb-venue-capacity": "context",
    "tb-top-city-draw": "references",
    "tb-cost-per-show": "better",
    "tb-shows-booked": "references",
    "tb-gig-fee": "references",
    "tb-merch-per-head": "references",
    "tb-list-size": "references",
    "tb-bandcamp-sales": "references",
    # rapper / hip-hop artist
    "rap-baseline-listeners": "references",
    "rap-baseline-tiktok": "better",
    "rap-beat-cost": "better",
    "rap-streams-28d": "better",
    "rap-saves-per-listener": "references",
    "rap-gig-fee": "references",
    "rap-merch-sales": "better",
    # songwriter / producer (sync and cuts): no published benchmark for any of these
    "sps-catalogue-size": "better",
    "sps-registered-share": "better",
    "sps-sync-fee": "better",
    "sps-pitches-sent": "better",
    "sps-pitch-replies": "better",
    "sps-producer-fee": "better",
    "sps-income-quarter": "better",
}

#: The tasks whose skipping must come back (rights, registration, upload, pitch, the deal).
KEY_TASKS = {
    "indie-singer-songwriter": {
        "iss-split-sheet",
        "iss-distribution",
        "iss-rights",
        "iss-spotify-pitch",
    },
    "electronic-producer": {"ep-label-contract", "ep-distribution", "ep-rights", "ep-pitch"},
    "touring-band": {
        "tb-band-agreement",
        "tb-gear",
        "tb-show-budget",
        "tb-advance",
        "tb-settlement",
    },
    "rapper-hip-hop-artist": {
        "rap-join-pro",
        "rap-samples",
        "rap-split-sheet",
        "rap-register-song",
        "rap-distribution",
        "rap-spotify-pitch",
    },
    "songwriter-producer-sync": {
        "sps-join-pro",
        "sps-split-sheets",
        "sps-register-works",
        "sps-one-stop",
        "sps-producer-agreement",
    },
}

#: Release-plan deadlines in days from the release date (issue #13, section 2).
RELEASE_DEADLINES = {
    "iss-distribution": -28,
    "ep-distribution": -28,
    "iss-spotify-pitch": -7,
    "ep-pitch": -7,
    "rap-distribution": -28,
    "rap-spotify-pitch": -7,
}

#: Words a musician may use in /update and the metric each must find.
ALIASES = {
    "listeners": "monthly_listeners",
    "ig followers": "followers_instagram",
    "tiktok followers": "followers_tiktok",
    "subscribers": "mailing_list_size",
    "open rate": "email_open_rate",
    "studio time": "studio_time_week",
    "shows": "shows_booked",
    "draw": "top_city_draw",
}


def _tasks() -> Iterator[tuple[Roadmap, Task]]:
    for roadmap in BUNDLED:
        for _stage, task in roadmap.iter_tasks():
            yield roadmap, task


def _numeric() -> Iterator[tuple[Roadmap, Task, InputSpec]]:
    for roadmap, task in _tasks():
        if task.input is not None and task.input.type in NUMERIC_TYPES:
            yield roadmap, task, task.input


def _spec(slug: str) -> InputSpec:
    for _roadmap, task, spec in _numeric():
        if task.slug == slug:
            return spec
    raise LookupError(slug)


# --- loading ---------------------------------------------------------------------------------


def test_the_shipped_roadmaps_load_without_problems() -> None:
    found, problems = check_roadmaps()
    assert problems == []
    assert [r.slug for r in found] == [r.slug for r in BUNDLED]
    assert len(BUNDLED) == 5


# --- every numeric question gets a reading ---------------------------------------------------


def test_the_table_lists_every_numeric_question() -> None:
    assert {task.slug for _r, task, _s in _numeric()} == set(NUMERIC_QUESTIONS)


@pytest.mark.parametrize("slug", sorted(NUMERIC_QUESTIONS))
def test_every_numeric_question_has_references_or_a_direction(slug: str) -> None:
    spec = _spec(slug)
    if NUMERIC_QUESTIONS[slug] == "references":
        assert spec.references, f"{slug} should say what its values mean"
        verdict_words = [(r.says, r.advice) for r in spec.references]
        assert all(says and advice for says, advice in verdict_words)
    elif NUMERIC_QUESTIONS[slug] == "better":
        assert not spec.references
        assert spec.better is not None, f"{slug} has no benchmark, so it needs a direction"
    else:
        ofs = {r.of for _r, _t, s in _numeric() for r in s.references}
        assert spec.metric in ofs, f"{slug} is context for nothing"


def test_only_numeric_questions_carry_numeric_marks() -> None:
    for _roadmap, task in _tasks():
        spec = task.input
        if spec is None or spec.type in NUMERIC_TYPES:
            continue
        assert not spec.references, task.slug
        assert not spec.suspect, task.slug
        assert spec.better is None, task.slug


# --- bands: reachable, and inside the question's range ---------------------------------------

_STEP = Decimal("0.0001")


def _bounds(spec: InputSpec) -> tuple[Decimal | None, Decimal | None]:
    """The range an answer can have once parsed (percent defaults to 0-100, durations to >= 0)."""
    low, high = spec.min, spec.max
    if spec.type is InputType.PERCENT:
        low = Decimal(0) if low is None else low
        high = Decimal(100) if high is None else high
    if spec.type is InputType.DURATION and low is None:
        low = Decimal(0)
    return low, high


def _candidates(bands: list[ValueBand]) -> list[Decimal]:
    edges = {e for b in bands for e in (b.at_least, b.below) if e is not None}
    points = {Decimal(0), Decimal("-1e9"), Decimal("1e9")}
    for edge in edges:
        points.update({edge - 1, edge - _STEP, edge, edge + _STEP, edge + 1})
    return sorted(points)


def _in_range(value: Decimal, low: Decimal | None, high: Decimal | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def _reachable(
    band: ValueBand, earlier: list[ValueBand], low: Decimal | None, hi: Decimal | None
) -> Decimal | None:
    """A value the band holds that no earlier band captures and the range admits, if any."""
    for value in _candidates([band, *earlier]):
        if (
            band.holds(value)
            and _in_range(value, low, hi)
            and not any(e.holds(value) for e in earlier)
        ):
            return value
    return None


@dataclass(frozen=True)
class _Group:
    slug: str
    of: str | None
    refs: tuple[Reference, ...]


def _groups() -> list[_Group]:
    """References per question and axis: raw-answer bands and each ``of`` ratio's bands are
    tried on different numbers, so each axis is its own first-match-wins list."""
    out = []
    for _roadmap, task, spec in _numeric():
        axes: dict[str | None, list[Reference]] = {}
        for ref in spec.references:
            axes.setdefault(ref.of, []).append(ref)
        out += [_Group(task.slug, of, tuple(refs)) for of, refs in axes.items()]
    return out


@pytest.mark.parametrize("group", _groups(), ids=lambda g: f"{g.slug}:{g.of or 'value'}")
def test_every_reference_band_is_reachable(group: _Group) -> None:
    spec = _spec(group.slug)
    low, high = _bounds(spec) if group.of is None else (Decimal(0), None)
    for index, ref in enumerate(group.refs):
        earlier: list[ValueBand] = list(group.refs[:index])
        assert _reachable(ref, earlier, low, high) is not None, (
            f"{group.slug}: band {index} ({ref.at_least}..{ref.below}) is never reached"
        )


#: Questions read on their raw value (tb-top-city-draw is read only as a share of the room).
_RAW_READ = sorted(
    slug
    for slug, kind in NUMERIC_QUESTIONS.items()
    if kind == "references" and any(r.of is None for r in _spec(slug).references)
)


@pytest.mark.parametrize("slug", _RAW_READ)
def test_the_bands_leave_no_gap_in_the_range(slug: str) -> None:
    """Every answer the range admits gets a reading (a value between two bands would get none)."""
    spec = _spec(slug)
    raw: list[ValueBand] = [r for r in spec.references if r.of is None]
    low, high = _bounds(spec)
    gaps = [
        v for v in _candidates(raw) if _in_range(v, low, high) and not any(b.holds(v) for b in raw)
    ]
    assert gaps == [], f"{slug}: no reading for {gaps}"


@pytest.mark.parametrize("slug", sorted(NUMERIC_QUESTIONS))
def test_every_suspect_band_can_be_answered(slug: str) -> None:
    """A suspect band outside min/max is dead: the range error answers before it is asked."""
    spec = _spec(slug)
    low, high = _bounds(spec)
    for suspect in spec.suspect:
        assert _reachable(suspect, [], low, high) is not None, f"{slug}: suspect out of range"


def test_the_reachability_check_catches_a_swallowed_band() -> None:
    """The helper above is what the content tests trust, so it is checked on a known case."""
    wide = ValueBand(at_least=Decimal(-20))
    narrow = ValueBand(at_least=Decimal(-15), below=Decimal(-13))
    assert _reachable(narrow, [wide], None, None) is None
    assert _reachable(narrow, [], None, None) is not None
    assert _reachable(ValueBand(at_least=Decimal(1)), [], None, Decimal(0)) is None


# --- the examples the issue names read as a professional would --------------------------------


def _reading(slug: str, value: str) -> Reference:
    spec = _spec(slug)
    number = Decimal(value)
    return next(r for r in spec.references if r.of is None and r.holds(number))


@pytest.mark.parametrize(
    ("slug", "value", "verdict"),
    [
        ("iss-master-lufs", "-9.5", "warn"),  # turned down on the big services
        ("iss-master-lufs", "-14.2", "good"),
        ("iss-master-lufs", "-22", "warn"),
        ("ep-true-peak", "0.3", "bad"),  # over full scale
        ("ep-true-peak", "-0.5", "warn"),  # above -1 dBTP
        ("ep-true-peak", "-1.0", "good"),
        ("iss-gig-fee", "0", "warn"),  # a €0 gig fee is not "done, that's huge"
        ("tb-gig-fee", "0", "warn"),
        ("iss-open-rate", "8", "warn"),
        ("iss-open-rate", "25", "good"),
    ],
)
def test_the_issues_examples_get_the_professional_verdict(
    slug: str, value: str, verdict: str
) -> None:
    assert _reading(slug, value).verdict == verdict


@pytest.mark.parametrize(
    ("slug", "value"),
    [
        ("iss-master-lufs", "9.5"),  # a positive LUFS
        ("ep-master-lufs", "14"),
        ("ep-true-peak", "5"),  # a positive true peak beyond +3
        ("iss-open-rate", "0.25"),  # a fraction for a percentage
        ("iss-saves-per-listener", "3"),
        ("tb-merch-per-head", "450"),  # the night's total, not per head
    ],
)
def test_probable_typos_are_questioned(slug: str, value: str) -> None:
    spec = _spec(slug)
    number = Decimal(value)
    low, high = _bounds(spec)
    assert _in_range(number, low, high), "the range must let the typo through to its question"
    assert any(s.holds(number) for s in spec.suspect)


def test_the_fee_is_read_against_the_cost_of_a_show() -> None:
    refs = [r for r in _spec("tb-gig-fee").references if r.of == "cost_per_show"]
    assert [r.verdict for r in refs if r.holds(Decimal("0.8"))] == ["bad"]  # lost money
    assert [r.verdict for r in refs if r.holds(Decimal("1.5"))] == ["good"]
    assert all("{ratio}" in r.says for r in refs)


def test_the_draw_is_read_against_the_room() -> None:
    refs = [r for r in _spec("tb-top-city-draw").references if r.of == "venue_capacity"]
    assert [r.verdict for r in refs if r.holds(Decimal("0.4"))] == ["warn"]  # half-empty
    assert [r.verdict for r in refs if r.holds(Decimal("1"))] == ["good"]  # sold out


# --- sources --------------------------------------------------------------------------------


def _node(mapping: Node, key: str) -> tuple[ScalarNode, Node] | None:
    assert isinstance(mapping, MappingNode)
    for k, v in mapping.value:
        if isinstance(k, ScalarNode) and k.value == key:
            return k, v
    return None


def _marked_lines(path: Path) -> Iterator[tuple[str, int]]:
    """(what, 0-based line) of every reference item, suspect item and rules key in a file."""
    root = yaml.compose(path.read_text(encoding="utf-8"))
    assert isinstance(root, MappingNode)
    stages = _node(root, "stages")
    assert stages is not None
    assert isinstance(stages[1], SequenceNode)
    for stage in stages[1].value:
        tasks = _node(stage, "tasks")
        assert tasks is not None
        assert isinstance(tasks[1], SequenceNode)
        for task in tasks[1].value:
            slug = _node(task, "slug")
            spec = _node(task, "input")
            if spec is None or slug is None:
                continue
            name = slug[1].value
            for field in ("references", "suspect"):
                items = _node(spec[1], field)
                if items is not None and isinstance(items[1], SequenceNode):
                    for index, item in enumerate(items[1].value):
                        yield f"{name}.{field}[{index}]", item.start_mark.line
            rules = _node(spec[1], "rules")
            if rules is not None:
                yield f"{name}.rules", rules[0].start_mark.line


def _comment_above(lines: list[str], line: int) -> list[str]:
    block = []
    index = line - 1
    while index >= 0 and lines[index].lstrip().startswith("#"):
        block.append(lines[index].strip())
        index -= 1
    return block


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_reference_suspect_and_rule_cites_its_source(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    marked = list(_marked_lines(path))
    assert marked, "every roadmap has coaching marks"
    missing = [
        f"{path.name}:{line + 1}: {what}"
        for what, line in marked
        if not any(c.startswith("# Source:") for c in _comment_above(lines, line))
    ]
    assert missing == []


def test_web_sources_say_when_they_were_checked() -> None:
    for path in FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith("# Source: http"):
                assert "(checked " in line, f"{path.name}: {line.strip()}"


# --- dates: rules, anchors and timings agree --------------------------------------------------


def _anchors(roadmap: Roadmap) -> dict[str, InputSpec]:
    return {t.input.anchor: t.input for _s, t in roadmap.iter_tasks() if t.input and t.input.anchor}


@pytest.mark.parametrize("roadmap", BUNDLED, ids=lambda r: r.slug)
def test_a_date_that_follows_the_rules_leaves_time_for_every_timed_task(
    roadmap: Roadmap,
) -> None:
    for name, spec in _anchors(roadmap).items():
        timed = [t for _s, t in roadmap.iter_tasks() if t.when and t.when.anchor == name]
        assert timed, f"anchor '{name}' dates no task"
        if spec.rules is None or spec.rules.min_days_ahead is None:
            continue
        lead = max(-t.when.due for t in timed if t.when is not None)
        assert spec.rules.min_days_ahead >= lead, (
            f"{roadmap.slug}: '{name}' may be {spec.rules.min_days_ahead} days out, "
            f"but a task is due {lead} days before it"
        )


@pytest.mark.parametrize("roadmap", BUNDLED, ids=lambda r: r.slug)
def test_every_timing_is_counted_from_a_date_question_of_the_same_roadmap(
    roadmap: Roadmap,
) -> None:
    anchors = _anchors(roadmap)
    for _stage, task in roadmap.iter_tasks():
        if task.when is not None:
            assert task.when.anchor in anchors, task.slug


def test_release_dates_are_fridays_six_weeks_out_and_skip_the_holidays() -> None:
    releases = [_anchors(r)["release"] for r in BUNDLED if "release" in _anchors(r)]
    assert len(releases) == 3  # the singer-songwriter's, the producer's and the rapper's
    for spec in releases:
        rules = spec.rules
        assert rules is not None
        assert rules.why
        assert rules.weekday == "friday"
        assert rules.min_days_ahead == 42
        assert rules.max_days_ahead is not None
        assert rules.max_days_ahead >= 90
        assert [(w.start, w.end) for w in rules.avoid] == [("12-18", "01-04")]
        assert all(w.why for w in rules.avoid)


@pytest.mark.parametrize(("slug", "due"), sorted(RELEASE_DEADLINES.items()))
def test_release_deadlines_follow_the_plan(slug: str, due: int) -> None:
    task = next(t for _r, t in _tasks() if t.slug == slug)
    assert task.when is not None
    assert task.when.anchor == "release"
    assert task.when.due == due


def test_numbers_about_the_first_28_days_wait_for_them() -> None:
    asked = [t for _r, t in _tasks() if t.input and "first 28 days" in t.input.question]
    assert len(asked) == 5
    for task in asked:
        assert task.when is not None, task.slug
        assert task.when.anchor == "release", task.slug
        assert task.when.opens is not None, task.slug
        assert task.when.opens >= 28, task.slug


# --- key tasks ------------------------------------------------------------------------------


@pytest.mark.parametrize("roadmap", BUNDLED, ids=lambda r: r.slug)
def test_key_tasks_are_the_ones_that_matter(roadmap: Roadmap) -> None:
    keys = {t.slug for _s, t in roadmap.iter_tasks() if t.key}
    assert keys == KEY_TASKS[roadmap.slug]


# --- metrics ----------------------------------------------------------------------------------


def test_a_ratio_is_taken_against_a_metric_the_same_roadmap_asks() -> None:
    for roadmap in BUNDLED:
        fed = {t.input.metric for _s, t in roadmap.iter_tasks() if t.input and t.input.metric}
        for _stage, task in roadmap.iter_tasks():
            for ref in task.input.references if task.input else ():
                if ref.of is not None:
                    assert ref.of in fed, f"{roadmap.slug}/{task.slug}: of {ref.of}"


def test_a_metric_means_the_same_in_every_roadmap() -> None:
    seen: dict[str, tuple[object, ...]] = {}
    for roadmap, task, spec in _numeric():
        if spec.metric is None:
            continue
        shape = (spec.type, spec.unit, spec.better, spec.track, tuple(sorted(spec.aliases)))
        first = seen.setdefault(spec.metric, shape)
        assert shape == first, f"{roadmap.slug}/{task.slug} describes {spec.metric} differently"


def test_tracked_metrics_have_words_and_no_word_names_two_metrics() -> None:
    owner: dict[str, str] = {}
    for _roadmap, task, spec in _numeric():
        if spec.track is not None:
            assert spec.aliases, f"{task.slug}: a tracked metric needs a friendly word"
        for alias in spec.aliases:
            word = " ".join(alias.casefold().split())
            assert owner.setdefault(word, spec.metric or "") == spec.metric, word


@pytest.mark.parametrize(("words", "metric"), sorted(ALIASES.items()))
def test_friendly_words_find_their_metric(words: str, metric: str) -> None:
    found = catalog_from(BUNDLED).metric_named(words)
    assert found is not None
    assert found.name == metric


def test_monthly_listeners_are_checked_in_monthly_everywhere() -> None:
    specs = [s for _r, _t, s in _numeric() if s.metric == "monthly_listeners"]
    assert len(specs) == 4  # the songwriter-producer has no artist profile to count
    assert {(s.track, s.better) for s in specs} == {("monthly", "higher")}
