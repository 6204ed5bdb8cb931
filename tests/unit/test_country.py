"""The musician's country (issue #15 §2, "per country where it differs, the musician's country
asked once"), on the in-memory coach with a small roadmap of its own: guessed from a locale
that names a region, else asked once before the first task that differs by country; ``/country``
reads names and codes in many languages; ``only_if: {country: …}`` and ``variant_of`` in the
schema, and the per-country view every stage walk uses.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from coachkit import Driver
from pydantic import ValidationError
from support.memory import MemoryCoach, bundled_catalog

from core.kernel.types import Inbound
from core.progress.parsing.countries import OTHER, country_code
from core.progress.parsing.locales import region_of
from core.progress.service import ProgressRecord, stage_counts, stage_done
from core.roadmaps.catalog import catalog_from
from core.roadmaps.schema import Roadmap


def _checklist(slug: str, title: str, **extra: Any) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": title,
        "description": "For the tests.",
        "type": "checklist",
        "items": [{"key": "a", "text": "First thing"}, {"key": "b", "text": "Second thing"}],
        **extra,
    }


STAGES: list[dict[str, Any]] = [
    {
        "slug": "one",
        "title": "Stage one",
        "intro": "The start.",
        "tasks": [
            _checklist("ct-song", "Finish a song"),
            _checklist("ct-tax", "Sort out your tax"),
            _checklist(
                "ct-tax-gb",
                "Sort out your tax (UK)",
                variant_of="ct-tax",
                only_if={"country": ["GB"]},
            ),
            _checklist(
                "ct-tax-de",
                "Sort out your tax (Germany)",
                variant_of="ct-tax",
                only_if={"country": ["DE", "AT"]},
            ),
            _checklist("ct-ksk", "Apply to the KSK", only_if={"country": "DE"}, optional=True),
        ],
    },
    {
        "slug": "two",
        "title": "Stage two",
        "intro": "Later.",
        "tasks": [_checklist("ct-gig", "Play a gig")],
    },
]


def _roadmap(stages: list[dict[str, Any]] | None = None) -> Roadmap:
    return Roadmap.model_validate(
        {
            "slug": "country-test",
            "name": "Country Test",
            "pitch": "A roadmap whose tax task differs by country.",
            "description": "One song, then tax, then a gig.",
            "stages": stages if stages is not None else STAGES,
        }
    )


# --- the guess from the locale ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "country"),
    [
        ("en-GB", "GB"),
        ("en_GB", "GB"),
        ("pt-BR", "BR"),
        ("pt-br", "BR"),  # Telegram's language_code is lower case
        ("de-CH", "CH"),
        ("en-US", "US"),
        ("zh-Hant-TW", "TW"),
        ("en", None),  # a language alone names no country
        ("de", None),  # German is spoken in three countries: asked, not guessed
        ("es-419", None),  # Latin America: a region, not a country
        ("en-XX", None),  # no such country
        ("xx-YY", None),  # garbage
        ("", None),
        (None, None),
    ],
)
def test_a_locale_names_a_country_only_when_it_says_one(
    tag: str | None, country: str | None
) -> None:
    assert region_of(tag) == country


# --- /country: names and codes in many languages --------------------------------------------


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("UK", "GB"),
        ("uk", "GB"),
        ("United Kingdom", "GB"),
        ("GB", "GB"),
        ("England", "GB"),
        ("Scotland", "GB"),
        ("USA", "US"),
        ("U.S.", "US"),
        ("the United States", "US"),
        ("Deutschland", "DE"),
        ("Germany", "DE"),
        ("Allemagne", "DE"),
        ("de", "DE"),
        ("Kanada", "CA"),
        ("Canada", "CA"),
        ("Australia", "AU"),
        ("France", "FR"),
        ("Frankreich", "FR"),
        ("Ireland", "IE"),
        ("Éire", "IE"),
        ("eire", "IE"),
        ("the Netherlands", "NL"),
        ("Holland", "NL"),
        ("Nederland", "NL"),
        ("Países Bajos", "NL"),
        ("Sweden", "SE"),
        ("Österreich", "AT"),
        ("osterreich", "AT"),  # accents optional
        ("other", OTHER),
        ("Elsewhere", OTHER),
        ("Narnia", None),
        ("XX", None),
        ("12", None),
        ("", None),
        ("!!!", None),
    ],
)
def test_country_names_and_codes_are_read(typed: str, code: str | None) -> None:
    assert country_code(typed) == code


# --- the schema -------------------------------------------------------------------------------


def _with(change: Any) -> list[dict[str, Any]]:
    stages = copy.deepcopy(STAGES)
    change(stages)
    return stages


def test_the_test_roadmap_loads() -> None:
    roadmap = _roadmap()
    tasks = {t.slug: t for _s, t in roadmap.iter_tasks()}
    assert tasks["ct-tax-gb"].only_if is not None
    assert tasks["ct-tax-gb"].only_if.country == ("GB",)
    assert tasks["ct-ksk"].only_if is not None
    assert tasks["ct-ksk"].only_if.country == ("DE",), "one code is a list of one"


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (
            lambda s: s[0]["tasks"][2].update(only_if={"country": ["UK"]}),
            "UK is not an ISO 3166-1 alpha-2 country code",
        ),
        (
            lambda s: s[0]["tasks"][2].update(only_if={"country": ["XX"]}),
            "XX is not an ISO 3166-1 alpha-2 country code",
        ),
        (lambda s: s[0]["tasks"][2].update(only_if={"country": ["gb"]}), "pattern"),
        (lambda s: s[0]["tasks"][2].update(only_if={"country": []}), "at least 1"),
        (lambda s: s[0]["tasks"][2].update(only_if={"answer": ["x"]}), "both task and answer"),
        (
            lambda s: s[0]["tasks"][2].update(variant_of="ct-gig"),
            "not a general task of stage 'one'",
        ),
        (lambda s: s[0]["tasks"][2].pop("only_if"), "names no country"),
        (
            lambda s: s[0]["tasks"][3].update(only_if={"country": ["GB"]}),
            "GB already has a variant of 'ct-tax'",
        ),
        (
            lambda s: s[0]["tasks"][2].update(variant_of="ct-ksk"),
            "which is for certain countries itself",
        ),
    ],
)
def test_a_country_condition_that_cannot_hold_is_a_load_error(change: Any, says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        _roadmap(_with(change))


# --- the per-country view ---------------------------------------------------------------------


def _shown(country: str | None) -> list[str]:
    catalog = catalog_from([_roadmap()])
    view = catalog.roadmap(catalog.roadmaps[0].id, country)
    assert view is not None
    return [t.slug for s in view.stages for t in s.tasks]


def test_each_country_sees_its_own_tasks_and_everyone_else_the_general_one() -> None:
    assert _shown("GB") == ["ct-song", "ct-tax-gb", "ct-gig"]
    assert _shown("DE") == ["ct-song", "ct-tax-de", "ct-ksk", "ct-gig"]
    assert _shown("AT") == ["ct-song", "ct-tax-de", "ct-gig"]
    for elsewhere in (None, OTHER, "SE", "US"):
        assert _shown(elsewhere) == ["ct-song", "ct-tax", "ct-gig"], elsewhere


def test_the_view_is_built_once_per_snapshot_and_shared_by_countries_without_tasks() -> None:
    """``Turn.roadmap`` asks for the view on every access of every event: it must be the
    snapshot's memo, not a new walk of the stages each time."""
    catalog = catalog_from([_roadmap()])
    roadmap_id = catalog.roadmaps[0].id
    gb = catalog.roadmap(roadmap_id, "GB")
    assert gb is not None
    assert catalog.roadmap(roadmap_id, "GB") is gb
    general = catalog.roadmap(roadmap_id, None)
    assert general is not None
    assert general is not gb
    for elsewhere in (OTHER, "SE", "US"):
        assert catalog.roadmap(roadmap_id, elsewhere) is general, elsewhere

    def without_country_tasks(stages: list[dict[str, Any]]) -> None:
        del stages[0]["tasks"][2:]

    plain = catalog_from([_roadmap(_with(without_country_tasks))])
    assert plain.roadmap(plain.roadmaps[0].id, "GB") is plain.roadmaps[0], "nothing to hide"


