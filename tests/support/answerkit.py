"""A small roadmap with the coaching marks (references, suspects, a goal-able metric, a choice
question), for the answer-flow tests: the shipped roadmaps' content changes with its own
issue, so these tests build the content they talk about.

Stage 1 asks, in order: a follower count (integer, better higher), how the single is recorded
(a choice, one of which is literally "Not sure"), the master's loudness (decimal LUFS with a
target, a suspect band and references), then a four-item checklist. Stage 2 asks a venue's
capacity and the tickets sold, judged as a share of that capacity (a reference ``of`` it).
"""

from __future__ import annotations

from typing import Any

from core.roadmaps.catalog import Catalog, catalog_from
from core.roadmaps.schema import Roadmap

LUFS_SAYS = (
    "Louder than the -14 LUFS the big services play at: they'll turn it down by about {gap} dB."
)
LUFS_ADVICE = "Ask your engineer for a streaming master around -14 LUFS integrated."
SUSPECT_ASK = "Integrated loudness is a negative number (e.g. -14.2). Did you mean -{value}?"


def _question(slug: str, title: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": title,
        "description": f"{title}, for the tests.",
        "type": "data_input",
        "input": spec,
    }


def coaching_roadmap(slug: str = "coach-test", prefix: str = "ct") -> Roadmap:
    """The test roadmap (``prefix`` keeps task slugs unique next to other roadmaps)."""
    return Roadmap.model_validate(
        {
            "slug": slug,
            "name": "Coaching test",
            "pitch": "A roadmap that exercises the coach's reactions.",
            "description": "Two stages of questions with references.",
            "position": -1,
            "stages": [
                {
                    "slug": "first",
                    "title": "First",
                    "intro": "Numbers first.",
                    "tasks": [
                        _question(
                            f"{prefix}-followers",
                            "Count your followers",
                            {
                                "type": "integer",
                                "question": "How many followers do you have?",
                                "min": 0,
                                "metric": "followers",
                                "better": "higher",
                            },
                        ),
                        _question(
                            f"{prefix}-setup",
                            "Decide how you record",
                            {
                                "type": "choice",
                                "question": "How are you recording the single?",
                                "choices": ["Home studio", "With a producer", "Not sure"],
                            },
                        ),
                        _question(
                            f"{prefix}-lufs",
                            "Measure your master",
                            {
                                "type": "decimal",
                                "question": "What is the integrated loudness of your master?",
                                "unit": "LUFS",
                                "min": -40,
                                "max": 20,
                                "metric": "master_lufs",
                                "target": -14,
                                "better": None,
                                "suspect": [{"at_least": 0, "ask": SUSPECT_ASK}],
                                "references": [
                                    {
                                        "at_least": -13,
                                        "verdict": "warn",
                                        "says": LUFS_SAYS,
                                        "advice": LUFS_ADVICE,
                                    },
                                    {
                                        "at_least": -15,
                                        "verdict": "good",
                                        "says": "Right where streaming plays it.",
                                        "advice": "Keep the true peak at -1 dBTP or below.",
                                    },
                                    {
                                        "below": -15,
                                        "verdict": "ok",
                                        "says": "{gap} dB quieter than the services play.",
                                        "advice": "Fine for dynamic music.",
                                    },
                                ],
                            },
                        ),
                        {
                            "slug": f"{prefix}-list",
                            "title": "Four things",
                            "description": "Four small things.",
                            "type": "checklist",
                            "items": [
                                {"key": "a", "text": "First thing"},
                                {"key": "b", "text": "Second thing"},
                                {"key": "c", "text": "Third thing"},
                                {"key": "d", "text": "Fourth thing"},
                            ],
                        },
                    ],
                },
                {
                    "slug": "second",
                    "title": "Second",
                    "intro": "Then the room.",
                    "tasks": [
                        _question(
                            f"{prefix}-capacity",
                            "Find the room",
                            {
                                "type": "integer",
                                "question": "How many people fit in the venue?",
                                "min": 1,
                                "metric": "venue_capacity",
                            },
                        ),
                        _question(
                            f"{prefix}-tickets",
                            "Count the tickets",
                            {
                                "type": "integer",
                                "question": "How many tickets did you sell?",
                                "min": 0,
                                "metric": "tickets_sold",
                                "better": "higher",
                                "references": [
                                    {
                                        "at_least": 0.9,
                                        "of": "venue_capacity",
                                        "verdict": "good",
                                        "says": "{ratio} of the room: that's a full house.",
                                        "advice": "Ask the venue about a bigger room next time.",
                                    },
                                    {
                                        "below": 0.5,
                                        "of": "venue_capacity",
                                        "verdict": "bad",
                                        "says": "Only {ratio} of the room is sold.",
                                        "advice": "Email your list with a date-specific link.",
                                    },
                                    {
                                        "at_least": 0,
                                        "verdict": "ok",
                                        "says": "{value} sold.",
                                        "advice": "Post the show again a week before.",
                                    },
                                ],
                            },
                        ),
                    ],
                },
            ],
        }
    )


def coaching_catalog() -> Catalog:
    """The test roadmap as a catalog (no database)."""
    return catalog_from([coaching_roadmap()])
