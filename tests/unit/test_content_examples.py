"""Every numeric question of the shipped roadmaps carries a realistic example (issue #15, §1).

The coach's "e.g." hint and the journey tests both use the example. One computed from the
bounds read as nonsense ("€500000" for a first single, 12500 people in a top-city draw) and,
since issue #13, fell into the content's own ``suspect`` bands, so the coach questioned its own
example. The examples are now written in the YAML; the schema cannot check them without the
parser, so these tests do: each parses, lies in the question's range, is no probable typo, and
does not read as a mistake against the question's own references.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from core.progress.parsing import Parsed, example_answer, parse_answer
from core.roadmaps.loader import load_roadmaps
from core.roadmaps.schema import NUMERIC_TYPES, InputSpec, InputType, Roadmap, Verdict

BUNDLED = tuple(load_roadmaps())

ANY_DAY = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
#: The day handed to the parser where the day does not matter (numbers do not depend on it).
TODAY = date(2026, 12, 1)


def _numeric() -> Iterator[tuple[Roadmap, str, InputSpec]]:
    for roadmap in BUNDLED:
        for _stage, task in roadmap.iter_tasks():
            if task.input is not None and task.input.type in NUMERIC_TYPES:
                yield roadmap, task.slug, task.input


NUMERIC = {slug: (roadmap, spec) for roadmap, slug, spec in _numeric()}
SLUGS = sorted(NUMERIC)


def _value(spec: InputSpec, today: date) -> Decimal:
    assert spec.example is not None
    parsed: Parsed = parse_answer(spec, spec.example, today=today, label="the example")
    assert isinstance(parsed.value, Decimal)
    return parsed.value


def test_there_are_numeric_questions_to_check() -> None:
    assert len(SLUGS) >= 30  # the three shipped roadmaps; an empty table would pass vacuously


@pytest.mark.parametrize("slug", SLUGS)
def test_every_numeric_question_has_an_example(slug: str) -> None:
    assert NUMERIC[slug][1].example, f"{slug} needs an example a musician would type"


@pytest.mark.parametrize("slug", SLUGS)
@settings(max_examples=10, deadline=None, database=None)
@given(today=ANY_DAY)
def test_the_example_parses_on_any_day(slug: str, today: date) -> None:
    _value(NUMERIC[slug][1], today)


@pytest.mark.parametrize("slug", SLUGS)
def test_the_example_lies_in_the_range(slug: str) -> None:
    spec = NUMERIC[slug][1]
    value = _value(spec, TODAY)
    assert spec.min is None or value >= spec.min, f"{slug}: {value} < min {spec.min}"
    assert spec.max is None or value <= spec.max, f"{slug}: {value} > max {spec.max}"


@pytest.mark.parametrize("slug", SLUGS)
def test_the_example_is_no_probable_typo(slug: str) -> None:
    spec = NUMERIC[slug][1]
    value = _value(spec, TODAY)
    hit = [(s.at_least, s.below) for s in spec.suspect if s.holds(value)]
    assert hit == [], f"{slug}: the example {spec.example} falls in suspect band(s) {hit}"


@pytest.mark.parametrize("slug", SLUGS)
def test_the_example_does_not_read_as_a_mistake(slug: str) -> None:
    """The first raw-value band that holds is the coach's reading; the example must not be bad."""
    spec = NUMERIC[slug][1]
    value = _value(spec, TODAY)
    reading = next((r for r in spec.references if r.of is None and r.holds(value)), None)
    assert reading is None or reading.verdict is not Verdict.BAD, f"{slug}: {reading}"


def _ratio_readings() -> list[tuple[str, str]]:
    """(question, other question) for each ``of`` reference whose metric the roadmap asks."""
    pairs = set()
    for roadmap, slug, spec in _numeric():
        for ref in spec.references:
            for other_roadmap, other, other_spec in _numeric():
                if other_roadmap is roadmap and ref.of is not None and other_spec.metric == ref.of:
                    pairs.add((slug, other))
    return sorted(pairs)


@pytest.mark.parametrize(("slug", "other"), _ratio_readings())
def test_examples_read_together_are_not_a_mistake(slug: str, other: str) -> None:
    """A musician who types both examples (a fee against the cost of a show, a draw against the
    room) gets no "bad" reading either: the examples tell one plausible story."""
    spec, other_spec = NUMERIC[slug][1], NUMERIC[other][1]
    ratio = _value(spec, TODAY) / _value(other_spec, TODAY)
    reading = next(r for r in spec.references if r.of == other_spec.metric and r.holds(ratio))
    assert reading.verdict is not Verdict.BAD, f"{slug} ÷ {other} = {ratio}: {reading.says}"


def test_the_ratio_table_is_not_empty() -> None:
    assert ("tb-gig-fee", "tb-cost-per-show") in _ratio_readings()
    assert ("tb-top-city-draw", "tb-venue-capacity") in _ratio_readings()


@pytest.mark.parametrize("slug", SLUGS)
def test_the_hint_shows_the_contents_example(slug: str) -> None:
    spec = NUMERIC[slug][1]
    assert example_answer(spec, today=TODAY) == spec.example


# --- the schema side and example_answer on hand-made specs -----------------------------------


def test_a_spec_with_an_example_gives_it_and_one_without_is_computed() -> None:
    with_example = InputSpec(
        type=InputType.MONEY, question="Budget?", unit="EUR", min=0, max=1000000, example="€800"
    )
    assert example_answer(with_example, today=TODAY) == "€800"
    without = with_example.model_copy(update={"example": None})
    assert example_answer(without, today=TODAY) == "€500,000"


@given(today=ANY_DAY)
@settings(max_examples=20, deadline=None, database=None)
def test_a_date_example_is_always_computed_from_today(today: date) -> None:
    """Even a spec that slipped an example past the schema: a written date would go stale."""
    spec = InputSpec(type=InputType.DATE, question="When?").model_copy(
        update={"example": "5 Mar 2027"}
    )
    assert example_answer(spec, today=today) != "5 Mar 2027"
    assert parse_answer(spec, example_answer(spec, today=today), today=today, label="date")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"type": "date", "example": "5 Mar 2027"}, "a date question takes no example"),
        (
            {"type": "choice", "choices": ("Spotify", "Bandcamp"), "example": "Tidal"},
            "not one of the choices",
        ),
        ({"type": "integer", "example": "x" * 41}, "at most 40 characters"),
        ({"type": "integer", "example": "  "}, "at least 1 character"),
    ],
)
def test_the_schema_rejects_an_example_it_can_judge(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        InputSpec.model_validate({"question": "How many?", **kwargs})


def test_the_schema_accepts_a_choice_example_in_any_case() -> None:
    spec = InputSpec(
        type=InputType.CHOICE,
        question="Where?",
        choices=("Spotify", "Bandcamp"),
        example="bandcamp",
    )
    assert example_answer(spec, today=TODAY) == "bandcamp"
    assert parse_answer(spec, "bandcamp", today=TODAY, label="platform").value == "Bandcamp"