def test_a_hidden_task_does_not_count_or_hold_the_stage() -> None:
    catalog = catalog_from([_roadmap()])
    gb = catalog.roadmap(catalog.roadmaps[0].id, "GB")
    assert gb is not None
    stage = gb.stages[0]
    assert stage_counts(stage, {}) == (0, 2)
    done = {t.id: _done(t.id) for t in stage.tasks}
    assert stage_done(stage, done), "the general and the German tasks are not required of a Brit"


def test_which_tasks_depend_on_the_country() -> None:
    catalog = catalog_from([_roadmap()])
    depends = {slug for slug, t in catalog.tasks_by_slug.items() if catalog.depends_on_country(t)}
    assert depends == {"ct-tax", "ct-tax-gb", "ct-tax-de", "ct-ksk"}


def _done(task_id: Any) -> Any:
    return ProgressRecord(task_id=task_id, status="completed")


def test_the_shipped_money_admin_tasks_have_a_version_for_each_main_country() -> None:
    catalog = bundled_catalog()
    for base in ("iss-money-admin", "ep-money-admin", "tb-money-admin"):
        variants = {
            code
            for t in catalog.tasks_by_slug.values()
            if t.variant_of == base
            for code in t.countries or ()
        }
        assert variants == {"GB", "US", "DE", "CA", "AU", "FR", "IE", "NL"}, base


