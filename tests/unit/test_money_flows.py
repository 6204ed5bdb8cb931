"""Money and approximate answers to the journey's questions, on the in-memory coach (issue #15
§3, §4): the question's example in the musician's currency, the reply in their locale, the
currency settled once, "€1.500" asked about, "€0" commented on, "80 or so" kept as an
estimate, and an amount in another currency kept as typed but not compared.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from coachkit import Driver
from reminderkit import FakeClock
from support.memory import MemoryCoach

from core.kernel.types import Inbound
from core.roadmaps.schema import Roadmap

START = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)


def _question(slug: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": f"Answer {slug}",
        "description": "For the tests.",
        "type": "data_input",
        "input": spec,
    }


FEE = {
    "type": "money",
    "question": "How much were you paid for your latest show?",
    "unit": "EUR",
    "example": "€300",
    "min": 0,
    "max": 1000000,
    "metric": "gig_fee",
    "better": "higher",
    "references": [
        {
            "below": "0.01",
            "verdict": "warn",
            "says": "You played this one for free.",
            "advice": "Free is worth it when it buys something concrete: a support slot for an "
            "act whose audience is yours, a recording, a booker in the room.",
        }
    ],
}
CROWD = {
    "type": "integer",
    "question": "How many people came?",
    "unit": "people",
    "min": 0,
    "metric": "show_attendance",
}
ROADMAP = Roadmap.model_validate(
    {
        "slug": "money-test",
        "name": "Money test",
        "pitch": "Questions about money.",
        "description": "One fee question, then a head count, then the fee again.",
        "stages": [
            {
                "slug": "one",
                "title": "One",
                "intro": "Money.",
                "tasks": [
                    _question("mt-fee", FEE),
                    _question("mt-crowd", CROWD),
                    _question("mt-fee-2", {**FEE, "metric": "gig_fee"}),
                ],
            }
        ],
    }
)


class Musician(Driver):
    """A musician whose platform reports a language."""

    def __init__(self, coach: MemoryCoach, locale: str | None) -> None:
        super().__init__(coach, "maya", platform="telegram")
        self.locale = locale

    def inbound(self, **kw: Any) -> Inbound:
        return super().inbound(**{"locale": self.locale, **kw})


async def _at_fee(locale: str | None) -> tuple[MemoryCoach, Musician]:
    coach = MemoryCoach(roadmaps=[ROADMAP], clock=FakeClock(START))
    maya = Musician(coach, locale)
    await maya.onboard(roadmap_name="Money test")
    return coach, maya


def _currency(coach: MemoryCoach) -> str | None:
    (profile,) = coach.store.tables.profiles.values()
    return profile.get("currency")


async def test_a_dollar_musician_sees_dollars_and_is_told_once() -> None:
    coach, maya = await _at_fee("en-US")
    assert "e.g. $300" in maya.text  # the content's "€300", in the musician's currency
    await maya.say("250")
    assert "Saved: $250.00." in maya.text
    assert "I'll count your money in US dollars (USD) — from your language setting" in maya.text
    assert _currency(coach) == "USD"
    await maya.say("/skip")  # the head count
    assert "e.g. $300" in maya.text
    await maya.say("$400")
    assert "Saved: $400.00." in maya.text
    assert "Up 60% since 4 Jan — nice." in maya.text
    assert "count your money" not in maya.text, "told once"


async def test_a_german_musician_reads_and_writes_german_numbers() -> None:
    coach, maya = await _at_fee("de")
    assert "e.g. 300\xa0€" in maya.text
    await maya.say("1.500 €")
    assert "Saved: 1.500,00\xa0€." in maya.text
    assert _currency(coach) == "EUR"
    await maya.say("like 1.200 people")  # approximate, German thousands
    assert "Saved: about 1.200 people (noted as an estimate)." in maya.text
    row = next(
        r for r in coach.store.tables.progress.values() if r["task_data"].get("approx") == "1"
    )
    assert row["task_data"]["value"] == "1200"


async def test_an_ambiguous_amount_is_asked_about_and_nothing_is_saved() -> None:
    coach, maya = await _at_fee(None)
    await maya.say("€1.500")
    assert "is “1.500” €1,500.00 or €1.50? Please write 1500 or 1.5" in maya.text
    assert not any(r["task_data"] for r in coach.store.tables.progress.values())
    await maya.say("1500")
    assert "Saved: €1,500.00." in maya.text


async def test_a_free_show_is_accepted_and_commented_on() -> None:
    _coach, maya = await _at_fee(None)
    await maya.say("€0")
    assert "Saved: €0.00." in maya.text
    assert "You played this one for free." in maya.text
    assert "Free is worth it when it buys something concrete" in maya.text


async def test_an_amount_in_another_currency_is_kept_as_typed_and_not_compared() -> None:
    coach, maya = await _at_fee("en-GB")
    await maya.say("£300")
    assert _currency(coach) == "GBP"
    await maya.say("about 80")
    assert "Saved: about 80 people (noted as an estimate)." in maya.text
    await maya.say("€900")
    assert "Saved: €900.00." in maya.text
    assert "Kept in EUR, as you typed it" in maya.text
    assert "since last time" not in maya.text
    assert "more than 10× away" not in maya.text  # no outlier question across currencies
    samples = sorted(
        (s["metric"], s["unit"], str(s["value"])) for s in coach.store.tables.samples.values()
    )
    assert samples == [
        ("gig_fee", "EUR", "900.00"),
        ("gig_fee", "GBP", "300.00"),
        ("show_attendance", "people", "80"),
    ]


async def test_one_person_is_singular() -> None:
    _coach, maya = await _at_fee(None)
    await maya.say("/skip")
    await maya.say("1")
    assert "Saved: 1 person." in maya.text


async def test_an_event_without_a_locale_uses_the_one_given_at_sign_up() -> None:
    """A Discord DM carries no locale (discord.py's Message has none): the language the
    platform reported when the musician first wrote stands in."""
    coach, maya = await _at_fee("de")
    maya.locale = None
    await maya.say("1.500 €")
    assert "Saved: 1.500,00\xa0€." in maya.text
    assert _currency(coach) == "EUR"


async def test_a_money_suspect_band_applies_in_the_contents_currency_only() -> None:
    """The content's "that much?" band is in euros: ¥1,500 is an ordinary fee, €1,500 is asked."""
    fee = {**FEE, "suspect": [{"at_least": 1000, "ask": "{value}? Did you mean the total?"}]}
    roadmap = Roadmap.model_validate(
        {
            **ROADMAP.model_dump(mode="json", exclude_none=True),
            "slug": "suspect-test",
            "name": "Suspect test",
            "stages": [
                {
                    "slug": "one",
                    "title": "One",
                    "intro": "Money.",
                    "tasks": [_question("st-fee", fee), _question("st-crowd", CROWD)],
                }
            ],
        }
    )
    for locale, typed, asked in (("ja", "¥1500", False), ("de", "1.500 €", True)):
        coach = MemoryCoach(roadmaps=[roadmap], clock=FakeClock(START))
        maya = Musician(coach, locale)
        await maya.onboard(roadmap_name="Suspect test")
        await maya.say(typed)
        assert ("Did you mean the total?" in maya.text) is asked, (locale, maya.text)
