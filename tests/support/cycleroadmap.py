"""A small roadmap with a branching question and a repeating release cycle (issue #15 §2),
built here so the tests of branching and cycles do not move when the shipped content changes.

Stages (slugs in brackets):

1. Setup — *How do you record?* [cy-how] (choice: "Home studio" / "With an engineer"),
   *Brief your engineer* [cy-engineer] (only with an engineer), *Check your own mix*
   [cy-self] (only in a home studio), *Pick the song* [cy-song]
2. Release (``repeats: release``) — *Plan the release* [cy-plan] (checklist), *Save rate*
   [cy-save] (percent, better higher)
3. Live — *Book a gig* [cy-gig]
"""

from __future__ import annotations

from typing import Any

from core.roadmaps.schema import Roadmap

SLUG = "cycle-test"
HOME, ENGINEER = "Home studio", "With an engineer"


def _checklist(slug: str, title: str, **marks: Any) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": title,
        "description": f"{title}, step by step.",
        "type": "checklist",
        "items": [
            {"key": "one", "text": f"{title}: first"},
            {"key": "two", "text": f"{title}: second"},
        ],
        **marks,
    }


def cycle_stages() -> list[dict[str, Any]]:
    """The roadmap's stages as raw data (tests change a copy to check the schema)."""
    return [
        {
            "slug": "setup",
            "title": "Setup",
            "intro": "How you work decides what comes next.",
            "tasks": [
                {
                    "slug": "cy-how",
                    "title": "How do you record?",
                    "description": "Pick the setup that does most of the work.",
                    "type": "data_input",
                    "input": {
                        "type": "choice",
                        "question": "How are you recording?",
                        "choices": [HOME, ENGINEER],
                    },
                },
                _checklist(
                    "cy-engineer",
                    "Brief your engineer",
                    only_if={"task": "cy-how", "answer": ENGINEER},
                ),
                _checklist(
                    "cy-self", "Check your own mix", only_if={"task": "cy-how", "answer": [HOME]}
                ),
                _checklist("cy-song", "Pick the song"),
            ],
        },
        {
            "slug": "release",
            "title": "Release",
            "intro": "Put it out, then read the numbers.",
            "repeats": "release",
            "tasks": [
                _checklist("cy-plan", "Plan the release"),
                {
                    "slug": "cy-save",
                    "title": "Save rate",
                    "description": "Saves per listener in the first 28 days.",
                    "type": "data_input",
                    "input": {
                        "type": "percent",
                        "question": "What was the save rate?",
                        "unit": "%",
                        "min": 0,
                        "max": 100,
                        "example": "8%",
                        "better": "higher",
                    },
                },
            ],
        },
        {
            "slug": "live",
            "title": "Live",
            "intro": "Play it to people.",
            "tasks": [_checklist("cy-gig", "Book a gig")],
        },
    ]


def cycle_roadmap(stages: list[dict[str, Any]] | None = None) -> Roadmap:
    """The roadmap (validated by the real schema)."""
    return Roadmap.model_validate(
        {
            "slug": SLUG,
            "name": "Cycle Test",
            "pitch": "A test roadmap that branches and repeats its release.",
            "description": "Branching and release cycles, for tests.",
            "stages": cycle_stages() if stages is None else stages,
        }
    )