# --- in the conversation ----------------------------------------------------------------------


class Musician(Driver):
    """A musician whose platform reports a language (Telegram's ``language_code``)."""

    def __init__(self, coach: MemoryCoach, user: str, locale: str | None) -> None:
        super().__init__(coach, user, platform="telegram")
        self.locale = locale

    def inbound(self, **kw: Any) -> Inbound:
        return super().inbound(**{"locale": self.locale, **kw})


async def _at_tax(locale: str | None, user: str = "maya") -> tuple[MemoryCoach, Musician]:
    coach = MemoryCoach(roadmaps=[_roadmap()])
    maya = Musician(coach, user, locale)
    await maya.onboard(roadmap_name="Country Test")
    assert "Finish a song" in maya.text, "nothing is asked before it matters"
    await maya.say("done 1")
    await maya.say("done 2")
    return coach, maya


def _country(coach: MemoryCoach) -> str | None:
    (profile,) = coach.store.tables.profiles.values()
    return profile.get("country")


async def test_the_country_is_asked_once_when_it_first_matters() -> None:
    coach, maya = await _at_tax("en")
    assert "which country do you pay tax in?" in maya.text
    assert "Sort out your tax" in maya.text  # says what it is asked for
    assert _country(coach) is None
    for label in ("United Kingdom", "United States", "Germany", "Canada", "Australia"):
        maya.find(label)
    maya.find("France")
    maya.find("Ireland")
    maya.find("Netherlands")
    maya.find("Other")
    await maya.press("United Kingdom")
    assert _country(coach) == "GB"
    assert "Got it: United Kingdom (GB)" in maya.text
    assert "Sort out your tax (UK)" in maya.text, "the UK's version comes straight after"
    await maya.say("/today")
    assert "Sort out your tax (UK)" in maya.text
    assert "which country" not in maya.text, "asked once"
    await maya.say("/progress")
    assert "(1/2)" in maya.text, "the general and the German tasks are not counted"
    await maya.say("done 1")
    await maya.say("done 2")
    assert "Stage 1 complete" in maya.text
    assert "Play a gig" in maya.text


async def test_a_typed_country_answers_the_question() -> None:
    coach, maya = await _at_tax(None)
    await maya.say("Narnia")
    assert "I don't know the country “Narnia”" in maya.text
    assert _country(coach) is None
    await maya.say("Deutschland")
    assert _country(coach) == "DE"
    assert "Sort out your tax (Germany)" in maya.text
    await maya.say("/stage")
    assert "Apply to the KSK" in maya.text, "a country's own extra task"
    assert "Sort out your tax (UK)" not in maya.text


async def test_other_gets_the_general_task_and_is_not_asked_again() -> None:
    coach, maya = await _at_tax("de")
    await maya.press("Other")
    assert _country(coach) == OTHER
    assert "general advice" in maya.text
    assert "Sort out your tax" in maya.text
    assert "(UK)" not in maya.text
    assert "(Germany)" not in maya.text
    await maya.say("/today")
    assert "which country" not in maya.text


async def test_a_locale_with_a_region_is_offered_first_but_still_asked() -> None:
    """A language setting is no country (Discord's English is "en-US" wherever one lives): it
    only puts its country first in the one question."""
    coach, maya = await _at_tax("en-GB")
    assert "which country" in maya.text
    assert maya.buttons[0].label == "🇬🇧 United Kingdom (your language setting)"
    assert sum("United Kingdom" in b.label for b in maya.buttons) == 1, "not offered twice"
    assert _country(coach) is None, "nothing settled before the musician says so"
    await maya.press("your language setting")
    assert _country(coach) == "GB"
    assert "Sort out your tax (UK)" in maya.text
    await maya.say("/today")
    assert "which country" not in maya.text, "asked once"


async def test_a_bare_language_suggests_no_country() -> None:
    _coach, maya = await _at_tax("de")
    assert "which country" in maya.text
    assert not any("language setting" in b.label for b in maya.buttons)
    assert maya.buttons[0].label == "🇬🇧 United Kingdom"


async def test_slash_country_shows_and_changes_it() -> None:
    coach, maya = await _at_tax("en-GB")
    await maya.press("your language setting")
    await maya.say("/country")
    assert "Your country: United Kingdom (GB)" in maya.text
    await maya.say("/country Mordor")
    assert "I don't know the country “Mordor”" in maya.text
    assert _country(coach) == "GB"
    await maya.say("/country Allemagne")
    assert "Got it: Germany (DE)" in maya.text
    assert _country(coach) == "DE"
    await maya.say("/country germany")
    assert "It's already Germany (DE)" in maya.text
    await maya.say("/today")
    assert "Sort out your tax (Germany)" in maya.text
    # a button to another country's version: a kind no
    await maya.press_payload("v1:op:ct-tax-gb")
    assert "for musicians in another country" in maya.text


async def test_slash_country_before_it_is_set_says_so_and_can_set_it() -> None:
    coach = MemoryCoach(roadmaps=[_roadmap()])
    maya = Musician(coach, "maya", "en-IE")
    await maya.onboard(roadmap_name="Country Test")
    await maya.say("/country")
    assert "Your country isn't set yet (your language setting says Ireland (IE))" in maya.text
    assert _country(coach) is None
    await maya.say("/country usa")
    assert _country(coach) == "US"
    await maya.say("done 1")
    await maya.say("done 2")
    assert "which country" not in maya.text
    assert "Sort out your tax" in maya.text
    assert "(UK)" not in maya.text


async def test_the_question_answered_with_slash_country_moves_on() -> None:
    coach, maya = await _at_tax("en")
    await maya.say("/country UK")
    assert _country(coach) == "GB"
    assert "Sort out your tax (UK)" in maya.text


async def test_help_lists_country() -> None:
    coach = MemoryCoach(roadmaps=[_roadmap()])
    maya = Musician(coach, "maya", "en")
    await maya.onboard(roadmap_name="Country Test")
    await maya.say("/help")
    assert "/country" in maya.text
    assert "tax and funding advice" in maya.text


async def test_in_a_group_without_a_band_the_musician_answers_for_themselves() -> None:
    """A Telegram group names its server (its own chat id), but with no band bound there its
    events stay on the musician's own profile (``Coach._band_event``): the country question
    is theirs to answer, like in their DM — not a manager's."""
    coach, maya = await _at_tax("en-GB")
    group = {"chat_id": "-1001", "chat_type": "group", "server_id": "-1001"}
    await maya._push(maya.inbound(kind="command", text="/today", **group))
    assert "which country do you pay tax in?" in maya.text
    await maya._push(maya.inbound(kind="text", text="Germany", **group))
    assert _country(coach) == "DE"
    assert "Sort out your tax (Germany)" in maya.text
